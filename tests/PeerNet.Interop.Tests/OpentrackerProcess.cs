using System.Globalization;

namespace PeerNet.Interop.Tests;

/// <summary>
/// Debian's <c>opentracker</c> on 127.0.0.1, HTTP and UDP on one port. That build serves only whitelisted
/// info-hashes (one hex hash per line in <c>whitelist.txt</c>, a path relative to its <c>-d</c> folder, read at
/// start) and, run as root, chroots to that folder and drops to <c>nobody</c> (its default <c>-u</c>), so the
/// folder and the list must be readable by everyone.
/// </summary>
internal sealed class OpentrackerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private OpentrackerProcess(BackgroundProcess process, int port)
    {
        Process = process;
        Port = port;
    }

    public BackgroundProcess Process { get; }

    public int Port { get; }

    public string HttpAnnounceUrl => $"http://127.0.0.1:{Port}/announce";

    public string UdpAnnounceUrl => $"udp://127.0.0.1:{Port}/announce";

    /// <summary>Starts the tracker with <paramref name="infoHashes"/> whitelisted and waits until it listens.</summary>
    public static async Task<OpentrackerProcess> StartAsync(TempDirectory temp, IEnumerable<Sha1Hash> infoHashes, CancellationToken cancellationToken)
    {
        ToolInfo tool = ReferenceTools.Require(ReferenceTool.Opentracker);
        string folder = temp.Combine("opentracker");
        Directory.CreateDirectory(folder);
        await File.WriteAllLinesAsync(Path.Combine(folder, "whitelist.txt"), infoHashes.Select(h => h.ToString()), cancellationToken).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows())
        {
            const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
            File.SetUnixFileMode(folder, Readable | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            File.SetUnixFileMode(Path.Combine(folder, "whitelist.txt"), Readable);
        }

        int port = LoopbackPorts.GetFree();
        string portText = port.ToString(CultureInfo.InvariantCulture);
        var process = BackgroundProcess.Start("opentracker", tool.Path!, ["-i", "127.0.0.1", "-p", portText, "-P", portText, "-d", folder, "-w", "whitelist.txt"]);
        try
        {
            await LoopbackPorts.WaitUntilListeningAsync(port, StartTimeout, process.Describe, cancellationToken).ConfigureAwait(false);
            if (infoHashes.FirstOrDefault() is { } first && first != default)
            {
                await WaitUntilWhitelistedAsync(port, first, process, cancellationToken).ConfigureAwait(false);
            }

            return new OpentrackerProcess(process, port);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    /// <summary>
    /// opentracker listens before it has read its whitelist (a thread of its own loads it): a first announce in between
    /// is refused as not whitelisted (seen once in CI, on a loaded machine). Until a probe announce of
    /// <paramref name="hash"/> (event=stopped, so no peer is left behind) is answered without a failure, it is not ready.
    /// </summary>
    private static async Task WaitUntilWhitelistedAsync(int port, Sha1Hash hash, BackgroundProcess process, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        string escaped = string.Concat(hash.ToArray().Select(b => "%" + b.ToString("X2", CultureInfo.InvariantCulture)));
        var probe = new Uri($"http://127.0.0.1:{port}/announce?info_hash={escaped}&peer_id=-PROBE-0000000000000&port=9&uploaded=0&downloaded=0&left=0&event=stopped&compact=1");
        string last = "";
        await PeerNet.Testing.Poll.UntilAsync(
            () =>
            {
                try
                {
                    last = http.GetStringAsync(probe, cancellationToken).GetAwaiter().GetResult();
                    return !last.Contains("failure reason", StringComparison.Ordinal);
                }
                catch (HttpRequestException e)
                {
                    last = e.Message;
                    return false;
                }
            },
            "opentracker serving its whitelist",
            StartTimeout,
            TimeSpan.FromMilliseconds(50),
            () => $"last answer: {last}\n{process.Describe()}").ConfigureAwait(false);
    }
}
