using System.Net;

namespace PeerNet.Transport;

/// <summary>
/// Joins multicast groups: real UDP (<see cref="UdpMulticastTransport"/>) or an in-process group for tests
/// (<see cref="InMemoryMulticastNetwork"/>). Local service discovery (BEP 14) sits on this.
/// </summary>
internal interface IMulticastTransport
{
    /// <summary>
    /// Binds the group's port (shared with every other socket on the host that joins it) and joins the group. The
    /// socket receives every datagram sent to the group, its own included (multicast loopback), and sends to the
    /// group with <see cref="IDatagramSocket.SendAsync"/> to <paramref name="group"/>.
    /// </summary>
    /// <exception cref="System.Net.Sockets.SocketException">The group cannot be joined here (no such family, no route).</exception>
    IDatagramSocket Join(IPEndPoint group);
}
