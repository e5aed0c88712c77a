using System.Text.Json;

namespace PeerNet.Interop.Tests;

/// <summary>The last line of <c>lt_download.py</c>'s download phase.</summary>
internal sealed record LtDone(
    bool Done,
    double Seconds,
    long TotalPayloadDownload,
    long TotalPayloadUpload,
    long TotalDownload,
    long TotalUpload,
    int NumPieces,
    int PiecesHave);

/// <summary>The first line of <c>lt_download.py</c>.</summary>
internal sealed record LtListening(int Port);

/// <summary>The status line both scripts print every second (<c>lt_common.status_line</c>), the fields tests read.</summary>
internal sealed record LtStatus(double T, string State, double Progress, int PiecesHave, bool IsSeeding, int NumPeers, long TotalPayloadDownload);

/// <summary>What <c>lt_seed.py</c> says once its data is checked and it listens.</summary>
internal sealed record LtSeedReady(int Port, int NumPieces, int PiecesHave, IReadOnlyList<string> Errors);

/// <summary>
/// A libtorrent peer on loopback (TCP only, no DHT/UPnP; LSD only when asked, inside a private network namespace), run
/// by <c>lt_seed.py</c> or <c>lt_download.py</c>; or, given a launcher (<c>ip netns exec NAME</c>), on an address of
/// that namespace.
/// </summary>
internal sealed class LibtorrentProcess : IAsyncDisposable
{
    /// <summary>libtorrent checks the seeder's data before it says it is ready.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    private readonly bool _seedAfter;

    private LibtorrentProcess(BackgroundProcess process, int listenPort, bool seedAfter)
    {
        Process = process;
        ListenPort = listenPort;
        _seedAfter = seedAfter;
    }

    public BackgroundProcess Process { get; }

    public int ListenPort { get; }

    /// <summary>
    /// Starts <c>lt_seed.py</c> on the data under <paramref name="savePath"/> (the folder holding the torrent's
    /// content) and waits until it has checked the data and listens. It dials each of <paramref name="dialPorts"/>
    /// on 127.0.0.1 (again and again while not connected). With <paramref name="localDiscoveryIn"/> it runs in that
    /// namespace with local service discovery on; with <paramref name="launcher"/> it runs under that command prefix
    /// (<c>ip netns exec NAME</c>: <paramref name="host"/> is then an address of that namespace).
    /// </summary>
    public static async Task<(LibtorrentProcess Seeder, LtSeedReady Ready)> StartSeedAsync(
        string torrentPath,
        string savePath,
        CancellationToken cancellationToken,
        IEnumerable<int>? dialPorts = null,
        long uploadLimit = 0,
        int port = 0,
        string host = "127.0.0.1",
        IEnumerable<string>? trackers = null,
        NetworkNamespace? localDiscoveryIn = null,
        bool forceEncryption = false,
        bool utpOnly = false,
        IReadOnlyList<string>? launcher = null)
    {
        List<string> arguments = [PythonScripts.Resolve("lt_seed.py"), torrentPath, savePath, "--port", port.ToString(), "--host", host];
        if (forceEncryption)
        {
            arguments.AddRange(["--enc", "forced"]);
        }

        if (utpOnly)
        {
            arguments.AddRange(["--transport", "utp"]);
        }

        arguments.AddRange(PeerArguments(dialPorts, host));
        foreach (string tracker in trackers ?? [])
        {
            arguments.AddRange(["--tracker", tracker]);
        }

        if (uploadLimit > 0)
        {
            arguments.AddRange(["--upload-limit", uploadLimit.ToString()]);
        }

        var process = Start("libtorrent seeder", arguments, localDiscoveryIn, launcher);
        try
        {
            string line = await process.WaitForLineAsync(l => HasProperty(l, "port"), StartTimeout, cancellationToken).ConfigureAwait(false);
            LtSeedReady ready = Parse<LtSeedReady>(line);
            return (new LibtorrentProcess(process, ready.Port, seedAfter: true), ready);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Starts <c>lt_download.py</c> into <paramref name="savePath"/>, dialing each of <paramref name="peerPorts"/> on
    /// <paramref name="peerHost"/> (by default its own <paramref name="host"/>, 127.0.0.1), and waits until it listens.
    /// It gives up (exit 3) after <paramref name="timeout"/>; with <paramref name="seedAfter"/> it then keeps seeding
    /// until disposed. With <paramref name="localDiscoveryIn"/> it runs in that namespace with local service discovery
    /// on; with <paramref name="launcher"/> under that command prefix (<c>ip netns exec NAME</c>).
    /// </summary>
    public static async Task<LibtorrentProcess> StartDownloadAsync(
        string torrentPath,
        string savePath,
        IEnumerable<int> peerPorts,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        int port = 0,
        bool seedAfter = false,
        string host = "127.0.0.1",
        NetworkNamespace? localDiscoveryIn = null,
        bool forceEncryption = false,
        bool utpOnly = false,
        IReadOnlyList<string>? launcher = null,
        string? peerHost = null)
    {
        List<string> arguments =
        [
            PythonScripts.Resolve("lt_download.py"), torrentPath, savePath,
            "--timeout", ((int)Math.Ceiling(timeout.TotalSeconds)).ToString(), "--port", port.ToString(), "--host", host,
        ];
        if (forceEncryption)
        {
            arguments.AddRange(["--enc", "forced"]);
        }

        if (utpOnly)
        {
            arguments.AddRange(["--transport", "utp"]);
        }

        arguments.AddRange(PeerArguments(peerPorts, peerHost ?? host));
        if (seedAfter)
        {
            arguments.Add("--seed-after");
        }

        var process = Start("libtorrent downloader", arguments, localDiscoveryIn, launcher);
        try
        {
            string line = await process.WaitForLineAsync(l => HasProperty(l, "port"), StartTimeout, cancellationToken).ConfigureAwait(false);
            return new LibtorrentProcess(process, Parse<LtListening>(line).Port, seedAfter);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Waits for <c>lt_download.py</c>'s final line and fails unless every piece arrived; without seed-after it also
    /// waits for a clean exit. <paramref name="timeout"/> should exceed the script's own.
    /// </summary>
    public async Task<LtDone> WaitForDoneAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        LtDone done = await WaitForFinalLineAsync(timeout, cancellationToken).ConfigureAwait(false);
        Assert.True(done.Done, $"libtorrent did not complete the download.\n{Process.Describe()}");
        if (!_seedAfter)
        {
            int exitCode = await Process.WaitForExitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            Assert.True(exitCode == 0, $"lt_download.py exited with {exitCode}.\n{Process.Describe()}");
        }

        return done;
    }

    /// <summary>
    /// Waits for <c>lt_download.py</c>'s final line, complete or not (it gives up after the timeout it was started
    /// with): a measurement reads how far it got. <paramref name="timeout"/> should exceed the script's own.
    /// </summary>
    public async Task<LtDone> WaitForFinalLineAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        string line = await Process.WaitForLineAsync(l => HasProperty(l, "done"), timeout, cancellationToken).ConfigureAwait(false);
        return Parse<LtDone>(line);
    }

    /// <summary>The last status line so far (they come every second), or null before the first.</summary>
    public LtStatus? LastStatus => Process.Lines.LastOrDefault(IsStatusLine) is { } line ? Parse<LtStatus>(line) : null;

    /// <summary>Whether <c>lt_download.py</c> has printed its final line (complete or given up).</summary>
    public bool HasFinished => Process.Lines.Any(l => HasProperty(l, "done"));

    /// <summary>Waits for a status line that <paramref name="match"/> accepts.</summary>
    public async Task<LtStatus> WaitForStatusAsync(Func<LtStatus, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string line = await Process.WaitForLineAsync(l => IsStatusLine(l) && match(Parse<LtStatus>(l)), timeout, cancellationToken).ConfigureAwait(false);
        return Parse<LtStatus>(line);
    }

    /// <summary>Waits for the first status line printed after this call (they come every second).</summary>
    public async Task<LtStatus> WaitForNextStatusAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        int printed = Process.Lines.Count(IsStatusLine);
        int seen = 0;
        // WaitForLineAsync offers each line once, in order: the status lines past the ones already printed are new.
        string line = await Process.WaitForLineAsync(l => IsStatusLine(l) && ++seen > printed, timeout, cancellationToken).ConfigureAwait(false);
        return Parse<LtStatus>(line);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    /// <summary>
    /// Runs the script; with <paramref name="localDiscoveryIn"/>, inside that namespace with LSD on (<c>--lsd</c>); with
    /// <paramref name="launcher"/>, under that prefix.
    /// </summary>
    private static BackgroundProcess Start(string name, List<string> arguments, NetworkNamespace? localDiscoveryIn, IReadOnlyList<string>? launcher)
    {
        var crashDumps = new CrashDumps(ReferenceTools.SystemPython);
        if (localDiscoveryIn is null && launcher is not { Count: > 0 })
        {
            return BackgroundProcess.Start(name, ReferenceTools.SystemPython, arguments, exitsWhenStdinCloses: true, crashDumps: crashDumps, isRoutine: IsStatusLine);
        }

        List<string> command = localDiscoveryIn is not null
            ? [.. localDiscoveryIn.Launcher, ReferenceTools.SystemPython, .. arguments, "--lsd"]
            : [.. launcher!, ReferenceTools.SystemPython, .. arguments];
        return BackgroundProcess.Start(name, command[0], command.Skip(1), exitsWhenStdinCloses: true, crashDumps: crashDumps, isRoutine: IsStatusLine);
    }

    /// <summary>The status line both scripts print every second ({"t": ...}); the rest are events.</summary>
    private static bool IsStatusLine(string line) => line.StartsWith("{\"t\":", StringComparison.Ordinal);

    private static IEnumerable<string> PeerArguments(IEnumerable<int>? ports, string host)
        => (ports ?? []).SelectMany(p => new[] { "--peer", new System.Net.IPEndPoint(System.Net.IPAddress.Parse(host), p).ToString() });

    private static bool HasProperty(string line, string name)
    {
        if (!line.StartsWith('{'))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.TryGetProperty(name, out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static T Parse<T>(string line)
        => JsonSerializer.Deserialize<T>(line, PythonScripts.JsonOptions) ?? throw new JsonException($"null from: {line}");
}
