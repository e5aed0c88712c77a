using System.Net;
using System.Net.Sockets;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Transport;

/// <summary>The transport contract over real sockets on IPv4 loopback.</summary>
public sealed class TcpIPv4ContractTests : TransportContractTests
{
    private protected override IPEndPoint ListenEndPoint => new(IPAddress.Loopback, 0);

    private protected override (IPeerTransport Server, IPeerTransport Client) CreateTransports() => (new TcpTransport(), new TcpTransport());

    private protected override Task<IPEndPoint> UnusedEndPointAsync() => Task.FromResult(TcpTestKit.UnusedEndPoint(IPAddress.Loopback));
}

/// <summary>The transport contract over real sockets on IPv6 loopback.</summary>
public sealed class TcpIPv6ContractTests : TransportContractTests
{
    private protected override IPEndPoint ListenEndPoint => new(IPAddress.IPv6Loopback, 0);

    private protected override (IPeerTransport Server, IPeerTransport Client) CreateTransports() => (new TcpTransport(), new TcpTransport());

    private protected override Task<IPEndPoint> UnusedEndPointAsync() => Task.FromResult(TcpTestKit.UnusedEndPoint(IPAddress.IPv6Loopback));
}

internal static class TcpTestKit
{
    /// <summary>A loopback port that was free a moment ago and has no listener: bound, then closed without listening.</summary>
    public static IPEndPoint UnusedEndPoint(IPAddress loopback)
    {
        using var socket = new Socket(loopback.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(loopback, 0));
        return (IPEndPoint)socket.LocalEndPoint!;
    }
}
