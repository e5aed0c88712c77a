using System.Text.Json.Nodes;

namespace PeerNet.Interop.Tests;

/// <summary>
/// A js-libp2p 3 peer on Node 24 (libp2p-js/peer.mjs): TCP, Noise, yamux, identify, ping, Kademlia and gossipsub,
/// listening on 127.0.0.1. Driven over stdin/stdout with one JSON object per line: <see cref="RequestAsync"/> sends a
/// command and awaits its answer; <see cref="WaitForEventAsync"/> awaits something the peer reports unasked
/// (identify, connect, a gossipsub message). Disposing it closes stdin (the peer stops) and kills what is left.
/// </summary>
internal sealed class JsLibp2pPeer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(30);

    private readonly BackgroundProcess _process;
    private int _nextId;

    private JsLibp2pPeer(BackgroundProcess process, string peerId, IReadOnlyList<string> addresses)
    {
        _process = process;
        PeerId = peerId;
        Addresses = addresses;
    }

    /// <summary>The peer's ID as js-libp2p prints it (<c>12D3KooW...</c>).</summary>
    public string PeerId { get; }

    /// <summary>Where it listens, each ending in <c>/p2p/</c> and its ID.</summary>
    public IReadOnlyList<string> Addresses { get; }

    /// <summary>The process, for its output in failure messages.</summary>
    public BackgroundProcess Process => _process;

    /// <summary>Starts a peer (the tool must have been required by the test) and waits until it listens.</summary>
    public static async Task<JsLibp2pPeer> StartAsync(ToolInfo tool, CancellationToken cancellationToken, string listen = "/ip4/127.0.0.1/tcp/0")
    {
        string script = Path.Combine(ReferenceTools.JsLibp2pFolder, "peer.mjs");
        var process = BackgroundProcess.Start("js-libp2p", tool.Path!, [script, "--listen", listen], exitsWhenStdinCloses: true, workingDirectory: ReferenceTools.JsLibp2pFolder);
        try
        {
            string line = await process.WaitForLineAsync(l => l.Contains("\"event\":\"ready\"", StringComparison.Ordinal), StartTimeout, cancellationToken).ConfigureAwait(false);
            JsonNode ready = JsonNode.Parse(line)!;
            return new JsLibp2pPeer(process, (string)ready["peerId"]!, [.. ready["addrs"]!.AsArray().Select(a => (string)a!)]);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Sends <paramref name="command"/> (<c>cmd</c> and its arguments; the id is added) and returns the answer; throws
    /// with the peer's reason when it answers <c>ok: false</c>.
    /// </summary>
    public async Task<JsonNode> RequestAsync(JsonObject command, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        int id = Interlocked.Increment(ref _nextId);
        command["id"] = id;
        string marker = $"\"id\":{id},";
        await _process.WriteLineAsync(command.ToJsonString(), cancellationToken).ConfigureAwait(false);
        string line = await _process.WaitForLineAsync(l => l.StartsWith('{') && l.Contains(marker, StringComparison.Ordinal), timeout ?? DefaultRequestTimeout, cancellationToken).ConfigureAwait(false);
        JsonNode answer = JsonNode.Parse(line)!;
        if (!(bool)answer["ok"]!)
        {
            throw new InvalidOperationException($"js-libp2p refused {command.ToJsonString()}: {answer["error"]}\n{_process.Describe()}");
        }

        return answer;
    }

    /// <summary>Waits for an event line (<c>"event": kind</c>) that <paramref name="match"/> accepts.</summary>
    public async Task<JsonNode> WaitForEventAsync(string kind, Func<JsonNode, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string marker = $"\"event\":\"{kind}\"";
        string line = await _process.WaitForLineAsync(
            l => l.Contains(marker, StringComparison.Ordinal) && match(JsonNode.Parse(l)!),
            timeout,
            cancellationToken).ConfigureAwait(false);
        return JsonNode.Parse(line)!;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    /// <summary>For messages: what the peer printed.</summary>
    public override string ToString() => _process.Describe();
}
