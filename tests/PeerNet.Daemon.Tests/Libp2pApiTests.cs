using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PeerNet.Libp2p;

namespace PeerNet.Daemon.Tests;

/// <summary>
/// The daemon's libp2p API (<c>/api/v1/libp2p</c>) with in-process PeerNet nodes on 127.0.0.1 as its peers: identity,
/// connected peers, direct messages both ways, and the libp2p events of the event stream.
/// </summary>
public sealed class Libp2pApiTests : IAsyncLifetime
{
    private readonly DaemonHarness _daemon = new();
    private readonly List<PeerNetNode> _nodes = [];

    // A body limit above the largest direct message, so the API's own size check is what answers an oversized one.
    public ValueTask InitializeAsync() => new(_daemon.StartAsync(new Dictionary<string, string?> { ["Api:MaxRequestBodyBytes"] = "200000" }));

    public async ValueTask DisposeAsync()
    {
        foreach (PeerNetNode node in _nodes)
        {
            await node.DisposeAsync().AsTask().WaitAsync(DaemonHarness.Timeout, Ct);
        }

        await _daemon.DisposeAsync();
    }

    private static CancellationToken Ct => DaemonHarness.Ct;

    private async Task<PeerNetNode> StartNodeAsync()
    {
        PeerNetNode node = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
            cancellationToken: Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        _nodes.Add(node);
        return node;
    }

    [Fact]
    public async Task Identity_IsThePeerIdOfTheStateFolder_AndEveryAddressEndsInIt()
    {
        JsonElement self = await _daemon.GetJsonAsync("api/v1/libp2p");
        string peerId = self.GetProperty("peerId").GetString()!;
        Assert.True(Libp2pPeerId.TryParse(peerId, out _, out string? error), error);
        string[] addresses = [.. self.GetProperty("listenAddresses").EnumerateArray().Select(a => a.GetString()!)];
        Assert.NotEmpty(addresses);
        Assert.All(addresses, a => Assert.StartsWith("/ip4/127.0.0.1/tcp/", a, StringComparison.Ordinal));
        Assert.All(addresses, a => Assert.EndsWith("/p2p/" + peerId, a, StringComparison.Ordinal));
        string[] protocols = [.. self.GetProperty("protocols").EnumerateArray().Select(p => p.GetString()!)];
        Assert.Contains("/ipfs/ping/1.0.0", protocols);
        Assert.Contains(Libp2pService.DirectMessageProtocol, protocols);

        // The key is the daemon's own, kept across a restart.
        await _daemon.StopAsync();
        await _daemon.StartAsync(new Dictionary<string, string?> { ["Api:MaxRequestBodyBytes"] = "200000" });
        Assert.Equal(peerId, (await _daemon.GetJsonAsync("api/v1/libp2p")).GetProperty("peerId").GetString());
    }

    [Fact]
    public async Task APeerThatDials_IsListedAndAnnounced_AndMessagesGoBothWays()
    {
        PeerNetNode peer = await StartNodeAsync();
        var received = new TaskCompletionSource<DirectMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        peer.Libp2p.SetMessageHandler((m, _) =>
        {
            received.TrySetResult(m);
            return Task.CompletedTask;
        });
        JsonElement self = await _daemon.GetJsonAsync("api/v1/libp2p");
        string daemonId = self.GetProperty("peerId").GetString()!;
        string peerId = peer.Libp2p.PeerId.ToString();

        using var events = new HttpRequestMessage(HttpMethod.Get, "api/v1/events");
        using HttpResponseMessage stream = await _daemon.Client.SendAsync(events, HttpCompletionOption.ResponseHeadersRead, Ct);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(Ct));
        Assert.Equal("event: connected", await reader.ReadLineAsync(Ct).AsTask().WaitAsync(DaemonHarness.Timeout, Ct));

        // The peer dials the daemon's advertised address: an event, then the list, say so.
        await peer.Libp2p.ConnectAsync(Multiaddr.Parse(self.GetProperty("listenAddresses")[0].GetString()!), Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        JsonElement connected = await ReadEventAsync(reader, "libp2pPeerConnected");
        Assert.Equal(peerId, connected.GetProperty("peer").GetString());
        Assert.Equal("inbound", connected.GetProperty("reason").GetString());
        Assert.StartsWith("127.0.0.1:", connected.GetProperty("address").GetString(), StringComparison.Ordinal);

        JsonElement listed = (await _daemon.GetJsonAsync("api/v1/libp2p/peers")).EnumerateArray().Single();
        Assert.Equal(peerId, listed.GetProperty("peerId").GetString());
        Assert.Equal("inbound", listed.GetProperty("direction").GetString());
        Assert.StartsWith("127.0.0.1:", listed.GetProperty("address").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("peernet/", listed.GetProperty("agent").GetString(), StringComparison.Ordinal);
        Assert.Contains(Libp2pService.DirectMessageProtocol, listed.GetProperty("protocols").EnumerateArray().Select(p => p.GetString()));

        // Daemon -> peer, named by its peer ID (connected already): answered once the peer acknowledged it.
        using HttpResponseMessage sent = await _daemon.Client.PostAsJsonAsync("api/v1/libp2p/messages", new { to = peerId, text = "hello from the API" }, Ct);
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        Assert.True((await sent.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("milliseconds").GetDouble() >= 0);
        DirectMessage message = await received.Task.WaitAsync(DaemonHarness.Timeout, Ct);
        Assert.Equal("hello from the API", message.Text);
        Assert.Equal(daemonId, message.From.ToString());

        // Peer -> daemon: an event on the stream and the inbox's newest entry.
        await peer.Libp2p.SendMessageAsync(Libp2pPeerId.Parse(daemonId), "first", Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        await peer.Libp2p.SendMessageAsync(Libp2pPeerId.Parse(daemonId), "second \u202e", Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        JsonElement arrived = await ReadEventAsync(reader, "directMessageReceived");
        Assert.Equal(peerId, arrived.GetProperty("peer").GetString());
        Assert.Equal("first", arrived.GetProperty("text").GetString());
        JsonElement[] inbox = [.. (await _daemon.GetJsonAsync("api/v1/libp2p/messages")).EnumerateArray()];
        Assert.Equal(["second \uFFFD", "first"], inbox.Select(m => m.GetProperty("text").GetString()));
        Assert.All(inbox, m => Assert.Equal(peerId, m.GetProperty("from").GetString()));

        // The peer goes: announced, and no longer listed.
        await peer.DisposeAsync();
        _nodes.Remove(peer);
        Assert.Equal(peerId, (await ReadEventAsync(reader, "libp2pPeerDisconnected")).GetProperty("peer").GetString());
        await DaemonHarness.UntilAsync(
            async () => (await _daemon.GetJsonAsync("api/v1/libp2p/peers")).GetArrayLength() == 0, "the peer gone from the list");
    }

    [Fact]
    public async Task Send_ToAMultiaddr_DialsIt_AndFailuresAreProblems()
    {
        PeerNetNode taker = await StartNodeAsync();
        var received = new TaskCompletionSource<DirectMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        taker.Libp2p.SetMessageHandler((m, _) =>
        {
            received.TrySetResult(m);
            return Task.CompletedTask;
        });
        PeerNetNode deaf = await StartNodeAsync(); // no message handler: it does not serve the protocol

        using HttpResponseMessage sent = await _daemon.Client.PostAsJsonAsync("api/v1/libp2p/messages", new { to = taker.Libp2p.ListenAddresses[0].ToString(), text = "dialled" }, Ct);
        Assert.Equal(HttpStatusCode.OK, sent.StatusCode);
        Assert.Equal("dialled", (await received.Task.WaitAsync(DaemonHarness.Timeout, Ct)).Text);
        JsonElement listed = (await _daemon.GetJsonAsync("api/v1/libp2p/peers")).EnumerateArray().Single();
        Assert.Equal("outbound", listed.GetProperty("direction").GetString());

        using HttpResponseMessage refused = await _daemon.Client.PostAsJsonAsync("api/v1/libp2p/messages", new { to = deaf.Libp2p.ListenAddresses[0].ToString(), text = "anyone?" }, Ct);
        await ApiSecurityTests.AssertProblemAsync(refused, HttpStatusCode.BadGateway, "NotSupported");

        using HttpResponseMessage garbage = await _daemon.Client.PostAsJsonAsync("api/v1/libp2p/messages", new { to = "not an address", text = "x" }, Ct);
        await ApiSecurityTests.AssertProblemAsync(garbage, HttpStatusCode.BadRequest, "not a receiver");

        using HttpResponseMessage missing = await _daemon.Client.PostAsJsonAsync("api/v1/libp2p/messages", new { to = taker.Libp2p.PeerId.ToString() }, Ct);
        await ApiSecurityTests.AssertProblemAsync(missing, HttpStatusCode.BadRequest, "needed");

        using HttpResponseMessage large = await _daemon.Client.PostAsJsonAsync("api/v1/libp2p/messages", new { to = taker.Libp2p.PeerId.ToString(), text = new string('x', Libp2pService.MaxMessageLength + 1) }, Ct);
        await ApiSecurityTests.AssertProblemAsync(large, HttpStatusCode.BadRequest, "too large");
    }

    [Fact]
    public async Task OpenApi_DescribesTheLibp2pEndpoints()
    {
        using var anonymous = new HttpClient { BaseAddress = _daemon.BaseAddress };
        JsonElement paths = JsonDocument.Parse(await anonymous.GetStringAsync("openapi/v1.json", Ct)).RootElement.GetProperty("paths");
        JsonElement self = paths.TryGetProperty("/api/v1/libp2p/", out JsonElement slash) ? slash : paths.GetProperty("/api/v1/libp2p");
        foreach ((JsonElement operation, string what) in new[]
        {
            (self.GetProperty("get"), "get /api/v1/libp2p"),
            (paths.GetProperty("/api/v1/libp2p/peers").GetProperty("get"), "get peers"),
            (paths.GetProperty("/api/v1/libp2p/messages").GetProperty("get"), "get messages"),
            (paths.GetProperty("/api/v1/libp2p/messages").GetProperty("post"), "post messages"),
        })
        {
            Assert.False(string.IsNullOrEmpty(operation.GetProperty("summary").GetString()), $"{what} has a summary");
            Assert.Equal("Libp2p", operation.GetProperty("tags")[0].GetString());
        }

        Assert.True(paths.GetProperty("/api/v1/libp2p/messages").GetProperty("post").TryGetProperty("requestBody", out _), "the send describes its body");
    }

    /// <summary>Reads the event stream until an event of <paramref name="type"/> and returns its data.</summary>
    internal static async Task<JsonElement> ReadEventAsync(StreamReader reader, string type)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(DaemonHarness.Timeout);
        var seen = new List<string>();
        try
        {
            bool found = false;
            while (await reader.ReadLineAsync(deadline.Token) is { } line)
            {
                seen.Add(line);
                if (line == "event: " + type)
                {
                    found = true;
                }
                else if (found && line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    return JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
                }
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
        }

        Assert.Fail($"no '{type}' event within {DaemonHarness.Timeout.TotalSeconds:F0} s; saw:\n{string.Join('\n', seen)}");
        return default;
    }
}
