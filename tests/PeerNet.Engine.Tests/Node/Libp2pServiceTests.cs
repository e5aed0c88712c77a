using System.Net;
using System.Text;
using PeerNet.Libp2p;

namespace PeerNet.Engine.Tests.Node;

/// <summary>The node's public libp2p API between two PeerNet nodes on 127.0.0.1: dial, identify, ping, protocol streams.</summary>
public sealed class Libp2pServiceTests
{
    private const string EchoProtocol = "/peernet-test/echo/1.0.0";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static Task<PeerNetNode> StartAsync(CancellationToken ct, Libp2pResourceLimits? limits = null, System.Diagnostics.Metrics.IMeterFactory? meters = null) => PeerNetNode.StartAsync(
        new PeerNetNodeOptions
        {
            ListenAddress = IPAddress.Loopback,
            ListenPort = 0,
            Dht = false,
            LocalDiscovery = false,
            Trackers = false,
            Libp2pLimits = limits ?? Libp2pResourceLimits.Default,
        },
        meterFactory: meters,
        cancellationToken: ct);

    [Fact]
    public async Task TwoNodes_ConnectIdentifyPingAndEchoOnAProtocolOfTheirOwn()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using PeerNetNode a = await StartAsync(ct);
        await using PeerNetNode b = await StartAsync(ct);
        Libp2pPeerId? caller = null;
        b.Libp2p.SetStreamHandler(EchoProtocol, async (stream, peer, token) =>
        {
            caller = peer;
            await stream.CopyToAsync(stream, token);
        });

        Libp2pPeerInfo info = await a.Libp2p.ConnectAsync(b.Libp2p.ListenAddresses[0], ct).WaitAsync(Timeout, ct);
        TimeSpan rtt = await a.Libp2p.PingAsync(info.PeerId, ct).WaitAsync(Timeout, ct);
        string echoed;
        await using (Libp2pStream stream = await a.Libp2p.OpenStreamAsync(info.PeerId, EchoProtocol, ct).WaitAsync(Timeout, ct))
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes("hello over yamux"), ct);
            stream.CompleteWrites();
            using var reader = new StreamReader(stream, Encoding.UTF8);
            echoed = await reader.ReadToEndAsync(ct).WaitAsync(Timeout, ct);
        }

        Assert.Equal(b.Identity.PeerId, info.PeerId);
        Assert.True(info.Outbound);
        Assert.StartsWith("peernet/", info.AgentVersion, StringComparison.Ordinal);
        Assert.Contains(EchoProtocol, info.Protocols);
        Assert.Contains(EchoProtocol, b.Libp2p.Protocols);
        Assert.True(rtt > TimeSpan.Zero);
        Assert.Equal("hello over yamux", echoed);
        Assert.Equal(a.Identity.PeerId, caller);
        Assert.Contains(b.Libp2p.ConnectedPeers, p => p.PeerId.Equals(a.Identity.PeerId) && !p.Outbound);

        // The resource manager's view: the connection counted on both sides, the echo stream released once done.
        Libp2pResourceUsage atB = b.Libp2p.Resources;
        Assert.Same(Libp2pResourceLimits.Default, atB.Limits);
        Assert.Equal(1, atB.Peers[a.Identity.PeerId].InboundConnections);
        Assert.Equal(1, a.Libp2p.Resources.Peers[b.Identity.PeerId].OutboundConnections);
        await Libp2p.YamuxSessionTests.WaitUntilAsync(() => b.Libp2p.Resources.Protocols.GetValueOrDefault(EchoProtocol) is null);
        Assert.Empty(b.Libp2p.Resources.Refused);
    }

    [Fact]
    public async Task GossipsubOptions_FromTheNodesOptions_AreTheRoutersOwn()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var gossipsub = new GossipsubOptions { D = 8, Dhi = 16, HeartbeatInterval = TimeSpan.FromMilliseconds(700) };
        await using PeerNetNode node = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false, Gossipsub = gossipsub },
            cancellationToken: ct);
        Assert.Same(gossipsub, node.Libp2p.PubsubRouter!.Options);
        Assert.Same(gossipsub, node.Options.Gossipsub);
    }

    [Fact]
    public async Task OpenStream_ForAProtocolThePeerLacks_FailsWithTheReason()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using PeerNetNode a = await StartAsync(ct);
        await using PeerNetNode b = await StartAsync(ct);
        Libp2pPeerInfo info = await a.Libp2p.ConnectAsync(b.Libp2p.ListenAddresses[0], ct).WaitAsync(Timeout, ct);

        await Assert.ThrowsAnyAsync<IOException>(() => a.Libp2p.OpenStreamAsync(info.PeerId, "/nobody/speaks/this", ct).WaitAsync(Timeout, ct));
        Assert.Throws<InvalidOperationException>(() => { _ = a.Libp2p.PingAsync(a.Identity.PeerId, ct); });
        await Assert.ThrowsAsync<ArgumentException>(() => a.Libp2p.ConnectAsync(Multiaddr.Parse("/ip4/127.0.0.1/udp/1"), ct));
    }

    [Fact]
    public async Task Limits_FromTheNodesOptions_RefuseConnectionsAndStreams_CountedInTheMeter()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var counts = new SwarmNet.HandshakeCounts("peernet.libp2p.limits.refused");
        await using PeerNetNode b = await StartAsync(ct, new Libp2pResourceLimits { MaxInboundConnections = 1 }, counts);
        await using PeerNetNode a = await StartAsync(ct, new Libp2pResourceLimits { MaxOutboundStreamsPerProtocol = 1 });
        await using PeerNetNode c = await StartAsync(ct);
        b.Libp2p.SetStreamHandler(EchoProtocol, (stream, _, token) => stream.CopyToAsync(stream, token));
        Libp2pPeerInfo info = await a.Libp2p.ConnectAsync(b.Libp2p.ListenAddresses[0], ct).WaitAsync(Timeout, ct);

        // A second dialer goes over b's one inbound connection: closed once Noise named it, counted at b.
        await Assert.ThrowsAnyAsync<IOException>(() => c.Libp2p.ConnectAsync(b.Libp2p.ListenAddresses[0], ct).WaitAsync(Timeout, ct));
        await YamuxSessionTestsWait(() => counts["in:MaxInboundConnections"] == 1);
        Assert.Equal(1, b.Libp2p.Resources.Refused["MaxInboundConnections"]);

        // a's own limit: one echo stream at a time.
        await using Libp2pStream first = await a.Libp2p.OpenStreamAsync(info.PeerId, EchoProtocol, ct).WaitAsync(Timeout, ct);
        Libp2pResourceLimitException refused = await Assert.ThrowsAsync<Libp2pResourceLimitException>(() => a.Libp2p.OpenStreamAsync(info.PeerId, EchoProtocol, ct).WaitAsync(Timeout, ct));
        Assert.Equal(nameof(Libp2pResourceLimits.MaxOutboundStreamsPerProtocol), refused.Limit);
        Assert.Equal(1, a.Libp2p.Resources.Protocols[EchoProtocol].OutboundStreams);
        Assert.Equal(1, b.Libp2p.Resources.System.InboundConnections);
    }

    private static Task YamuxSessionTestsWait(Func<bool> condition) => Libp2p.YamuxSessionTests.WaitUntilAsync(condition);
}
