using System.Text.Json.Nodes;

namespace PeerNet.Interop.Tests.SelfTests;

/// <summary>The js-libp2p harness (libp2p-js/peer.mjs and <see cref="JsLibp2pPeer"/>) between two js peers, no PeerNet code.</summary>
public sealed class JsLibp2pPeerTests
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 120_000)]
    public async Task TwoJsPeers_DialPingIdentifyGossip_AllAnswer()
    {
        ToolInfo tool = ReferenceTools.Require(ReferenceTool.JsLibp2p);
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using JsLibp2pPeer a = await JsLibp2pPeer.StartAsync(tool, ct);
        await using JsLibp2pPeer b = await JsLibp2pPeer.StartAsync(tool, ct);
        Assert.StartsWith("12D3KooW", a.PeerId, StringComparison.Ordinal);
        Assert.EndsWith("/p2p/" + a.PeerId, a.Addresses[0], StringComparison.Ordinal);
        await a.RequestAsync(new JsonObject { ["cmd"] = "subscribe", ["topic"] = "harness" }, ct);
        await b.RequestAsync(new JsonObject { ["cmd"] = "subscribe", ["topic"] = "harness" }, ct);

        JsonNode dialled = await b.RequestAsync(new JsonObject { ["cmd"] = "dial", ["addr"] = a.Addresses[0] }, ct);
        JsonNode ping = await b.RequestAsync(new JsonObject { ["cmd"] = "ping", ["addr"] = a.Addresses[0] }, ct);
        JsonNode identified = await b.WaitForEventAsync("identify", e => (string?)e["peerId"] == a.PeerId, EventTimeout, ct);

        Assert.Equal(a.PeerId, (string?)dialled["peerId"]);
        Assert.True((double)ping["rttMs"]! >= 0);
        Assert.Contains("/ipfs/ping/1.0.0", identified["protocols"]!.AsArray().Select(p => (string?)p));

        // Gossipsub needs the mesh (a heartbeat, 1 s) before a publish reaches the other side: retry within a deadline.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(EventTimeout);
        while ((await b.RequestAsync(new JsonObject { ["cmd"] = "publish", ["topic"] = "harness", ["data"] = "hello from b" }, deadline.Token))["recipients"]!.AsArray().Count == 0)
        {
            await Task.Delay(200, deadline.Token);
        }

        JsonNode message = await a.WaitForEventAsync("message", e => (string?)e["data"] == "hello from b", EventTimeout, ct);
        Assert.Equal(b.PeerId, (string?)message["from"]);
    }
}
