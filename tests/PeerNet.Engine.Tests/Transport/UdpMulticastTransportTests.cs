using System.Net;
using System.Net.Sockets;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Transport;

/// <summary>
/// The real multicast transport's source address. Nothing is multicast here: the joined socket sends one unicast
/// datagram to a loopback listener, which sees where it came from.
/// </summary>
public sealed class UdpMulticastTransportTests
{
    [Fact]
    public async Task Joined_for_an_address_sends_from_that_address_not_the_one_the_kernel_picks()
    {
        // 127.0.0.2 is an address of lo too; a socket on the wildcard sending to 127.0.0.1 leaves from 127.0.0.1.
        // A peer dials an LSD announce's source address, so a node bound to 127.0.0.2 must announce from it (seen
        // over IPv6: a node bound to fd00:16::1 announced from fd00:16::4 of the same interface, and libtorrent's
        // dial there was refused).
        CancellationToken ct = TestContext.Current.CancellationToken;
        var local = IPAddress.Parse("127.0.0.2");
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int groupPort;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Any, 0)); // a free port, which nobody multicasts on
            groupPort = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        await using IDatagramSocket joined = new UdpMulticastTransport(local).Join(new IPEndPoint(IPAddress.Parse("239.192.152.143"), groupPort));

        await joined.SendAsync("hello"u8.ToArray(), (IPEndPoint)listener.LocalEndPoint!, ct);
        byte[] buffer = new byte[16];
        SocketReceiveFromResult received = await listener.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct);

        Assert.Equal(5, received.ReceivedBytes);
        Assert.Equal(local, ((IPEndPoint)received.RemoteEndPoint).Address);
    }
}
