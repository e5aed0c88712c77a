using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography;
using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Metainfo;
using PeerNet.Mse;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Encryption;

/// <summary>MSE/PE between PeerNet nodes over the in-memory network: each policy pair, and hostile handshakes.</summary>
public sealed class SwarmEncryptionTests
{
    private static int _nextAddress;

    private static SessionOptions Options(EncryptionPolicy policy, HandshakeCounts counts, EncryptionLevel level = EncryptionLevel.Both, bool preferRc4 = false) => new()
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Parse($"10.9.{Interlocked.Increment(ref _nextAddress) / 250}.{(_nextAddress % 250) + 1}"), 6881),
        Encryption = new EncryptionOptions { Policy = policy, Level = level, PreferRc4 = preferRc4 },
        MeterFactory = counts,
        HandshakeTimeout = TimeSpan.FromSeconds(5),
    };

    [Theory]
    [InlineData(EncryptionPolicy.Forced, EncryptionPolicy.Forced, EncryptionLevel.Rc4, TorrentVersion.V1, "rc4")]
    [InlineData(EncryptionPolicy.Forced, EncryptionPolicy.Forced, EncryptionLevel.Rc4, TorrentVersion.V2, "rc4")]
    [InlineData(EncryptionPolicy.Forced, EncryptionPolicy.Forced, EncryptionLevel.Both, TorrentVersion.Hybrid, "plaintext")]
    [InlineData(EncryptionPolicy.Enabled, EncryptionPolicy.Enabled, EncryptionLevel.Both, TorrentVersion.V1, "plaintext")]
    [InlineData(EncryptionPolicy.Enabled, EncryptionPolicy.Forced, EncryptionLevel.Rc4, TorrentVersion.V1, "rc4")]
    [InlineData(EncryptionPolicy.Forced, EncryptionPolicy.Enabled, EncryptionLevel.Plaintext, TorrentVersion.V1, "plaintext")]
    public async Task Encrypted_pairs_transfer_byte_identical(EncryptionPolicy seederPolicy, EncryptionPolicy leecherPolicy, EncryptionLevel level, TorrentVersion version, string method)
    {
        using var seederCounts = new HandshakeCounts("peernet.encryption.handshakes");
        using var leecherCounts = new HandshakeCounts("peernet.encryption.handshakes");
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(version, [300_000, 70_000]);
        SwarmSession seeder = await harness.StartNodeAsync(Options(seederPolicy, seederCounts, level));
        SwarmSession leecher = await harness.StartNodeAsync(Options(leecherPolicy, leecherCounts, level));
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, [seeder]);
        await SwarmHarness.WaitCompletedAsync(download);

        SwarmHarness.AssertSameFiles(torrent, content, folder);
        Assert.True(leecherCounts["out:" + method] >= 1, "leecher: " + string.Join(", ", leecherCounts.Counts));
        Assert.True(seederCounts["in:" + method] >= 1, "seeder: " + string.Join(", ", seederCounts.Counts));
        Assert.Equal(leecherCounts.Counts.Values.Sum(), leecherCounts["out:" + method]); // no failed attempt first
    }

    [Fact]
    public async Task A_responder_that_prefers_RC4_gets_it_from_an_initiator_offering_both()
    {
        using var seederCounts = new HandshakeCounts("peernet.encryption.handshakes");
        using var leecherCounts = new HandshakeCounts("peernet.encryption.handshakes");
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [200_000]);
        SwarmSession seeder = await harness.StartNodeAsync(Options(EncryptionPolicy.Enabled, seederCounts, preferRc4: true));
        SwarmSession leecher = await harness.StartNodeAsync(Options(EncryptionPolicy.Enabled, leecherCounts));
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, [seeder]);
        await SwarmHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);
        Assert.True(seederCounts["in:rc4"] >= 1);
        Assert.True(leecherCounts["out:rc4"] >= 1);
    }

    [Fact]
    public async Task Enabled_initiator_falls_back_to_plain_when_the_peer_has_encryption_disabled()
    {
        using var seederCounts = new HandshakeCounts("peernet.encryption.handshakes");
        using var leecherCounts = new HandshakeCounts("peernet.encryption.handshakes");
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [200_000]);
        SwarmSession seeder = await harness.StartNodeAsync(Options(EncryptionPolicy.Disabled, seederCounts));
        SwarmSession leecher = await harness.StartNodeAsync(Options(EncryptionPolicy.Enabled, leecherCounts));
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, [seeder]);
        await SwarmHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);
        Assert.True(leecherCounts["out:closed"] >= 1, "leecher: " + string.Join(", ", leecherCounts.Counts));
        Assert.Equal(0, leecherCounts["out:rc4"] + leecherCounts["out:plaintext"]);
        Assert.True(seeder.Router.UnroutedCount(UnroutedReason.Unknown) + seeder.Router.UnroutedCount(UnroutedReason.TooLong) >= 1);
    }

    [Fact]
    public async Task Forced_seeder_refuses_a_plain_leecher_and_counts_why()
    {
        using var seederCounts = new HandshakeCounts("peernet.encryption.handshakes");
        using var leecherCounts = new HandshakeCounts("peernet.encryption.handshakes");
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [100_000]);
        SwarmSession seeder = await harness.StartNodeAsync(Options(EncryptionPolicy.Forced, seederCounts));
        SwarmSession leecher = await harness.StartNodeAsync(Options(EncryptionPolicy.Disabled, leecherCounts));
        TorrentSwarm seed = await SwarmHarness.SeedAsync(seeder, torrent, content);
        (TorrentSwarm download, _) = await harness.LeechAsync(leecher, torrent, [seeder]);
        await SwarmHarness.WaitUntilAsync(() => seederCounts["in:plaintext_refused"] >= 1, "the forced seeder refusing plaintext");
        Assert.Equal(0, download.GetStatus().PiecesVerified);
        Assert.Equal(0, seed.PeerCount);
    }

    [Fact]
    public async Task Forced_leecher_does_not_fall_back_to_plain()
    {
        using var seederCounts = new HandshakeCounts("peernet.encryption.handshakes");
        using var leecherCounts = new HandshakeCounts("peernet.encryption.handshakes");
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [100_000]);
        SwarmSession seeder = await harness.StartNodeAsync(Options(EncryptionPolicy.Disabled, seederCounts));
        SwarmSession leecher = await harness.StartNodeAsync(Options(EncryptionPolicy.Forced, leecherCounts));
        TorrentSwarm seed = await SwarmHarness.SeedAsync(seeder, torrent, content);
        (TorrentSwarm download, _) = await harness.LeechAsync(leecher, torrent, [seeder]);
        await SwarmHarness.WaitUntilAsync(() => leecherCounts["out:closed"] >= 1, "the forced leecher's failed handshake");
        Assert.Equal(0, download.PeerCount);
        Assert.Equal(0, seed.PeerCount);
    }

    /// <summary>Opens a raw in-memory connection to <paramref name="node"/>.</summary>
    private static async Task<IDuplexConnection> DialAsync(SwarmHarness harness, SwarmSession node)
    {
        InMemoryTransport transport = harness.Network.CreateTransport(IPAddress.Parse($"10.8.0.{Interlocked.Increment(ref _nextAddress) % 250 + 1}"));
        return await transport.ConnectAsync(node.LocalEndPoint!, TestContext.Current.CancellationToken);
    }

    private static async Task WaitClosedAsync(IDuplexConnection connection)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(SwarmHarness.Timeout);
        try
        {
            while (true)
            {
                ReadResult result = await connection.Input.ReadAsync(deadline.Token);
                connection.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Hostile_handshakes_are_closed_with_a_reason()
    {
        using var counts = new HandshakeCounts("peernet.encryption.handshakes");
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [50_000]);
        SwarmSession seeder = await harness.StartNodeAsync(Options(EncryptionPolicy.Enabled, counts) with { HandshakeTimeout = TimeSpan.FromMilliseconds(500) });
        await SwarmHarness.SeedAsync(seeder, torrent, content);

        // Random bytes and no sync marker: closed once 96 + 512 + 20 bytes show none.
        await using (IDuplexConnection garbage = await DialAsync(harness, seeder))
        {
            byte[] junk = RandomNumberGenerator.GetBytes(4096);
            junk[0] = 0x42;
            await garbage.Output.WriteAsync(junk, TestContext.Current.CancellationToken);
            await WaitClosedAsync(garbage);
        }

        await SwarmHarness.WaitUntilAsync(() => counts["in:sync_not_found"] == 1, "sync_not_found");

        // A proper initiator for a torrent the node does not host.
        await using (IDuplexConnection stranger = await DialAsync(harness, seeder))
        {
            var handshake = MseHandshake.Initiator(Sha1Hash.Compute("not hosted"u8), MseCryptoMethods.Both);
            await Assert.ThrowsAnyAsync<IOException>(() => MseNegotiation.RunAsync(stranger, handshake, TestContext.Current.CancellationToken));
        }

        await SwarmHarness.WaitUntilAsync(() => counts["in:unknown_torrent"] == 1, "unknown_torrent");

        // A few bytes, then silence: the handshake's deadline closes it.
        await using (IDuplexConnection slow = await DialAsync(harness, seeder))
        {
            await slow.Output.WriteAsync(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21 }, TestContext.Current.CancellationToken);
            await WaitClosedAsync(slow);
        }

        await SwarmHarness.WaitUntilAsync(() => counts["in:timeout"] == 1, "timeout");

        // And a proper one for the hosted torrent gets a BitTorrent handshake back, encrypted.
        await using IDuplexConnection honest = await DialAsync(harness, seeder);
        MseConnection secured = await MseNegotiation.RunAsync(honest, MseHandshake.Initiator(torrent.InfoHashes.WireHash, MseCryptoMethods.Rc4), TestContext.Current.CancellationToken);
        var ours = new PeerNet.PeerWire.Handshake(default, torrent.InfoHashes.WireHash, new PeerNet.PeerWire.PeerId(RandomNumberGenerator.GetBytes(20)));
        secured.Output.Advance(ours.WriteTo(secured.Output.GetSpan(PeerNet.PeerWire.Handshake.Length)));
        await secured.Output.FlushAsync(TestContext.Current.CancellationToken);
        PeerNet.PeerWire.Handshake theirs = await SwarmSession.ReadHandshakeAsync(secured.Input, TestContext.Current.CancellationToken).WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(torrent.InfoHashes.WireHash, theirs.InfoHash);
        Assert.Equal(1, counts["in:rc4"]);
    }

    [Fact]
    public async Task A_BitTorrent_handshake_sent_as_the_initial_payload_is_answered()
    {
        // aria2 and Transmission put their handshake in IA: the node must read it from there, not wait for the stream.
        using var counts = new HandshakeCounts("peernet.encryption.handshakes");
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [50_000]);
        SwarmSession seeder = await harness.StartNodeAsync(Options(EncryptionPolicy.Forced, counts));
        await SwarmHarness.SeedAsync(seeder, torrent, content);

        var ours = new PeerNet.PeerWire.Handshake(default, torrent.InfoHashes.WireHash, new PeerNet.PeerWire.PeerId(RandomNumberGenerator.GetBytes(20)));
        byte[] initial = new byte[PeerNet.PeerWire.Handshake.Length];
        ours.WriteTo(initial);
        await using IDuplexConnection connection = await DialAsync(harness, seeder);
        MseConnection secured = await MseNegotiation.RunAsync(connection, MseHandshake.Initiator(torrent.InfoHashes.WireHash, MseCryptoMethods.Plaintext, initial), TestContext.Current.CancellationToken);
        PeerNet.PeerWire.Handshake theirs = await SwarmSession.ReadHandshakeAsync(secured.Input, TestContext.Current.CancellationToken).WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        Assert.Equal(torrent.InfoHashes.WireHash, theirs.InfoHash);
        Assert.Equal(1, counts["in:plaintext"]);
    }
}
