using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PeerNet.Libp2p;

namespace PeerNet.Daemon.Tests;

/// <summary>
/// The daemon's gossipsub topics (<c>/api/v1/libp2p/topics</c>) with an in-process PeerNet node on 127.0.0.1: join,
/// messages both ways (kept, and on the event stream), leave, the topics kept across a restart, and bad input.
/// </summary>
public sealed class PubsubApiTests : IAsyncLifetime
{
    private const string Topic = "peernet/chat/test";
    private readonly DaemonHarness _daemon = new();
    private PeerNetNode? _peer;

    public ValueTask InitializeAsync() => new(_daemon.StartAsync());

    public async ValueTask DisposeAsync()
    {
        if (_peer is { } peer)
        {
            await peer.DisposeAsync().AsTask().WaitAsync(DaemonHarness.Timeout, Ct);
        }

        await _daemon.DisposeAsync();
    }

    private static CancellationToken Ct => DaemonHarness.Ct;

    [Fact]
    public async Task JoinedTopic_ReceivesAndPublishes_OnTheEventStreamToo_AndIsKeptAcrossARestart()
    {
        _peer = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
            cancellationToken: Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        using PubsubSubscription peerSubscription = _peer.Libp2p.Pubsub.Subscribe(Topic);
        JsonElement self = await _daemon.GetJsonAsync("api/v1/libp2p");
        Libp2pPeerId daemonId = Libp2pPeerId.Parse(self.GetProperty("peerId").GetString()!);
        await _peer.Libp2p.ConnectAsync(Multiaddr.Parse(self.GetProperty("listenAddresses")[0].GetString()!), Ct).WaitAsync(DaemonHarness.Timeout, Ct);

        using (HttpResponseMessage joined = await _daemon.Client.PostAsJsonAsync("api/v1/libp2p/topics", new { topic = Topic }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, joined.StatusCode);
        }

        using (HttpResponseMessage again = await _daemon.Client.PostAsJsonAsync("api/v1/libp2p/topics", new { topic = Topic }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode); // joined already: nothing changes
        }

        // Each side learns the other subscribes.
        await DaemonHarness.UntilAsync(
            async () => (await _daemon.GetJsonAsync("api/v1/libp2p/topics")).EnumerateArray().Single().GetProperty("peers").GetInt32() == 1,
            "the daemon sees the peer subscribed");
        await DaemonHarness.UntilAsync(() => Task.FromResult(_peer.Libp2p.Pubsub.TopicPeers(Topic).Contains(daemonId)), "the peer sees the daemon subscribed");

        using var events = new HttpRequestMessage(HttpMethod.Get, "api/v1/events");
        using HttpResponseMessage stream = await _daemon.Client.SendAsync(events, HttpCompletionOption.ResponseHeadersRead, Ct);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(Ct));
        Assert.Equal("event: connected", await reader.ReadLineAsync(Ct).AsTask().WaitAsync(DaemonHarness.Timeout, Ct));

        // Peer -> daemon: kept, and on the stream.
        Assert.Equal(1, await _peer.Libp2p.Pubsub.PublishAsync(Topic, "hello, daemon"u8.ToArray(), Ct));
        JsonElement arrived = await Libp2pApiTests.ReadEventAsync(reader, "pubsubMessageReceived");
        Assert.Equal(Topic, arrived.GetProperty("topic").GetString());
        Assert.Equal("hello, daemon", arrived.GetProperty("text").GetString());
        Assert.Equal(_peer.Libp2p.PeerId.ToString(), arrived.GetProperty("peer").GetString());
        JsonElement kept = (await _daemon.GetJsonAsync("api/v1/libp2p/topics/messages")).EnumerateArray().Single();
        Assert.Equal("hello, daemon", kept.GetProperty("text").GetString());
        Assert.Equal(_peer.Libp2p.PeerId.ToString(), kept.GetProperty("from").GetString());

        // Daemon -> peer.
        using (HttpResponseMessage published = await _daemon.Client.PostAsJsonAsync("api/v1/libp2p/topics/publish", new { topic = Topic, text = "hello, peer" }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, published.StatusCode);
            Assert.Equal(1, (await published.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("peers").GetInt32());
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(DaemonHarness.Timeout);
        PubsubMessage got = await peerSubscription.Messages.ReadAsync(deadline.Token);
        Assert.Equal("hello, peer", System.Text.Encoding.UTF8.GetString(got.Data.Span));
        Assert.Equal(daemonId, got.From);

        // Kept across a restart.
        await _daemon.StopAsync();
        await _daemon.StartAsync();
        Assert.Equal(Topic, (await _daemon.GetJsonAsync("api/v1/libp2p/topics")).EnumerateArray().Single().GetProperty("topic").GetString());

        // Left: gone from the list, and from the next start.
        using (HttpResponseMessage left = await _daemon.Client.DeleteAsync($"api/v1/libp2p/topics?topic={Uri.EscapeDataString(Topic)}", Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, left.StatusCode);
        }

        Assert.Equal(0, (await _daemon.GetJsonAsync("api/v1/libp2p/topics")).GetArrayLength());
        await _daemon.StopAsync();
        await _daemon.StartAsync();
        Assert.Equal(0, (await _daemon.GetJsonAsync("api/v1/libp2p/topics")).GetArrayLength());
    }

    [Fact]
    public async Task BadInput_IsAProblem()
    {
        using (HttpResponseMessage r = await _daemon.Client.PostAsJsonAsync("api/v1/libp2p/topics", new { topic = "" }, Ct))
        {
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.BadRequest, "topic needed");
        }

        using (HttpResponseMessage r = await _daemon.Client.PostAsJsonAsync("api/v1/libp2p/topics", new { topic = new string('t', 513) }, Ct))
        {
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.BadRequest, "topic too long");
        }

        using (HttpResponseMessage r = await _daemon.Client.DeleteAsync("api/v1/libp2p/topics?topic=never-joined", Ct))
        {
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.NotFound, "unknown topic");
        }

        using (HttpResponseMessage r = await _daemon.Client.PostAsJsonAsync("api/v1/libp2p/topics/publish", new { topic = Topic }, Ct))
        {
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.BadRequest, "text needed");
        }

        // Nobody subscribed: published to no one, said so.
        using (HttpResponseMessage r = await _daemon.Client.PostAsJsonAsync("api/v1/libp2p/topics/publish", new { topic = Topic, text = "anyone?" }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(0, (await r.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("peers").GetInt32());
        }

        using var anonymous = new HttpClient { BaseAddress = _daemon.BaseAddress };
        using HttpResponseMessage refused = await anonymous.GetAsync("api/v1/libp2p/topics", Ct);
        await ApiSecurityTests.AssertProblemAsync(refused, HttpStatusCode.Unauthorized, "token");
    }
}
