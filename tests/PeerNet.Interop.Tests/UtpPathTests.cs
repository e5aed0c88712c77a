using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// uTP over a real routed path: <see cref="HomeRouter"/>'s namespaces without miniupnpd, a <c>peernet seed</c> on the
/// "internet" side and a <c>peernet get --utp only</c> in the home behind NAT, the router in between dropping UDP at
/// random (nftables <c>numgen random</c>) or shaping the home link (a <c>tc tbf</c> token bucket with a queue). The
/// loss test runs by default (bounded); the LEDBAT test is a measurement, run by bench/utp_ledbat.sh
/// (<see cref="BenchVariable"/>=1), which writes its figures to <see cref="ReportVariable"/> for docs/performance.md.
/// </summary>
public sealed partial class UtpPathTests
{
    /// <summary>Set to 1 to run the LEDBAT measurement (a minute or more).</summary>
    public const string BenchVariable = "PEERNET_UTP_PATH_BENCH";

    /// <summary>A file the tests append their figures to (bench/utp_ledbat.sh reads it).</summary>
    public const string ReportVariable = "PEERNET_UTP_PATH_REPORT";

    private const long ContentSize = 64L * 1024 * 1024;

    /// <summary>The loss test's size: 64 MiB measured (about 45 s here), 16 MiB in the default run (bounded well under a minute).</summary>
    private static long LossSize => Environment.GetEnvironmentVariable(BenchVariable) == "1" ? ContentSize : ContentSize / 4;
    private const int TcpPort = 5999;

    [Fact(Timeout = 180_000)]
    public async Task Utp_Through5PercentRandomLoss_ArrivesByteIdentical()
    {
        ReferenceTools.Require(ReferenceTool.RoutedNamespaces);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("utp-loss");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, LossSize, ct);
        await using HomeRouter router = await HomeRouter.StartAsync(natPmp: false, upnp: false, ct);

        // 5% of the UDP datagrams forwarded either way are dropped, with a counter to show it happened.
        await router.InRouterAsync(["nft", "add", "table", "inet", "pnloss"], ct);
        await router.InRouterAsync(["nft", "add", "chain", "inet", "pnloss", "forward", "{ type filter hook forward priority -10 ; }"], ct);
        await router.InRouterAsync(["nft", "add", "rule", "inet", "pnloss", "forward", "meta", "l4proto", "udp", "numgen", "random", "mod", "100", "<", "5", "counter", "drop"], ct);

        (PeerNetProcess seeder, PeerNetProcess leecher, string target) = await StartPairAsync(router, torrent, temp, ct);
        await using (seeder)
        await using (leecher)
        {
            SwarmTest.Log(clock, $"peernet seeds at {HomeRouter.InternetAddress}:{seeder.ListenPort}; the home leecher dials it over uTP only");
            var transfer = Stopwatch.StartNew();
            await leecher.WaitForCompletionAsync(TimeSpan.FromSeconds(150), seeding: false, ct);
            double seconds = transfer.Elapsed.TotalSeconds;
            long dropped = DroppedPackets(await router.InRouterAsync(["nft", "list", "table", "inet", "pnloss"], ct));
            long mib = LossSize / (1024 * 1024);
            SwarmTest.Log(clock, $"{mib} MiB through 5% loss in {seconds:F1} s; the router dropped {dropped} datagrams");
            Report($"loss: {mib} MiB over uTP with 5% random UDP loss both ways: {seconds:F1} s ({LossSize / seconds / 1e6:F1} MB/s), {dropped} datagrams dropped, byte-identical");
            SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
            Assert.True(dropped > 100, $"the loss rule dropped only {dropped} datagrams: the path was not lossy");
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task Ledbat_YieldsToABulkTcpFlowOnAShapedLink_AndRecoversWhenItStops()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable(BenchVariable) == "1", $"A measurement of a minute: set {BenchVariable}=1 (bench/utp_ledbat.sh).");
        ReferenceTools.Require(ReferenceTool.RoutedNamespaces);
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

        (PeerNetProcess seeder, PeerNetProcess leecher, _) = await StartPairAsync(router, torrent, temp, ct);
        await using (seeder)
        await using (leecher)
        {
            var meter = new Meter(router, ct);
            await Poll.UntilAsync(() => (leecher.Process.Lines.Select(PeerNetProcess.ParseStatus).LastOrDefault(s => s is not null)?.Received ?? 0) > 1_000_000 || leecher.Process.HasExited,
                "the uTP transfer under way", TimeSpan.FromSeconds(60), describe: leecher.Process.Describe);
            SwarmTest.Log(clock, "uTP under way");

            List<Sample> alone = await meter.SampleAsync(TimeSpan.FromSeconds(8));
            BackgroundProcess tcp = BackgroundProcess.Start("tcp bulk fetch", "ip", [.. router.HomeLauncher.Skip(1), python, PythonScripts.Resolve("tcp_bulk.py"), "fetch", HomeRouter.InternetAddress, TcpPort.ToString(CultureInfo.InvariantCulture)]);
            List<Sample> shared;
            await using (tcp)
            {
                await tcp.WaitForLineAsync(l => l == "connected", TimeSpan.FromSeconds(30), ct);
                shared = await meter.SampleAsync(TimeSpan.FromSeconds(15));
            }

            List<Sample> after = await meter.SampleAsync(TimeSpan.FromSeconds(15));
            Assert.False(leecher.Process.HasExited, "the uTP transfer ended before the measurement did: give it more content.\n" + leecher.Process.Describe());

            double utpAlone = alone.Skip(2).Average(s => s.Udp);
            double ShareOf(Sample s) => s.Udp / Math.Max(1, s.Udp + s.Tcp);
            int below = shared.FindIndex(s => ShareOf(s) < 0.2);
            double sharedShare = shared.Skip(5).Sum(s => s.Udp) / Math.Max(1, shared.Skip(5).Sum(s => s.Udp + s.Tcp));
            int recovered = after.FindIndex(s => s.Udp >= 0.8 * utpAlone);
            string series = string.Join(" ", shared.Select(s => $"{ShareOf(s) * 100:F0}%"));
            SwarmTest.Log(clock, $"uTP alone {utpAlone / 1e6:F2} MB/s; with TCP, uTP's share per second: {series}; after TCP stopped: {string.Join(" ", after.Select(s => $"{s.Udp / 1e6:F2}"))} MB/s");
            Report($"ledbat: 20 Mbit/s link, 300 ms queue: uTP alone {utpAlone / 1e6:F2} MB/s; bulk TCP joins: uTP's share below 20% after {(below < 0 ? "never" : $"{below + 1} s")}, "
                + $"{sharedShare * 100:F1}% of the bytes from the 6th second on (TCP {shared.Skip(5).Average(s => s.Tcp) / 1e6:F2} MB/s); TCP stops: uTP back to 80% of its rate after {(recovered < 0 ? "more than 15 s" : $"{recovered + 1} s")}");
            Report($"ledbat: uTP share per second with TCP: {series}");

            Assert.True(sharedShare < 0.2, $"uTP kept {sharedShare * 100:F1}% of the link beside a bulk TCP flow (LEDBAT should yield: below 20%)");
            Assert.True(recovered >= 0, $"uTP did not get back to 80% of its {utpAlone / 1e6:F2} MB/s within 15 s of TCP stopping");
        }
    }

    /// <summary>The seeder on the internet side and the home leecher dialing it over uTP only (both verbose, no trackers).</summary>
    private static async Task<(PeerNetProcess Seeder, PeerNetProcess Leecher, string Target)> StartPairAsync(HomeRouter router, SwarmTorrent torrent, TempDirectory temp, CancellationToken ct)
    {
        PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath,
            new PeerNetOptions { Host = HomeRouter.InternetAddress, NoTrackers = true, Launcher = router.InternetLauncher }, ct);
        try
        {
            string target = temp.Combine("download");
            PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(torrent.TorrentPath, target, new PeerNetOptions
            {
                Host = HomeRouter.HomeAddress,
                PeerEndPoints = [$"{HomeRouter.InternetAddress}:{seeder.ListenPort}"],
                Utp = "only",
                NoTrackers = true,
                Launcher = router.HomeLauncher,
            }, ct);
            return (seeder, leecher, target);
        }
        catch
        {
            await seeder.DisposeAsync();
            throw;
        }
    }

    private static long DroppedPackets(string table)
        => DropCounter().Match(table) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;

    private static void Report(string line)
    {
        if (Environment.GetEnvironmentVariable(ReportVariable) is { Length: > 0 } path)
        {
            File.AppendAllText(path, line + "\n");
        }
    }

    [GeneratedRegex(@"counter packets (\d+) bytes \d+ drop")]
    private static partial Regex DropCounter();

    [GeneratedRegex(@"l4proto (udp|tcp) counter packets \d+ bytes (\d+)")]
    private static partial Regex ProtocolCounter();

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
