using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>
/// Peer connections over TCP sockets (System.Net.Sockets and System.IO.Pipelines). Sockets have Nagle's algorithm
/// off, since peer-wire requests are small and latency-bound. Disposing the transport disposes its listeners and
/// aborts its open connections.
/// </summary>
internal sealed class TcpTransport : IPeerTransport
{
    private readonly TcpTransportOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<TcpConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<TcpPeerListener, byte> _listeners = new();
    private readonly Action<TcpConnection> _onConnectionClosed;
    private int _disposed;

    /// <summary>Creates a transport; <paramref name="timeProvider"/> (default the system clock) times connects and closes.</summary>
    public TcpTransport(TcpTransportOptions? options = null, TimeProvider? timeProvider = null)
    {
        _options = options ?? TcpTransportOptions.Default;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _onConnectionClosed = c => _connections.TryRemove(c, out _);
    }

    /// <summary>The settings in use.</summary>
    public TcpTransportOptions Options => _options;

    /// <summary>
    /// Listens on <paramref name="localEndPoint"/>. <see cref="IPAddress.IPv6Any"/> gives one dual-mode socket that
    /// takes IPv4 and IPv6 on the same port; any other address gives a socket for exactly that address.
    /// </summary>
    public ValueTask<IPeerListener> ListenAsync(IPEndPoint localEndPoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();

        Socket socket = localEndPoint.Address.Equals(IPAddress.IPv6Any)
            ? new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true }
            : new Socket(localEndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(localEndPoint);
            socket.Listen(_options.ListenBacklog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var listener = new TcpPeerListener(socket, this);
        _listeners.TryAdd(listener, 0);
        if (Volatile.Read(ref _disposed) != 0)
        {
            listener.Close();
            throw new ObjectDisposedException(nameof(TcpTransport));
        }

        return ValueTask.FromResult<IPeerListener>(listener);
    }

    /// <inheritdoc />
    public async ValueTask<IDuplexConnection> ConnectAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            Configure(socket);
            if (_options.LocalAddress is { } local && local.AddressFamily == remote.AddressFamily)
            {
                socket.Bind(new IPEndPoint(local, 0));
            }

            using var timeout = new CancellationTokenSource(_options.ConnectTimeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                await socket.ConnectAsync(remote, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new SocketException((int)SocketError.TimedOut);
            }

            return Adopt(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (TcpPeerListener listener in _listeners.Keys)
        {
            listener.Close();
        }

        _listeners.Clear();
        var closing = new List<Task>();
        foreach (TcpConnection connection in _connections.Keys)
        {
            connection.Abort(new ObjectDisposedException(nameof(TcpTransport)));
            closing.Add(connection.DisposeAsync().AsTask());
        }

        await Task.WhenAll(closing).ConfigureAwait(false);
    }

    /// <summary>Wraps a connected socket (dialled or accepted) and starts its loops.</summary>
    internal TcpConnection Adopt(Socket socket)
    {
        var connection = new TcpConnection(socket, _timeProvider, _options.CloseTimeout, _onConnectionClosed);
        _connections.TryAdd(connection, 0);
        if (Volatile.Read(ref _disposed) != 0)
        {
            _connections.TryRemove(connection, out _);
            throw new ObjectDisposedException(nameof(TcpTransport));
        }

        connection.Start();
        return connection;
    }

    /// <summary>Applies the per-socket settings.</summary>
    internal void Configure(Socket socket)
    {
        socket.NoDelay = true;
        if (_options.SocketReceiveBufferSize is int receive)
        {
            socket.ReceiveBufferSize = receive;
        }

        if (_options.SocketSendBufferSize is int send)
        {
            socket.SendBufferSize = send;
        }
    }

    internal void Forget(TcpPeerListener listener) => _listeners.TryRemove(listener, out _);
}
