using System.Buffers;
using System.Net;
using PeerNet.Engine.Tests.Hostile;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// The <c>reqq</c> a node announces (BEP 10) is how many requests a peer may keep queued at it: a downloader fills its
/// pipeline to it (libtorrent keeps min(its own target, our reqq) in flight), so every one must be served, not rejected.
/// </summary>
public sealed class RequestQueueTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public void The_default_queue_is_libtorrents_2000_requests() =>
        Assert.Equal(2000, new PeerLimits().MaxQueuedUploads); // libtorrent's max_allowed_in_request_queue, its own reqq

    [Theory]
    [InlineData(64)]
    [InlineData(2000)]
    public async Task A_peer_keeping_as_many_requests_queued_as_our_reqq_gets_every_block(int queue)
    {
        const int BlockLength = 1024; // requests may ask for less than 16 KiB: 2,000 of them stay small
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [queue * BlockLength], pieceLength: 64 * 1024);
        SwarmSession seeder = await harness.StartNodeAsync(new SessionOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Parse("10.0.9.1"), 6881),
            PeerLimits = new PeerLimits { MaxQueuedUploads = queue },
        });
        await SwarmHarness.SeedAsync(seeder, torrent, content);

        await using FakePeer peer = await FakePeer.ConnectAsync(harness.Network, IPAddress.Parse("10.0.9.2"), seeder.LocalEndPoint!, torrent.InfoHashes.WireHash);
        await peer.SendExtensionHandshakeAsync();
        RawMessage theirs = await peer.ReceiveAsync(m => m.Id == PeerMessageId.Extended && m.Payload.Length > 0 && m.Payload[0] == (byte)'d', Wait);
        Assert.True(ExtensionHandshake.TryParse(new ReadOnlySequence<byte>(theirs.Payload), out ExtensionHandshake? handshake, out _));
        Assert.Equal(queue, handshake.RequestQueueLength);

        await peer.SendAsync(PeerMessageWriter.Interested);
        await peer.ReceiveAsync(m => m.Id == PeerMessageId.Unchoke, Wait);

        // Every request at once, before reading anything: the queue the node said it keeps, filled in one go.
        byte[] requests = new byte[queue * PeerMessageWriter.RequestLength];
        for (int i = 0; i < queue; i++)
        {
            long offset = (long)i * BlockLength;
            PeerMessageWriter.WriteRequest(requests.AsSpan(i * PeerMessageWriter.RequestLength),
                new BlockRequest((int)(offset / torrent.PieceLength), (int)(offset % torrent.PieceLength), BlockLength));
        }

        await peer.SendAsync(requests);
        var served = new HashSet<long>();
        while (served.Count < queue)
        {
            RawMessage? m = await peer.ReceiveAsync(Wait);
            Assert.NotNull(m); // the node closed the connection
            Assert.NotEqual(PeerMessageId.Reject, m.Id);
            if (m.Id == PeerMessageId.Piece)
            {
                Assert.True(served.Add(m.Piece * torrent.PieceLength + m.Begin), "a block was sent twice");
            }
        }
    }
}
