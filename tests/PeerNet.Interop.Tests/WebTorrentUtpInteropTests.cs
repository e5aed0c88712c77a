using System.Diagnostics;
using System.Net;
using PeerNet.Creation;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// uTP (BEP 29) against a second, independent implementation: WebTorrent 3, whose uTP is utp-native, bindings to
/// libutp (BitTorrent Inc.'s C library, the reference the BEP was written from). WebTorrent's TCP is off both ways
/// (webtorrent-js/peer.mjs closes its TCP listener and refuses its TCP dials), so a byte-identical transfer can only
/// have gone over uTP; each test checks that too, from both ends: every connection WebTorrent reports is a uTP one and
/// it refused no TCP dial, and PeerNet's node counted its incoming connections as uTP, none as TCP (and, downloading,
/// PeerNet's node has <see cref="PeerNetNodeOptions.OutgoingTcp"/> off: it can dial only over uTP). PeerNet runs
/// in this process (the public API); the torrent is PeerNet's own, read by WebTorrent.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class WebTorrentUtpInteropTests
{
    private const int TestTimeout = 180_000;
    private const int PieceLength = 64 * 1024;

    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task WebTorrent_UtpOnly_FromPeerNetSeeder_ByteIdentical(TorrentVersion version)
    {
        ToolInfo tool = ReferenceTools.Require(ReferenceTool.WebTorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"wt-utp-from-pn-{version}");
        (string torrentPath, TorrentMetainfo metainfo, string source, string content) = await CreateAsync(temp, version, ct);

        await using PeerNetNode node = await PeerNetNode.StartAsync(NodeOptions(outgoingTcp: true), cancellationToken: ct);
        TorrentHandle seeding = await node.AddTorrentAsync(TorrentSource.FromMetainfo(metainfo), new AddTorrentOptions { SavePath = source, ReadOnly = true }, ct);
        Assert.Equal(TorrentState.Seeding, seeding.GetStatus().State);
        SwarmTest.Log(clock, $"peernet seeds on port {node.ListenPort} (TCP and uTP)");

        string target = temp.Combine("wt-dl");
        await using WebTorrentPeer leecher = await WebTorrentPeer.StartGetAsync(tool, torrentPath, target, $"127.0.0.1:{node.ListenPort}", ct);
        WebTorrentReport done = await leecher.WaitForDoneAsync(SwarmTest.TransferTimeout, ct);
        SwarmTest.Log(clock, $"{done.Versions} (uTP only) downloaded {done.Downloaded} bytes over {string.Join(", ", done.Wires.Select(w => $"{w.Type} {w.Address}"))}");

        SwarmContent.AssertIdentical(content, Path.Combine(target, SwarmContent.FolderName));
        AssertOnlyUtp(done, "utpOutgoing", w => w.Downloaded, metainfo.TotalSize, leecher);
        ConnectivityReport report = node.Diagnose();
        Assert.True(report.InboundUtp.IPv4 >= 1, $"PeerNet counted no incoming uTP connection: {report.InboundUtp}");
        Assert.Equal(0, report.InboundTcp.IPv4 + report.InboundTcp.IPv6);
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task PeerNet_UtpOnly_FromWebTorrentSeeder_ByteIdentical(TorrentVersion version)
    {
        ToolInfo tool = ReferenceTools.Require(ReferenceTool.WebTorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"pn-utp-from-wt-{version}");
        (string torrentPath, TorrentMetainfo metainfo, string source, string content) = await CreateAsync(temp, version, ct);

        // WebTorrent seeds a copy: it writes a hybrid torrent's pad files (BEP 47 zeros) beside the content it reads.
        string seederCopy = temp.Combine("wt-source");
        CopyTree(source, seederCopy);
        await using WebTorrentPeer seeder = await WebTorrentPeer.StartSeedAsync(tool, torrentPath, seederCopy, ct);
        SwarmTest.Log(clock, $"{seeder.Ready.Versions} (uTP only) seeds on port {seeder.Port}");

        // The node dials over uTP alone (OutgoingTcp off, as `--utp only`); WebTorrent has no TCP listener either.
        await using PeerNetNode node = await PeerNetNode.StartAsync(NodeOptions(outgoingTcp: false), cancellationToken: ct);
        string target = temp.Combine("pn-dl");
        TorrentHandle downloading = await node.AddTorrentAsync(
            TorrentSource.FromMetainfo(metainfo),
            new AddTorrentOptions { SavePath = target, Peers = [new IPEndPoint(IPAddress.Loopback, seeder.Port)], UseDht = false, UseTrackers = false, UseLocalDiscovery = false },
            ct);
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            deadline.CancelAfter(SwarmTest.TransferTimeout);
            try
            {
                await downloading.WaitForCompletionAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                Assert.Fail($"PeerNet did not complete within {SwarmTest.TransferTimeout.TotalSeconds:F0} s: {downloading.GetStatus()}\n{seeder}");
            }
        }

        WebTorrentReport report = await seeder.ReportAsync(ct);
        SwarmTest.Log(clock, $"peernet complete; webtorrent uploaded over {string.Join(", ", report.Wires.Select(w => $"{w.Type} {w.Address} ({w.Uploaded} bytes)"))}");

        SwarmContent.AssertIdentical(content, Path.Combine(target, SwarmContent.FolderName));
        AssertOnlyUtp(report, "utpIncoming", w => w.Uploaded, metainfo.TotalSize, seeder);
        ConnectivityReport connectivity = node.Diagnose();
        Assert.Equal(0, connectivity.InboundTcp.IPv4 + connectivity.InboundTcp.IPv6);
    }

    /// <summary>
    /// Every connection WebTorrent had is of <paramref name="type"/> (uTP), they carried at least the torrent's bytes,
    /// its TCP listener is closed and it refused no TCP dial (it never fell back to TCP).
    /// </summary>
    private static void AssertOnlyUtp(WebTorrentReport report, string type, Func<WebTorrentWire, long> bytes, long totalSize, WebTorrentPeer peer)
    {
        Assert.NotEmpty(report.Wires);
        Assert.All(report.Wires, w => Assert.True(w.Type == type, $"a {w.Type} connection to {w.Address}, not {type}\n{peer}"));
        Assert.True(report.Wires.Sum(bytes) >= totalSize, $"WebTorrent's uTP connections carried {report.Wires.Sum(bytes)} bytes of {totalSize}\n{peer}");
        Assert.False(report.TcpListening, "WebTorrent's TCP listener is open");
        Assert.Equal(0, report.TcpDialsRefused);
    }

    private static void CopyTree(string from, string to)
    {
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string copy = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
    }

    /// <summary>Loopback, any free port, no DHT, trackers, LSD or port mapping: the only peer is the one the test names.</summary>
    private static PeerNetNodeOptions NodeOptions(bool outgoingTcp) => new()
    {
        ListenAddress = IPAddress.Loopback,
        ListenPort = 0,
        Dht = false,
        Trackers = false,
        LocalDiscovery = false,
        PortMapping = PortMappingOptions.None,
        OutgoingTcp = outgoingTcp,
    };

    /// <summary>SwarmContent's three files (4 MiB, no file ending on a piece boundary) and PeerNet's torrent of them.</summary>
    private static async Task<(string TorrentPath, TorrentMetainfo Metainfo, string Source, string Content)> CreateAsync(TempDirectory temp, TorrentVersion version, CancellationToken ct)
    {
        string source = temp.Combine("source");
        string content = SwarmContent.Write(source, SwarmTest.ContentSize, seed: 16 ^ (int)version);
        byte[] encoded = await TorrentCreator.CreateAsync(new TorrentCreationOptions { SourcePath = content, Version = version, PieceLength = PieceLength }, cancellationToken: ct);
        string torrentPath = temp.Combine($"swarm-{version}.torrent");
        await File.WriteAllBytesAsync(torrentPath, encoded, ct);
        return (torrentPath, TorrentMetainfo.Parse(encoded), source, content);
    }
}
