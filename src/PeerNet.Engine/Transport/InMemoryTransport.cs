using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>
/// One node's view of an <see cref="InMemoryNetwork"/>: it listens and connects at its own address, and every byte
/// it sends goes through its <see cref="InMemoryLinkOptions"/>. Errors mirror TCP's: connecting where nobody
/// listens fails with <see cref="SocketError.ConnectionRefused"/>, listening on a taken port with
/// <see cref="SocketError.AddressAlreadyInUse"/>.
/// </summary>
internal sealed class InMemoryTransport : IPeerTransport
{
    /// <summary>Inbound connections queued per listener before connects are refused.</summary>
    public const int ListenBacklog = 512;

    private readonly ConcurrentDictionary<InMemoryConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<InMemoryListener, byte> _listeners = new();
    private int _disposed;

    /// <summary>Created by <see cref="InMemoryNetwork.CreateTransport"/>.</summary>
    internal InMemoryTransport(InMemoryNetwork network, IPAddress address, InMemoryLinkOptions link)
    {
        Network = network;
        Address = address;
        Link = link;
        if (link.BytesPerSecond > 0)
        {
            UploadBucket = TokenBucket.ForLink(link.BytesPerSecond, network.TimeProvider);
        }
    }

    /// <summary>The node's address on the network.</summary>
    public IPAddress Address { get; }

    /// <summary>How the node's uplink is shaped.</summary>
    public InMemoryLinkOptions Link { get; }

    /// <summary>The network the node is on.</summary>
    internal InMemoryNetwork Network { get; }

    /// <summary>The node's upload pacing, shared by all its connections; null when unlimited.</summary>
    internal TokenBucket? UploadBucket { get; }

    /// <summary>
    /// Listens at <paramref name="localEndPoint"/>: the node's address, or <see cref="IPAddress.Any"/> /
    /// <see cref="IPAddress.IPv6Any"/> for it; port 0 picks a free port.
    /// </summary>
    public ValueTask<IPeerListener> ListenAsync(IPEndPoint localEndPoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        IPAddress address = localEndPoint.Address;
        if (!address.Equals(Address) && !address.Equals(IPAddress.Any) && !address.Equals(IPAddress.IPv6Any))
        {
            throw new SocketException((int)SocketError.AddressNotAvailable);
        }

        InMemoryListener listener = Network.Listen(this, localEndPoint.Port);
        _listeners.TryAdd(listener, 0);
        return ValueTask.FromResult<IPeerListener>(listener);
    }

    /// <inheritdoc />
    public async ValueTask<IDuplexConnection> ConnectAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        InMemoryListener? listener = Network.FindListener(remote);

        // The handshake costs a round trip: this node's latency out and the listener's back.
        TimeSpan roundTrip = Link.Latency + (listener?.Transport.Link.Latency ?? Link.Latency);
        if (roundTrip > TimeSpan.Zero)
        {
            await Task.Delay(roundTrip, Network.TimeProvider, cancellationToken).ConfigureAwait(false);
            listener = Network.FindListener(remote);
        }

        if (listener is null)
        {
            throw new SocketException((int)SocketError.ConnectionRefused);
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        IPEndPoint local = Network.Bind(Address, 0);
        (InMemoryConnection client, InMemoryConnection server) = InMemoryConnection.CreatePair(this, local, listener.Transport, listener.LocalEndPoint);
        _connections.TryAdd(client, 0);
        if (!listener.Transport.Track(server) || !listener.TryEnqueue(server))
        {
            client.Abort();
            server.Abort();
            await client.DisposeAsync().ConfigureAwait(false);
            await server.DisposeAsync().ConfigureAwait(false);
            throw new SocketException((int)SocketError.ConnectionRefused);
        }

        return client;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (InMemoryListener listener in _listeners.Keys)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }

        foreach (InMemoryConnection connection in _connections.Keys)
        {
            connection.Abort(new ObjectDisposedException(nameof(InMemoryTransport)));
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Tracks an accepted connection so disposing the transport aborts it; false once disposed.</summary>
    internal bool Track(InMemoryConnection connection)
    {
        _connections.TryAdd(connection, 0);
        if (Volatile.Read(ref _disposed) != 0)
        {
            _connections.TryRemove(connection, out _);
            return false;
        }

        return true;
    }

    /// <summary>A connection was disposed: stop tracking it and free its local port if it had its own.</summary>
    internal void Forget(InMemoryConnection connection, bool releasePort)
    {
        _connections.TryRemove(connection, out _);
        if (releasePort)
        {
            Network.Release(connection.LocalEndPoint);
        }
    }

    /// <summary>A listener was disposed: free its port.</summary>
    internal void Forget(InMemoryListener listener)
    {
        _listeners.TryRemove(listener, out _);
        Network.Unlisten(listener);
    }

    public override string ToString() => $"memory transport {Address}";
}
