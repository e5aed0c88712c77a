using System.Net;
using System.Threading.Channels;

namespace PeerNet.Transport;

/// <summary>
/// A socket of an in-process network (<see cref="InMemoryDatagramNetwork"/>, <see cref="InMemoryMulticastNetwork"/>):
/// a bounded receive queue (a datagram that finds it full is dropped, as a full UDP receive buffer drops it), sends
/// handed to the network, and disposal that leaves the network and ends a pending receive.
/// </summary>
internal abstract class InMemoryDatagramSocket(IPEndPoint localEndPoint, int queueCapacity) : IDatagramSocket
{
    private readonly Channel<(byte[] Data, IPEndPoint From)> _queue = Channel.CreateBounded<(byte[] Data, IPEndPoint From)>(new BoundedChannelOptions(queueCapacity)
    {
        FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the datagram is dropped
        SingleReader = false,
        SingleWriter = false,
    });

    private volatile bool _disposed;

    public IPEndPoint LocalEndPoint { get; } = localEndPoint;

    /// <summary>Queues a datagram for the next receive; false (dropped) when the queue is full or the socket disposed.</summary>
    public bool TryEnqueue(byte[] data, IPEndPoint from) => _queue.Writer.TryWrite((data, from));

    public ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        Send(datagram, remote);
        return ValueTask.CompletedTask;
    }

    public async ValueTask<DatagramReceived> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        (byte[] data, IPEndPoint from) packet;
        try
        {
            packet = await _queue.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(GetType().Name);
        }

        int length = Math.Min(packet.data.Length, buffer.Length);
        packet.data.AsSpan(0, length).CopyTo(buffer.Span);
        return new DatagramReceived(length, packet.from);
    }

    public ValueTask DisposeAsync()
    {
        _disposed = true;
        Leave();
        _queue.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }

    /// <summary>Hands a datagram to the network (loss, latency and delivery are the network's).</summary>
    protected abstract void Send(ReadOnlyMemory<byte> datagram, IPEndPoint remote);

    /// <summary>Takes the socket off the network.</summary>
    protected abstract void Leave();
}
