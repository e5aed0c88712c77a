using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// uTP over a real routed path: <see cref="HomeRouter"/>'s namespaces without miniupnpd, a seeder on the "internet"
/// side and a downloader dialing it over uTP only from the home behind NAT, the router in between dropping UDP at
/// random (nftables <c>numgen random</c>) or shaping the home link (a <c>tc tbf</c> token bucket with a queue). Each
/// measurement runs for both ends PeerNet and for both ends libtorrent (<see cref="PathClient"/>), the reference, in
/// the same routine. PeerNet's loss test runs by default (bounded); the rest are measurements, run by
/// bench/utp_ledbat.sh and bench/connectivity.sh (<see cref="BenchVariable"/>=1), which write their figures to
/// <see cref="ReportVariable"/> for docs/performance.md. Both clients must get the data through the loss byte-identical
/// (libtorrent within a bound; if it cannot, how far it got is reported and the test fails); LEDBAT yielding is
/// asserted for PeerNet only: libtorrent's figures there are a measurement of the reference.
/// </summary>
public sealed partial class UtpPathTests
{
    /// <summary>Set to 1 to run the measurements: the loss test at 64 MiB, libtorrent's loss test, both LEDBAT tests.</summary>
    public const string BenchVariable = "PEERNET_UTP_PATH_BENCH";

    /// <summary>A file the tests append their figures to (bench/utp_ledbat.sh reads it).</summary>
    public const string ReportVariable = "PEERNET_UTP_PATH_REPORT";

    /// <summary>Which client runs both ends of the path.</summary>
    public enum PathClient
    {
        /// <summary><c>peernet seed</c> and <c>peernet get --utp only</c>.</summary>
        PeerNet,

        /// <summary>
        /// <c>lt_seed.py</c> and <c>lt_download.py</c> with <c>--transport utp</c> (TCP off both ways, uTP on), its uTP
        /// and LEDBAT settings at their defaults (<c>utp_target_delay</c> 100 ms).
        /// </summary>
        Libtorrent,
    }

    private const long ContentSize = 64L * 1024 * 1024;
    private const int TcpPort = 5999;

    private static bool IsBench => Environment.GetEnvironmentVariable(BenchVariable) == "1";

    /// <summary>The loss test's size: 64 MiB measured (about 45 s here for PeerNet), 16 MiB in the default run (well under a minute).</summary>
    private static long LossSize => IsBench ? ContentSize : ContentSize / 4;

    /// <summary>
    /// How long the loss transfer may take: PeerNet's has a margin of three over what it needs; libtorrent's is the
    /// bound of a measurement, after which the figure is how far it got.
    /// </summary>
    private static TimeSpan LossTimeout(PathClient client) => TimeSpan.FromSeconds(client == PathClient.PeerNet ? 150 : 300);

    [Theory(Timeout = 420_000)]
    [InlineData(PathClient.PeerNet)]
    [InlineData(PathClient.Libtorrent)]
    public async Task Utp_Through5PercentRandomLoss_ArrivesByteIdentical(PathClient client)
    {
        Assert.SkipUnless(client == PathClient.PeerNet || IsBench, $"A measurement of the reference (minutes): set {BenchVariable}=1 (bench/utp_ledbat.sh).");
        Require(client);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("utp-loss");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, LossSize, ct);
        await using HomeRouter router = await HomeRouter.StartAsync(natPmp: false, upnp: false, ct);

        // 5% of the UDP datagrams forwarded either way are dropped, with a counter to show it happened.
        await router.InRouterAsync(["nft", "add", "table", "inet", "pnloss"], ct);
        await router.InRouterAsync(["nft", "add", "chain", "inet", "pnloss", "forward", "{ type filter hook forward priority -10 ; }"], ct);
        await router.InRouterAsync(["nft", "add", "rule", "inet", "pnloss", "forward", "meta", "l4proto", "udp", "numgen", "random", "mod", "100", "<", "5", "counter", "drop"], ct);

        TimeSpan timeout = LossTimeout(client);
        await using PathTransfer pair = await PathTransfer.StartAsync(client, router, torrent, temp, timeout, ct);
        SwarmTest.Log(clock, $"{pair.Name} seeds at {HomeRouter.InternetAddress}:{pair.SeederPort}; the home downloader dials it over uTP only");
        var transfer = Stopwatch.StartNew();
        string? unfinished = await pair.WaitForEndAsync(timeout, ct);
        double seconds = transfer.Elapsed.TotalSeconds;
        long dropped = DroppedPackets(await router.InRouterAsync(["nft", "list", "table", "inet", "pnloss"], ct));
        long mib = LossSize / (1024 * 1024);
        string remarks = pair.Remarks() is { Length: > 0 } r ? $", {r}" : "";
        if (unfinished is not null)
        {
            SwarmTest.Log(clock, $"{pair.Name}: not complete after {seconds:F0} s: {unfinished}; the router dropped {dropped} datagrams");
            Report(LossMeasurement(mib), pair, $"**not complete** after {seconds:F0} s: {unfinished}; {dropped} datagrams dropped{remarks}");
            Assert.Fail($"{pair.Name} did not complete {mib} MiB through 5% loss within {timeout.TotalSeconds:F0} s: {unfinished}.\n{pair.Describe()}");
        }

        SwarmTest.Log(clock, $"{pair.Name}: {mib} MiB through 5% loss in {seconds:F1} s; the router dropped {dropped} datagrams{remarks}");
        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(pair.Target));
        Report(LossMeasurement(mib), pair, $"{seconds:F1} s ({LossSize / seconds / 1e6:F2} MB/s), {dropped} datagrams dropped, byte-identical{remarks}");
        Assert.True(dropped > 100, $"the loss rule dropped only {dropped} datagrams: the path was not lossy");
    }

    [Theory(Timeout = 300_000)]
    [InlineData(PathClient.PeerNet)]
    [InlineData(PathClient.Libtorrent)]
    public async Task Ledbat_YieldsToABulkTcpFlowOnAShapedLink_AndRecoversWhenItStops(PathClient client)
    {
        Assert.SkipUnless(IsBench, $"A measurement of a minute: set {BenchVariable}=1 (bench/utp_ledbat.sh).");
        Require(client);
        ReferenceTools.Require(ReferenceTool.Libtorrent); // for /usr/bin/python3, which runs the TCP flow
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("utp-ledbat");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, 2 * ContentSize, ct);
        await using HomeRouter router = await HomeRouter.StartAsync(natPmp: false, upnp: false, ct);

        // The home link: 20 Mbit/s with a queue of up to 300 ms (a home router's buffer), the bottleneck both flows share.
        await router.InRouterAsync(["tc", "qdisc", "add", "dev", router.HomeSideInterface, "root", "tbf", "rate", "20mbit", "burst", "32kb", "latency", "300ms"], ct);
        // What reaches the home, per protocol, counted where it arrives.
        await router.InHomeAsync(["nft", "add", "table", "inet", "pnmeter"], ct);
        await router.InHomeAsync(["nft", "add", "chain", "inet", "pnmeter", "input", "{ type filter hook input priority 0 ; }"], ct);
        await router.InHomeAsync(["nft", "add", "rule", "inet", "pnmeter", "input", "meta", "l4proto", "udp", "counter"], ct);
        await router.InHomeAsync(["nft", "add", "rule", "inet", "pnmeter", "input", "meta", "l4proto", "tcp", "counter"], ct);

        string python = ReferenceTools.SystemPython;
        await using var tcpServer = BackgroundProcess.Start("tcp bulk server", "ip", [.. router.InternetLauncher.Skip(1), python, PythonScripts.Resolve("tcp_bulk.py"), "serve", HomeRouter.InternetAddress, TcpPort.ToString(CultureInfo.InvariantCulture)]);
        await tcpServer.WaitForLineAsync(l => l == "ready", TimeSpan.FromSeconds(30), ct);

        // The TCP sender uses CUBIC whatever the machine's default (this one's is BBR, which keeps the queue short:
        // LEDBAT's 100 ms target is never reached beside it, so it does not yield; see tcp_bulk.py).
        // First the TCP flow alone for as long as it will run beside uTP: what it takes of the link by itself is what
        // a uTP that yields fully leaves it (on a 300 ms queue TCP grows slowly after its first loss).
        var meter = new Meter(router, ct);
        List<Sample> tcpAlone = await SampleTcpAsync(router, meter, python, ct);
        await Task.Delay(TimeSpan.FromSeconds(2), ct); // the queue drains

        // 128 MiB at the link's 2.5 MB/s outlasts the measurement (about 40 s) whoever runs it.
        await using PathTransfer pair = await PathTransfer.StartAsync(client, router, torrent, temp, TimeSpan.FromSeconds(240), ct);
        await Poll.UntilAsync(() => pair.Received > 1_000_000 || pair.HasEnded, $"the {pair.Name} uTP transfer under way", TimeSpan.FromSeconds(60), describe: pair.Describe);
        SwarmTest.Log(clock, $"{pair.Name}: uTP under way");

        List<Sample> alone = await meter.SampleAsync(TimeSpan.FromSeconds(8));
        List<Sample> shared = await SampleTcpAsync(router, meter, python, ct);

        List<Sample> after = await meter.SampleAsync(TimeSpan.FromSeconds(15));
        Assert.False(pair.HasEnded, $"the {pair.Name} uTP transfer ended before the measurement did: give it more content.\n" + pair.Describe());

        double utpAlone = alone.Skip(2).Average(s => s.Udp);
        double ShareOf(Sample s) => s.Udp / Math.Max(1, s.Udp + s.Tcp);
        int below = shared.FindIndex(s => ShareOf(s) < 0.2);
        double sharedShare = shared.Skip(5).Sum(s => s.Udp) / Math.Max(1, shared.Skip(5).Sum(s => s.Udp + s.Tcp));
        int recovered = after.FindIndex(s => s.Udp >= 0.8 * utpAlone);
        string series = string.Join(" ", shared.Select(s => $"{ShareOf(s) * 100:F0}%"));
        string afterSeries = string.Join(" ", after.Select(s => $"{s.Udp / 1e6:F2}"));
        SwarmTest.Log(clock, $"{pair.Name}: uTP alone {utpAlone / 1e6:F2} MB/s; with TCP, uTP's share per second: {series}; after TCP stopped: {afterSeries} MB/s");
        Report("uTP alone on the 20 Mbit/s link (300 ms queue)", pair, $"{utpAlone / 1e6:F2} MB/s");
        Report("uTP's share per second once bulk TCP (CUBIC) joins", pair, series);
        Report("TCP MB/s per second while it runs", pair, string.Join(" ", shared.Select(s => $"{s.Tcp / 1e6:F2}")));
        Report("uTP's share below 20% after", pair, below < 0 ? "never (15 s)" : $"{below + 1} s");
        Report("uTP's share of the bytes from the 6th second of TCP on", pair, $"{sharedShare * 100:F1}% (TCP {shared.Skip(5).Average(s => s.Tcp) / 1e6:F2} MB/s)");
        double tcpKept = shared.Sum(s => s.Tcp) / Math.Max(1, tcpAlone.Sum(s => s.Tcp));
        Report("TCP MB/s per second alone on the link (before uTP starts)", pair, string.Join(" ", tcpAlone.Select(s => $"{s.Tcp / 1e6:F2}")));
        Report("TCP's bytes beside uTP, of its bytes alone over the same 15 s", pair, $"{tcpKept * 100:F0}%");
        Report("TCP stops: uTP back to 80% of its rate after", pair, recovered < 0 ? "more than 15 s" : $"{recovered + 1} s");
        Report("uTP MB/s per second after TCP stops", pair, afterSeries);

        if (client == PathClient.PeerNet)
        {
            Assert.True(tcpKept >= 0.8, $"TCP moved {tcpKept * 100:F0}% of what it moved alone: uTP took what TCP would have (LEDBAT should leave it at least 80%)");
            Assert.True(sharedShare < 0.2, $"uTP kept {sharedShare * 100:F1}% of the link beside a bulk TCP flow (LEDBAT should yield: below 20%)");
            Assert.True(recovered >= 0, $"uTP did not get back to 80% of its {utpAlone / 1e6:F2} MB/s within 15 s of TCP stopping");
        }
    }

    /// <summary>The bulk TCP flow downloading into the home for 15 s, sampled once a second, then stopped.</summary>
    private static async Task<List<Sample>> SampleTcpAsync(HomeRouter router, Meter meter, string python, CancellationToken ct)
    {
        await using BackgroundProcess tcp = BackgroundProcess.Start("tcp bulk fetch", "ip", [.. router.HomeLauncher.Skip(1), python, PythonScripts.Resolve("tcp_bulk.py"), "fetch", HomeRouter.InternetAddress, TcpPort.ToString(CultureInfo.InvariantCulture)]);
        await tcp.WaitForLineAsync(l => l == "connected", TimeSpan.FromSeconds(30), ct);
        return await meter.SampleAsync(TimeSpan.FromSeconds(15));
    }

    private static void Require(PathClient client)
    {
        ReferenceTools.Require(ReferenceTool.RoutedNamespaces);
        if (client == PathClient.Libtorrent)
        {
            ReferenceTools.Require(ReferenceTool.Libtorrent);
        }
    }

    private static long DroppedPackets(string table)
        => DropCounter().Match(table) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    private static string LossMeasurement(long mib) => $"{mib} MiB over uTP, 5% random UDP loss both ways";

    /// <summary>
    /// Appends one figure to the report as <c>MEASUREMENT TAB CLIENT TAB VALUE</c>: bench/utp_ledbat.sh makes a table of
    /// them, a row per measurement and a column per client.
    /// </summary>
    private static void Report(string measurement, PathTransfer pair, string value)
    {
        if (Environment.GetEnvironmentVariable(ReportVariable) is { Length: > 0 } path)
        {
            File.AppendAllText(path, $"{measurement}\t{pair.Name}\t{value}\n");
        }
    }

    [GeneratedRegex(@"counter packets (\d+) bytes \d+ drop")]
    private static partial Regex DropCounter();

    [GeneratedRegex(@"l4proto (udp|tcp) counter packets \d+ bytes (\d+)")]
    private static partial Regex ProtocolCounter();

    /// <summary>
    /// A seeder on the internet side and a downloader in the home dialing it over uTP only, both of one client, no
    /// trackers or DHT: what the measurements need of either, whoever runs them.
    /// </summary>
    private abstract class PathTransfer(string target) : IAsyncDisposable
    {
        /// <summary>The folder the home downloader saves into.</summary>
        public string Target => target;

        /// <summary>The client's name in logs and figures.</summary>
        public abstract string Name { get; }

        /// <summary>The port the seeder listens on (TCP and uTP) at <see cref="HomeRouter.InternetAddress"/>.</summary>
        public abstract int SeederPort { get; }

        /// <summary>Payload bytes the downloader has received so far, by its last status line.</summary>
        public abstract long Received { get; }

        /// <summary>Whether the downloader has finished: complete, given up or exited.</summary>
        public abstract bool HasEnded { get; }

        /// <summary>
        /// Starts <paramref name="client"/>'s pair on <paramref name="router"/>'s namespaces. A downloader that gives up
        /// by itself (libtorrent's) does so after <paramref name="timeout"/>.
        /// </summary>
        public static async Task<PathTransfer> StartAsync(PathClient client, HomeRouter router, SwarmTorrent torrent, TempDirectory temp, TimeSpan timeout, CancellationToken ct)
        {
            string target = temp.Combine("download");
            return client == PathClient.PeerNet
                ? await PeerNetTransfer.StartAsync(router, torrent, target, ct)
                : await LibtorrentTransfer.StartAsync(router, torrent, target, timeout, ct);
        }

        /// <summary>
        /// Waits until the downloader has every piece (null) or has given up (how far it got). A downloader that does
        /// not give up by itself fails the wait after <paramref name="timeout"/>.
        /// </summary>
        public abstract Task<string?> WaitForEndAsync(TimeSpan timeout, CancellationToken ct);

        /// <summary>Anything the figures should carry beside time and loss (reconnections, say); empty for nothing.</summary>
        public abstract string Remarks();

        /// <summary>Both processes' output, for a failure message.</summary>
        public abstract string Describe();

        public abstract ValueTask DisposeAsync();
    }

    private sealed class PeerNetTransfer(PeerNetProcess seeder, PeerNetProcess leecher, string target) : PathTransfer(target)
    {
        public override string Name => "peernet";

        public override int SeederPort => seeder.ListenPort;

        public override long Received => leecher.Process.Lines.Select(PeerNetProcess.ParseStatus).LastOrDefault(s => s is not null)?.Received ?? 0;

        public override bool HasEnded => leecher.Process.HasExited;

        public static async Task<PathTransfer> StartAsync(HomeRouter router, SwarmTorrent torrent, string target, CancellationToken ct)
        {
            PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath,
                new PeerNetOptions { Host = HomeRouter.InternetAddress, NoTrackers = true, Launcher = router.InternetLauncher }, ct);
            try
            {
                PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(torrent.TorrentPath, target, new PeerNetOptions
                {
                    Host = HomeRouter.HomeAddress,
                    PeerEndPoints = [$"{HomeRouter.InternetAddress}:{seeder.ListenPort}"],
                    Utp = "only",
                    NoTrackers = true,
                    Launcher = router.HomeLauncher,
                }, ct);
                return new PeerNetTransfer(seeder, leecher, target);
            }
            catch
            {
                await seeder.DisposeAsync();
                throw;
            }
        }

        public override async Task<string?> WaitForEndAsync(TimeSpan timeout, CancellationToken ct)
        {
            await leecher.WaitForCompletionAsync(timeout, seeding: false, ct);
            return null;
        }

        public override string Remarks() => "";

        public override string Describe() => seeder.Process.Describe() + "\n" + leecher.Process.Describe();

        public override async ValueTask DisposeAsync()
        {
            await using (seeder)
            {
                await leecher.DisposeAsync();
            }
        }
    }

    private sealed class LibtorrentTransfer(LibtorrentProcess seeder, LibtorrentProcess downloader, string target) : PathTransfer(target)
    {
        public override string Name => "libtorrent";

        public override int SeederPort => seeder.ListenPort;

        public override long Received => downloader.LastStatus?.TotalPayloadDownload ?? 0;

        public override bool HasEnded => downloader.HasFinished || downloader.Process.HasExited;

        public static async Task<PathTransfer> StartAsync(HomeRouter router, SwarmTorrent torrent, string target, TimeSpan timeout, CancellationToken ct)
        {
            (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct,
                host: HomeRouter.InternetAddress, utpOnly: true, launcher: router.InternetLauncher);
            try
            {
                // It dials the seeder again every 2 s while not connected (lt_download.py), as it would a peer that dropped.
                LibtorrentProcess downloader = await LibtorrentProcess.StartDownloadAsync(torrent.TorrentPath, target, [seeder.ListenPort], timeout, ct,
                    host: HomeRouter.HomeAddress, utpOnly: true, launcher: router.HomeLauncher, peerHost: HomeRouter.InternetAddress);
                return new LibtorrentTransfer(seeder, downloader, target);
            }
            catch
            {
                await seeder.DisposeAsync();
                throw;
            }
        }

        public override async Task<string?> WaitForEndAsync(TimeSpan timeout, CancellationToken ct)
        {
            // lt_download.py gives up by itself after the timeout it was started with, saying how far it got.
            LtDone done = await downloader.WaitForFinalLineAsync(timeout + TimeSpan.FromSeconds(30), ct);
            return done.Done ? null : $"{done.PiecesHave}/{done.NumPieces} pieces, {done.TotalPayloadDownload / 1e6:F1} MB of payload in {done.Seconds:F0} s";
        }

        /// <summary>How often the downloader's connection to the seeder ended (libtorrent closes a uTP connection whose packet was resent too often).</summary>
        public override string Remarks()
        {
            int disconnects = downloader.Process.Lines.Count(l => l.Contains("\"peer_disconnected_alert\"", StringComparison.Ordinal));
            return $"{disconnects} disconnection{(disconnects == 1 ? "" : "s")} (redialed)";
        }

        public override string Describe() => seeder.Process.Describe() + "\n" + downloader.Process.Describe();

        public override async ValueTask DisposeAsync()
        {
            await using (seeder)
            {
                await downloader.DisposeAsync();
            }
        }
    }

    /// <summary>Bytes per second that reached the home over UDP (uTP) and TCP in one second.</summary>
    private readonly record struct Sample(double Udp, double Tcp);

    /// <summary>Reads the home's nftables counters once a second.</summary>
    private sealed class Meter(HomeRouter router, CancellationToken ct)
    {
        private (long Udp, long Tcp) _last;
        private long _lastAt;

        public async Task<List<Sample>> SampleAsync(TimeSpan duration)
        {
            var samples = new List<Sample>();
            if (_lastAt == 0)
            {
                _last = await ReadAsync();
                _lastAt = Stopwatch.GetTimestamp();
            }

            long end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < end)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                (long udp, long tcp) = await ReadAsync();
                long now = Stopwatch.GetTimestamp();
                double seconds = (double)(now - _lastAt) / Stopwatch.Frequency;
                samples.Add(new Sample((udp - _last.Udp) / seconds, (tcp - _last.Tcp) / seconds));
                (_last, _lastAt) = ((udp, tcp), now);
            }

            return samples;
        }

        private async Task<(long Udp, long Tcp)> ReadAsync()
        {
            string table = await router.InHomeAsync(["nft", "list", "table", "inet", "pnmeter"], ct);
            long udp = 0, tcp = 0;
            foreach (Match m in ProtocolCounter().Matches(table))
            {
                long bytes = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                if (m.Groups[1].Value == "udp")
                {
                    udp = bytes;
                }
                else
                {
                    tcp = bytes;
                }
            }

            return (udp, tcp);
        }
    }
}
