using System.Security.Cryptography;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

public sealed class MerkleHashServerTests
{
    private const int P = 64 * 1024;
    private const int Block = 16 * 1024;

    // big: 62 blocks over 16 pieces of 4 blocks (tree of 64 leaves, 6 layers, piece layer at 2);
    // three: 3 blocks in one piece (tree of 4 leaves, no piece layer).
    private static readonly TestFile Big = TestFile.Random("big", 1_000_000, 1);
    private static readonly TestFile Three = TestFile.Random("three", 40_000, 2);

    [Theory]
    [InlineData("big", 2, 0, 16, 3)]   // the whole piece layer, no uncles needed
    [InlineData("big", 2, 4, 4, 3)]    // part of the piece layer, two uncles up to the root
    [InlineData("big", 2, 8, 2, 1)]    // a short proof: folds to an inner node, not the root
    [InlineData("big", 0, 8, 4, 5)]    // one piece's block hashes, proved to the root
    [InlineData("big", 0, 60, 4, 1)]   // the last piece: two real blocks and two zero leaves, proved to its piece node
    [InlineData("three", 0, 0, 4, 1)]  // a small file: all leaves (one zero pad)
    [InlineData("three", 0, 2, 2, 1)]  // the pad pair, with the left pair as uncle
    public async Task GetHashes_ValidRequest_RunMatchesTheTreeAndFoldsToTheTrustedNode(string fileName, int baseLayer, int index, int length, int proofLayers)
    {
        using var dir = new TempDirectory();
        (TestTorrent t, TorrentStorage storage) = await StoreAsync(dir);
        await using (storage)
        {
            var server = new MerkleHashServer(new PieceMap(t.Metainfo));
            TestFile file = fileName == "big" ? Big : Three;
            List<Sha256Hash[]> layers = ReferenceTree(file.Content);
            var request = new HashRequest(RootOf(t, fileName), baseLayer, index, length, proofLayers);

            Assert.True(server.TryPlan(request, out int piece));
            Assert.Equal(baseLayer < 2 || fileName == "three", piece >= 0);
            Sha256Hash[] hashes = server.GetHashes(request, storage);

            int uncles = MerkleProof.UncleCount(length, proofLayers);
            Assert.Equal(length + uncles, hashes.Length);
            Assert.Equal(layers[baseLayer].Skip(index).Take(length), hashes.Take(length));
            Sha256Hash top = MerkleProof.Fold(request, hashes.AsSpan(0, length).ToArray(), hashes.AsSpan(length), out int layer, out long node);
            Assert.Equal(baseLayer + Math.Max(proofLayers + 1, (int)Math.Log2(length)), layer);
            Assert.Equal(layers[layer][node], top);
        }
    }

    [Theory]
    [InlineData(0, 8, 3, 5)]    // length not a power of two
    [InlineData(0, 1, 1, 5)]    // length below two
    [InlineData(0, 6, 4, 5)]    // index not a multiple of length
    [InlineData(0, 64, 4, 1)]   // run past the end of the layer
    [InlineData(6, 0, 2, 0)]    // the root layer
    [InlineData(2, 0, 4, 4)]    // proof climbing above the root's children
    [InlineData(0, 0, 8, 5)]    // block hashes of two pieces: not served from one read
    [InlineData(0, 0, 16384, 5)] // longer than the most we accept
    public async Task TryPlan_BadRequest_IsRefused(int baseLayer, int index, int length, int proofLayers)
    {
        using var dir = new TempDirectory();
        (TestTorrent t, TorrentStorage storage) = await StoreAsync(dir);
        await using (storage)
        {
            var server = new MerkleHashServer(new PieceMap(t.Metainfo));
            Assert.False(server.TryPlan(new HashRequest(RootOf(t, "big"), baseLayer, index, length, proofLayers), out _));
        }
    }

    [Fact]
    public void TryPlan_UnknownRootOrMissingLayer_IsRefused()
    {
        TestTorrent t = TestTorrent.Build(TorrentVersion.V2, P, [Big, Three], withLayers: false);
        var server = new MerkleHashServer(new PieceMap(t.Metainfo));
        Assert.False(server.TryPlan(new HashRequest(default, 0, 0, 4, 1), out _));
        Assert.False(server.TryPlan(new HashRequest(RootOf(t, "big"), 2, 0, 16, 3), out _));
        Assert.True(server.TryPlan(new HashRequest(RootOf(t, "three"), 0, 0, 4, 1), out _)); // small files need no layer
    }

    private static async Task<(TestTorrent, TorrentStorage)> StoreAsync(TempDirectory dir)
    {
        TestTorrent t = TestTorrent.Build(TorrentVersion.V2, P, [Big, Three]);
        TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);
        await TorrentStorageTests.WriteAllAsync(storage, t);
        return (t, storage);
    }

    private static Sha256Hash RootOf(TestTorrent t, string name)
        => t.Metainfo.Files.Single(f => f.Path.EndsWith(name, StringComparison.Ordinal)).PiecesRoot!.Value;

    /// <summary>Every layer of the padded tree over the file's blocks, computed here, leaves first.</summary>
    private static List<Sha256Hash[]> ReferenceTree(byte[] content)
    {
        int blocks = (content.Length + Block - 1) / Block;
        int width = 1;
        while (width < blocks)
        {
            width *= 2;
        }

        var level = new byte[width][];
        for (int i = 0; i < width; i++)
        {
            level[i] = i < blocks ? SHA256.HashData(content.AsSpan(i * Block, Math.Min(Block, content.Length - (i * Block)))) : new byte[32];
        }

        var layers = new List<Sha256Hash[]> { level.Select(h => new Sha256Hash(h)).ToArray() };
        while (level.Length > 1)
        {
            var next = new byte[level.Length / 2][];
            for (int i = 0; i < next.Length; i++)
            {
                next[i] = SHA256.HashData([.. level[2 * i], .. level[(2 * i) + 1]]);
            }

            level = next;
            layers.Add(level.Select(h => new Sha256Hash(h)).ToArray());
        }

        return layers;
    }
}
