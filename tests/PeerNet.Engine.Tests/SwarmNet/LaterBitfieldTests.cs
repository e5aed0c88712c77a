using System.Buffers;
using System.Net;
using PeerNet.Engine.Tests.Hostile;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// aria2 sends its whole bitfield again, instead of haves, whenever it finished 20 or more pieces since it last told
/// its peers, and have-all once it has every piece. A CI run showed a node closing aria2 for its ninth bitfield. Such
/// updates are read as haves, within an allowance that grows with the piece count; past it the peer is closed.
/// </summary>
public sealed class LaterBitfieldTests
{
    private const int Pieces = 512;

    /// <summary>aria2 sends its bitfield again once it finished this many pieces since it last told its peers.</summary>
    private const int Aria2Batch = 20;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_peer_resending_its_growing_bitfield_then_have_all_stays_connected_and_is_seen_as_a_seed()
    {
        (SwarmHarness harness, TorrentSwarm download, FakePeer peer) = await ConnectAsync();
        await using SwarmHarness owned = harness;
        await using FakePeer connected = peer;
        var known = new Bitfield(Pieces);
        await peer.SendAsync(BitfieldMessage(known));
        for (int piece = 0; piece < Pieces; piece++)
        {
            known.Set(piece);
            if ((piece + 1) % Aria2Batch == 0)
            {
                await peer.SendAsync(BitfieldMessage(known)); // 25 of them for 512 pieces
            }
        }

        await peer.SendAsync(PeerMessageWriter.HaveAll);

        // Read as a seed, still connected: the downloading node wants its pieces.
        await SwarmHarness.WaitUntilAsync(() => download.SnapshotPeers() is [{ Progress: 1.0 }]);
        Assert.NotNull(await peer.ReceiveAsync(m => m.Id == PeerMessageId.Interested, Wait));

        // The same bitfield over and over is a flood: one past the allowance (8 and one per 16 pieces) closes it.
        byte[] again = BitfieldMessage(known);
        int sent = 1 + (Pieces / Aria2Batch) + 1; // the first bitfield, aria2's updates and the have-all
        for (; sent < PeerConnection.MaxBitfieldsFor(Pieces); sent++)
        {
            await peer.SendAsync(again);
        }

        // At the allowance it is still served: unchoked, the node asks it for blocks (read after every bitfield above).
        await peer.SendAsync(PeerMessageWriter.Unchoke);
        Assert.NotNull(await peer.ReceiveAsync(m => m.Id == PeerMessageId.Request, Wait));
        peer.Send(again);
        await peer.AssertClosedAsync(Wait);
    }

    /// <summary>A node downloading a torrent it has nothing of, and a fake peer connected to it.</summary>
    private static async Task<(SwarmHarness, TorrentSwarm, FakePeer)> ConnectAsync()
    {
        var harness = new SwarmHarness();
        (TorrentMetainfo torrent, _) = await harness.CreateContentAsync(TorrentVersion.V1, [Pieces * 16 * 1024], pieceLength: 16 * 1024);
        SwarmSession node = await harness.StartNodeAsync(new SessionOptions { ListenEndPoint = new IPEndPoint(IPAddress.Parse("10.0.11.1"), 6881) });
        (TorrentSwarm download, _) = await harness.LeechAsync(node, torrent, []);
        FakePeer peer = await FakePeer.ConnectAsync(harness.Network, IPAddress.Parse("10.0.11.2"), node.LocalEndPoint!, torrent.InfoHashes.WireHash);
        await peer.SendExtensionHandshakeAsync();
        return (harness, download, peer);
    }

    private static byte[] BitfieldMessage(Bitfield bits)
    {
        byte[] wire = new byte[bits.WireLength];
        bits.WriteWire(wire);
        var output = new ArrayBufferWriter<byte>();
        PeerMessageWriter.WriteBitfield(output, wire);
        return output.WrittenSpan.ToArray();
    }
}
