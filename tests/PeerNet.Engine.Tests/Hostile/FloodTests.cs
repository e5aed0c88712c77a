using System.Buffers;
using System.Net;
using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Hostile;

/// <summary>
/// One hostile peer floods a seeder with what each costs the seeder a reply or a memory entry (issue finding 3), most of
/// them while it never reads. Before the fix the seeder queued every reply in an unbounded channel and never noticed a
/// peer that stopped reading: 13.6 MB of ut_metadata requests grew a seeder by 3.4 GiB. Now each flood ends with the
/// attacker closed, the seeder's queue for it never past its budget, and an honest downloader served all along.
/// (The memory of a whole <c>peernet seed</c> process under each flood is measured in the interop tests.)
/// </summary>
public sealed class FloodTests
{
    private static readonly PeerLimits Limits = new() { MaxSendQueueBytes = 256 * 1024, SendStallTimeout = TimeSpan.FromSeconds(2) };

    public enum Flood
    {
        /// <summary>ut_metadata requests, not reading: each used to queue a 16 KiB buffer (rejects included).</summary>
        MetadataRequests,

        /// <summary>BEP 52 requests for the piece layer, answered from memory, not reading.</summary>
        HashRequests,

        /// <summary>Block requests while choked, each answered with a reject, not reading.</summary>
        ChokedRequests,

        /// <summary>Block requests while unchoked, never reading the blocks: the send stalls.</summary>
        UnreadBlocks,

        /// <summary>Bitfields over and over (each a copy the size of the piece count).</summary>
        Bitfields,

        /// <summary>Extension handshakes over and over.</summary>
        ExtensionHandshakes,

        /// <summary>ut_metadata requests from a peer that reads every reply: refused requests still add up.</summary>
        MetadataRequestsReading,
    }

    [Theory]
    [InlineData(Flood.MetadataRequests)]
    [InlineData(Flood.HashRequests)]
    [InlineData(Flood.ChokedRequests)]
    [InlineData(Flood.UnreadBlocks)]
    [InlineData(Flood.Bitfields)]
    [InlineData(Flood.ExtensionHandshakes)]
    [InlineData(Flood.MetadataRequestsReading)]
    public async Task Flood_AttackerClosed_QueueWithinBudget_HonestPeerServed(Flood flood)
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.Hybrid, [4 * 1024 * 1024], pieceLength: 64 * 1024);

        // A seeder paced to 4 MB/s, so the honest download spans the flood; unchoke slots: one, taken by the honest peer.
        var seederAddress = IPAddress.Parse("10.0.5.1");
        SwarmSession seeder = await harness.StartNodeAsync(new SessionOptions { ListenEndPoint = new IPEndPoint(seederAddress, 6881), UploadRateLimit = 4_000_000, PeerLimits = Limits });
        TorrentSwarm seed = await SwarmHarness.SeedAsync(seeder, torrent, content, new TorrentOptions { UploadSlots = flood == Flood.UnreadBlocks ? 0 : 1 });
        SwarmSession leecher = await harness.StartNodeAsync();
        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, [seeder]);
        await SwarmHarness.WaitUntilAsync(() => download.PeerCount == 1 && download.GetStatus().Downloaded > 0);

        var attackerAddress = IPAddress.Parse("10.9.2.1");
        await using FakePeer attacker = await FakePeer.ConnectAsync(harness.Network, attackerAddress, seeder.LocalEndPoint!, torrent.InfoHashes.WireHash);
        await attacker.SendExtensionHandshakeAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task reading = flood == Flood.MetadataRequestsReading ? DrainAsync(attacker, stop.Token) : Task.CompletedTask;
        await SwarmHarness.WaitUntilAsync(() => seed.ConnectionsFrom(attackerAddress) == 1);

        int sent = await FloodAsync(attacker, flood, torrent, () => seed.ConnectionsFrom(attackerAddress) == 0);

        await SwarmHarness.WaitUntilAsync(() => seed.ConnectionsFrom(attackerAddress) == 0);
        Assert.True(seed.PeakSendQueueBytes <= Limits.MaxSendQueueBytes, $"a queue reached {seed.PeakSendQueueBytes} bytes");
        await SwarmHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);
        Assert.Equal(TorrentState.Seeding, seed.GetStatus().State);
        TestContext.Current.TestOutputHelper?.WriteLine($"{flood}: closed after {sent} messages; largest queue {seed.PeakSendQueueBytes} bytes");
        await stop.CancelAsync();
        await reading;
    }

    /// <summary>Sends the flood in batches until the seeder has closed the attacker (or a bound on the count is reached); returns how many were sent.</summary>
    private static async Task<int> FloodAsync(FakePeer attacker, Flood flood, TorrentMetainfo torrent, Func<bool> closed)
    {
        // Unread blocks: every block of the torrent asked for once, then nothing more (the stall timeout must act).
        int bound = flood == Flood.UnreadBlocks ? torrent.PieceCount * 4 : 200_000;
        int sent = 0;
        if (flood == Flood.UnreadBlocks)
        {
            await attacker.SendAsync(PeerMessageWriter.Interested);
        }

        byte[] message = Message(flood, torrent);
        try
        {
            // In batches of 100, each flushed before the next: the flood goes at the pace the seeder reads it.
            var batch = new ArrayBufferWriter<byte>();
            while (sent < bound && !closed())
            {
                batch.ResetWrittenCount();
                for (int i = 0; i < 100 && sent < bound; i++, sent++)
                {
                    batch.Write(flood == Flood.UnreadBlocks
                        ? FakePeer.BlockMessage(PeerMessageId.Request, sent % torrent.PieceCount, sent / torrent.PieceCount % 4 * 16 * 1024, 16 * 1024)
                        : message);
                }

                await attacker.SendAsync(batch.WrittenMemory);
            }
        }
        catch (IOException)
        {
            // Reset by the seeder while we wrote.
        }

        Assert.True(sent < bound || flood == Flood.UnreadBlocks, $"{bound} messages sent and the attacker is still connected");
        return sent;
    }

    private static byte[] Message(Flood flood, TorrentMetainfo torrent) => flood switch
    {
        Flood.MetadataRequests or Flood.MetadataRequestsReading => FakePeer.MetadataRequest(0),
        Flood.HashRequests => FakePeer.HashRequestMessage(PieceLayerRequest(torrent)),
        Flood.ChokedRequests => FakePeer.BlockMessage(PeerMessageId.Request, 0, 0, 16 * 1024),
        Flood.Bitfields => Bitfield(torrent),
        Flood.ExtensionHandshakes => ExtensionHandshakeMessage(),
        _ => [],
    };

    /// <summary>The whole piece layer of the torrent's file, proved to its root: answered from memory.</summary>
    private static HashRequest PieceLayerRequest(TorrentMetainfo torrent)
    {
        TorrentFile file = torrent.Files.First(f => f.PiecesRoot is not null);
        int pieceLevel = System.Numerics.BitOperations.Log2((uint)(torrent.PieceLength / MerkleTree.BlockSize));
        int layers = MerkleProof.LayerCount(file.Length);
        int width = 1 << (layers - pieceLevel);
        return new HashRequest(file.PiecesRoot!.Value, pieceLevel, 0, width, layers - pieceLevel - 1);
    }

    private static byte[] Bitfield(TorrentMetainfo torrent)
    {
        var output = new ArrayBufferWriter<byte>();
        PeerMessageWriter.WriteBitfield(output, new byte[(torrent.PieceCount + 7) / 8]);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] ExtensionHandshakeMessage()
    {
        var output = new ArrayBufferWriter<byte>();
        new ExtensionHandshake { ClientName = "again" }.WriteMessage(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Reads and discards whatever the seeder sends, until it closes the connection.</summary>
    private static async Task DrainAsync(FakePeer attacker, CancellationToken stop)
    {
        try
        {
            while (await attacker.ReceiveAsync(SwarmHarness.Timeout).WaitAsync(stop) is not null)
            {
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
        }
    }
}
