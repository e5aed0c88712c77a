using System.Net;
using System.Text.Json.Nodes;
using PeerNet.Libp2p;

namespace PeerNet.Interop.Tests;

/// <summary>
/// PeerNet's libp2p side against js-libp2p 3 (Node 24, libp2p-js/peer.mjs) on loopback, both directions: TCP to the
/// node's one port, multistream-select, Noise (each side's peer ID checked), yamux, identify and ping.
/// </summary>
public sealed class Libp2pInteropTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<PeerNetNode> StartNodeAsync(CancellationToken ct) => PeerNetNode.StartAsync(
        new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
        cancellationToken: ct);

    [Fact(Timeout = 120_000)]
    public async Task JsLibp2p_DialsPeerNet_PingsAndIdentifiesBothWays()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        ToolInfo tool = ReferenceTools.Require(ReferenceTool.JsLibp2p);
        await using PeerNetNode node = await StartNodeAsync(ct);
        await using JsLibp2pPeer js = await JsLibp2pPeer.StartAsync(tool, ct);
        string address = node.Libp2p.ListenAddresses.Single().ToString();
        Assert.Equal($"/ip4/127.0.0.1/tcp/{node.ListenPort}/p2p/{node.Identity.PeerId}", address);

        JsonNode dialled = await js.RequestAsync(new JsonObject { ["cmd"] = "dial", ["addr"] = address }, ct);
        JsonNode ping = await js.RequestAsync(new JsonObject { ["cmd"] = "ping", ["addr"] = address }, ct);
        JsonNode identified = await js.WaitForEventAsync("identify", e => (string?)e["peerId"] == node.Identity.PeerId.ToString(), Timeout, ct);

        Assert.Equal(node.Identity.PeerId.ToString(), (string?)dialled["peerId"]);
        Assert.True((double)ping["rttMs"]! >= 0);
        string?[] protocols = [.. identified["protocols"]!.AsArray().Select(p => (string?)p)];
        Assert.Contains("/ipfs/ping/1.0.0", protocols);
        Assert.Contains("/ipfs/id/1.0.0", protocols);
        Assert.StartsWith("peernet/", (string?)identified["agentVersion"], StringComparison.Ordinal);
        Assert.Contains(address, identified["listenAddrs"]!.AsArray().Select(a => (string?)a));

        // And PeerNet identified js-libp2p on the connection js opened.
        Libp2pPeerId jsPeer = Libp2pPeerId.Parse(js.PeerId);
        Libp2pPeerInfo seen = await WaitForAsync(() => node.Libp2p.FindPeer(jsPeer) is { AgentVersion: not null } p ? p : null, "PeerNet's identify of js-libp2p");
        Assert.True(seen.IsConnected);
        Assert.False(seen.Outbound);
        Assert.StartsWith("js-libp2p/", seen.AgentVersion, StringComparison.Ordinal);
        Assert.Contains("/ipfs/kad/1.0.0", seen.Protocols);
        TimeSpan back = await node.Libp2p.PingAsync(jsPeer, ct).WaitAsync(Timeout, ct);
        Assert.True(back > TimeSpan.Zero);
    }

    [Fact(Timeout = 120_000)]
    public async Task PeerNet_DialsJsLibp2p_PingsAndIdentifies()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        ToolInfo tool = ReferenceTools.Require(ReferenceTool.JsLibp2p);
        await using PeerNetNode node = await StartNodeAsync(ct);
        await using JsLibp2pPeer js = await JsLibp2pPeer.StartAsync(tool, ct);

        Libp2pPeerInfo peer = await node.Libp2p.ConnectAsync(Multiaddr.Parse(js.Addresses[0]), ct).WaitAsync(Timeout, ct);
        TimeSpan rtt = await node.Libp2p.PingAsync(peer.PeerId, ct).WaitAsync(Timeout, ct);
        JsonNode identified = await js.WaitForEventAsync("identify", e => (string?)e["peerId"] == node.Identity.PeerId.ToString(), Timeout, ct);

        Assert.Equal(js.PeerId, peer.PeerId.ToString());
        Assert.True(peer.IsConnected);
        Assert.True(peer.Outbound);
        Assert.StartsWith("js-libp2p/", peer.AgentVersion, StringComparison.Ordinal);
        Assert.Contains("/ipfs/ping/1.0.0", peer.Protocols);
        Assert.Contains(peer.ListenAddresses, a => js.Addresses[0].StartsWith(a.ToString(), StringComparison.Ordinal));
        Assert.True(rtt > TimeSpan.Zero);
        Assert.StartsWith("peernet/", (string?)identified["agentVersion"], StringComparison.Ordinal);
        Assert.Contains(node.Libp2p.ConnectedPeers, p => p.PeerId.Equals(peer.PeerId));
    }

    [Fact(Timeout = 120_000)]
    public async Task PeerNet_DialsJsLibp2p_UnderAnotherPeerId_IsRefusedByNoise()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        ToolInfo tool = ReferenceTools.Require(ReferenceTool.JsLibp2p);
        await using PeerNetNode node = await StartNodeAsync(ct);
        await using JsLibp2pPeer js = await JsLibp2pPeer.StartAsync(tool, ct);
        using NodeIdentity someoneElse = NodeIdentity.CreateEphemeral();
        string tcp = js.Addresses[0][..js.Addresses[0].IndexOf("/p2p/", StringComparison.Ordinal)];

        var e = await Assert.ThrowsAnyAsync<IOException>(() => node.Libp2p.ConnectAsync(Multiaddr.Parse($"{tcp}/p2p/{someoneElse.PeerId}"), ct).WaitAsync(Timeout, ct));

        Assert.Contains(js.PeerId, e.Message, StringComparison.Ordinal); // the reason names who answered
        Assert.Empty(node.Libp2p.ConnectedPeers);
    }

    private static async Task<T> WaitForAsync<T>(Func<T?> probe, string what)
        where T : class
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Timeout);
        try
        {
            while (true)
            {
                if (probe() is { } value)
                {
                    return value;
                }

                await Task.Delay(50, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{what} did not happen within {Timeout.TotalSeconds} s");
        }
    }
}
