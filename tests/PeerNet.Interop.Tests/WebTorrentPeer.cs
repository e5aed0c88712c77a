using System.Globalization;
using System.Text.Json.Nodes;

namespace PeerNet.Interop.Tests;

/// <summary>
/// A WebTorrent 3 peer on Node 24 (webtorrent-js/peer.mjs) speaking BitTorrent over uTP only: its uTP is utp-native,
/// bindings to libutp (BitTorrent Inc.'s C implementation); its TCP listener is closed and its TCP dialer refuses every
/// call, so it cannot fall back to TCP. DHT, LSD, trackers and port mapping are off: it talks to the peer it is given.
/// It reports in JSON lines (ready, wire, done, report), each with the connections it had (<see cref="WebTorrentWire"/>).
/// Disposing it closes stdin (it stops) and kills what is left.
/// </summary>
internal sealed class WebTorrentPeer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(15);

    private readonly BackgroundProcess _process;
    private int _reports;

    private WebTorrentPeer(BackgroundProcess process, WebTorrentReport ready)
    {
        _process = process;
        Ready = ready;
    }

    /// <summary>What it said once it listened (and, seeding, had verified its data): its uTP port among the rest.</summary>
    public WebTorrentReport Ready { get; }

    /// <summary>Its uTP port on every address (the TCP port of that number is closed).</summary>
    public int Port => Ready.Port;

    /// <summary>The process, for its output in failure messages.</summary>
    public BackgroundProcess Process => _process;

    /// <summary>Seeds <paramref name="torrentPath"/> from <paramref name="directory"/> (the content's parent) once it has checked every piece there.</summary>
    public static Task<WebTorrentPeer> StartSeedAsync(ToolInfo tool, string torrentPath, string directory, CancellationToken cancellationToken)
        => StartAsync(tool, ["seed", torrentPath, directory], cancellationToken);

    /// <summary>Downloads <paramref name="torrentPath"/> into <paramref name="directory"/> from <paramref name="peer"/> (HOST:PORT), over uTP.</summary>
    public static Task<WebTorrentPeer> StartGetAsync(ToolInfo tool, string torrentPath, string directory, string peer, CancellationToken cancellationToken)
        => StartAsync(tool, ["get", torrentPath, directory, "--peer", peer], cancellationToken);

    private static async Task<WebTorrentPeer> StartAsync(ToolInfo tool, string[] arguments, CancellationToken cancellationToken)
    {
        string script = Path.Combine(ReferenceTools.WebTorrentFolder, "peer.mjs");
        var process = BackgroundProcess.Start("webtorrent", tool.Path!, [script, .. arguments], exitsWhenStdinCloses: true, workingDirectory: ReferenceTools.WebTorrentFolder);
        try
        {
            string line = await process.WaitForLineAsync(l => IsEvent(l, "ready") || IsEvent(l, "error"), StartTimeout, cancellationToken).ConfigureAwait(false);
            WebTorrentReport ready = WebTorrentReport.Parse(line);
            if (ready.Event != "ready")
            {
                throw new InvalidOperationException($"webtorrent failed to start: {line}\n{process.Describe()}");
            }

            return new WebTorrentPeer(process, ready);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits until every piece is in and checked (WebTorrent checks each piece's SHA-1 as it arrives).</summary>
    public async Task<WebTorrentReport> WaitForDoneAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        string line = await _process.WaitForLineAsync(l => IsEvent(l, "done") || IsEvent(l, "error"), timeout, cancellationToken).ConfigureAwait(false);
        WebTorrentReport done = WebTorrentReport.Parse(line);
        return done.Event == "done" ? done : throw new InvalidOperationException($"webtorrent failed: {line}\n{_process.Describe()}");
    }

    /// <summary>Asks for a report now: its connections so far with the bytes each carried.</summary>
    public async Task<WebTorrentReport> ReportAsync(CancellationToken cancellationToken)
    {
        int wanted = Interlocked.Increment(ref _reports);
        int seen = 0;
        await _process.WriteLineAsync("report", cancellationToken).ConfigureAwait(false);
        string line = await _process.WaitForLineAsync(l => IsEvent(l, "report") && ++seen == wanted, ReportTimeout, cancellationToken).ConfigureAwait(false);
        return WebTorrentReport.Parse(line);
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    /// <summary>For messages: what the peer printed.</summary>
    public override string ToString() => _process.Describe();

    private static bool IsEvent(string line, string kind) => line.Contains($"\"event\":\"{kind}\"", StringComparison.Ordinal);
}

/// <summary>One connection of the WebTorrent peer: its type (<c>utpIncoming</c>, <c>utpOutgoing</c>, <c>tcpIncoming</c>, ...), the other end, and the piece bytes each way.</summary>
internal sealed record WebTorrentWire(string Type, string? Address, long Downloaded, long Uploaded);

/// <summary>A report line of webtorrent-js/peer.mjs.</summary>
internal sealed record WebTorrentReport(string Event, int Port, string Versions, int TcpDialsRefused, bool TcpListening, long Downloaded, IReadOnlyList<WebTorrentWire> Wires)
{
    public static WebTorrentReport Parse(string line)
    {
        JsonNode node = JsonNode.Parse(line)!;
        JsonNode? versions = node["versions"];
        return new WebTorrentReport(
            (string)node["event"]!,
            (int?)node["port"] ?? 0,
            versions is null ? "" : string.Create(CultureInfo.InvariantCulture, $"webtorrent {versions["webtorrent"]}, utp-native {versions["utpNative"]}, node {versions["node"]}"),
            (int?)node["tcpDialsRefused"] ?? 0,
            (bool?)node["tcpListening"] ?? false,
            (long?)node["downloaded"] ?? 0,
            [.. (node["wires"]?.AsArray() ?? []).Select(w => new WebTorrentWire((string)w!["type"]!, (string?)w["addr"], (long?)w["downloaded"] ?? 0, (long?)w["uploaded"] ?? 0))]);
    }
}
