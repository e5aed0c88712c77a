using System.Net;
using System.Net.Sockets;
using PeerNet.Discovery.Dht;
using PeerNet.Engine.Tests.Trackers;
using PeerNet.Tracker;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Node;

/// <summary>One port number serves everything: TCP peers, and on UDP the DHT and the UDP trackers' replies (real loopback sockets).</summary>
public sealed class OnePortTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Node_ServesTcpAndUdpOnOnePort_DhtAndUdpTrackerGoThroughIt()
    {
        await using var bootstrap = new DhtNode(new DhtNodeOptions { BindEndPoint = new IPEndPoint(IPAddress.Loopback, 0), BootstrapNodes = [], RestrictRoutingAddresses = false });
        await bootstrap.StartAsync(Ct).WaitAsync(Timeout, Ct);
        await using var tracker = new FakeUdpTracker();
        tracker.Announce = _ => new AnnounceResponse { Interval = TimeSpan.FromSeconds(120), Peers = [] };
        string state = Directory.CreateTempSubdirectory("peernet-oneport-").FullName;
        try
        {
            await using PeerNetNode node = await PeerNetNode.StartAsync(
                new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, DhtBootstrapNodes = [bootstrap.LocalEndPoint.ToString()] },
                cancellationToken: Ct).WaitAsync(Timeout, Ct);
            int port = node.ListenPort;

            // The DHT is on the node's UDP socket, and joined through it (the bootstrap's replies were routed to it).
            Assert.Equal(port, node.Dht!.LocalEndPoint.Port);
            Assert.True(node.Dht.GetStats().Nodes >= 1, "the DHT did not join through the shared socket");

            // TCP on that port takes peers.
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port, Ct).AsTask().WaitAsync(Timeout, Ct);

            // A DHT query to that port's UDP side is answered from it.
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            await udp.SendAsync("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"u8.ToArray(), new IPEndPoint(IPAddress.Loopback, port), Ct).AsTask().WaitAsync(Timeout, Ct);
            // (The node may ping us first, as a querier it would like in its table: that comes from the port too.)
            while (true)
            {
                UdpReceiveResult received = await udp.ReceiveAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
                Assert.Equal(port, received.RemoteEndPoint.Port);
                string text = System.Text.Encoding.Latin1.GetString(received.Buffer);
                if (text.Contains("1:t2:aa", StringComparison.Ordinal) && text.Contains("1:y1:r", StringComparison.Ordinal))
                {
                    break;
                }
            }

            // A UDP tracker is asked from that port too, and its replies find their way back (connect, then announce).
            string magnet = $"magnet:?xt=urn:btih:{new string('a', 40)}&tr={Uri.EscapeDataString(tracker.Url)}";
            await node.AddTorrentAsync(TorrentSource.FromMagnet(magnet), new AddTorrentOptions { SavePath = Path.Combine(state, "download") }, Ct).WaitAsync(Timeout, Ct);
            await TrackerTestKit.WaitForAsync(() => tracker.Count(UdpTrackerAction.Announce) >= 1);
            Assert.All(tracker.Requests, r => Assert.Equal(port, r.From!.Port));
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task Node_ClosesAConnectionNoProtocolClaims_CountsIt_AndFreesItsSlot()
    {
        // Encryption off: with MSE on (the default), whatever is not a BitTorrent handshake is taken as an MSE one.
        await using PeerNetNode node = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, Encryption = new() { Policy = EncryptionPolicy.Disabled } },
            cancellationToken: Ct).WaitAsync(Timeout, Ct);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, node.ListenPort, Ct).AsTask().WaitAsync(Timeout, Ct);
        NetworkStream stream = tcp.GetStream();
        await stream.WriteAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), Ct).AsTask().WaitAsync(Timeout, Ct);

        // Closed (FIN or reset) without a byte of answer.
        try
        {
            Assert.Equal(0, await stream.ReadAsync(new byte[64], Ct).AsTask().WaitAsync(Timeout, Ct));
        }
        catch (IOException)
        {
        }

        Assert.Equal(1, node.Session.Router.UnroutedCount(UnroutedReason.Unknown));
        await TrackerTestKit.WaitForAsync(() => node.Session.PendingHandshakeCount == 0);
    }

    [Fact]
    public async Task PortZero_UdpTakenAtTheFirstChoice_TakesAnotherPortForBoth()
    {
        int attempts = 0;
        IDatagramSocket Bind(IPEndPoint endPoint) => ++attempts == 1
            ? throw new SocketException((int)SocketError.AddressAlreadyInUse)
            : UdpDatagramTransport.Bind(endPoint, dualMode: false);

        await using PeerNetNode node = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false },
            new TcpTransport(),
            null,
            null,
            TimeProvider.System,
            Ct,
            bindUdp: Bind).WaitAsync(Timeout, Ct);

        Assert.Equal(2, attempts);
        Assert.Equal(node.ListenPort, Assert.Single(node.Datagrams).LocalEndPoint.Port);
    }

    [Fact]
    public async Task FixedPort_UdpTaken_FailsAndReleasesTheTcpPort()
    {
        using var squatter = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)squatter.Client.LocalEndPoint!).Port;

        SocketException e = await Assert.ThrowsAsync<SocketException>(() => PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = port, Dht = false }, cancellationToken: Ct).WaitAsync(Timeout, Ct));
        Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);

        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start(); // the node let go of it
        listener.Stop();
    }
}
