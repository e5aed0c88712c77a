using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>
/// Multicast groups over real UDP. Every socket sets SO_REUSEADDR, so several nodes on one host share the group's
/// port (each gets its own copy of every datagram). Sends go out with a TTL (hop limit) of 1: the local link only.
/// </summary>
/// <param name="interfaceAddress">
/// The address of the interface to join on and send from (IPv4), or null for the interface the routing table picks.
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
        var socket = new Socket(group.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);

            // The wildcard, not the group address: a socket bound to a multicast address has no unicast address to
            // send from (Linux then sends from 0.0.0.0 when no interface is set). Other datagrams to the port are
            // refused by the reader like any malformed announce.
            socket.Bind(new IPEndPoint(v6 ? IPAddress.IPv6Any : IPAddress.Any, group.Port));
            SocketOptionLevel level = v6 ? SocketOptionLevel.IPv6 : SocketOptionLevel.IP;
            if (v6)
            {
                long index = local is null ? 0 : InterfaceIndexOf(local);
                socket.SetSocketOption(level, SocketOptionName.AddMembership, new IPv6MulticastOption(group.Address, index));
                if (index != 0)
                {
                    socket.SetSocketOption(level, SocketOptionName.MulticastInterface, (int)index);
                }
            }
            else
            {
                socket.SetSocketOption(level, SocketOptionName.AddMembership, local is null ? new MulticastOption(group.Address) : new MulticastOption(group.Address, local));
                if (local is not null)
                {
                    socket.SetSocketOption(level, SocketOptionName.MulticastInterface, local.GetAddressBytes());
                }
            }

            socket.SetSocketOption(level, SocketOptionName.MulticastTimeToLive, TimeToLive);
            socket.SetSocketOption(level, SocketOptionName.MulticastLoopback, true); // other nodes on this host hear us
            return UdpDatagramTransport.Wrap(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
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
