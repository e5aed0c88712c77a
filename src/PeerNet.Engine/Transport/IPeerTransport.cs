using System.Net;

namespace PeerNet.Transport;

/// <summary>
/// Opens stream connections to peers and accepts them: real TCP sockets (<see cref="TcpTransport"/>) or an
/// in-process network for tests (<see cref="InMemoryNetwork.CreateTransport"/>). Disposing the transport
/// disposes its listeners and aborts the connections it made or accepted that are still open.
/// </summary>
internal interface IPeerTransport : IAsyncDisposable
{
    /// <summary>Starts listening on <paramref name="localEndPoint"/> (port 0 picks a free port).</summary>
    /// <exception cref="System.Net.Sockets.SocketException">The address is in use or not available.</exception>
    ValueTask<IPeerListener> ListenAsync(IPEndPoint localEndPoint, CancellationToken cancellationToken);

    /// <summary>Connects to <paramref name="remote"/>.</summary>
    /// <exception cref="System.Net.Sockets.SocketException">
    /// The connection failed: refused, unreachable, or <see cref="System.Net.Sockets.SocketError.TimedOut"/> when the
    /// transport's connect timeout passed first.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    ValueTask<IDuplexConnection> ConnectAsync(IPEndPoint remote, CancellationToken cancellationToken);
}
