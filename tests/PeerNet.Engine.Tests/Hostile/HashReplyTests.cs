using System.Net;
using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Hostile;

/// <summary>
/// Hostile BEP 52 <c>hashes</c> replies (issue findings 1 and 2). A v2 piece assembled from two peers fails its hash,
/// so the node asks one of them for the piece's block hashes; that peer answers with a crafted reply. Before the fix, a
/// reply was matched only by (root, index, base layer): a non-power-of-two length made the proof fold throw, a length
/// near 2^27 wrapped the 32-bit size check and asked for a 4 GiB array, and either stopped the torrent; a length-2 reply
/// carrying the piece node's children got every sender of the piece banned. Now a reply is taken only as the answer to
/// the exact request sent to that peer: anything else closes its sender, the torrent goes on, and no honest peer is
/// banned.
/// </summary>
public sealed class HashReplyTests
{
    private const int Block = 16 * 1024;

    public enum Reply
    {
        /// <summary>Three hashes (not a power of two) for our request of four: the fold used to throw.</summary>
        NonPowerOfTwoLength,

        /// <summary>A length of 2^27 and no hashes: (length + uncles) * 32 wrapped to 0 in 32 bits.</summary>
        WrappedSize,

        /// <summary>The two children of the piece node as a length-2 run of leaves: they prove to the piece's node.</summary>
        PieceNodeChildren,

        /// <summary>The right shape for a request we never sent (another piece's leaves).</summary>
        Unsolicited,

        /// <summary>The right request with one uncle layer too many.</summary>
        ExtraProofLayer,
    }

    [Theory]
    [InlineData(Reply.NonPowerOfTwoLength)]
    [InlineData(Reply.WrappedSize)]
    [InlineData(Reply.PieceNodeChildren)]
    [InlineData(Reply.Unsolicited)]
    [InlineData(Reply.ExtraProofLayer)]
    public async Task BlockHashReply_Crafted_ClosesItsSender_TorrentCompletes_NoHonestPeerBanned(Reply reply)
    {
        await using var harness = new SwarmHarness();
        // Nine whole pieces of four blocks, served half by each fake peer: no piece can come from one peer alone.
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V2, [9 * 64 * 1024], pieceLength: 64 * 1024);
        byte[] data = await File.ReadAllBytesAsync(Directory.GetFiles(content, "*", SearchOption.AllDirectories).Single(), TestContext.Current.CancellationToken);
        SwarmSession leecher = await harness.StartNodeAsync();
        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, []);

        // Both fake peers answer every block-hash request with the crafted reply; one corrupts the even blocks it serves.
        int asked = 0;
        byte[]? Craft(HashRequest r)
        {
            Interlocked.Increment(ref asked);
            return Crafted(reply, r, data);
        }

        await using FakePeer corrupt = await FakePeer.ConnectAsync(harness.Network, IPAddress.Parse("10.9.0.1"), leecher.LocalEndPoint!, torrent.InfoHashes.WireHash);
        await using FakePeer honest = await FakePeer.ConnectAsync(harness.Network, IPAddress.Parse("10.9.0.2"), leecher.LocalEndPoint!, torrent.InfoHashes.WireHash);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task corruptLoop = corrupt.ServeAsync(data, torrent.PieceLength, stop.Token, m => ServeParity(data, torrent, m, parity: 0, corrupt: true), Craft);
        Task honestLoop = honest.ServeAsync(data, torrent.PieceLength, stop.Token, m => ServeParity(data, torrent, m, parity: 1, corrupt: false), Craft);

        // The node asks a fake peer for block hashes, and closes it for its reply; the torrent does not stop.
        await SwarmHarness.WaitUntilAsync(() => Volatile.Read(ref asked) > 0 && download.PeerCount < 2);
        Assert.NotEqual(TorrentState.Error, download.GetStatus().State);

        // An honest seeder joins: the download completes, so the torrent was never failed by the reply.
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        download.AddPeerEndpoint(seeder.LocalEndPoint!);
        await SwarmHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);

        // The peer that served only true blocks was never banned (the corrupt one may be, by the seeder's true block
        // hashes or by smart-ban once the piece passes: that is the ban working).
        Assert.DoesNotContain(honest.Address, download.Banned);
        await stop.CancelAsync();
        await Task.WhenAll(corruptLoop, honestLoop).WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
    }

    /// <summary>A flood of <c>hashes</c> messages nobody asked for: the first closes the connection, none reaches the torrent.</summary>
    [Fact]
    public async Task UnsolicitedHashes_ClosedOnTheFirst()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V2, [256 * 1024], pieceLength: 64 * 1024);
        SwarmSession seeder = await harness.StartNodeAsync();
        TorrentSwarm seed = await SwarmHarness.SeedAsync(seeder, torrent, content);
        await using FakePeer attacker = await FakePeer.ConnectAsync(harness.Network, IPAddress.Parse("10.9.0.3"), seeder.LocalEndPoint!, torrent.InfoHashes.WireHash);
        var request = new HashRequest(torrent.Files[0].PiecesRoot!.Value, 0, 0, 4, 1);
        byte[] unsolicited = FakePeer.HashesMessage(request, new Sha256Hash[5]);
        try
        {
            for (int i = 0; i < 1000; i++)
            {
                attacker.Send(unsolicited);
            }
        }
        catch (IOException)
        {
            // Reset by the node part-way through the flood: the first one closed it.
        }

        await attacker.AssertClosedAsync(SwarmHarness.Timeout);
        Assert.NotEqual(TorrentState.Error, seed.GetStatus().State);
    }

    /// <summary>The crafted reply to our block-hash request <paramref name="r"/> (base layer 0, one piece's leaves, proved to its node).</summary>
    private static byte[] Crafted(Reply reply, HashRequest r, byte[] data)
    {
        Sha256Hash[] leaves = FakePeer.TrueLeaves(data, r);
        return reply switch
        {
            Reply.NonPowerOfTwoLength => FakePeer.HashesMessage(r with { Length = 3 }, leaves),
            Reply.WrappedSize => FakePeer.HashesMessage(r with { Length = 1 << 27 }, []),
            Reply.PieceNodeChildren => FakePeer.HashesMessage(r with { Length = 2, ProofLayers = 0 }, [Sha256Hash.Combine(leaves[0], leaves[1]), Sha256Hash.Combine(leaves[2], leaves[3])]),
            Reply.Unsolicited => FakePeer.HashesMessage(r with { Index = r.Index + (r.Index == 0 ? r.Length : -r.Length) }, [.. leaves, .. new Sha256Hash[1]]),
            Reply.ExtraProofLayer => FakePeer.HashesMessage(r with { ProofLayers = r.ProofLayers + 1 }, [.. leaves, .. new Sha256Hash[1]]),
            _ => throw new ArgumentOutOfRangeException(nameof(reply)),
        };
    }

    /// <summary>Serves blocks of one parity (the other are rejected), corrupting them if asked.</summary>
    private static byte[]? ServeParity(byte[] data, TorrentMetainfo torrent, RawMessage m, int parity, bool corrupt)
    {
        if (m.Begin / Block % 2 != parity)
        {
            return null;
        }

        byte[] message = FakePeer.TrueBlock(data, torrent.PieceLength, m);
        if (corrupt)
        {
            message[PeerMessageWriter.PieceHeaderLength] ^= 0xFF;
        }

        return message;
    }
}
