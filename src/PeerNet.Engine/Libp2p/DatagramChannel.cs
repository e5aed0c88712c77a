using System.Buffers;
using System.Threading.Channels;

namespace PeerNet.Libp2p;

/// <summary>One datagram received on a <see cref="DatagramChannel"/>.</summary>
public sealed record Datagram
{
    /// <summary>The sender's number for it: one more for each datagram it tried to send, so a gap is a datagram lost or dropped.</summary>
    public ulong Sequence { get; init; }

    /// <summary>Its bytes.</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>When the sender sent it (by the sender's clock, to the microsecond).</summary>
    public DateTimeOffset Sent { get; init; }

    /// <summary>When this node read it from the connection.</summary>
    public DateTimeOffset Received { get; init; }
}

/// <summary>Settings of a <see cref="DatagramChannel"/>.</summary>
public sealed record DatagramChannelOptions
{
    /// <summary>
    /// Most bytes sent but not yet confirmed read by the peer; a datagram that would pass it is dropped, so a slow link
    /// or receiver costs datagrams, not delay. 16 KiB is about 1.8 s of 160-byte datagrams at 50 a second; at least one of the largest datagrams.
    /// </summary>
    public int MaxInFlightBytes { get; init; } = 16 * 1024;

    /// <summary>
    /// How much later than the fastest datagram's transit a datagram may arrive and still be delivered (clock offset
    /// between the peers cancels out); a later one is dropped and counted in <see cref="DatagramChannelStats.Late"/>.
    /// Null delivers every datagram that is in order.
    /// </summary>
    public TimeSpan? MaxLateness { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Datagrams kept for <see cref="DatagramChannel.ReceiveAsync"/>; when the application falls behind, the oldest go first.</summary>
    public int ReceiveQueueLength { get; init; } = 64;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInFlightBytes, DatagramFrameCodec.FramedLength(DatagramFrameCodec.MaxPayloadLength), nameof(MaxInFlightBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveQueueLength, 1, nameof(ReceiveQueueLength));
        if (MaxLateness is { } lateness)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(lateness, TimeSpan.Zero, nameof(MaxLateness));
        }
    }
}

/// <summary>Counters of a <see cref="DatagramChannel"/>.</summary>
public sealed record DatagramChannelStats
{
    /// <summary>Datagrams handed to the connection.</summary>
    public long Sent { get; init; }

    /// <summary>Datagrams <see cref="DatagramChannel.TrySend"/> dropped because too much was in flight.</summary>
    public long Dropped { get; init; }

    /// <summary>Datagrams received and queued for the application.</summary>
    public long Received { get; init; }

    /// <summary>Datagrams received out of order or later than <see cref="DatagramChannelOptions.MaxLateness"/>, and dropped.</summary>
    public long Late { get; init; }

    /// <summary>Received datagrams dropped because the application did not read them in time (the receive queue was full).</summary>
    public long Overflowed { get; init; }

    /// <summary>Bytes sent and not yet confirmed read by the peer.</summary>
    public int InFlightBytes { get; init; }

    /// <summary>RFC 3550's interarrival jitter estimate of the datagrams received, in milliseconds.</summary>
    public double JitterMilliseconds { get; init; }
}

/// <summary>
/// A real-time channel to one peer over its authenticated connection (<c>/peernet/datagram/1.0.0</c> on a yamux
/// stream), for voice frames or collaboration updates: unreliable and ordered. Each datagram carries a sequence number
/// and its send time. Sending never waits: when the peer has not yet read <see cref="DatagramChannelOptions.MaxInFlightBytes"/>
/// (or the stream's window is used up) the datagram is dropped and counted, so delay never builds up behind a slow link or
/// receiver. The receiver drops datagrams that arrive out of order or too late. Both sides send and receive; disposing
/// either side ends the channel.
/// </summary>
public sealed class DatagramChannel : IAsyncDisposable
{
    /// <summary>A send time past this (year 8000 or so) is taken as this: a peer's clock must not overflow ours.</summary>
    private const long MaxUnixMicroseconds = 190_000_000_000_000_000;

    private readonly YamuxStream _stream;
    private readonly DatagramChannelOptions _options;
    private readonly Channel<(byte[] Buffer, int Length)> _outgoing = Channel.CreateUnbounded<(byte[], int)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<Datagram> _incoming;
    private readonly Queue<(ulong Sequence, int Bytes)> _unacknowledged = new();
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _sending;
    private readonly Task _receiving;
    private ulong _nextSequence;
    private int _inFlightBytes;
    private int _queuedBytes;
    private long _sent;
    private long _dropped;
    private long _received;
    private long _late;
    private long _overflowed;
    private ulong _lastReceived;
    private ulong _lastAcknowledged;
    private long? _minTransit;
    private long? _lastTransit;
    private double _jitter;
    private int _disposed;

    internal DatagramChannel(YamuxStream stream, Libp2pPeerId remotePeer, DatagramChannelOptions options)
    {
        _stream = stream;
        RemotePeer = remotePeer;
        _options = options;
        _incoming = Channel.CreateBounded<Datagram>(
            new BoundedChannelOptions(options.ReceiveQueueLength) { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true },
            _ => Interlocked.Increment(ref _overflowed));
        _sending = Task.Run(SendLoopAsync);
        _receiving = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>The peer at the other end.</summary>
    public Libp2pPeerId RemotePeer { get; }

    /// <summary>Completes when the channel has ended (either side closed it, or the connection ended).</summary>
    public Task Completion => _completion.Task;

    /// <summary>The counters now.</summary>
    public DatagramChannelStats Stats
    {
        get
        {
            lock (_gate)
            {
                return new DatagramChannelStats
                {
                    Sent = _sent,
                    Dropped = _dropped,
                    Received = _received,
                    Late = _late,
                    Overflowed = Interlocked.Read(ref _overflowed),
                    InFlightBytes = _inFlightBytes,
                    JitterMilliseconds = _jitter / 1000,
                };
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="datagram"/> (at most <see cref="Libp2pService.MaxDatagramLength"/> bytes) without waiting: true when it was handed on, false when it was
    /// dropped (too much in flight, or the channel has ended). Safe to call from several threads.
    /// </summary>
    public bool TrySend(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length > DatagramFrameCodec.MaxPayloadLength)
        {
            throw new ArgumentException($"A datagram carries at most {DatagramFrameCodec.MaxPayloadLength} bytes, not {datagram.Length}.", nameof(datagram));
        }

        int length = DatagramFrameCodec.FramedLength(datagram.Length);
        lock (_gate)
        {
            ulong sequence = ++_nextSequence;
            if (_completion.Task.IsCompleted
                || _inFlightBytes + length > _options.MaxInFlightBytes
                || _stream.SendWindowRemaining - _queuedBytes < length)
            {
                _dropped++;
                return false;
            }

            byte[] buffer = ArrayPool<byte>.Shared.Rent(length);
            var writer = new FixedBufferWriter(buffer);
            DatagramFrameCodec.WriteDatagram(sequence, NowMicroseconds(), datagram, writer);
            _unacknowledged.Enqueue((sequence, length));
            _inFlightBytes += length;
            _queuedBytes += length;
            _sent++;
            _outgoing.Writer.TryWrite((buffer, length));
            return true;
        }
    }

    /// <summary>The next datagram received; throws <see cref="ChannelClosedException"/> once the channel has ended and all were read.</summary>
    public ValueTask<Datagram> ReceiveAsync(CancellationToken cancellationToken = default) => _incoming.Reader.ReadAsync(cancellationToken);

    /// <summary>The datagrams as they arrive, until the channel ends.</summary>
    public IAsyncEnumerable<Datagram> ReadAllAsync(CancellationToken cancellationToken = default) => _incoming.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Ends the channel: this side's FIN, then (for at most 2 s) the peer's; queued datagrams not yet sent are dropped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _completion.Task.ConfigureAwait(false);
            return;
        }

        _outgoing.Writer.TryComplete();
        await _sending.ConfigureAwait(false);
        await Task.WhenAny(_receiving, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        if (!_receiving.IsCompleted)
        {
            _stream.Abort();
            await _receiving.ConfigureAwait(false);
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
    }

    private static long NowMicroseconds() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;

    private async Task SendLoopAsync()
    {
        try
        {
            await foreach ((byte[] buffer, int length) in _outgoing.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                try
                {
                    await _stream.WriteAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    lock (_gate)
                    {
                        _queuedBytes -= length;
                    }
                }
            }

            _stream.CompleteWrites();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            // The stream ended: the receive loop ends the channel.
            _stream.Abort();
        }
        finally
        {
            _outgoing.Writer.TryComplete();
            while (_outgoing.Reader.TryRead(out (byte[] Buffer, int Length) left))
            {
                ArrayPool<byte>.Shared.Return(left.Buffer);
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        byte[] buffer = new byte[2 * (DatagramFrameCodec.MaxBodyLength + UnsignedVarint.MaxLength)];
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                if (end == buffer.Length)
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    (start, end) = (0, end - start);
                }

                int n = await _stream.ReadAsync(buffer.AsMemory(end)).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                end += n;
                long now = NowMicroseconds();
                while (start < end)
                {
                    VarintStatus status = DatagramFrameCodec.TryRead(buffer.AsMemory(start, end - start), out DatagramFrame frame, out int consumed, out string? error);
                    if (status == VarintStatus.NeedMore)
                    {
                        break;
                    }

                    if (status == VarintStatus.Invalid)
                    {
                        throw new InvalidDataException($"{RemotePeer} sent {error} on a datagram channel");
                    }

                    start += consumed;
                    if (frame.Kind == DatagramFrameKind.Ack)
                    {
                        OnAcknowledged(frame.Sequence);
                    }
                    else
                    {
                        OnDatagram(frame, now);
                    }
                }

                if (start == end)
                {
                    start = end = 0;
                }

                SendAcknowledgement();
            }

            _outgoing.Writer.TryComplete(); // the peer finished: this side finishes too
        }
        catch (Exception e) when (e is IOException or InvalidDataException or OperationCanceledException or ObjectDisposedException)
        {
            _outgoing.Writer.TryComplete();
            _stream.Abort();
        }
        finally
        {
            _incoming.Writer.TryComplete();
            _completion.TrySetResult();
        }
    }

    private void OnDatagram(DatagramFrame frame, long nowMicroseconds)
    {
        long transit = nowMicroseconds - frame.SentUnixMicroseconds;
        lock (_gate)
        {
            if (frame.Sequence <= _lastReceived)
            {
                _late++;
                return;
            }

            _lastReceived = frame.Sequence;

            // RFC 3550 section 6.4.1: J += (|D(i-1,i)| - J) / 16, D the change in transit time.
            if (_lastTransit is { } previous)
            {
                _jitter += (Math.Abs(transit - previous) - _jitter) / 16;
            }

            _lastTransit = transit;
            _minTransit = _minTransit is { } min ? Math.Min(min, transit) : transit;
            if (_options.MaxLateness is { } lateness && transit - _minTransit.Value > lateness.Ticks / 10)
            {
                _late++;
                return;
            }

            _received++;
        }

        _incoming.Writer.TryWrite(new Datagram
        {
            Sequence = frame.Sequence,
            Data = frame.Payload.ToArray(),
            Sent = DateTimeOffset.UnixEpoch.AddTicks(Math.Clamp(frame.SentUnixMicroseconds, 0, MaxUnixMicroseconds) * 10),
            Received = DateTimeOffset.UnixEpoch.AddTicks(nowMicroseconds * 10),
        });
    }

    private void OnAcknowledged(ulong sequence)
    {
        lock (_gate)
        {
            while (_unacknowledged.TryPeek(out (ulong Sequence, int Bytes) head) && head.Sequence <= sequence)
            {
                _unacknowledged.Dequeue();
                _inFlightBytes -= head.Bytes;
            }
        }
    }

    /// <summary>Tells the peer what has been read (coalesced: once per read from the stream that brought datagrams).</summary>
    private void SendAcknowledgement()
    {
        lock (_gate)
        {
            if (_lastReceived == _lastAcknowledged || _completion.Task.IsCompleted)
            {
                return;
            }

            _lastAcknowledged = _lastReceived;
            byte[] buffer = ArrayPool<byte>.Shared.Rent(UnsignedVarint.MaxLength + DatagramFrameCodec.AckLength);
            var writer = new FixedBufferWriter(buffer);
            DatagramFrameCodec.WriteAck(_lastReceived, writer);
            _queuedBytes += writer.Written;
            if (!_outgoing.Writer.TryWrite((buffer, writer.Written)))
            {
                _queuedBytes -= writer.Written;
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> over one array that is known to be large enough.</summary>
    private sealed class FixedBufferWriter(byte[] buffer) : IBufferWriter<byte>
    {
        public int Written { get; private set; }

        public void Advance(int count) => Written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => buffer.AsMemory(Written);

        public Span<byte> GetSpan(int sizeHint = 0) => buffer.AsSpan(Written);
    }
}
