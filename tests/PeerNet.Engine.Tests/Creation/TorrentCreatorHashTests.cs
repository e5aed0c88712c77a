using System.Security.Cryptography;
using PeerNet.Bencode;
using PeerNet.Creation;
using PeerNet.Metainfo;
using static PeerNet.Engine.Tests.Creation.CreationTestKit;

namespace PeerNet.Engine.Tests.Creation;

/// <summary>Piece hashes, roots and piece layers against independent reference computations.</summary>
public sealed class TorrentCreatorHashTests
{
    [Fact]
    public async Task V1_Pieces_AreSha1OfThePlainConcatenation_SpanningFiles()
    {
        using var tree = new TempTree();
        byte[] a = tree.Write("a", 40000, 1);
        byte[] b = tree.Write("b/c", 5, 2);
        byte[] d = tree.Write("d", 30000, 3);
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, TorrentVersion.V1));
        byte[] expected = ReferenceV1Pieces([.. a, .. b, .. d], Block);
        Assert.Equal(expected, doc.Root["info"u8]["pieces"u8].StringSpan.ToArray());
    }

    [Fact]
    public async Task Hybrid_Pieces_AreSha1OfThePaddedConcatenation()
    {
        using var tree = new TempTree();
        byte[] a = tree.Write("a", 40000, 1);
        byte[] b = tree.Write("b", 2 * Block, 2);
        tree.Write("c", 0);
        byte[] d = tree.Write("d", 5, 3);
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, TorrentVersion.Hybrid));
        byte[] stream = [.. a, .. new byte[(3 * Block) - a.Length], .. b, .. d, .. new byte[Block - d.Length]];
        Assert.Equal(ReferenceV1Pieces(stream, Block), doc.Root["info"u8]["pieces"u8].StringSpan.ToArray());
    }

    [Fact]
    public async Task V2_PiecesRoot_OfSmallFiles_IsTheMerkleRootOfTheirBlocks()
    {
        using var tree = new TempTree();
        byte[] tiny = tree.Write("tiny", 5, 1);
        byte[] twoBlocks = tree.Write("two", Block + 1, 2);
        byte[] threeBlocks = tree.Write("three", (2 * Block) + 7, 3);

        // Pieces of 64 KiB: each file fits in one piece, so its tree is only as wide as its own blocks.
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, TorrentVersion.V2, 4 * Block));
        BencodeNode info = doc.Root["info"u8];
        Assert.Equal(SHA256.HashData(tiny), Leaf(info, "tiny")["pieces root"u8].StringSpan.ToArray());
        Assert.Equal(ReferenceRoot(twoBlocks), Leaf(info, "two")["pieces root"u8].StringSpan.ToArray());
        Assert.Equal(ReferenceRoot(threeBlocks), Leaf(info, "three")["pieces root"u8].StringSpan.ToArray());
        Assert.Equal(0, doc.Root["piece layers"u8].Count);
    }

    [Fact]
    public async Task V2_PieceLayers_OnlyForFilesLongerThanAPiece_AndMatchReference()
    {
        using var tree = new TempTree();
        byte[] big = tree.Write("big", (5 * 2 * Block) + 100, 1);
        byte[] exact = tree.Write("exact", 2 * Block, 2);
        byte[] small = tree.Write("small", 100, 3);
        int pieceLength = 2 * Block;
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, TorrentVersion.Hybrid, pieceLength));
        BencodeNode info = doc.Root["info"u8];
        byte[] bigRoot = Leaf(info, "big")["pieces root"u8].StringSpan.ToArray();
        Assert.Equal(ReferenceRoot(big), bigRoot);
        Assert.Equal(ReferenceRoot(exact), Leaf(info, "exact")["pieces root"u8].StringSpan.ToArray());
        Assert.Equal(ReferenceRoot(small), Leaf(info, "small")["pieces root"u8].StringSpan.ToArray());

        BencodeNode layers = doc.Root["piece layers"u8];
        Assert.Equal(1, layers.Count);
        Assert.Equal(ReferencePieceLayer(big, pieceLength), layers[bigRoot].StringSpan.ToArray());
    }

    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task PiecesLargerThanOneReadChunk_HashLikeSmallOnes(TorrentVersion version)
    {
        using var tree = new TempTree();
        int pieceLength = 2 * 1024 * 1024;
        Assert.True(pieceLength > 1 << 20, "The test needs pieces bigger than the hasher's chunk.");
        byte[] a = tree.Write("a", (2 * pieceLength) + 12345, 1);
        byte[] b = tree.Write("b", 70000, 2);
        using BencodeDocument doc = await CreateAsync(Options(tree.Content, version, pieceLength));
        BencodeNode info = doc.Root["info"u8];
        if (version == TorrentVersion.V1)
        {
            Assert.Equal(ReferenceV1Pieces([.. a, .. b], pieceLength), info["pieces"u8].StringSpan.ToArray());
        }

        if (version == TorrentVersion.Hybrid)
        {
            byte[] stream = [.. a, .. new byte[pieceLength - 12345], .. b, .. new byte[pieceLength - b.Length]];
            Assert.Equal(ReferenceV1Pieces(stream, pieceLength), info["pieces"u8].StringSpan.ToArray());
        }

        if (version != TorrentVersion.V1)
        {
            byte[] root = Leaf(info, "a")["pieces root"u8].StringSpan.ToArray();
            Assert.Equal(ReferenceRoot(a), root);
            Assert.Equal(ReferencePieceLayer(a, pieceLength), doc.Root["piece layers"u8][root].StringSpan.ToArray());
            Assert.Equal(ReferenceRoot(b), Leaf(info, "b")["pieces root"u8].StringSpan.ToArray());
        }
    }

    [Fact]
    public async Task Output_DoesNotDependOnParallelism()
    {
        using var tree = new TempTree();
        for (int i = 0; i < 12; i++)
        {
            tree.Write($"f{i:00}", (i * 37_000) + 1, i);
        }

        TorrentCreationOptions options = Options(tree.Content, TorrentVersion.Hybrid);
        byte[] one = await TorrentCreator.CreateAsync(options with { Parallelism = 1 }, cancellationToken: TestContext.Current.CancellationToken);
        byte[] four = await TorrentCreator.CreateAsync(options with { Parallelism = 4 }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(one, four);
    }

    [Fact]
    public async Task Result_InfoHashes_AreTheHashesOfTheInfoBytes()
    {
        using var tree = new TempTree();
        tree.Write("a", 50000, 1);
        tree.Write("b", 10, 2);
        TorrentCreationResult result = await TorrentCreator.CreateWithDetailsAsync(Options(tree.Content, TorrentVersion.Hybrid), cancellationToken: TestContext.Current.CancellationToken);
        using BencodeDocument doc = BencodeDocument.Parse(result.Torrent);
        ReadOnlySpan<byte> info = doc.Root["info"u8].RawSpan;
        Assert.Equal(Sha1Hash.Compute(info), result.InfoHashes.V1);
        Assert.Equal(Sha256Hash.Compute(info), result.InfoHashes.V2);
        Assert.Equal(50010, result.TotalLength);
        Assert.Equal(2, result.FileCount);
        Assert.Equal("content", result.Name);
        Assert.Equal(Block, result.PieceLength);
    }
}
