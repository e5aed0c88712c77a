using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Threading.Channels;
using PeerNet.Transport;

namespace PeerNet.Libp2p;

/// <summary>
/// A yamux session (hashicorp/yamux spec.md, <c>/yamux/1.0.0</c>) over one connection that is already secured: streams
/// opened by either side (odd IDs by the connection's initiator, even by the responder), a receive window per stream,
/// half-close, reset, ping and go-away.
/// </summary>
/// <remarks>
/// <para>One read loop parses frames and never waits on anything but the connection, so a slow stream reader cannot
/// stall the session: a stream's data is buffered up to the window this side granted, and a peer that sends more is
/// breaking the protocol (the session ends). Data is written by the writing stream itself under a lock (one copy into
/// the connection's pipe, a flush per write); control frames (window updates, ACK, FIN, RST, ping replies) are header-only
/// and go through a queue that a writer task drains, so the read loop only ever enqueues.</para>
/// <para>The session ends on a protocol error (a GoAway with code 1 is sent), on the connection's end, on the peer's
/// GoAway with an error code, or on <see cref="DisposeAsync"/> (GoAway 0). <see cref="Completion"/> completes then and
/// <see cref="CloseReason"/> says why.</para>
/// </remarks>
internal sealed class YamuxSession : IAsyncDisposable
{
    /// <summary>The protocol ID negotiated with multistream-select.</summary>
    public const string ProtocolId = "/yamux/1.0.0";

    /// <summary>How old a round-trip measurement may be before a growing stream asks for a new one.</summary>
    private static readonly TimeSpan RoundTripRefresh = TimeSpan.FromSeconds(30);

    private readonly IDuplexConnection _connection;
    private readonly YamuxOptions _options;
    private readonly Libp2pConnectionScope? _scope;
    private readonly ConcurrentDictionary<uint, YamuxStream> _streams = new();
    private readonly Channel<YamuxStream> _accept;
    private readonly Channel<YamuxHeader> _control = Channel.CreateUnbounded<YamuxHeader>(new UnboundedChannelOptions { SingleReader = false });
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _unacked;
    private readonly ConcurrentDictionary<uint, TaskCompletionSource> _pings = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly HashSet<uint> _unackedIds = [];
    private int _pendingControl;
    private int _inbound;
    private uint _nextStreamId;
    private uint _lastRemoteStreamId;
    private uint _nextPing;
    private long _roundTrip; // Stopwatch ticks of the last ping's round trip; 0 until one is measured
    private long _roundTripAt; // when it was measured
    private int _measuringRoundTrip;
    private int _closed;
    private bool _remoteGoAway;
    private Task? _readLoop;
    private Task? _writeLoop;
    private Task? _keepAlive;

    /// <summary>
    /// A session over <paramref name="connection"/> (already secured); <see cref="Start"/> starts it. With a
    /// <paramref name="scope"/> (the resource manager's reservation of the connection, which the session then owns and
    /// releases when it ends), each stream reserves its receive window and a stream slot there first, and a window reserves its growth there before it grows.
    /// </summary>
    public YamuxSession(IDuplexConnection connection, bool isInitiator, YamuxOptions? options = null, Libp2pConnectionScope? scope = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _connection = connection;
        _options = options ?? YamuxOptions.Default;
        _options.Validate();
        _scope = scope;
        IsInitiator = isInitiator;
        _nextStreamId = isInitiator ? 1u : 2u;
        _unacked = new SemaphoreSlim(_options.MaxUnackedOutboundStreams, _options.MaxUnackedOutboundStreams);
        _accept = Channel.CreateBounded<YamuxStream>(new BoundedChannelOptions(_options.MaxInboundStreams) { SingleWriter = true });
    }

    /// <summary>Whether this side opened the connection (its streams are odd).</summary>
    public bool IsInitiator { get; }

    /// <summary>The connection under the session.</summary>
    public IDuplexConnection Connection => _connection;

    /// <summary>Completes when the session has ended (never faults).</summary>
    public Task Completion => _completion.Task;

    /// <summary>Why the session ended, once it has.</summary>
    public string? CloseReason { get; private set; }

    /// <summary>Whether the session ended because the peer broke the protocol (or this side found it did).</summary>
    public bool EndedByProtocolError { get; private set; }

    /// <summary>Streams open now (both directions).</summary>
    public int OpenStreams => _streams.Count;

    /// <summary>Bytes received on the open streams and not read yet (tests and diagnostics).</summary>
    internal long BufferedBytes => _streams.Values.Sum(s => s.BufferedBytes);

    /// <summary>Whether the peer said it opens and accepts no more streams.</summary>
    public bool RemoteWentAway => Volatile.Read(ref _remoteGoAway);

    /// <summary>Starts reading, writing and (if configured) keep-alive pings.</summary>
    public void Start()
    {
        if (_readLoop is not null)
        {
            throw new InvalidOperationException("The session has already started.");
        }

        _readLoop = Task.Run(ReadLoopAsync);
        _writeLoop = Task.Run(ControlWriteLoopAsync);
        if (_options.KeepAliveInterval is TimeSpan interval)
        {
            _keepAlive = Task.Run(() => KeepAliveAsync(interval));
        }
    }

    /// <summary>
    /// Opens a stream (a window update with SYN). Waits while <see cref="YamuxOptions.MaxUnackedOutboundStreams"/> of
    /// ours are unacknowledged; fails once the session ended or the peer went away, and with
    /// <see cref="Libp2pResourceLimitException"/> when the resource manager refuses it (<paramref name="protocol"/>,
    /// when known, is checked against its per-protocol limit too).
    /// </summary>
    public async ValueTask<YamuxStream> OpenStreamAsync(CancellationToken cancellationToken, string? protocol = null)
    {
        ThrowIfClosed();
        await _unacked.WaitAsync(cancellationToken).ConfigureAwait(false);
        YamuxStream stream;
        lock (_gate)
        {
            if (Volatile.Read(ref _closed) != 0 || _remoteGoAway)
            {
                _unacked.Release();
                ThrowIfClosed();
                throw new IOException("The peer went away: it accepts no new streams.");
            }

            if (_nextStreamId > uint.MaxValue - 2)
            {
                _unacked.Release();
                throw new IOException("The session has used up its stream IDs.");
            }

            Libp2pStreamScope? scope = null;
            if (_scope is not null && !_scope.TryOpenStream(inbound: false, _options.ReceiveWindow, protocol, out scope, out IOException? refused))
            {
                _unacked.Release();
                throw refused!;
            }

            uint id = _nextStreamId;
            _nextStreamId += 2;
            stream = new YamuxStream(this, id, outbound: true, _options.ReceiveWindow, _options.MaxReceiveWindow) { Scope = scope };
            _streams[id] = stream;
            _unackedIds.Add(id);

            // The SYN is queued under the lock that gave out the ID, so SYNs leave in ID order: the peer refuses a stream
            // ID lower than one it has seen. Queued after the lock, two streams opened at once could swap (seen once
            // under a load average of 45, bench/libp2p.sh's 64 streams: the listener ended the session).
            EnqueueControl(new YamuxHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, id, ExtraWindow));
        }

        return stream;
    }

    /// <summary>The next stream the peer opened, or null once the session has ended.</summary>
    public async ValueTask<YamuxStream?> AcceptStreamAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _accept.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Sends a ping and returns the round-trip time.</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        if (_pings.Count >= _options.MaxOutstandingPings)
        {
            throw new InvalidOperationException($"{_options.MaxOutstandingPings} pings are already waiting for an answer.");
        }

        uint value = Interlocked.Increment(ref _nextPing);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pings[value] = answer;
        long start = Stopwatch.GetTimestamp();
        try
        {
            EnqueueControl(new YamuxHeader(YamuxFrameType.Ping, YamuxFlags.Syn, 0, value));
            await answer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            long now = Stopwatch.GetTimestamp();
            RecordRoundTrip(Math.Max(1, now - start), now);
            return Stopwatch.GetElapsedTime(start, now);
        }
        finally
        {
            _pings.TryRemove(value, out _);
        }
    }

    /// <summary>Sends GoAway (normal), fails the streams still open and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        Close("the session was closed by this side", YamuxGoAwayCode.Normal, protocolError: false);
        await _completion.Task.ConfigureAwait(false);
        if (_readLoop is not null)
        {
            await Task.WhenAll(_readLoop, _writeLoop!, _keepAlive ?? Task.CompletedTask).ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    // ---- called by streams ----

    /// <summary>
    /// The session's smallest measured round trip in <see cref="Stopwatch"/> ticks, 0 while none is known; the first call
    /// (and one after the measurement grew old) sends a ping to measure it, so only sessions whose streams hand back
    /// window (the ones that could grow it) ping.
    /// </summary>
    internal long RoundTripTicks()
    {
        long roundTrip = Volatile.Read(ref _roundTrip);
        if ((roundTrip == 0 || Stopwatch.GetElapsedTime(Volatile.Read(ref _roundTripAt)) > RoundTripRefresh)
            && Volatile.Read(ref _closed) == 0 && Interlocked.Exchange(ref _measuringRoundTrip, 1) == 0)
        {
            _ = Task.Run(MeasureRoundTripAsync); // not inline: the calling stream holds its lock
        }

        return roundTrip;
    }

    /// <summary>
    /// Keeps the smallest round trip measured: a ping answered behind a full queue measures the queue, and a window grown
    /// on that would grow the queue, and the next measurement with it. The path's own delay is the minimum.
    /// </summary>
    private void RecordRoundTrip(long ticks, long now)
    {
        long known = Volatile.Read(ref _roundTrip);
        while ((known == 0 || ticks < known) && Interlocked.CompareExchange(ref _roundTrip, ticks, known) != known)
        {
            known = Volatile.Read(ref _roundTrip);
        }

        Volatile.Write(ref _roundTripAt, now);
    }

    private async Task MeasureRoundTripAsync()
    {
        try
        {
            // Ends with the session as well: a ping registered as the session closed is never answered.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(RoundTripRefresh);
            await PingAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            // The session ended, the peer did not answer, or the most pings are out: growth waits for the next try.
        }
        finally
        {
            Volatile.Write(ref _measuringRoundTrip, 0);
        }
    }

    private uint ExtraWindow => (uint)(_options.ReceiveWindow - YamuxOptions.SpecInitialWindow);

    internal void SendWindowUpdate(YamuxStream stream, uint delta) =>
        EnqueueControl(new YamuxHeader(YamuxFrameType.WindowUpdate, YamuxFlags.None, stream.Id, delta));

    internal void SendFlags(YamuxStream stream, YamuxFlags flags) =>
        EnqueueControl(new YamuxHeader(YamuxFrameType.WindowUpdate, flags, stream.Id, 0));

    internal void Forget(YamuxStream stream)
    {
        stream.Scope?.Dispose();
        if (_streams.TryRemove(new KeyValuePair<uint, YamuxStream>(stream.Id, stream)))
        {
            if (!stream.IsOutbound)
            {
                Interlocked.Decrement(ref _inbound);
            }

            Acknowledged(stream.Id);
        }
    }

    /// <summary>Writes <paramref name="data"/> (window already reserved) as data frames and flushes.</summary>
    internal async ValueTask SendDataAsync(YamuxStream stream, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            stream.ThrowIfWritesEnded();
            ThrowIfClosed();
            try
            {
                PipeWriter output = _connection.Output;
                DrainControl(output); // a stream's SYN (and anything queued before) goes ahead of its data
                while (data.Length > 0)
                {
                    int n = Math.Min(data.Length, _options.MaxFramePayload);
                    Span<byte> span = output.GetSpan(YamuxHeader.Size + n);
                    new YamuxHeader(YamuxFrameType.Data, YamuxFlags.None, stream.Id, (uint)n).Write(span);
                    data.Span[..n].CopyTo(span[YamuxHeader.Size..]);
                    output.Advance(YamuxHeader.Size + n);
                    data = data[n..];
                }

                // Not cancellable: the frames are in the pipe and go whole; the connection's end or abort ends the wait.
                FlushResult flushed = await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    throw new IOException("the connection closed");
                }
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
            {
                Close($"writing to the connection failed: {e.Message}", YamuxGoAwayCode.InternalError, protocolError: false, sendGoAway: false);
                throw new IOException($"The session ended: {CloseReason}", e);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // ---- the loops ----

    private async Task ReadLoopAsync()
    {
        PipeReader input = _connection.Input;
        uint maxData = (uint)_options.MaxReceiveWindow; // a stream's window may have grown to it
        YamuxStream? dataStream = null; // the stream of the data frame being read, if it is one we keep
        long dataRemaining = 0;
        bool dataEndsWithFin = false;
        bool dataEndsWithRst = false;
        byte[] raw = new byte[YamuxHeader.Size];
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync(_stop.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                while (true)
                {
                    if (dataRemaining > 0)
                    {
                        // Payload arrives in pieces: hand over what is here (the window was checked on the header).
                        long take = Math.Min(dataRemaining, buffer.Length);
                        if (take == 0)
                        {
                            break;
                        }

                        if (dataStream is not null && !dataStream.OnData(buffer.Slice(0, take)))
                        {
                            ProtocolError($"the peer sent data on stream {dataStream.Id} after its FIN");
                            return;
                        }

                        buffer = buffer.Slice(take);
                        dataRemaining -= take;
                        if (dataRemaining > 0)
                        {
                            break;
                        }

                        FinishDataFrame(dataStream, dataEndsWithFin, dataEndsWithRst);
                        dataStream = null;
                        continue;
                    }

                    if (buffer.Length < YamuxHeader.Size)
                    {
                        break;
                    }

                    buffer.Slice(0, YamuxHeader.Size).CopyTo(raw);
                    if (!YamuxHeader.TryParse(raw, IsInitiator, maxData, out YamuxHeader header, out string? error))
                    {
                        ProtocolError($"the peer sent {error}");
                        return;
                    }

                    buffer = buffer.Slice(YamuxHeader.Size);
                    if (!OnHeader(header, out YamuxStream? stream))
                    {
                        return; // OnHeader closed the session
                    }

                    if (header.Type == YamuxFrameType.Data)
                    {
                        if (stream is not null && header.Length > 0 && !stream.OnData(ReadOnlySequence<byte>.Empty))
                        {
                            ProtocolError($"the peer sent data on stream {stream.Id} after its FIN");
                            return;
                        }

                        if (stream is not null && header.Length > stream.ReceiveWindowRemaining)
                        {
                            ProtocolError($"the peer sent {header.Length} bytes on stream {stream.Id}, over the {stream.ReceiveWindowRemaining} bytes of window it had");
                            return;
                        }

                        dataStream = stream;
                        dataRemaining = header.Length;
                        dataEndsWithFin = (header.Flags & YamuxFlags.Fin) != 0;
                        dataEndsWithRst = (header.Flags & YamuxFlags.Rst) != 0;
                        if (dataRemaining == 0)
                        {
                            FinishDataFrame(dataStream, dataEndsWithFin, dataEndsWithRst);
                            dataStream = null;
                        }
                    }
                    else if (stream is not null)
                    {
                        FinishDataFrame(stream, (header.Flags & YamuxFlags.Fin) != 0, (header.Flags & YamuxFlags.Rst) != 0);
                    }
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    Close(dataRemaining > 0 || buffer.Length > 0 ? "the connection ended inside a frame" : "the peer closed the connection", YamuxGoAwayCode.Normal, protocolError: false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            Close($"the connection failed: {e.Message}", YamuxGoAwayCode.InternalError, protocolError: false);
        }
        catch (Exception e)
        {
            Close($"internal error: {e.Message}", YamuxGoAwayCode.InternalError, protocolError: false);
        }
    }

    private static void FinishDataFrame(YamuxStream? stream, bool fin, bool rst)
    {
        if (stream is null)
        {
            return;
        }

        if (rst)
        {
            stream.OnRemoteReset();
        }
        else if (fin)
        {
            stream.OnRemoteFin();
        }
    }

    /// <summary>Acts on a valid header; returns false when the session ended. <paramref name="stream"/> is the known stream it is for.</summary>
    private bool OnHeader(YamuxHeader header, out YamuxStream? stream)
    {
        stream = null;
        switch (header.Type)
        {
            case YamuxFrameType.Ping:
                if (header.Flags == YamuxFlags.Syn)
                {
                    return EnqueueControl(new YamuxHeader(YamuxFrameType.Ping, YamuxFlags.Ack, 0, header.Length));
                }

                if (_pings.TryGetValue(header.Length, out TaskCompletionSource? answer))
                {
                    answer.TrySetResult();
                }

                return true;
            case YamuxFrameType.GoAway:
                Volatile.Write(ref _remoteGoAway, true);
                if (header.Length != (uint)YamuxGoAwayCode.Normal)
                {
                    string what = header.Length switch
                    {
                        (uint)YamuxGoAwayCode.ProtocolError => "a protocol error",
                        (uint)YamuxGoAwayCode.InternalError => "an internal error",
                        _ => $"error code {header.Length}",
                    };
                    Close($"the peer went away with {what}", YamuxGoAwayCode.Normal, protocolError: false, sendGoAway: false);
                    return false;
                }

                return true;
        }

        if ((header.Flags & YamuxFlags.Syn) != 0)
        {
            return OnRemoteSyn(header, out stream);
        }

        if (!_streams.TryGetValue(header.StreamId, out stream))
        {
            // A stream already gone (reset or finished): late frames are dropped, their payload skipped.
            return true;
        }

        if ((header.Flags & YamuxFlags.Ack) != 0)
        {
            Acknowledged(header.StreamId);
        }

        if (header.Type == YamuxFrameType.WindowUpdate && !stream.OnWindowUpdate(header.Length, _options.MaxSendWindow))
        {
            ProtocolError($"the peer grew stream {stream.Id}'s window past {_options.MaxSendWindow} bytes");
            return false;
        }

        return true;
    }

    private bool OnRemoteSyn(YamuxHeader header, out YamuxStream? stream)
    {
        stream = null;
        uint id = header.StreamId;
        if (id <= _lastRemoteStreamId)
        {
            ProtocolError($"the peer opened stream {id} again (IDs only grow; the last was {_lastRemoteStreamId})");
            return false;
        }

        _lastRemoteStreamId = id;
        if (Volatile.Read(ref _closed) != 0 || _inbound >= _options.MaxInboundStreams)
        {
            // Refused: an RST, and its frames are skipped as a gone stream's.
            return EnqueueControl(new YamuxHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Rst, id, 0));
        }

        stream = new YamuxStream(this, id, outbound: false, _options.ReceiveWindow, _options.MaxReceiveWindow);
        if (header.Type == YamuxFrameType.WindowUpdate && !stream.OnWindowUpdate(header.Length, _options.MaxSendWindow))
        {
            ProtocolError($"the peer opened stream {id} with a window over {_options.MaxSendWindow} bytes");
            return false;
        }

        if (_scope is not null)
        {
            // Over a limit (or the connection ending): refused before anything is spent on it, as one over MaxInboundStreams.
            if (!_scope.TryOpenStream(inbound: true, _options.ReceiveWindow, protocol: null, out Libp2pStreamScope? scope, out _))
            {
                stream = null;
                return EnqueueControl(new YamuxHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Rst, id, 0));
            }

            stream.Scope = scope;
        }

        Interlocked.Increment(ref _inbound);
        _streams[id] = stream;
        if (!EnqueueControl(new YamuxHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Ack, id, ExtraWindow)))
        {
            return false;
        }

        // Fits: the channel holds as many as the inbound limit.
        bool queued = _accept.Writer.TryWrite(stream);
        Debug.Assert(queued || Volatile.Read(ref _closed) != 0, "the accept queue is sized to the inbound limit");
        return true;
    }

    private void Acknowledged(uint id)
    {
        lock (_gate)
        {
            if (!_unackedIds.Remove(id))
            {
                return;
            }
        }

        _unacked.Release();
    }

    /// <summary>Queues a header-only frame for the writer task; false (and the session closes) when too many wait.</summary>
    private bool EnqueueControl(YamuxHeader header)
    {
        if (Interlocked.Increment(ref _pendingControl) > _options.MaxPendingControlFrames && header.Type != YamuxFrameType.GoAway)
        {
            Interlocked.Decrement(ref _pendingControl);

            // Not inline: a stream may hold its lock while it queues a frame.
            _ = Task.Run(() => ProtocolError($"over {_options.MaxPendingControlFrames} control frames wait to be sent: the peer does not read"));
            return false;
        }

        if (!_control.Writer.TryWrite(header))
        {
            Interlocked.Decrement(ref _pendingControl);
        }

        return true;
    }

    /// <summary>Writes every queued control frame into <paramref name="output"/> (the write lock is held).</summary>
    private int DrainControl(PipeWriter output)
    {
        int count = 0;
        while (_control.Reader.TryRead(out YamuxHeader header))
        {
            Interlocked.Decrement(ref _pendingControl);
            header.Write(output.GetSpan(YamuxHeader.Size));
            output.Advance(YamuxHeader.Size);
            count++;
        }

        return count;
    }

    private async Task ControlWriteLoopAsync()
    {
        try
        {
            while (await _control.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                await _writeLock.WaitAsync().ConfigureAwait(false);
                try
                {
                    if (DrainControl(_connection.Output) > 0)
                    {
                        FlushResult flushed = await _connection.Output.FlushAsync().ConfigureAwait(false);
                        if (flushed.IsCompleted || flushed.IsCanceled)
                        {
                            break;
                        }
                    }
                }
                finally
                {
                    _writeLock.Release();
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            Close($"writing to the connection failed: {e.Message}", YamuxGoAwayCode.InternalError, protocolError: false, sendGoAway: false);
        }
    }

    private async Task KeepAliveAsync(TimeSpan interval)
    {
        try
        {
            while (true)
            {
                await Task.Delay(interval, _stop.Token).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(interval);
                try
                {
                    await PingAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
                {
                    Close($"the peer did not answer a keep-alive ping within {interval.TotalSeconds:0.#} s", YamuxGoAwayCode.Normal, protocolError: false);
                    return;
                }
                catch (InvalidOperationException)
                {
                    // The most pings are already outstanding: the session's owner is checking liveness itself.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
            // The session ended.
        }
    }

    private void ProtocolError(string reason) => Close(reason, YamuxGoAwayCode.ProtocolError, protocolError: true);

    private void ThrowIfClosed()
    {
        if (Volatile.Read(ref _closed) != 0)
        {
            throw new IOException($"The session ended: {CloseReason}");
        }
    }

    /// <summary>Ends the session once: records why, fails the streams, sends GoAway (unless told not to) and closes the connection.</summary>
    private void Close(string reason, YamuxGoAwayCode code, bool protocolError, bool sendGoAway = true)
    {
        lock (_gate)
        {
            if (_closed != 0)
            {
                return;
            }

            CloseReason = reason;
            EndedByProtocolError = protocolError;
            Volatile.Write(ref _closed, 1);
        }

        var error = new IOException($"The session ended: {reason}");
        foreach (YamuxStream stream in _streams.Values)
        {
            stream.OnSessionClosed(error);
        }

        _streams.Clear();
        _accept.Writer.TryComplete();
        foreach (TaskCompletionSource ping in _pings.Values)
        {
            ping.TrySetException(error);
        }

        if (sendGoAway)
        {
            EnqueueControl(new YamuxHeader(YamuxFrameType.GoAway, YamuxFlags.None, 0, (uint)code));
        }

        _control.Writer.TryComplete();
        _ = ShutdownAsync();
    }

    private async Task ShutdownAsync()
    {
        await Task.Yield();
        try
        {
            // The writer task writes what is queued (the GoAway last) and stops; a peer that does not read gets a bounded wait.
            if (_writeLoop is not null)
            {
                await _writeLoop.WaitAsync(_options.CloseTimeout).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
            _connection.Abort(new IOException("The peer did not take the session's last frames."));
        }

        try
        {
            _stop.Cancel();
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // Closing anyway.
        }
        finally
        {
            _scope?.Dispose(); // the connection's reservation, and those of streams the session's end failed
            _completion.TrySetResult();
        }
    }
}
