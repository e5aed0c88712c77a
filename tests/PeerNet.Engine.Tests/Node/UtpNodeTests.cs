using System.Net;
using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Metainfo;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Node;

/// <summary>Two real nodes on 127.0.0.1 (real UDP and TCP sockets) moving a torrent over uTP.</summary>
public sealed class UtpNodeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(EncryptionPolicy.Disabled)]
    [InlineData(EncryptionPolicy.Forced)]
    public async Task A_node_that_dials_no_tcp_downloads_over_utp_byte_identical(EncryptionPolicy policy)
    {
        await using var content = new SwarmHarness();
        (TorrentMetainfo torrent, string folder) = await content.CreateContentAsync(TorrentVersion.Hybrid, [3_000_000, 700_000, 5], pieceLength: 64 * 1024);
        var encryption = new EncryptionOptions { Policy = policy };
        await using PeerNetNode seeder = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, Encryption = encryption }, cancellationToken: Ct).WaitAsync(SwarmHarness.Timeout, Ct);
        await using PeerNetNode leecher = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, Encryption = encryption, OutgoingTcp = false, Utp = new UtpOptions { Outgoing = true } }, cancellationToken: Ct).WaitAsync(SwarmHarness.Timeout, Ct);
        // 1 MB/s: the download lasts a few seconds, long enough to look at the connection while it runs.
        await seeder.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = folder, UploadSlots = 0, UploadRateLimit = 1_000_000 }, Ct).WaitAsync(SwarmHarness.Timeout, Ct);

        string download = Path.Combine(content.Root, "download");
        TorrentHandle handle = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = download, Peers = [seeder.LocalEndPoint] }, Ct);
        PeerStatus? peer = null;
        while (peer is null && handle.GetStatus().Progress < 1)
        {
            IReadOnlyList<PeerStatus> peers = await handle.GetPeersAsync(Ct);
            peer = peers.Count > 0 ? peers[0] : null;
            await Task.Delay(50, Ct);
        }

        // The peer's flags say how it is connected: over uTP, and through MSE exactly when encryption is forced.
        Assert.NotNull(peer);
        Assert.True(peer.Flags.HasFlag(PeerFlags.Utp), $"not over uTP: {peer.Flags}");
        Assert.Equal(policy == EncryptionPolicy.Forced, peer.Flags.HasFlag(PeerFlags.Encrypted));
        await NodeHarness.WaitCompletedAsync(handle);

        SwarmHarness.AssertSameFiles(torrent, folder, download);
        Assert.True(seeder.Utp.Sum(m => m.AcceptedCount) >= 1, "the seeder accepted no uTP connection");
    }

    [Fact]
    public async Task By_default_a_node_dials_utp_first_and_reaches_a_tcp_only_peer_over_tcp_without_waiting_out_the_syn_timeout()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "A closed UDP port's ICMP error is read from Linux's error queue only.");
        await using var content = new SwarmHarness();
        (TorrentMetainfo torrent, string folder) = await content.CreateContentAsync(TorrentVersion.V1, [300_000], pieceLength: 64 * 1024);

        // The seeder has no UDP socket at all: its port is closed to uTP, and a SYN to it draws ICMP port unreachable.
        await using PeerNetNode seeder = await StartTcpOnlySeederAsync();
        Assert.Empty(seeder.Datagrams);

        // Finishing within the deadline means the refusal, not the SYN timeout, sent the dial on to TCP.
        Assert.True(new UtpOptions().Outgoing, "outgoing uTP is on by default");
        await using PeerNetNode leecher = await DownloadWithSynTimeoutBeyondTheDeadlineAsync(content, torrent, folder, seeder);
        UtpFirstTransport dialer = leecher.Dialer!;
        Assert.Equal(0, dialer.UtpConnects);
        Assert.True(dialer.TcpAfterUtpRefused >= 1, "no dial went on over TCP after uTP was refused");
        Assert.Equal(0, dialer.TcpAfterUtpTimeout);
        Assert.True(leecher.Utp.Sum(m => m.UnreachableRefused) >= 1, "no uTP connect was failed by ICMP port unreachable");
    }

    [Fact]
    public async Task Two_nodes_at_their_defaults_connect_over_utp_within_the_head_start_and_tcp_never_joins()
    {
        await using var content = new SwarmHarness();
        (TorrentMetainfo torrent, string folder) = await content.CreateContentAsync(TorrentVersion.V1, [300_000], pieceLength: 64 * 1024);
        await using PeerNetNode seeder = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false }, cancellationToken: Ct).WaitAsync(SwarmHarness.Timeout, Ct);
        await using PeerNetNode leecher = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false }, cancellationToken: Ct).WaitAsync(SwarmHarness.Timeout, Ct);
        await seeder.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = folder, UploadSlots = 0 }, Ct).WaitAsync(SwarmHarness.Timeout, Ct);

        string download = Path.Combine(content.Root, "download");
        TorrentHandle handle = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = download, Peers = [seeder.LocalEndPoint] }, Ct);
        await NodeHarness.WaitCompletedAsync(handle);

        SwarmHarness.AssertSameFiles(torrent, folder, download);
        UtpFirstTransport dialer = leecher.Dialer!;
        Assert.True(dialer.UtpConnects >= 1, "the leecher made no uTP connection");
        Assert.Equal(0, dialer.TcpAfterUtpTimeout);
        Assert.Equal(0, dialer.TcpAfterUtpRefused);
        ConnectivityReport seen = seeder.Diagnose();
        Assert.NotNull(seen.InboundUtp.Last);
        Assert.Null(seen.InboundTcp.Last); // TCP never joined: no connection to close on the seeder's side either
    }

    [Fact]
    public async Task A_peer_that_silently_ignores_utp_is_reached_over_tcp_after_the_head_start_not_the_syn_timeout()
    {
        await using var content = new SwarmHarness();
        (TorrentMetainfo torrent, string folder) = await content.CreateContentAsync(TorrentVersion.V1, [300_000], pieceLength: 64 * 1024);

        // The seeder listens over TCP only, and a UDP socket on its port number reads nothing: a SYN sent there is
        // neither answered nor refused, as with libtorrent or aria2 running with uTP off (their UDP socket is the DHT's).
        await using PeerNetNode seeder = await StartTcpOnlySeederAsync();
        using var silent = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        silent.Bind(seeder.LocalEndPoint);

        // Finishing within the deadline means TCP joined the dial after the head start.
        Assert.Equal(TimeSpan.FromMilliseconds(500), new UtpOptions().TcpFallbackDelay);
        await using PeerNetNode leecher = await DownloadWithSynTimeoutBeyondTheDeadlineAsync(content, torrent, folder, seeder);
        UtpFirstTransport dialer = leecher.Dialer!;
        Assert.Equal(0, dialer.UtpConnects);
        Assert.Equal(0, dialer.TcpAfterUtpRefused);
        Assert.True(dialer.TcpAfterUtpTimeout >= 1, "no dial was won by TCP while uTP waited");
        Assert.True(silent.Available > 0, "no SYN reached the silent UDP socket: uTP was not tried first");
    }

    [Fact]
    public async Task With_utp_off_the_node_runs_none_and_options_refuse_a_node_that_can_dial_nothing()
    {
        await using PeerNetNode node = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, Utp = new UtpOptions { Outgoing = false, Incoming = false } }, cancellationToken: Ct).WaitAsync(SwarmHarness.Timeout, Ct);

        Assert.Empty(node.Utp);
        Assert.Contains("OutgoingTcp", string.Join(" ", new PeerNetNodeOptions { OutgoingTcp = false, Utp = new UtpOptions { Outgoing = false } }.Validate()), StringComparison.Ordinal);
    }

    /// <summary>A seeder that listens and dials over TCP only, with no UDP socket of its own.</summary>
    private static Task<PeerNetNode> StartTcpOnlySeederAsync() => PeerNetNode.StartAsync(
        new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, Utp = new UtpOptions { Outgoing = false, Incoming = false } },
        new TcpTransport(), null, null, TimeProvider.System, Ct).WaitAsync(SwarmHarness.Timeout, Ct);

    /// <summary>
    /// A leecher at the defaults but for a uTP SYN timeout (2 min) far beyond the download's deadline (60 s), which takes
    /// <paramref name="torrent"/> from <paramref name="seeder"/> byte-identical and is returned for its dialer's counts.
    /// </summary>
    private static async Task<PeerNetNode> DownloadWithSynTimeoutBeyondTheDeadlineAsync(SwarmHarness content, TorrentMetainfo torrent, string folder, PeerNetNode seeder)
    {
        var options = new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false };
        PeerNetNode leecher = await PeerNetNode.StartAsync(
            options with { Utp = options.Utp with { ConnectTimeout = TimeSpan.FromMinutes(2) } }, cancellationToken: Ct).WaitAsync(SwarmHarness.Timeout, Ct);
        try
        {
            await seeder.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = folder, UploadSlots = 0 }, Ct).WaitAsync(SwarmHarness.Timeout, Ct);
            string download = Path.Combine(content.Root, "download");
            TorrentHandle handle = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = download, Peers = [seeder.LocalEndPoint] }, Ct);
            await NodeHarness.WaitCompletedAsync(handle).WaitAsync(TimeSpan.FromSeconds(60), Ct);
            SwarmHarness.AssertSameFiles(torrent, folder, download);
            return leecher;
        }
        catch
        {
            await leecher.DisposeAsync();
            throw;
        }
    }
}
