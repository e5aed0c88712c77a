using System.Buffers;
using System.Diagnostics;

namespace PeerNet.Libp2p;

/// <summary>The peer reset a stream (RST), or this side aborted it.</summary>
internal sealed class Libp2pStreamResetException : IOException
{
    /// <summary>Creates the exception.</summary>
    public Libp2pStreamResetException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// One yamux stream: a <see cref="Stream"/> with a half-close (<see cref="CompleteWrites"/>, a FIN) and an abort
/// (<see cref="Abort"/>, an RST), as <c>System.Net.Quic.QuicStream</c> has. Reading returns 0 once the peer's FIN
/// arrived and everything before it was read. Reading hands window back to the peer as it goes; writing waits for the
/// window the peer granted, so neither side buffers more than a window per stream. One reader and one writer at a time.
/// </summary>
/// <remarks>
/// Disposing completes writes (FIN) and, when the peer has not finished its side, aborts reading with an RST, as
/// QUIC does; read to the end first for a graceful close. Failures are <see cref="IOException"/>s:
/// <see cref="Libp2pStreamResetException"/> for a reset, another for the session's end (its reason in the message).
/// </remarks>
internal sealed class YamuxStream : Libp2pStream
{
    private readonly YamuxSession _session;
    private readonly Lock _gate = new();
    private readonly Queue<byte[]> _received = new();
    private readonly Queue<int> _lengths = new();
    private readonly long _maxReceiveWindowSize;
    private long _receiveWindowSize;
    private long _epochStart;
    private bool _readerWaited; // the reader found nothing to read since the last window update: it is not what limits the stream
    private int _headOffset;
    private int _headLength;
    private long _buffered;
    private long _receiveWindow;
    private long _consumedSinceUpdate;
    private long _sendWindow;
    private bool _remoteFin;
    private bool _localFin;
    private bool _removed;
    private Exception? _readError;
    private Exception? _writeError;
    private TaskCompletionSource? _readSignal;
    private TaskCompletionSource? _writeSignal;

    internal YamuxStream(YamuxSession session, uint id, bool outbound, int receiveWindow, int maxReceiveWindow)
    {
        _session = session;
        Id = id;
        IsOutbound = outbound;
        _receiveWindowSize = receiveWindow;
        _maxReceiveWindowSize = maxReceiveWindow;
        _epochStart = Stopwatch.GetTimestamp();
        _receiveWindow = receiveWindow; // announced with the stream's first frame
        _sendWindow = YamuxOptions.SpecInitialWindow;
    }

    /// <summary>The resource manager's reservation of the stream, if the session has a manager; released when the stream is over.</summary>
    internal Libp2pStreamScope? Scope { get; set; }

    /// <summary>The stream's ID (odd: opened by the connection's initiator).</summary>
    public uint Id { get; }

    /// <summary>Whether this side opened the stream.</summary>
    public bool IsOutbound { get; }

    /// <summary>Whether the peer finished sending (FIN) or the stream ended.</summary>
    public bool ReadsCompleted
    {
        get
        {
            lock (_gate)
            {
                return _remoteFin || _readError is not null;
            }
        }
    }

    /// <summary>Bytes the peer may still send before this side's reader consumes some (tests and diagnostics).</summary>
    internal long ReceiveWindowRemaining
    {
        get
        {
            lock (_gate)
            {
                return _receiveWindow;
            }
        }
    }

    /// <summary>The receive window this side grants the stream now: the initial one, or what auto-tuning grew it to (tests and diagnostics).</summary>
    internal long ReceiveWindowSize
    {
        get
        {
            lock (_gate)
            {
                return _receiveWindowSize;
            }
        }
    }

    /// <summary>Bytes received and not read yet (tests and diagnostics).</summary>
    internal long BufferedBytes
    {
        get
        {
            lock (_gate)
            {
                return _buffered;
            }
        }
    }

    /// <summary>Bytes this side may still send before the peer grants more (tests and diagnostics).</summary>
    internal long SendWindowRemaining
    {
        get
        {
            lock (_gate)
            {
                return _sendWindow;
            }
        }
    }

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0)
        {
            return 0;
        }

        while (true)
        {
            Task? wait = null;
            uint grant = 0;
            int taken = 0;
            bool drained = false;
            lock (_gate)
            {
                if (_buffered > 0)
                {
                    int n = TakeLocked(buffer.Span);
                    taken = n;
                    drained = _buffered == 0 && (_remoteFin || _readError is not null);
                    _consumedSinceUpdate += n;

                    // Hand the window back in halves (not byte by byte), unless the peer has finished anyway. The update
                    // grants only bytes: what was read, plus what the window grew by, so the peer's view stays exact.
                    if (!_remoteFin && _consumedSinceUpdate >= _receiveWindowSize / 2)
                    {
                        long delta = _consumedSinceUpdate + GrowLocked();
                        grant = (uint)delta;
                        _receiveWindow += delta;
                        _consumedSinceUpdate = 0;
                    }

                    if (grant != 0)
                    {
                        _session.SendWindowUpdate(this, grant);
                    }
                }
                else if (_readError is not null)
                {
                    throw Rethrowable(_readError);
                }
                else if (_remoteFin)
                {
                    return 0;
                }
                else
                {
                    _readerWaited = true;
                    _readSignal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _readSignal.Task;
                }
            }

            if (taken > 0)
            {
                if (drained)
                {
                    RemoveIfDone(); // the last byte after the peer's FIN (or RST): nothing held for the stream any more
                }

                return taken;
            }

            await wait!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>
    /// Sends <paramref name="buffer"/>, waiting for window as the peer grants it; done once every byte is handed to the
    /// connection. Cancelling stops before the next frame (frames already sent stay sent).
    /// </summary>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (buffer.Length > 0)
        {
            int n = await ReserveSendWindowAsync(buffer.Length, cancellationToken).ConfigureAwait(false);
            try
            {
                await _session.SendDataAsync(this, buffer[..n], cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                ReturnSendWindow(n);
                throw;
            }

            buffer = buffer[n..];
        }
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Ends this side's writing (a FIN): the peer reads to the end; reading goes on. Idempotent.</summary>
    public override void CompleteWrites()
    {
        lock (_gate)
        {
            if (_localFin || _writeError is not null)
            {
                return;
            }

            _localFin = true;
            _session.SendFlags(this, YamuxFlags.Fin);
            SignalWriteLocked();
        }

        RemoveIfDone();
    }

    /// <summary>Aborts both directions (an RST): pending and later reads and writes fail; buffered data is dropped.</summary>
    public override void Abort()
    {
        bool send;
        lock (_gate)
        {
            send = _readError is null || _writeError is null;
            var reset = new Libp2pStreamResetException($"Stream {Id} was aborted by this side.");
            DropBufferLocked();
            _readError ??= reset;
            _writeError ??= reset;
            SignalReadLocked();
            SignalWriteLocked();
        }

        if (send)
        {
            _session.SendFlags(this, YamuxFlags.Rst);
        }

        RemoveIfDone();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            bool readsOpen;
            lock (_gate)
            {
                readsOpen = !_remoteFin && _readError is null;
            }

            if (readsOpen)
            {
                Abort();
            }
            else
            {
                CompleteWrites();
                lock (_gate)
                {
                    DropBufferLocked();
                }

                RemoveIfDone();
            }
        }

        base.Dispose(disposing);
    }

    // ---- called by the session's read loop ----

    /// <summary>A data payload arrived; false when it exceeds the window this side granted (a protocol error).</summary>
    internal bool OnData(ReadOnlySequence<byte> payload)
    {
        lock (_gate)
        {
            if (payload.Length > _receiveWindow)
            {
                return false;
            }

            _receiveWindow -= payload.Length;
            if (_readError is not null || _remoteFin)
            {
                return !_remoteFin; // data after FIN is an error; after a local abort it is dropped
            }

            if (payload.Length > 0)
            {
                byte[] copy = ArrayPool<byte>.Shared.Rent((int)payload.Length);
                payload.CopyTo(copy);
                if (_received.Count == 0)
                {
                    _headOffset = 0;
                    _headLength = (int)payload.Length;
                }

                _received.Enqueue(copy);
                _lengths.Enqueue((int)payload.Length);
                _buffered += payload.Length;
                SignalReadLocked();
            }

            return true;
        }
    }

    /// <summary>The peer granted <paramref name="delta"/> more bytes; false when the window would pass <paramref name="max"/>.</summary>
    internal bool OnWindowUpdate(uint delta, long max)
    {
        lock (_gate)
        {
            if (_sendWindow + delta > max)
            {
                return false;
            }

            _sendWindow += delta;
            if (delta > 0)
            {
                SignalWriteLocked();
            }

            return true;
        }
    }

    /// <summary>The peer finished sending.</summary>
    internal void OnRemoteFin()
    {
        lock (_gate)
        {
            _remoteFin = true;
            SignalReadLocked();
        }

        RemoveIfDone();
    }

    /// <summary>The peer reset the stream: what it sent before stays readable, then reads fail; writes fail at once.</summary>
    internal void OnRemoteReset()
    {
        lock (_gate)
        {
            var reset = new Libp2pStreamResetException($"The peer reset stream {Id}.");
            if (!_remoteFin)
            {
                _readError ??= reset;
            }

            _writeError ??= reset;
            SignalReadLocked();
            SignalWriteLocked();
        }

        RemoveIfDone();
    }

    /// <summary>The session ended: everything unfinished fails with <paramref name="error"/>.</summary>
    internal void OnSessionClosed(Exception error)
    {
        lock (_gate)
        {
            if (!_remoteFin)
            {
                _readError ??= error;
            }

            _writeError ??= error;
            SignalReadLocked();
            SignalWriteLocked();
        }
    }

    /// <summary>Writes may not go on: throws why.</summary>
    internal void ThrowIfWritesEnded()
    {
        lock (_gate)
        {
            if (_writeError is not null)
            {
                throw Rethrowable(_writeError);
            }

            if (_localFin)
            {
                throw new InvalidOperationException($"Writes on stream {Id} were completed.");
            }
        }
    }

    private static IOException Rethrowable(Exception error) => error switch
    {
        Libp2pStreamResetException reset => new Libp2pStreamResetException(reset.Message),
        IOException io => new IOException(io.Message, io),
        _ => new IOException(error.Message, error),
    };

    private async ValueTask<int> ReserveSendWindowAsync(int wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_writeError is not null)
                {
                    throw Rethrowable(_writeError);
                }

                if (_localFin)
                {
                    throw new InvalidOperationException($"Writes on stream {Id} were completed.");
                }

                if (_sendWindow > 0)
                {
                    int n = (int)Math.Min(wanted, _sendWindow);
                    _sendWindow -= n;
                    return n;
                }

                _writeSignal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _writeSignal.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void ReturnSendWindow(int n)
    {
        lock (_gate)
        {
            _sendWindow += n;
        }
    }

    /// <summary>
    /// Receive-window auto-tuning (as go-yamux, rust-yamux and QUIC stacks do), called as half a window is handed back:
    /// when the reader ran dry at least once in that half and consumed it at more than a window per two round trips, the
    /// window (not the reader) is what limits the stream, so it doubles, up to <see cref="YamuxOptions.MaxReceiveWindow"/> and only if the resource
    /// manager reserves the extra memory (otherwise the stream keeps what it has). Returns the bytes it grew by. A
    /// reader that does not read hands nothing back, so its peer stays held to the initial window.
    /// </summary>
    private long GrowLocked()
    {
        long now = Stopwatch.GetTimestamp();
        long elapsed = now - _epochStart;
        _epochStart = now;
        bool waited = _readerWaited;
        _readerWaited = false;
        if (_receiveWindowSize >= _maxReceiveWindowSize || Scope is null)
        {
            return 0; // at the maximum, or no budget to grow against
        }

        // A reader that never ran dry is what limits the stream, however fast it caught up on a backlog (one that
        // stalled and then drained a full buffer hands window back in microseconds): growing would only hold more.
        if (!waited)
        {
            return 0;
        }

        long roundTrip = _session.RoundTripTicks();

        // consumed / elapsed > window / (2 * RTT), in doubles: ticks times bytes can pass a long.
        if (roundTrip == 0 || (double)elapsed * _receiveWindowSize >= (double)_consumedSinceUpdate * 2 * roundTrip)
        {
            return 0;
        }

        long grown = Math.Min(_receiveWindowSize * 2, _maxReceiveWindowSize);
        long extra = grown - _receiveWindowSize;
        if (!Scope.TryGrow(extra))
        {
            return 0;
        }

        _receiveWindowSize = grown;
        return extra;
    }

    private int TakeLocked(Span<byte> destination)
    {
        int total = 0;
        while (destination.Length > 0 && _received.Count > 0)
        {
            byte[] head = _received.Peek();
            int n = Math.Min(destination.Length, _headLength - _headOffset);
            head.AsSpan(_headOffset, n).CopyTo(destination);
            destination = destination[n..];
            _headOffset += n;
            total += n;
            if (_headOffset == _headLength)
            {
                ArrayPool<byte>.Shared.Return(_received.Dequeue());
                _lengths.Dequeue();
                _headOffset = 0;
                _headLength = _lengths.Count > 0 ? _lengths.Peek() : 0;
            }
        }

        _buffered -= total;
        return total;
    }

    private void DropBufferLocked()
    {
        while (_received.Count > 0)
        {
            ArrayPool<byte>.Shared.Return(_received.Dequeue());
        }

        _lengths.Clear();
        _headOffset = _headLength = 0;
        _buffered = 0;
    }

    private void SignalReadLocked()
    {
        TaskCompletionSource? signal = _readSignal;
        _readSignal = null;
        signal?.TrySetResult();
    }

    private void SignalWriteLocked()
    {
        TaskCompletionSource? signal = _writeSignal;
        _writeSignal = null;
        signal?.TrySetResult();
    }

    /// <summary>Both directions are over: the session forgets the stream (it no longer counts against the limits).</summary>
    private void RemoveIfDone()
    {
        lock (_gate)
        {
            bool readsDone = _remoteFin || _readError is not null;
            bool writesDone = _localFin || _writeError is not null;

            // Data received and not read yet is still held: the stream counts (window, limits) until it is read or dropped.
            if (_removed || !readsDone || !writesDone || _buffered > 0)
            {
                return;
            }

            _removed = true;
        }

        _session.Forget(this);
    }
}
