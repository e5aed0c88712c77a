using System.Net;

namespace PeerNet.Transport;

/// <summary>
/// Binds datagram sockets: real UDP (<see cref="UdpDatagramTransport"/>) or an in-process network for tests
/// (<see cref="InMemoryDatagramNetwork"/>). The DHT sits on this; uTP and local service discovery can too.
/// </summary>
internal interface IDatagramTransport
{
    /// <summary>Binds a socket at <paramref name="localEndPoint"/> (port 0 picks a free port).</summary>
    /// <exception cref="System.Net.Sockets.SocketException">The address is in use or not available.</exception>
    IDatagramSocket Bind(IPEndPoint localEndPoint);
}

/// <summary>
/// One bound datagram socket: unreliable, unordered, message-preserving, like UDP. Sends to an endpoint nobody
/// listens on vanish silently. Disposing ends a pending receive with <see cref="ObjectDisposedException"/>.
/// </summary>
internal interface IDatagramSocket : IAsyncDisposable
{
    /// <summary>The endpoint the socket is bound to, with the port chosen when 0 was asked for.</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Sends one datagram to <paramref name="remote"/>. Loss is not reported; only local failures throw.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, CancellationToken cancellationToken);

    /// <summary>
    /// Waits for the next datagram and copies it into <paramref name="buffer"/>. A datagram longer than the buffer
    /// is cut to its length, as UDP does; give a buffer one byte longer than the largest accepted datagram to
    /// tell an oversized one apart.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket was disposed.</exception>
    ValueTask<DatagramReceived> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);
}

/// <summary>A received datagram: how many bytes landed in the buffer, and who sent it.</summary>
internal readonly record struct DatagramReceived(int Length, IPEndPoint RemoteEndPoint);
