using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace PeerNet.Interop.Tests;

/// <summary>A status line of <c>peernet get</c> (every 2 s) or <c>peernet seed</c> (every 5 s).</summary>
internal sealed record PeerNetStatus(string State, double Percent, int PiecesVerified, int PieceCount, long Received, long Sent);

/// <summary>The <c>complete: ...</c> line of <c>peernet get</c>.</summary>
internal sealed record PeerNetCompletion(long Received, long Sent, string SavedTo);

/// <summary>What <c>peernet get</c> found on disk at start (<c>NAME: X/Y pieces already verified on disk</c>).</summary>
internal sealed record PeerNetResumeLine(int PiecesVerified, int PieceCount);

/// <summary>Options of <c>peernet get</c> and <c>peernet seed</c> that the tests use; peers are ports on <see cref="Host"/>.</summary>
internal sealed record PeerNetOptions
{
    public IReadOnlyList<int> Peers { get; init; } = [];

    /// <summary>Peers elsewhere than on <see cref="Host"/> (HOST:PORT), as in another network namespace.</summary>
    public IReadOnlyList<string> PeerEndPoints { get; init; } = [];

    /// <summary>DHT nodes to join (HOST:PORT); none keeps the DHT off (<c>--no-dht</c>), so tests never reach the public routers.</summary>
    public IReadOnlyList<string> Bootstrap { get; init; } = [];

    /// <summary>The loopback address to bind and to dial peers on: 127.0.0.1, or ::1 for IPv6.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0: a free port, printed by peernet.</summary>
    public int Port { get; init; }

    /// <summary>As peernet takes it: bytes per second or with a suffix ("2M").</summary>
    public string? UploadLimit { get; init; }

    /// <summary><c>get</c> only: keep seeding after the download, until disposed.</summary>
    public bool Seed { get; init; }

    /// <summary><c>seed</c> only: BEP 16 super-seeding (<c>--super-seed</c>).</summary>
    public bool SuperSeed { get; init; }

    /// <summary><c>get</c> only: where resume data goes; by default a folder beside the download folder.</summary>
    public string? ResumeDirectory { get; init; }

    /// <summary>
    /// Local service discovery (BEP 14) on: multicast announces. Off by default (<c>--no-lsd</c>), so tests never
    /// multicast onto the host's network; turn it on only with a <see cref="Launcher"/> into a private namespace.
    /// </summary>
    public bool LocalDiscovery { get; init; }

    /// <summary><c>--no-trackers</c>: announce to none of the torrent's trackers.</summary>
    public bool NoTrackers { get; init; }

    /// <summary>
    /// <c>-v</c>: peer events (connections, why each closed, bans) on stderr, which a failing test's message carries.
    /// On by default: the first question about a stalled transfer is who closed which connection, and why.
    /// </summary>
    public bool Verbose { get; init; } = true;

    /// <summary><c>--encryption</c> (disabled, enabled, forced); null for peernet's default (enabled).</summary>
    public string? Encryption { get; init; }

    /// <summary><c>--encryption-level</c> (plaintext, rc4, both); null for peernet's default (both).</summary>
    public string? EncryptionLevel { get; init; }

    /// <summary><c>--utp</c> (accept, on, off, only); null for peernet's default (on: dial uTP first, then TCP; accept both).</summary>
    public string? Utp { get; init; }

    /// <summary>A command prefix to run peernet under, such as <see cref="NetworkNamespace.Launcher"/>; empty for none.</summary>
    public IReadOnlyList<string> Launcher { get; init; } = [];

    /// <summary>More options, as given (<c>--download-limit 1K</c>, <c>--no-holepunch</c>, ...).</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];
}

/// <summary>
/// The built <c>peernet</c> CLI (peernet.dll beside the test assembly, run by the dotnet host), always bound to
/// 127.0.0.1. Reads its lines as they come; <see cref="ListenPort"/> is from its first line.
/// </summary>
internal sealed partial class PeerNetProcess : IAsyncDisposable
{
    /// <summary>dotnet's start-up plus the engine's; generous because the machine is shared.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private PeerNetProcess(BackgroundProcess process, int listenPort, string? address = null)
    {
        Process = process;
        ListenPort = listenPort;
        Address = address;
    }

    public BackgroundProcess Process { get; }

    public int ListenPort { get; }

    /// <summary><c>store serve</c> and <c>chat</c> only: the <c>/ip4/127.0.0.1/tcp/PORT/p2p/ID</c> address it printed, for <c>--peer</c>.</summary>
    public string? Address { get; }

    /// <summary>Names another peernet.dll to test (another build of the CLI) instead of the one beside the tests.</summary>
    public const string AssemblyVariable = "PEERNET_CLI_DLL";

    /// <summary>peernet.dll as built beside the test assembly (the test project references PeerNet.Cli), or <see cref="AssemblyVariable"/>.</summary>
    public static string AssemblyPath => Environment.GetEnvironmentVariable(AssemblyVariable) is { Length: > 0 } path
        ? Path.GetFullPath(path)
        : Path.Combine(AppContext.BaseDirectory, "peernet.dll");

    /// <summary>The <c>X/Y pieces already verified on disk</c> line, if printed yet.</summary>
    public PeerNetResumeLine? ResumeLine => Process.Lines.Select(ParseResumeLine).OfType<PeerNetResumeLine>().FirstOrDefault();

    /// <summary><c>peernet seed TORRENT DATA</c>: <paramref name="dataPath"/> is the content itself (file or folder).</summary>
    public static Task<PeerNetProcess> StartSeedAsync(string torrentPath, string dataPath, PeerNetOptions options, CancellationToken cancellationToken)
        => StartAsync("peernet seed", ["seed", torrentPath, dataPath, .. CommonArguments(options), .. (options.SuperSeed ? ["--super-seed"] : Array.Empty<string>())], options.Launcher, cancellationToken);

    /// <summary><c>peernet get TORRENT -o DIR --resume-dir ...</c>: the content lands under <paramref name="outputDirectory"/>.</summary>
    public static Task<PeerNetProcess> StartGetAsync(string torrentPath, string outputDirectory, PeerNetOptions options, CancellationToken cancellationToken)
    {
        string resume = options.ResumeDirectory ?? outputDirectory.TrimEnd('/') + ".resume";
        List<string> arguments = ["get", torrentPath, "-o", outputDirectory, "--resume-dir", resume, .. CommonArguments(options)];
        if (options.Seed)
        {
            arguments.Add("--seed");
        }

        return StartAsync("peernet get", arguments, options.Launcher, cancellationToken);
    }

    /// <summary>
    /// <c>peernet store serve --share SIZE --state DIR --bind 127.0.0.1 --port PORT</c> (0: any free port): lends
    /// space until killed; ready once it printed its libp2p address (<see cref="Address"/>).
    /// </summary>
    public static async Task<PeerNetProcess> StartStoreServeAsync(string stateDirectory, string share, int port, CancellationToken cancellationToken)
    {
        string[] arguments = ["store", "serve", "--share", share, "--state", stateDirectory, "--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture)];
        var process = BackgroundProcess.Start("peernet store serve", DotnetHost(), [CheckedAssemblyPath(), .. arguments]);
        try
        {
            string line = await process.WaitForLineAsync(l => StoreAddressPattern().IsMatch(l), StartTimeout, cancellationToken).ConfigureAwait(false);
            return new PeerNetProcess(process, int.Parse(StoreAddressPattern().Match(line).Groups["port"].Value, CultureInfo.InvariantCulture), line.Trim());
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// <c>peernet chat TOPIC --bind 127.0.0.1 [--peer MULTIADDR]...</c>: lines written to it
    /// (<see cref="BackgroundProcess.WriteLineAsync"/>) are published, messages received come out as <c>SHORTID: text</c>; ready
    /// once it said on stderr who it is and where (<see cref="Address"/>). It runs until killed (disposed).
    /// </summary>
    public static async Task<PeerNetProcess> StartChatAsync(string topic, IEnumerable<string> peers, CancellationToken cancellationToken)
    {
        string[] arguments = ["chat", topic, "--bind", "127.0.0.1", .. peers.SelectMany(p => new[] { "--peer", p })];
        var process = BackgroundProcess.Start("peernet chat", DotnetHost(), [CheckedAssemblyPath(), .. arguments]);
        try
        {
            string line = await process.WaitForErrorLineAsync(l => ChatStartPattern().IsMatch(l), StartTimeout, cancellationToken).ConfigureAwait(false);
            Match m = ChatStartPattern().Match(line);
            return new PeerNetProcess(process, int.Parse(m.Groups["port"].Value, CultureInfo.InvariantCulture), m.Groups["address"].Value);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs a verb that ends by itself (<c>store put</c>, <c>store get</c>, ...) to its exit, within <paramref name="timeout"/>.</summary>
    public static Task<ProcessResult> RunAsync(IEnumerable<string> arguments, TimeSpan timeout, bool checkExitCode, CancellationToken cancellationToken)
        => ProcessRunner.RunAsync(DotnetHost(), [CheckedAssemblyPath(), .. arguments], timeout, checkExitCode: checkExitCode, cancellationToken: cancellationToken);

    /// <summary>Runs a verb that ends by itself under <paramref name="launcher"/> (<c>ip netns exec NAME</c>, say).</summary>
    public static Task<ProcessResult> RunUnderAsync(IReadOnlyList<string> launcher, IEnumerable<string> arguments, TimeSpan timeout, bool checkExitCode, CancellationToken cancellationToken)
        => ProcessRunner.RunAsync(launcher[0], [.. launcher.Skip(1), DotnetHost(), CheckedAssemblyPath(), .. arguments], timeout, checkExitCode: checkExitCode, cancellationToken: cancellationToken);

    /// <summary>Waits for the <c>complete:</c> line (and, unless seeding on, a clean exit) and returns its counters.</summary>
    public async Task<PeerNetCompletion> WaitForCompletionAsync(TimeSpan timeout, bool seeding, CancellationToken cancellationToken)
    {
        string line = await Process.WaitForLineAsync(l => l.StartsWith("complete:", StringComparison.Ordinal), timeout, cancellationToken).ConfigureAwait(false);
        PeerNetCompletion completion = ParseCompletion(line)
            ?? throw new InvalidOperationException($"peernet's complete line does not parse: '{line}'\n{Process.Describe()}");
        if (!seeding)
        {
            int exitCode = await Process.WaitForExitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            Assert.True(exitCode == 0, $"peernet get exited with {exitCode} after completing.\n{Process.Describe()}");
        }

        return completion;
    }

    /// <summary>Waits for a status line that <paramref name="match"/> accepts.</summary>
    public async Task<PeerNetStatus> WaitForStatusAsync(Func<PeerNetStatus, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string line = await Process.WaitForLineAsync(l => ParseStatus(l) is { } s && match(s), timeout, cancellationToken).ConfigureAwait(false);
        return ParseStatus(line)!;
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    // --- Output parsing (sizes as ByteSize.Format prints them: "0 B", "512 KiB", "1.5 MiB") ------------------------

    /// <summary>
    /// <c>downloading 51.2% (131/256 pieces verified)  down 1 MiB/s  up 0 B/s  peers 1  received 4.1 MiB  sent 0 B</c>;
    /// null for any other line.
    /// </summary>
    public static PeerNetStatus? ParseStatus(string line)
    {
        Match m = StatusPattern().Match(line);
        return m.Success
            ? new PeerNetStatus(
                m.Groups["state"].Value,
                double.Parse(m.Groups["percent"].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups["have"].Value, CultureInfo.InvariantCulture),
                int.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture),
                ParseSize(m.Groups["received"].Value),
                ParseSize(m.Groups["sent"].Value))
            : null;
    }

    /// <summary><c>complete: 8 MiB verified in 3.1 s; received 8 MiB, sent 1.2 MiB, saved to /tmp/x</c>; null otherwise.</summary>
    public static PeerNetCompletion? ParseCompletion(string line)
    {
        Match m = CompletionPattern().Match(line);
        return m.Success ? new PeerNetCompletion(ParseSize(m.Groups["received"].Value), ParseSize(m.Groups["sent"].Value), m.Groups["dir"].Value) : null;
    }

    /// <summary><c>swarm: 120/256 pieces already verified on disk</c>; null otherwise.</summary>
    public static PeerNetResumeLine? ParseResumeLine(string line)
    {
        Match m = ResumePattern().Match(line);
        return m.Success
            ? new PeerNetResumeLine(int.Parse(m.Groups["have"].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture))
            : null;
    }

    /// <summary>"1.5 MiB" → bytes, rounded (the printed value has at most 3 significant decimals); KB/MB/GB read as binary.</summary>
    public static long ParseSize(string text)
    {
        Match m = SizePattern().Match(text.Trim());
        if (!m.Success)
        {
            throw new FormatException($"not a size: '{text}'");
        }

        int power = char.ToUpperInvariant(m.Groups["unit"].Value[0]) switch
        {
            'B' => 0,
            'K' => 1,
            'M' => 2,
            'G' => 3,
            'T' => 4,
            _ => 5,
        };
        return (long)Math.Round(double.Parse(m.Groups["number"].Value, CultureInfo.InvariantCulture) * Math.Pow(1024, power));
    }

    private static async Task<PeerNetProcess> StartAsync(string name, IReadOnlyList<string> arguments, IReadOnlyList<string> launcher, CancellationToken cancellationToken)
    {
        List<string> command = [.. launcher, DotnetHost(), CheckedAssemblyPath(), .. arguments];
        var process = BackgroundProcess.Start(name, command[0], command.Skip(1));
        try
        {
            string line = await process.WaitForLineAsync(l => ListenPattern().IsMatch(l), StartTimeout, cancellationToken).ConfigureAwait(false);
            return new PeerNetProcess(process, int.Parse(ListenPattern().Match(line).Groups["port"].Value, CultureInfo.InvariantCulture));
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string CheckedAssemblyPath() => File.Exists(AssemblyPath)
        ? AssemblyPath
        : throw new FileNotFoundException($"{AssemblyPath} is missing: build PeerNet.Cli (the test project references it).", AssemblyPath);

    private static IEnumerable<string> CommonArguments(PeerNetOptions options)
    {
        yield return "--bind";
        yield return options.Host;
        if (options.Bootstrap.Count == 0)
        {
            yield return "--no-dht";
        }

        if (!options.LocalDiscovery)
        {
            yield return "--no-lsd";
        }

        if (options.NoTrackers)
        {
            yield return "--no-trackers";
        }

        if (options.Encryption is { } encryption)
        {
            yield return "--encryption";
            yield return encryption;
        }

        if (options.EncryptionLevel is { } level)
        {
            yield return "--encryption-level";
            yield return level;
        }

        if (options.Utp is { } utp)
        {
            yield return "--utp";
            yield return utp;
        }

        if (options.Verbose)
        {
            yield return "--verbose";
        }

        foreach (string node in options.Bootstrap)
        {
            yield return "--bootstrap";
            yield return node;
        }
        if (options.Port != 0)
        {
            yield return "--port";
            yield return options.Port.ToString(CultureInfo.InvariantCulture);
        }

        if (options.UploadLimit is not null)
        {
            yield return "--upload-limit";
            yield return options.UploadLimit;
        }

        foreach (int peer in options.Peers)
        {
            yield return "--peer";
            yield return new System.Net.IPEndPoint(System.Net.IPAddress.Parse(options.Host), peer).ToString(); // [::1]:N for IPv6
        }

        foreach (string peer in options.PeerEndPoints)
        {
            yield return "--peer";
            yield return peer;
        }

        foreach (string argument in options.ExtraArguments)
        {
            yield return argument;
        }
    }

    /// <summary>The dotnet host running the tests (DOTNET_HOST_PATH under dotnet test), else the one owning this runtime, else PATH's.</summary>
    public static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        // The runtime lives in DOTNET_ROOT/shared/Microsoft.NETCore.App/VERSION/.
        string root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        string candidate = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }

    [GeneratedRegex(@"^/ip4/127\.0\.0\.1/tcp/(?<port>\d+)/p2p/\w+\s*$")]
    private static partial Regex StoreAddressPattern();

    /// <summary><c>chat on 'TOPIC' as PEERID (SHORTID); reach it at /ip4/127.0.0.1/tcp/PORT/p2p/PEERID</c>.</summary>
    [GeneratedRegex(@"^chat on '.*' as \S+ \(\S+\); reach it at (?<address>/ip4/127\.0\.0\.1/tcp/(?<port>\d+)/p2p/\w+)")]
    private static partial Regex ChatStartPattern();

    [GeneratedRegex(@"^listening on port (?<port>\d+)")]
    private static partial Regex ListenPattern();

    [GeneratedRegex(@"^(?<state>[a-z]+) (?<percent>\d+(?:\.\d+)?)% \((?<have>\d+)/(?<count>\d+) pieces verified\).*\breceived (?<received>\d+(?:\.\d+)? [KMGTP]?i?B)\s+sent (?<sent>\d+(?:\.\d+)? [KMGTP]?i?B)")]
    private static partial Regex StatusPattern();

    [GeneratedRegex(@"^complete: .*\breceived (?<received>\d+(?:\.\d+)? [KMGTP]?i?B), sent (?<sent>\d+(?:\.\d+)? [KMGTP]?i?B), saved to (?<dir>.+)$")]
    private static partial Regex CompletionPattern();

    [GeneratedRegex(@"(?<have>\d+)/(?<count>\d+) pieces already verified on disk")]
    private static partial Regex ResumePattern();

    [GeneratedRegex(@"^(?<number>\d+(?:\.\d+)?) ?(?<unit>[KMGTP]?i?B)$", RegexOptions.IgnoreCase)]
    private static partial Regex SizePattern();
}
