using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>BEP 52 hash requests answered by a v2 seeder over the wire.</summary>
public sealed class SwarmHashTests
{
    // 300,000 bytes in 32 KiB pieces: 19 blocks (a tree of 32 leaves, 5 layers), 10 pieces, piece layer at 1.
    [Theory]
    [InlineData(1, 0, 16, 3)] // the whole piece layer: no uncles, the run itself reaches the root
    [InlineData(0, 4, 2, 4)]  // piece 2's block hashes with four uncles up to the root
    [InlineData(0, 18, 2, 4)] // the last piece: one real block, one zero leaf
    public async Task V2Seeder_HashRequest_AnswersHashesThatProveToThePiecesRoot(int baseLayer, int index, int length, int proofLayers)
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V2, [300_000]);
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        Sha256Hash root = torrent.Files.Single(f => f.Length > 0).PiecesRoot!.Value;

        await using RawPeer peer = await RawPeer.ConnectAsync(harness.Network, seeder, torrent);
        var request = new HashRequest(root, baseLayer, index, length, proofLayers);
        SendHashRequest(peer, request);

        RawMessage reply = await peer.ReadUntilAsync(PeerMessageId.Hashes);
        (HashRequest echoed, byte[] payload) = (reply.HashRequest, reply.Payload);
        Assert.Equal(request, echoed);
        Sha256Hash[] hashes = [.. payload.Chunk(Sha256Hash.Length).Select(c => new Sha256Hash(c))];
        Assert.Equal(length + MerkleProof.UncleCount(length, proofLayers), hashes.Length);
        Sha256Hash top = MerkleProof.Fold(request, hashes.AsSpan(0, length).ToArray(), hashes.AsSpan(length), out int layer, out long node);
        Assert.Equal((5, 0L), (layer, node));
        Assert.Equal(root, top);
    }

    [Theory]
    [InlineData(false, 1, 0, 16, 3)] // an unknown pieces root
    [InlineData(true, 1, 3, 16, 3)]  // index not a multiple of length
    [InlineData(true, 0, 0, 4, 4)]   // block hashes of two pieces at once
    public async Task V2Seeder_UnanswerableHashRequest_GetsHashReject_AndStaysConnected(bool knownRoot, int baseLayer, int index, int length, int proofLayers)
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V2, [300_000]);
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        Sha256Hash root = knownRoot ? torrent.Files.Single(f => f.Length > 0).PiecesRoot!.Value : default;

        await using RawPeer peer = await RawPeer.ConnectAsync(harness.Network, seeder, torrent);
        var request = new HashRequest(root, baseLayer, index, length, proofLayers);
        SendHashRequest(peer, request);
        Assert.Equal(request, (await peer.ReadUntilAsync(PeerMessageId.HashReject)).HashRequest);

        // Still served: a valid request on the same connection is answered.
        var good = new HashRequest(torrent.Files.Single(f => f.Length > 0).PiecesRoot!.Value, 1, 0, 16, 3);
        SendHashRequest(peer, good);
        Assert.Equal(good, (await peer.ReadUntilAsync(PeerMessageId.Hashes)).HashRequest);
    }

    /// <summary>
    /// A piece layer asked for behind a queue of block requests comes back before the blocks: libtorrent 2.0, fetching
    /// a hybrid torrent, pauses itself when a file's layer arrives after some of that file's pieces passed v1 (seen in
    /// the LSD interop test). The seeder's upload limit keeps the blocks queued long enough to tell the two orders apart.
    /// </summary>
    [Fact]
    public async Task V2Seeder_HashRequestBehindQueuedBlocks_AnsweredBeforeThem()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V2, [300_000]);
        SwarmSession seeder = await harness.StartNodeAsync(uploadLimit: 64 * 1024);
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        Sha256Hash root = torrent.Files.Single(f => f.Length > 0).PiecesRoot!.Value;
        await using RawPeer peer = await RawPeer.ConnectAsync(harness.Network, seeder, torrent);
        await peer.BecomeInterestedAsync();

        const int Blocks = 8;
        var burst = new List<byte>();
        for (int i = 0; i < Blocks; i++)
        {
            byte[] request = new byte[PeerMessageWriter.RequestLength];
            PeerMessageWriter.WriteRequest(request, new BlockRequest(i / 2, i % 2 * 16_384, 16_384));
            burst.AddRange(request);
        }

        byte[] hashRequest = new byte[PeerMessageWriter.HashRequestLength];
        PeerMessageWriter.WriteHashRequest(hashRequest, new HashRequest(root, 1, 0, 16, 3));
        burst.AddRange(hashRequest);
        await peer.SendAsync(burst.ToArray());

        int blocksFirst = 0;
        while ((await peer.ReadNextAsync()).Id is var id && id != PeerMessageId.Hashes)
        {
            blocksFirst += id == PeerMessageId.Piece ? 1 : 0;
        }

        Assert.True(blocksFirst < Blocks, $"all {Blocks} queued blocks were sent before the hashes");
    }

    private static void SendHashRequest(RawPeer peer, HashRequest request)
    {
        byte[] message = new byte[PeerMessageWriter.HashRequestLength];
        PeerMessageWriter.WriteHashRequest(message, request);
        peer.Send(message);
    }
}
