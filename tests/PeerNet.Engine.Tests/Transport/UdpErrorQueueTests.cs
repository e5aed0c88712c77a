using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Transport;

/// <summary>Reading Linux's error-queue messages: the destination from msg_name and the error from IP_RECVERR's sock_extended_err.</summary>
public sealed class UdpErrorQueueTests
{
    private static byte[] Control(int level, int type, int errno, byte origin)
    {
        Assert.SkipUnless(Environment.Is64BitProcess, "The control message is laid out for a 64-bit ABI here.");
        byte[] control = new byte[16 + 16 + 16]; // cmsghdr, sock_extended_err, the offender's sockaddr_in
        BitConverter.TryWriteBytes(control.AsSpan(0), (long)control.Length);
        BitConverter.TryWriteBytes(control.AsSpan(8), level);
        BitConverter.TryWriteBytes(control.AsSpan(12), type);
        BitConverter.TryWriteBytes(control.AsSpan(16), errno);
        control[20] = origin;
        control[21] = 3; // ICMP destination unreachable
        control[22] = 3; // port unreachable
        return control;
    }

    private static byte[] SockaddrIn(IPAddress address, int port)
    {
        byte[] name = new byte[16];
        BitConverter.TryWriteBytes(name.AsSpan(0), (ushort)2);
        BinaryPrimitives.WriteUInt16BigEndian(name.AsSpan(2), (ushort)port);
        address.GetAddressBytes().CopyTo(name, 4);
        return name;
    }

    [Fact]
    public void A_port_unreachable_names_the_endpoint_we_sent_to()
    {
        bool read = UdpErrorQueue.TryParse(SockaddrIn(IPAddress.Parse("10.1.2.3"), 6881), Control(0, 11, 111, 2), out DatagramUnreachable error);

        Assert.True(read);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 6881), error.Destination);
        Assert.Equal(SocketError.ConnectionRefused, error.Error);
    }

    [Fact]
    public void An_ipv6_error_and_an_ipv4_mapped_destination_are_read()
    {
        byte[] name = new byte[28];
        BitConverter.TryWriteBytes(name.AsSpan(0), (ushort)10);
        BinaryPrimitives.WriteUInt16BigEndian(name.AsSpan(2), 51413);
        IPAddress.Parse("2001:db8::7").GetAddressBytes().CopyTo(name, 8);
        Assert.True(UdpErrorQueue.TryParse(name, Control(41, 25, 113, 3), out DatagramUnreachable v6));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::7"), 51413), v6.Destination);
        Assert.Equal(SocketError.HostUnreachable, v6.Error);

        IPAddress.Parse("::ffff:192.0.2.1").GetAddressBytes().CopyTo(name, 8);
        Assert.True(UdpErrorQueue.TryParse(name, Control(0, 11, 111, 2), out DatagramUnreachable mapped));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 51413), mapped.Destination);
    }

    [Fact]
    public void A_local_error_is_not_an_unreachable_and_junk_is_refused()
    {
        byte[] name = SockaddrIn(IPAddress.Parse("10.1.2.3"), 6881);
        Assert.True(UdpErrorQueue.TryParse(name, Control(0, 11, 90, 1), out DatagramUnreachable local)); // EMSGSIZE from path MTU discovery
        Assert.Equal(SocketError.SocketError, local.Error);

        Assert.False(UdpErrorQueue.TryParse(name, Control(1, 11, 111, 2), out _)); // another level's message
        byte[] overlong = Control(0, 11, 111, 2);
        BitConverter.TryWriteBytes(overlong.AsSpan(0), 4096L);
        Assert.False(UdpErrorQueue.TryParse(name, overlong, out _));
        Assert.False(UdpErrorQueue.TryParse([1, 2, 3], Control(0, 11, 111, 2), out _));
        Assert.False(UdpErrorQueue.TryParse(name, [], out _));
    }
}
