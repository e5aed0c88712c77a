using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// A uTP SYN flood over real UDP from forged source addresses (issue 16): a <c>peernet daemon</c> seeds 64 MiB in one
/// network namespace, a <c>peernet get --utp only</c> downloads it from another (its rate capped so the transfer is in
/// flight for about 16 s), and while it runs a raw-socket flooder beside the leecher sends BEP 29 SYNs from 65,536
/// forged addresses of 198.18.0.0/16, which the seed's namespace routes into a sink (scripts/syn_flood_net.sh). The
/// transfer must complete byte-identical; the half-open table must stay within its limit (read from the daemon's doctor
/// report); the seed must send the forged sources no more bytes than it got from them (nftables counters, and the
/// node's own); its memory must stay bounded; and it must still answer an honest SYN afterwards. The same transfer
/// without the flood is timed first, for the figure in docs/utp.md.
/// </summary>
public sealed partial class UtpSynFloodTests
{
    /// <summary>SYNs per second the flooder aims at (default <see cref="DefaultRate"/>); it sends for <see cref="FloodSeconds"/>.</summary>
    public const string RateVariable = "PEERNET_SYN_FLOOD_RATE";

    private const int DefaultRate = 20_000;
    private const int FloodSeconds = 10;
    private const long ContentSize = 64L * 1024 * 1024;
    private const string DownloadLimit = "4M"; // 64 MiB in about 16 s: the flood of 10 s falls inside the transfer
    private const string SeedAddress = "10.250.0.1";
    private const string LeecherAddress = "10.250.0.2";
    private const int SeedPort = 6881;
    private const string ForgedSources = "198.18.0.0/16";

    /// <summary>How much the seed's resident memory may grow while flooded (the half-open table is 128 entries of a few numbers).</summary>
    private const long RssGrowthBound = 32L * 1024 * 1024;

    private static int FloodRate => int.TryParse(Environment.GetEnvironmentVariable(RateVariable), CultureInfo.InvariantCulture, out int rate) && rate > 0 ? rate : DefaultRate;

    [Fact(Timeout = 300_000)]
    public async Task A_syn_flood_from_forged_sources_leaves_an_established_utp_transfer_whole_and_the_seed_bounded()
    {
        ReferenceTools.Require(ReferenceTool.RoutedNamespaces);
        ReferenceTools.Require(ReferenceTool.Libtorrent); // for /usr/bin/python3, which floods, probes and reads the doctor report
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("utp-synflood");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, ContentSize, ct);
        await using FloodNet net = await FloodNet.StartAsync(ct);
        string state = temp.Combine("daemon");
        await using BackgroundProcess seed = await StartSeedAsync(net, state, torrent, ct);
        int seedPid = seed.Id;
        Assert.Equal("dotnet", (await File.ReadAllLinesAsync($"/proc/{seedPid}/status", ct))[0].Split('\t')[1]);
        SwarmTest.Log(clock, $"peernet daemon seeds at {SeedAddress}:{SeedPort} in {net.SeedNamespace}");

        // The doctor report, read every second from inside the seed's namespace for the whole test.
        await using BackgroundProcess watcher = BackgroundProcess.Start("doctor watcher", "ip", ["netns", "exec", net.SeedNamespace, ReferenceTools.SystemPython, PythonScripts.Resolve("utp_syn_flood.py"), "watch", state, "1"], isRoutine: _ => true);

        // Without the flood: the figure to compare with.
        double quiet = await DownloadAsync(net, torrent, temp.Combine("quiet"), flood: null, ct);
        SwarmTest.Log(clock, $"without a flood: {quiet:F1} s");

        // With the flood, started once the transfer is under way.
        var during = new FloodRun(seedPid, net, ct);
        double flooded = await DownloadAsync(net, torrent, temp.Combine("flooded"), during, ct);
        SwarmTest.Log(clock, $"with the flood: {flooded:F1} s");
        FloodSummary flood = during.Summary ?? throw new InvalidOperationException("the flooder did not report");

        // The node stays up and answers an honest SYN once the forged entries have aged out (10 s).
        Assert.False(seed.HasExited, "the seed exited:\n" + seed.Describe());
        ProcessResult probe = await ProbeAsync(net, TimeSpan.Zero, 20, ct);
        Assert.True(probe.ExitCode == 0, $"the seed did not answer an honest SYN within 20 s after the flood: {probe.StandardOutput}\n{seed.Describe()}");

        // The daemon's report, through the CLI (its JSON and its text).
        ProcessResult json = await PeerNetProcess.RunUnderAsync(net.SeedLauncher, ["doctor", "--daemon", "--state", state, "--json"], TimeSpan.FromSeconds(60), checkExitCode: true, ct);
        using JsonDocument doctor = JsonDocument.Parse(json.StandardOutput);
        JsonElement utp = doctor.RootElement.GetProperty("utp");
        ProcessResult text = await PeerNetProcess.RunUnderAsync(net.SeedLauncher, ["doctor", "--daemon", "--state", state], TimeSpan.FromSeconds(60), checkExitCode: true, ct);
        string synLine = text.StandardOutput.Split('\n').First(l => l.StartsWith("  uTP SYNs", StringComparison.Ordinal)).Trim();
        (long inPackets, long inBytes) = await net.CounterAsync("synin", ct);
        (long outPackets, long outBytes) = await net.CounterAsync("replies", ct);
        int maxHalfOpen = utp.GetProperty("maxHalfOpen").GetInt32();
        int peak = Math.Max(utp.GetProperty("halfOpenPeak").GetInt32(), during.HalfOpenPeakSeen(watcher));
        long synsReceived = utp.GetProperty("synsReceived").GetInt64();
        long synsRefused = utp.GetProperty("synsRefused").GetInt64();
        long synBytes = utp.GetProperty("synBytes").GetInt64();
        long answerBytes = utp.GetProperty("synAnswerBytes").GetInt64();
        JsonElement inboundUtp = doctor.RootElement.GetProperty("inboundUtp");
        JsonElement inboundTcp = doctor.RootElement.GetProperty("inboundTcp");

        string figures = $"flood: {flood.Sent} SYNs from {flood.Sources} forged sources in {flood.Seconds:F1} s ({flood.Rate:F0}/s, aimed at {FloodRate}/s), {flood.Errors} send errors; "
            + $"seed's namespace took in {inPackets} packets ({inBytes} B) from the block and sent it {outPackets} ({outBytes} B); "
            + $"node: {synsReceived} SYNs seen ({synBytes} B), {synsRefused} refused, {utp.GetProperty("synAnswers").GetInt64()} answered ({answerBytes} B), half-open peak {peak} of {maxHalfOpen}; "
            + $"an honest SYN 3 s into the flood: {during.HonestSynDuringFlood}, after it: {probe.StandardOutput.Trim()}; RSS {during.RssBefore / 1024 / 1024} MiB before, at most {during.RssPeak / 1024 / 1024} MiB during; transfer {quiet:F1} s quiet, {flooded:F1} s flooded; doctor: {synLine}";
        SwarmTest.Log(clock, figures);
        TestContext.Current.TestOutputHelper?.WriteLine(figures);

        // The flood was real: many distinct forged sources, delivered to the seed's namespace and read by the node
        // (a loaded machine may lose some on the way, so not all), and the half-open table was driven to its limit
        // (else the bound below shows nothing).
        Assert.True(flood.Sources >= 10_000, figures);
        Assert.InRange(inPackets, 10_000, flood.Sent);
        Assert.True(synsReceived >= 10_000, figures);
        Assert.True(synsRefused > 0, "no SYN was refused: the flood never filled the half-open table.\n" + figures);
        Assert.True(during.EndedBeforeTheTransfer, "the transfer completed before the flood ended: it was not in flight throughout.\n" + figures);

        // The limits held.
        Assert.InRange(peak, 1, maxHalfOpen);
        Assert.True(outBytes <= inBytes, $"the seed sent the forged sources {outBytes} B for {inBytes} B of SYNs: amplification.\n" + figures);
        Assert.True(answerBytes <= synBytes, $"the node's answers to SYNs ({answerBytes} B) outweigh the SYNs ({synBytes} B).\n" + figures);
        Assert.True(during.RssPeak - during.RssBefore <= RssGrowthBound, $"the seed's RSS grew by {(during.RssPeak - during.RssBefore) / 1024 / 1024} MiB under the flood.\n" + figures);

        // Both transfers ran over uTP alone.
        Assert.True(inboundUtp.GetProperty("ipv4").GetInt64() >= 2, json.StandardOutput);
        Assert.Equal(0, inboundTcp.GetProperty("ipv4").GetInt64());
    }

    /// <summary>Downloads the torrent into <paramref name="target"/> over uTP only; with <paramref name="flood"/>, floods meanwhile. Returns the transfer's time as peernet reports it.</summary>
    private static async Task<double> DownloadAsync(FloodNet net, SwarmTorrent torrent, string target, FloodRun? flood, CancellationToken ct)
    {
        await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(torrent.TorrentPath, target, new PeerNetOptions
        {
            Host = LeecherAddress,
            PeerEndPoints = [$"{SeedAddress}:{SeedPort}"],
            Utp = "only",
            NoTrackers = true,
            Launcher = net.LeecherLauncher,
            ExtraArguments = ["--download-limit", DownloadLimit],
        }, ct);
        if (flood is not null)
        {
            await leecher.WaitForStatusAsync(s => s.Received >= 4L * 1024 * 1024, TimeSpan.FromSeconds(60), ct);
            await flood.RunAsync(leecher);
        }

        await leecher.WaitForCompletionAsync(TimeSpan.FromSeconds(120), seeding: false, ct);
        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
        string complete = leecher.Process.Lines.First(l => l.StartsWith("complete:", StringComparison.Ordinal));
        Match seconds = VerifiedIn().Match(complete);
        return seconds.Success ? double.Parse(seconds.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN;
    }

    /// <summary>After <paramref name="delay"/>, one honest SYN from the leecher's namespace, resent each second for up to <paramref name="seconds"/> until answered.</summary>
    private static async Task<ProcessResult> ProbeAsync(FloodNet net, TimeSpan delay, int seconds, CancellationToken ct)
    {
        await Task.Delay(delay, ct);
        return await ProcessRunner.RunAsync("ip", ["netns", "exec", net.LeecherNamespace, ReferenceTools.SystemPython, PythonScripts.Resolve("utp_syn_flood.py"), "probe", SeedAddress, SeedPort.ToString(CultureInfo.InvariantCulture), seconds.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(seconds + 20), checkExitCode: false, cancellationToken: ct);
    }

    /// <summary>A <c>peernet daemon</c> in the seed's namespace with the torrent added over its API (the client verb <c>peernet add</c>).</summary>
    private static async Task<BackgroundProcess> StartSeedAsync(FloodNet net, string state, SwarmTorrent torrent, CancellationToken ct)
    {
        Directory.CreateDirectory(state);
        await File.WriteAllTextAsync(Path.Combine(state, "settings.json"), $$"""
            { "Node": { "ListenAddress": "{{SeedAddress}}", "ListenPort": {{SeedPort}}, "Dht": false, "Trackers": false, "LocalDiscovery": false } }
            """, ct);
        BackgroundProcess seed = BackgroundProcess.Start("peernet daemon", "ip", [.. net.SeedLauncher.Skip(1), PeerNetProcess.DotnetHost(), PeerNetProcess.AssemblyPath, "daemon", "--state", state]);
        try
        {
            string endpoint = Path.Combine(state, "api-endpoint");
            await Poll.UntilAsync(() => File.Exists(endpoint) || seed.HasExited, "the daemon's api-endpoint file", TimeSpan.FromSeconds(60), describe: seed.Describe);
            Assert.False(seed.HasExited, "the daemon did not start:\n" + seed.Describe());
            await PeerNetProcess.RunUnderAsync(net.SeedLauncher, ["add", torrent.TorrentPath, "--save", torrent.SourceParent, "--state", state], TimeSpan.FromSeconds(120), checkExitCode: true, ct);

            // Seeding only once its data is checked (peernet add returns after the check; this makes sure of it), so
            // the quiet transfer, the figure to compare with, never waits for the seed's hashing.
            string verified = $"{torrent.PieceCount}/{torrent.PieceCount} pieces verified";
            await seed.WaitForLineAsync(l => l.Contains(verified, StringComparison.Ordinal), TimeSpan.FromSeconds(120), ct);
            return seed;
        }
        catch
        {
            await seed.DisposeAsync();
            throw;
        }
    }

    [GeneratedRegex(@"verified in ([\d.]+) s")]
    private static partial Regex VerifiedIn();

    /// <summary>What the flooder printed at the end.</summary>
    private sealed record FloodSummary(long Sent, long Errors, double Seconds, double Rate, int Sources, int SynUtpBytes, int SynIpBytes);

    /// <summary>One flood against the seed while a transfer runs, sampling the seed's RSS meanwhile.</summary>
    private sealed class FloodRun(int seedPid, FloodNet net, CancellationToken ct)
    {
        public FloodSummary? Summary { get; private set; }

        public long RssBefore { get; private set; }

        public long RssPeak { get; private set; }

        /// <summary>What an honest SYN sent 3 s into the flood got within 3 s (a figure, not asserted: the table is full of forged entries).</summary>
        public string HonestSynDuringFlood { get; private set; } = "not sent";

        /// <summary>Whether the leecher had not completed when the flooder stopped.</summary>
        public bool EndedBeforeTheTransfer { get; private set; }

        public async Task RunAsync(PeerNetProcess leecher)
        {
            RssBefore = Rss(seedPid);
            RssPeak = RssBefore;
            await using BackgroundProcess flooder = BackgroundProcess.Start("flooder", "ip",
                ["netns", "exec", net.LeecherNamespace, ReferenceTools.SystemPython, PythonScripts.Resolve("utp_syn_flood.py"),
                    SeedAddress, SeedPort.ToString(CultureInfo.InvariantCulture), ForgedSources, FloodRate.ToString(CultureInfo.InvariantCulture), FloodSeconds.ToString(CultureInfo.InvariantCulture)]);
            Task<ProcessResult> honest = ProbeAsync(net, TimeSpan.FromSeconds(3), 3, ct);
            var deadline = Stopwatch.StartNew();
            while (!flooder.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(FloodSeconds + 30))
            {
                RssPeak = Math.Max(RssPeak, Rss(seedPid));
                await Task.Delay(250, ct);
            }

            string line = await flooder.WaitForLineAsync(l => l.StartsWith('{'), TimeSpan.FromSeconds(10), ct);
            EndedBeforeTheTransfer = !leecher.Process.Lines.Any(l => l.StartsWith("complete:", StringComparison.Ordinal));
            Summary = JsonSerializer.Deserialize<FloodSummary>(line, JsonSerializerOptions.Web);
            HonestSynDuringFlood = (await honest).StandardOutput.Trim();
            RssPeak = Math.Max(RssPeak, Rss(seedPid));
        }

        /// <summary>The most half-open entries any doctor report read during the flood showed.</summary>
        public int HalfOpenPeakSeen(BackgroundProcess watcher)
        {
            int peak = 0;
            foreach (string line in watcher.Lines.Where(l => l.StartsWith('{')))
            {
                using JsonDocument report = JsonDocument.Parse(line);
                if (report.RootElement.TryGetProperty("utp", out JsonElement utp))
                {
                    peak = Math.Max(peak, utp.GetProperty("halfOpen").GetInt32());
                }
            }

            return peak;
        }

        private static long Rss(int pid)
        {
            string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
    }

    /// <summary>
    /// The seed's, the leecher's and the sink's namespaces (scripts/syn_flood_net.sh; names unique per instance,
    /// deleted whatever happened). Requires <see cref="ReferenceTool.RoutedNamespaces"/> (root).
    /// </summary>
    private sealed partial class FloodNet : IAsyncDisposable
    {
        private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

        private FloodNet(string suffix) => Suffix = suffix;

        public string Suffix { get; }

        public string SeedNamespace => "pnsfs" + Suffix;

        public string LeecherNamespace => "pnsfl" + Suffix;

        public IReadOnlyList<string> SeedLauncher => ["ip", "netns", "exec", SeedNamespace];

        public IReadOnlyList<string> LeecherLauncher => ["ip", "netns", "exec", LeecherNamespace];

        public static async Task<FloodNet> StartAsync(CancellationToken ct)
        {
            var net = new FloodNet(Random.Shared.Next(0x10000, 0xfffff).ToString("x", CultureInfo.InvariantCulture));
            try
            {
                await ProcessRunner.RunAsync("sh", [PythonScripts.Resolve("syn_flood_net.sh"), "up", net.Suffix], CommandTimeout, cancellationToken: ct);
                return net;
            }
            catch
            {
                await net.DisposeAsync();
                throw;
            }
        }

        /// <summary>An nftables counter of the seed's namespace: packets and IP bytes.</summary>
        public async Task<(long Packets, long Bytes)> CounterAsync(string name, CancellationToken ct)
        {
            ProcessResult result = await ProcessRunner.RunAsync("ip", ["netns", "exec", SeedNamespace, "nft", "list", "counter", "inet", "pnsf", name], CommandTimeout, cancellationToken: ct);
            Match m = CounterPattern().Match(result.StandardOutput);
            Assert.True(m.Success, result.StandardOutput);
            return (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
        }

        public async ValueTask DisposeAsync()
            => await ProcessRunner.RunAsync("sh", [PythonScripts.Resolve("syn_flood_net.sh"), "down", Suffix], CommandTimeout, checkExitCode: false);

        [GeneratedRegex(@"packets (\d+) bytes (\d+)")]
        private static partial Regex CounterPattern();
    }
}
