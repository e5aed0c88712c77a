using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PeerNet.Libp2p;

namespace PeerNet.Interop.Tests;

/// <summary>
/// PeerNet's gossipsub against js-libp2p's @libp2p/gossipsub 17 (libp2p-js/peer.mjs) on loopback: a shared topic,
/// signed messages both ways (each side checks the other's StrictSign signatures), and a mixed chain of PeerNet and
/// js nodes where messages must be relayed through both implementations' meshes.
/// </summary>
public sealed class GossipsubInteropTests
{
    private const string Topic = "peernet-interop";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<PeerNetNode> StartNodeAsync(CancellationToken ct) => PeerNetNode.StartAsync(
        new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
        cancellationToken: ct);

    [Fact(Timeout = 120_000)]
    public async Task PeerNet_and_js_libp2p_exchange_messages_on_a_topic_both_ways()
    {
        ToolInfo tool = ReferenceTools.Require(ReferenceTool.JsLibp2p);
        await using PeerNetNode node = await StartNodeAsync(TestContext.Current.CancellationToken);
        await using JsLibp2pPeer js = await JsLibp2pPeer.StartAsync(tool, Ct);
        using PubsubSubscription subscription = node.Libp2p.Pubsub.Subscribe(Topic);
        await js.RequestAsync(new JsonObject { ["cmd"] = "subscribe", ["topic"] = Topic }, Ct);
        Libp2pPeerInfo peer = await node.Libp2p.ConnectAsync(Multiaddr.Parse(js.Addresses[0]), Ct).WaitAsync(Timeout, Ct);

        await WaitForMeshAsync(node, js, [peer.PeerId], [node.Identity.PeerId.ToString()]);

        await js.RequestAsync(new JsonObject { ["cmd"] = "publish", ["topic"] = Topic, ["data"] = "from js" }, Ct);
        PubsubMessage fromJs = await subscription.Messages.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal("from js", Encoding.UTF8.GetString(fromJs.Data.Span));
        Assert.Equal(js.PeerId, fromJs.From.ToString());
        Assert.Equal(Topic, fromJs.Topic);

        int sentTo = await node.Libp2p.Pubsub.PublishAsync(Topic, Encoding.UTF8.GetBytes("from PeerNet"), Ct);
        Assert.Equal(1, sentTo);
        JsonNode atJs = await js.WaitForEventAsync("message", e => (string?)e["data"] == "from PeerNet", Timeout, Ct);
        Assert.Equal(node.Identity.PeerId.ToString(), (string?)atJs["from"]);
        Assert.Equal(Topic, (string?)atJs["topic"]);
        Assert.True(node.Libp2p.Pubsub.PeerScore(peer.PeerId) >= 0);

        // Exactly once each way: a second message from each side arrives next, with no copy of the first before it
        // (gossip of the first message's ID must not make either side deliver it again).
        await js.RequestAsync(new JsonObject { ["cmd"] = "publish", ["topic"] = Topic, ["data"] = "js again" }, Ct);
        PubsubMessage next = await subscription.Messages.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal("js again", Encoding.UTF8.GetString(next.Data.Span));
        await node.Libp2p.Pubsub.PublishAsync(Topic, Encoding.UTF8.GetBytes("PeerNet again"), Ct);
        await js.WaitForEventAsync("message", e => (string?)e["data"] == "PeerNet again", Timeout, Ct);
        Assert.Single(js.Process.Lines, l => l.Contains("\"event\":\"message\"", StringComparison.Ordinal) && l.Contains("\"data\":\"from PeerNet\"", StringComparison.Ordinal));
        Assert.False(subscription.Messages.TryRead(out PubsubMessage? extra), $"an extra message: {extra}");
    }

    [Fact(Timeout = 180_000)]
    public async Task A_chain_of_two_PeerNet_and_two_js_nodes_delivers_every_message_to_everyone()
    {
        ToolInfo tool = ReferenceTools.Require(ReferenceTool.JsLibp2p);
        await using PeerNetNode p1 = await StartNodeAsync(TestContext.Current.CancellationToken);
        await using PeerNetNode p2 = await StartNodeAsync(Ct);
        await using JsLibp2pPeer j1 = await JsLibp2pPeer.StartAsync(tool, Ct);
        await using JsLibp2pPeer j2 = await JsLibp2pPeer.StartAsync(tool, Ct);
        using PubsubSubscription s1 = p1.Libp2p.Pubsub.Subscribe(Topic);
        using PubsubSubscription s2 = p2.Libp2p.Pubsub.Subscribe(Topic);
        await j1.RequestAsync(new JsonObject { ["cmd"] = "subscribe", ["topic"] = Topic }, Ct);
        await j2.RequestAsync(new JsonObject { ["cmd"] = "subscribe", ["topic"] = Topic }, Ct);

        // p1 - j1 - p2 - j2: every message crosses both implementations' relays to reach the far end.
        Libp2pPeerInfo j1AtP1 = await p1.Libp2p.ConnectAsync(Multiaddr.Parse(j1.Addresses[0]), Ct).WaitAsync(Timeout, Ct);
        await j1.RequestAsync(new JsonObject { ["cmd"] = "dial", ["addr"] = p2.Libp2p.ListenAddresses[0].ToString() }, Ct);
        Libp2pPeerInfo j2AtP2 = await p2.Libp2p.ConnectAsync(Multiaddr.Parse(j2.Addresses[0]), Ct).WaitAsync(Timeout, Ct);
        Libp2pPeerId j1Id = j1AtP1.PeerId;

        await WaitForMeshAsync(p1, j1, [j1Id], [p1.Identity.PeerId.ToString(), p2.Identity.PeerId.ToString()]);
        await WaitForMeshAsync(p2, j2, [j1Id, j2AtP2.PeerId], [p2.Identity.PeerId.ToString()]);

        await p1.Libp2p.Pubsub.PublishAsync(Topic, Encoding.UTF8.GetBytes("from p1"), Ct);
        await p2.Libp2p.Pubsub.PublishAsync(Topic, Encoding.UTF8.GetBytes("from p2"), Ct);
        await j1.RequestAsync(new JsonObject { ["cmd"] = "publish", ["topic"] = Topic, ["data"] = "from j1" }, Ct);
        await j2.RequestAsync(new JsonObject { ["cmd"] = "publish", ["topic"] = Topic, ["data"] = "from j2" }, Ct);

        Assert.Equal(["from j1", "from j2", "from p2"], await ReadTextsAsync(s1, 3));
        Assert.Equal(["from j1", "from j2", "from p1"], await ReadTextsAsync(s2, 3));
        foreach ((JsLibp2pPeer js, string[] expected) in new[] { (j1, new[] { "from j2", "from p1", "from p2" }), (j2, new[] { "from j1", "from p1", "from p2" }) })
        {
            foreach (string text in expected)
            {
                await js.WaitForEventAsync("message", e => (string?)e["data"] == text, Timeout, Ct);
            }
        }

        foreach ((JsLibp2pPeer js, string text) in new[] { j1, j2 }.SelectMany(js => new[] { "from p1", "from p2" }.Select(t => (js, t))))
        {
            Assert.Single(js.Process.Lines, l => l.Contains("\"event\":\"message\"", StringComparison.Ordinal) && l.Contains($"\"data\":\"{text}\"", StringComparison.Ordinal));
        }

        Assert.False(s1.Messages.TryRead(out PubsubMessage? extra1), $"p1 got an extra message: {extra1}");
        Assert.False(s2.Messages.TryRead(out PubsubMessage? extra2), $"p2 got an extra message: {extra2}");
    }

    private static async Task<string[]> ReadTextsAsync(PubsubSubscription subscription, int count)
    {
        var texts = new List<string>();
        for (int i = 0; i < count; i++)
        {
            PubsubMessage message = await subscription.Messages.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
            texts.Add(Encoding.UTF8.GetString(message.Data.Span));
        }

        return [.. texts.Order(StringComparer.Ordinal)];
    }

    /// <summary>Waits until the PeerNet node's mesh of <paramref name="topic"/> has <paramref name="peerNetMesh"/> and js's mesh has <paramref name="jsMesh"/>.</summary>
    internal static async Task WaitForMeshAsync(PeerNetNode node, JsLibp2pPeer js, Libp2pPeerId[] peerNetMesh, string[] jsMesh, string topic = Topic)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Timeout);
        try
        {
            while (true)
            {
                JsonNode answer = await js.RequestAsync(new JsonObject { ["cmd"] = "meshPeers", ["topic"] = topic }, deadline.Token);
                string?[] mesh = [.. answer["peers"]!.AsArray().Select(p => (string?)p)];
                IReadOnlyList<Libp2pPeerId> ours = node.Libp2p.Pubsub.MeshPeers(topic);
                if (jsMesh.All(mesh.Contains) && peerNetMesh.All(ours.Contains))
                {
                    return;
                }

                await Task.Delay(200, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            throw new TimeoutException($"the meshes did not form within {Timeout.TotalSeconds} s: PeerNet's {string.Join(", ", node.Libp2p.Pubsub.MeshPeers(topic))}\n{js}");
        }
    }
}
