using System.Net;
using System.Threading.Channels;

namespace PeerNet.Transport;

/// <summary>A listening endpoint on an <see cref="InMemoryNetwork"/>, with a bounded backlog like a socket's.</summary>
internal sealed class InMemoryListener : IPeerListener
{
    private readonly InMemoryTransport _transport;
    private readonly Channel<InMemoryConnection> _backlog;
    private int _disposed;

    /// <summary>Creates a listener on <paramref name="localEndPoint"/>, already bound in the network.</summary>
    public InMemoryListener(InMemoryTransport transport, IPEndPoint localEndPoint, int backlog)
    {
        _transport = transport;
        LocalEndPoint = localEndPoint;
        _backlog = Channel.CreateBounded<InMemoryConnection>(new BoundedChannelOptions(backlog) { SingleWriter = false, SingleReader = false });
    }

    /// <inheritdoc />
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The transport whose node listens here.</summary>
    internal InMemoryTransport Transport => _transport;

    /// <inheritdoc />
    public async ValueTask<IDuplexConnection> AcceptAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            return await _backlog.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            throw new ObjectDisposedException(nameof(InMemoryListener), e);
        }
    }

    /// <summary>Queues an inbound connection; false when the backlog is full or the listener closed.</summary>
    internal bool TryEnqueue(InMemoryConnection connection) => _backlog.Writer.TryWrite(connection);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _backlog.Writer.TryComplete();
        _transport.Forget(this);

        // Connections never accepted are reset, as the kernel does with a closed listener's queue.
        while (_backlog.Reader.TryRead(out InMemoryConnection? pending))
        {
            pending.Abort();
            await pending.DisposeAsync().ConfigureAwait(false);
        }
    }

    public override string ToString() => $"memory listener {LocalEndPoint}";
}
