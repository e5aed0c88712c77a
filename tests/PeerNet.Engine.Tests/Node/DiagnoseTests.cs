using System.Net;
using System.Net.Sockets;
using PeerNet.Discovery.Dht;
using PeerNet.Libp2p;

namespace PeerNet.Engine.Tests.Node;

/// <summary><see cref="PeerNetNode.Diagnose"/> on real loopback sockets: what comes in is seen, per transport, and the DHT's health.</summary>
public sealed class DiagnoseTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_node_dialled_over_tcp_then_utp_reports_each_inbound_connection_its_listeners_and_a_joined_dht()
    {
        await using var bootstrap = new DhtNode(new DhtNodeOptions { BindEndPoint = new IPEndPoint(IPAddress.Loopback, 0), BootstrapNodes = [], RestrictRoutingAddresses = false });
        await bootstrap.StartAsync(Ct).WaitAsync(Timeout, Ct);
        DateTimeOffset before = DateTimeOffset.UtcNow;
        await using PeerNetNode listener = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, DhtBootstrapNodes = [bootstrap.LocalEndPoint.ToString()] }, cancellationToken: Ct).WaitAsync(Timeout, Ct);

        ConnectivityReport fresh = listener.Diagnose();
        Assert.Equal(0, fresh.InboundTcp.Total + fresh.InboundUtp.Total);
        Assert.Null(fresh.InboundTcp.Last);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, listener.ListenPort), Assert.Single(fresh.TcpEndPoints));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, listener.ListenPort), Assert.Single(fresh.UdpEndPoints));
        Assert.True(fresh.UtpIncoming);
        Assert.False(fresh.PortMapping.Enabled); // loopback never maps
        Assert.Contains($"/ip4/127.0.0.1/tcp/{listener.ListenPort}/p2p/{listener.Libp2p.PeerId}", fresh.Libp2pListenAddresses);
        Assert.InRange(fresh.StartedAt, before, fresh.At);

        // StartAsync waits for the bootstrap: the table holds the bootstrap node, whose answers count as answered lookups.
        DhtHealthReport dht = Assert.IsType<DhtHealthReport>(fresh.Dht);
        Assert.Equal(AddressFamily.InterNetwork, dht.Family);
        Assert.True(dht.Nodes >= 1, $"no DHT node: {dht}");
        Assert.Equal(DhtBootstrapState.Joined, dht.Bootstrap);
        Assert.NotNull(dht.LastLookupAnswered);
        Assert.True(dht.Lookups >= 1);
        Assert.Null(fresh.Dht6);
        Assert.Equal(ConnectivityProblemKind.LoopbackOnly, Assert.Single(fresh.Problems).Kind);

        // Over TCP: a node that dials no uTP connects with libp2p.
        await using PeerNetNode tcpDialer = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, Utp = new UtpOptions { Outgoing = false } }, cancellationToken: Ct).WaitAsync(Timeout, Ct);
        Multiaddr address = listener.Libp2p.ListenAddresses[0];
        DateTimeOffset dialled = DateTimeOffset.UtcNow;
        await tcpDialer.Libp2p.ConnectAsync(address, Ct).WaitAsync(Timeout, Ct);
        await Poll.UntilAsync(() => listener.Diagnose().Libp2pConnectedPeers == 1, "the libp2p peer to show", Timeout);

        ConnectivityReport afterTcp = listener.Diagnose();
        Assert.Equal(1, afterTcp.InboundTcp.IPv4);
        Assert.Equal(0, afterTcp.InboundTcp.IPv6);
        Assert.InRange(afterTcp.InboundTcp.Last!.Value, dialled, afterTcp.At);
        Assert.Null(afterTcp.InboundTcp.LastFromInternet); // loopback proves nothing about the router
        Assert.Equal(0, afterTcp.InboundUtp.Total);

        // Over uTP: a node that dials no TCP (its SYN given the test's deadline: this machine's load can hold the answer past 3 s).
        await using PeerNetNode utpDialer = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, OutgoingTcp = false, Utp = new UtpOptions { Outgoing = true, ConnectTimeout = Timeout } }, cancellationToken: Ct).WaitAsync(Timeout, Ct);
        await utpDialer.Libp2p.ConnectAsync(address, Ct).WaitAsync(Timeout, Ct);
        await Poll.UntilAsync(() => listener.Diagnose().InboundUtp.Total == 1, "the uTP connection to be counted", Timeout, describe: () => listener.Diagnose().ToString());

        ConnectivityReport afterUtp = listener.Diagnose();
        Assert.Equal(1, afterUtp.InboundTcp.Total);
        Assert.Equal(1, afterUtp.InboundUtp.IPv4);
        Assert.True(afterUtp.InboundUtp.Last >= afterTcp.InboundTcp.Last);

        // The uTP side: the one SYN answered (no larger than it), its entry promoted, the table's limits named.
        UtpReport utp = afterUtp.Utp;
        Assert.Equal(1, utp.Accepted);
        Assert.True(utp.SynsReceived >= 1, utp.ToString());
        Assert.Equal(0, utp.SynsRefused);
        Assert.Equal(0, utp.HalfOpen);
        Assert.Equal(1, utp.HalfOpenPeak);
        Assert.Equal(128, utp.MaxHalfOpen);
        Assert.Equal(8, utp.MaxHalfOpenPerAddress);
        Assert.InRange(utp.SynAnswerBytes, 20, utp.SynBytes);
    }
}
