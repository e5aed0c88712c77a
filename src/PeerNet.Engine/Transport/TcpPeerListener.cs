using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>A listening socket of a <see cref="TcpTransport"/>.</summary>
internal sealed class TcpPeerListener : IPeerListener
{
    private readonly Socket _socket;
    private readonly TcpTransport _transport;
    private int _disposed;

    /// <summary>Wraps a bound, listening socket.</summary>
    public TcpPeerListener(Socket socket, TcpTransport transport)
    {
        _socket = socket;
        _transport = transport;
        LocalEndPoint = TransportDefaults.Normalize((IPEndPoint)socket.LocalEndPoint!);
    }

    /// <inheritdoc />
    public IPEndPoint LocalEndPoint { get; }

    /// <inheritdoc />
    public async ValueTask<IDuplexConnection> AcceptAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e) when (Volatile.Read(ref _disposed) != 0 || TransportDefaults.IsLocalAbort(e.SocketErrorCode))
            {
                throw new ObjectDisposedException(nameof(TcpPeerListener), e);
            }
            catch (SocketException e) when (TransportDefaults.IsConnectionReset(e.SocketErrorCode))
            {
                continue; // That one connection went away before it was taken: wait for the next.
            }

            try
            {
                _transport.Configure(accepted);
                return _transport.Adopt(accepted);
            }
            catch (SocketException e) when (TransportDefaults.IsConnectionReset(e.SocketErrorCode))
            {
                accepted.Dispose(); // Reset between accept and setup.
            }
            catch
            {
                accepted.Dispose();
                throw;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Close();
        _transport.Forget(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Stops accepting and releases the port; a pending accept fails with <see cref="ObjectDisposedException"/>.</summary>
    internal void Close()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket.Dispose();
        }
    }

    public override string ToString() => $"tcp listener {LocalEndPoint}";
}
