using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>
/// Multicast groups over real UDP. Every socket sets SO_REUSEADDR, so several nodes on one host share the group's
/// port (each gets its own copy of every datagram). Sends go out with a TTL (hop limit) of 1: the local link only.
/// </summary>
/// <param name="interfaceAddress">
/// The address to join on (its interface) and to send from, or null for the interface the routing table picks and
/// the source address the kernel picks.
/// </param>
internal sealed class UdpMulticastTransport(IPAddress? interfaceAddress) : IMulticastTransport
{
    /// <summary>Hops a datagram may take: 1 keeps it on the local link.</summary>
    public const int TimeToLive = 1;

    /// <inheritdoc />
    public IDatagramSocket Join(IPEndPoint group)
    {
        ArgumentNullException.ThrowIfNull(group);
        bool v6 = group.AddressFamily == AddressFamily.InterNetworkV6;
        IPAddress? local = interfaceAddress is { } a && a.AddressFamily == group.AddressFamily && !a.Equals(v6 ? IPAddress.IPv6Any : IPAddress.Any) ? a : null;
        long index = v6 && local is not null ? InterfaceIndexOf(local) : 0; // IPv6 names the interface by its index
        var socket = new Socket(group.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);

            // The wildcard, not the group address: a socket bound to a multicast address has no unicast address to
            // send from (Linux then sends from 0.0.0.0 when no interface is set). Other datagrams to the port are
            // refused by the reader like any malformed announce.
            socket.Bind(new IPEndPoint(v6 ? IPAddress.IPv6Any : IPAddress.Any, group.Port));
            SocketOptionLevel level = v6 ? SocketOptionLevel.IPv6 : SocketOptionLevel.IP;
            socket.SetSocketOption(level, SocketOptionName.AddMembership, v6
                ? new IPv6MulticastOption(group.Address, index)
                : local is null ? new MulticastOption(group.Address) : new MulticastOption(group.Address, local));
            SetSendOptions(socket, v6, local, index);
            if (local is null)
            {
                return UdpDatagramTransport.Wrap(socket);
            }

            // Sends from the wildcard-bound socket leave from whichever address of the interface the kernel picks
            // (with several on it, seen: the last one added), and a peer dials the announce's source address, where
            // a node bound to one address does not listen. A second socket bound to that address sends.
            return new SendFromAddressSocket(UdpDatagramTransport.Wrap(socket), SenderFor(local, v6, index));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A socket bound to <paramref name="local"/> (any port) that sends to the group on its interface.</summary>
    private static IDatagramSocket SenderFor(IPAddress local, bool v6, long index)
    {
        var socket = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(v6 && local.IsIPv6LinkLocal && local.ScopeId == 0 ? new IPAddress(local.GetAddressBytes(), index) : local, 0));
            SetSendOptions(socket, v6, local, index);
            return UdpDatagramTransport.Wrap(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends to the group leave by <paramref name="local"/>'s interface (when given; <paramref name="index"/> for IPv6,
    /// 0 for any), one hop only, and other nodes on this host hear them too.
    /// </summary>
    private static void SetSendOptions(Socket socket, bool v6, IPAddress? local, long index)
    {
        SocketOptionLevel level = v6 ? SocketOptionLevel.IPv6 : SocketOptionLevel.IP;
        if (v6 && index != 0)
        {
            socket.SetSocketOption(level, SocketOptionName.MulticastInterface, (int)index);
        }
        else if (!v6 && local is not null)
        {
            socket.SetSocketOption(level, SocketOptionName.MulticastInterface, local.GetAddressBytes());
        }

        socket.SetSocketOption(level, SocketOptionName.MulticastTimeToLive, TimeToLive);
        socket.SetSocketOption(level, SocketOptionName.MulticastLoopback, true);
    }

    /// <summary>Receives on the group's socket, sends from the one bound to the node's address; disposes both.</summary>
    private sealed class SendFromAddressSocket(IDatagramSocket receiver, IDatagramSocket sender) : IDatagramSocket
    {
        public IPEndPoint LocalEndPoint => receiver.LocalEndPoint;

        public ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, CancellationToken cancellationToken)
            => sender.SendAsync(datagram, remote, cancellationToken);

        public ValueTask<DatagramReceived> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
            => receiver.ReceiveAsync(buffer, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await receiver.DisposeAsync().ConfigureAwait(false);
            await sender.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The index of the interface holding <paramref name="address"/>, or 0 (any) when none does.</summary>
    private static long InterfaceIndexOf(IPAddress address)
    {
        foreach (System.Net.NetworkInformation.NetworkInterface nic in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
        {
            System.Net.NetworkInformation.IPInterfaceProperties properties = nic.GetIPProperties();
            if (properties.UnicastAddresses.Any(u => u.Address.Equals(address)))
            {
                return properties.GetIPv6Properties().Index;
            }
        }

        return 0;
    }
}
