using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using PeerNet.Utp;

namespace PeerNet.Transport;

internal sealed partial class UtpConnection
{
    /// <summary>Drains <see cref="Output"/> into data packets as the windows allow; a FIN when the application completes it.</summary>
    private async Task SendLoopAsync()
    {
        PipeReader reader = _output.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                SequencePosition consumed;
                bool blocked;
                lock (_gate)
                {
                    if (_state == State.Closed)
                    {
                        break;
                    }

                    (consumed, blocked) = Packetize(buffer);
                    if (!blocked && result.IsCompleted && buffer.Slice(consumed).IsEmpty)
                    {
                        SendFin();
                    }
                }

                if (blocked)
                {
                    reader.AdvanceTo(consumed);
                    await _windowOpened.WaitAsync().ConfigureAwait(false);
                    continue;
                }

                reader.AdvanceTo(consumed, buffer.End);
                if (result.IsCompleted && _finSent)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            error = e;
        }

        await reader.CompleteAsync(Volatile.Read(ref _failure) ?? error).ConfigureAwait(false);
    }

    /// <summary>Sends as much of <paramref name="buffer"/> as the windows allow; whether it stopped for the window.</summary>
    private (SequencePosition Consumed, bool Blocked) Packetize(ReadOnlySequence<byte> buffer)
    {
        long now = _manager.NowMicroseconds;
        while (!buffer.IsEmpty)
        {
            int size = (int)Math.Min(buffer.Length, PayloadSize);
            if (!CanSend(size))
            {
                _waitingForWindow = true;
                return (buffer.Start, true);
            }

            var packet = new OutPacket { Buffer = ArrayPool<byte>.Shared.Rent(UtpHeader.Length + size), Length = UtpHeader.Length + size, Payload = size };
            buffer.Slice(0, size).CopyTo(packet.Buffer.AsSpan(UtpHeader.Length));
            buffer = buffer.Slice(size);
            ushort seq = _seqNr++;
            _out[seq & Mask] = packet;
            _bytesInFlight += size;
            Transmit(packet, seq, UtpPacketType.Data, now);
        }

        return (buffer.Start, false);
    }

    /// <summary>Whether a packet of <paramref name="size"/> payload bytes fits the windows now.</summary>
    private bool CanSend(int size)
    {
        if (UtpSequence.Distance(_ackedSeq, _seqNr) >= Ring - 1 || _needResend > 0)
        {
            return false;
        }

        if (_bytesInFlight == 0)
        {
            return _peerWindow > 0 || _finSent; // one packet always goes, unless the peer's window is shut
        }

        return _bytesInFlight + size <= Math.Min(_cwnd, _peerWindow);
    }

    private void SendFin()
    {
        if (_finSent)
        {
            return;
        }

        var packet = new OutPacket { Buffer = ArrayPool<byte>.Shared.Rent(UtpHeader.Length), Length = UtpHeader.Length, Payload = 0 };
        _finSeq = _seqNr++;
        _finSent = true;
        _out[_finSeq & Mask] = packet;
        Transmit(packet, _finSeq, UtpPacketType.Fin, _manager.NowMicroseconds);
    }

    /// <summary>(Re)writes the header of a kept packet with the current ack, window and timestamps, and sends it.</summary>
    private void Transmit(OutPacket packet, ushort seq, UtpPacketType type, long now)
    {
        uint window = Window();
        new UtpHeader(type, SendId, (uint)now, _replyMicro, window, seq, _ackNr).WriteTo(packet.Buffer, 0);
        packet.SentAt = now;
        packet.Transmissions++;
        packet.SendPending |= !_manager.Send(packet.Buffer, packet.Length, RemoteEndPoint);
        Volatile.Write(ref _bytesSent, _bytesSent + packet.Payload);
        _lastWindowSent = window;
        _lastSent = now;
        _ackDue = false; // data carries the ack
        _unackedIn = 0;
        if (_timeoutAt == 0)
        {
            _timeoutAt = now + Rto();
        }
    }

    private void Resend(ushort seq, long now)
    {
        if (_out[seq & Mask] is not { } packet)
        {
            return;
        }

        if (packet.NeedResend)
        {
            packet.NeedResend = false;
            _needResend--;
            _bytesInFlight += packet.Payload;
        }

        Interlocked.Increment(ref _manager.Counters.Retransmissions);
        Transmit(packet, seq, seq == _finSeq && _finSent ? UtpPacketType.Fin : UtpPacketType.Data, now);
    }

    /// <summary>The ack fields of a packet: cumulative ack, selective ack, duplicate acks, RTT and LEDBAT.</summary>
    private void ProcessAck(in UtpPacket packet, long now)
    {
        UtpHeader header = packet.Header;
        _peerWindow = header.WindowSize;
        ushort ack = header.AckNumber;
        if (UtpSequence.IsBefore(ack, _ackedSeq) || !UtpSequence.IsBefore(ack, _seqNr))
        {
            return; // acks nothing we have in flight (old, or forged)
        }

        int inFlightBefore = _bytesInFlight;
        int acked = 0;
        long minRtt = long.MaxValue;
        while (UtpSequence.IsBefore(_ackedSeq, ack))
        {
            _ackedSeq++;
            Acknowledge(_ackedSeq, now, ref acked, ref minRtt);
        }

        ReadOnlySpan<byte> sack = packet.SelectiveAck;
        int sackedPastHole = 0;
        for (int i = 0; i < sack.Length * 8; i++)
        {
            if ((sack[i >> 3] & (1 << (i & 7))) != 0)
            {
                ushort seq = (ushort)(ack + 2 + i);
                if (!UtpSequence.IsBefore(seq, _seqNr))
                {
                    break;
                }

                Acknowledge(seq, now, ref acked, ref minRtt);
                sackedPastHole++;
            }
        }

        if (acked > 0)
        {
            _dupAcks = 0;
            _timeouts = 0;
            _timeoutAt = Outstanding ? now + Rto() : 0;
            if (minRtt != long.MaxValue)
            {
                UpdateRtt(minRtt);
            }

            if (header.TimestampDifferenceMicroseconds != 0 && inFlightBefore > 0)
            {
                Ledbat(acked, header.TimestampDifferenceMicroseconds, inFlightBefore, now);
            }
        }
        else if (ack == _lastAckSeen && header.Type == UtpPacketType.State && _bytesInFlight > 0 && ++_dupAcks == DuplicateAckLimit)
        {
            Lost((ushort)(ack + 1), now);
        }

        if (sackedPastHole >= DuplicateAckLimit && _out[(ushort)(ack + 1) & Mask] is { Transmissions: 1 })
        {
            Lost((ushort)(ack + 1), now); // three packets arrived past the hole: it was lost
        }

        _lastAckSeen = ack;
        ResendPending(now);
        if (_waitingForWindow && (_bytesInFlight == 0 || _bytesInFlight + PayloadSize <= Math.Min(_cwnd, _peerWindow)) && _needResend == 0)
        {
            _waitingForWindow = false;
            Signal();
        }
    }

    /// <summary>Wakes the send loop (once; a wake-up already pending is enough).</summary>
    private void Signal()
    {
        try
        {
            _windowOpened.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    private void Acknowledge(ushort seq, long now, ref int acked, ref long minRtt)
    {
        int slot = seq & Mask;
        if (_out[slot] is not { } packet)
        {
            return;
        }

        _out[slot] = null;
        if (packet.NeedResend)
        {
            packet.NeedResend = false;
            _needResend--;
        }
        else
        {
            _bytesInFlight -= packet.Payload;
        }

        acked += Math.Max(packet.Payload, 1);
        if (packet.Transmissions == 1)
        {
            minRtt = Math.Min(minRtt, now - packet.SentAt);
        }

        if (!packet.SendPending)
        {
            ArrayPool<byte>.Shared.Return(packet.Buffer);
        }
    }

    /// <summary>A packet was lost: resend it, and halve cwnd once per window (LEDBAT reacts to loss as TCP does).</summary>
    private void Lost(ushort seq, long now)
    {
        Resend(seq, now);
        if (UtpSequence.IsBefore(_lossSeq, seq))
        {
            _cwnd = Math.Max(_cwnd / 2, PayloadSize);
            _ssthresh = _cwnd;
            _slowStart = false;
            _lossSeq = (ushort)(_seqNr - 1);
        }
    }

    private void ResendPending(long now)
    {
        if (_needResend == 0)
        {
            return;
        }

        for (ushort seq = (ushort)(_ackedSeq + 1); UtpSequence.IsBefore(seq, _seqNr) && _needResend > 0; seq++)
        {
            if (_out[seq & Mask] is { NeedResend: true } packet)
            {
                if (_bytesInFlight > 0 && _bytesInFlight + packet.Payload > Math.Min(_cwnd, Math.Max(_peerWindow, (uint)PayloadSize)))
                {
                    return;
                }

                Resend(seq, now);
            }
        }
    }

    /// <summary>Whether any packet we sent is not acked yet.</summary>
    private bool Outstanding => (ushort)(_ackedSeq + 1) != _seqNr;

    private void UpdateRtt(long sample)
    {
        sample = Math.Max(sample, 1);
        if (_rtt < 0)
        {
            _rtt = sample;
            _rttVar = sample / 2;
        }
        else
        {
            long delta = sample - _rtt;
            _rttVar += (Math.Abs(delta) - _rttVar) / 4;
            _rtt += delta / 8;
        }
    }

    /// <summary>BEP 29's timeout: rtt + 4 rtt_var, at least the minimum (500 ms), doubled per timeout in a row, at most 60 s.</summary>
    private long Rto()
    {
        long min = (long)_settings.MinTimeout.TotalMicroseconds;
        long rto = _rtt < 0 ? 1_000_000 : Math.Max(min, _rtt + (4 * _rttVar));
        return Math.Min(rto << Math.Min(_timeouts, 7), 60_000_000);
    }

    /// <summary>
    /// LEDBAT (BEP 29, as libtorrent): the queuing delay is the peer's measurement of our packets' delay less the least
    /// such measurement of the last minutes (the base: clock offset and propagation). Below the target the window grows
    /// by up to the gain per round trip in proportion to how far below; above it, shrinks by its own size times how far
    /// above (at most half per round trip: LEDBAT++'s decrease); slow start doubles it per round trip until the delay
    /// reaches the target or a loss.
    /// </summary>
    private void Ledbat(int acked, uint sample, int inFlight, long now)
    {
        int minute = (int)(now / 60_000_000);
        if (minute != _baseDelayMinute)
        {
            _baseDelayMinute = minute;
            _baseDelays[minute % BaseDelayMinutes] = sample;
        }
        else if (WrapLess(sample, _baseDelays[minute % BaseDelayMinutes]))
        {
            _baseDelays[minute % BaseDelayMinutes] = sample;
        }

        uint baseDelay = sample;
        foreach (uint d in _baseDelays)
        {
            if (d != uint.MaxValue && WrapLess(d, baseDelay))
            {
                baseDelay = d;
            }
        }

        _recentDelays[_recentDelayIndex++ % _recentDelays.Length] = sample - baseDelay;
        long delay = Math.Min(_recentDelays.Min(), _rtt < 0 ? long.MaxValue : _rtt);
        long target = Math.Max(1, (long)_settings.TargetDelay.TotalMicroseconds);
        if (delay >= target && _slowStart)
        {
            _ssthresh = _cwnd / 2;
            _slowStart = false;
        }

        bool saturated = _bytesInFlight + acked + PayloadSize > _cwnd;
        double linear = (double)acked / inFlight * (target - delay) / target * _settings.GainBytesPerRtt;
        double gain = 0;
        if (delay > target)
        {
            // Over the target the window shrinks in proportion to itself (LEDBAT++'s multiplicative decrease, at most half
            // per round trip), not by a few kilobytes per round trip as BEP 29's linear rule does: that took seconds to
            // give way to a TCP flow starting beside it, and a CUBIC flow whose slow start ends early on the standing
            // queue needed most of that time to grow (bench/utp_ledbat.sh, docs/performance.md).
            double perRtt = Math.Min(_cwnd * (delay - target) / target, _cwnd / 2);
            gain = -(double)acked / inFlight * perRtt;
            _slowStart = false;
        }
        else if (saturated)
        {
            if (_slowStart && !(_ssthresh > 0 && _cwnd + acked > _ssthresh))
            {
                gain = Math.Max(acked, linear);
            }
            else
            {
                _slowStart = false;
                gain = linear;
            }
        }

        _cwnd = Math.Clamp(_cwnd + gain, PayloadSize, 64.0 * 1024 * 1024);
    }

    private static bool WrapLess(uint a, uint b) => (int)(a - b) < 0;

    /// <summary>The manager's tick: retransmission timeout, keepalive, idle timeout, window updates.</summary>
    internal void OnTick(long now)
    {
        lock (_gate)
        {
            if (_state == State.Closed)
            {
                return;
            }

            if (_state == State.SynSent)
            {
                if (now - _connectStarted >= (long)_settings.ConnectTimeout.TotalMicroseconds)
                {
                    FailLocked(new SocketException((int)SocketError.TimedOut), sendReset: false, UtpEnd.Timeout);
                }
                else if (now >= _timeoutAt)
                {
                    _timeouts++;
                    Interlocked.Increment(ref _manager.Counters.Timeouts);
                    SendSyn(now);
                }

                return;
            }

            if (now - _lastReceived > (long)_settings.IdleTimeout.TotalMicroseconds)
            {
                FailLocked(new ConnectionResetException("The uTP peer went silent.", new SocketException((int)SocketError.TimedOut)), sendReset: true, UtpEnd.Timeout);
                return;
            }

            if (_timeoutAt != 0 && now >= _timeoutAt && Outstanding)
            {
                Interlocked.Increment(ref _manager.Counters.Timeouts);
                if (++_timeouts > _settings.MaxTimeouts)
                {
                    FailLocked(new ConnectionResetException("The uTP peer stopped acknowledging.", new SocketException((int)SocketError.TimedOut)), sendReset: true, UtpEnd.Timeout);
                    return;
                }

                // Everything in flight is taken as lost; the window restarts at one packet, slow start to half the old one.
                _ssthresh = Math.Max(_cwnd / 2, 2 * PayloadSize);
                _cwnd = PayloadSize;
                _slowStart = true;
                for (ushort seq = (ushort)(_ackedSeq + 1); UtpSequence.IsBefore(seq, _seqNr); seq++)
                {
                    if (_out[seq & Mask] is { NeedResend: false } packet)
                    {
                        packet.NeedResend = true;
                        _needResend++;
                        _bytesInFlight -= packet.Payload;
                    }
                }

                _lossSeq = (ushort)(_seqNr - 1);
                _timeoutAt = now + Rto();
                ResendPending(now);
            }

            if (_ackDue || _unflushed)
            {
                FlushInput();
                SendAck(now);
            }
            else if (now - _lastSent > (long)_settings.KeepAliveInterval.TotalMicroseconds)
            {
                SendAck(now);
            }
            else if (_lastWindowSent < (uint)(2 * _maxDatagram) && Window() >= (uint)(2 * _maxDatagram))
            {
                SendAck(now); // the window reopened and the update may have been lost
            }
        }
    }

    /// <summary>Both directions done (our FIN acked and the peer's stream ended): the connection leaves the manager.</summary>
    private void TryFinish()
    {
        if (_finSent && !UtpSequence.IsBefore(_ackedSeq, _finSeq) && (_inputDone || _eof && _ackNr == _eofSeq))
        {
            if (_ackDue)
            {
                // The peer's FIN (or last data) is acked now: a deferred ack waits for the end of the burst, which a
                // closed connection never sees, and the peer would wait out its close timeout and reset.
                SendAck(_manager.NowMicroseconds);
            }

            _state = State.Closed;
            _manager.Counters.CountClosed(_outgoing, UtpEnd.Closed);
            _finished.TrySetResult();
            ReleaseBuffers();
            _manager.Remove(this);
        }
        else if (_finSent && !UtpSequence.IsBefore(_ackedSeq, _finSeq))
        {
            _finished.TrySetResult(); // our side is delivered; the peer's may still come
        }
    }

    public void Abort(Exception? reason = null)
    {
        lock (_gate)
        {
            Interlocked.CompareExchange(ref _failure, TransportDefaults.Aborted(reason), null);
            FailLocked(_failure!, sendReset: _state != State.SynSent, UtpEnd.Aborted);
        }
    }

    /// <summary>An ICMP error for our packets: fails the connect while the SYN is unanswered (true then); ignored after.</summary>
    internal bool OnUnreachable(SocketError error)
    {
        lock (_gate)
        {
            if (_state != State.SynSent)
            {
                return false;
            }

            FailLocked(new SocketException((int)error), sendReset: false, UtpEnd.Unreachable);
            return true;
        }
    }

    private void Fail(Exception reason)
    {
        lock (_gate)
        {
            FailLocked(reason, sendReset: _state == State.Connected, UtpEnd.Aborted);
        }
    }

    private void FailLocked(Exception reason, bool sendReset, UtpEnd end)
    {
        if (_state == State.Closed)
        {
            return;
        }

        bool connecting = _state == State.SynSent;
        _state = State.Closed;
        if (connecting)
        {
            _manager.Counters.CountConnectFailed(end);
        }
        else
        {
            _manager.Counters.CountClosed(_outgoing, end);
        }

        Exception failure = Interlocked.CompareExchange(ref _failure, reason is SocketException && !connecting ? TransportDefaults.ToTransportException((SocketException)reason) : reason, null) ?? reason;
        if (sendReset)
        {
            var header = new UtpHeader(UtpPacketType.Reset, SendId, (uint)_manager.NowMicroseconds, _replyMicro, 0, _seqNr, _ackNr);
            Span<byte> scratch = stackalloc byte[UtpHeader.Length];
            header.WriteTo(scratch, 0);
            _manager.SendCopy(scratch, RemoteEndPoint);
        }

        _connected.TrySetException(failure);
        _finished.TrySetResult();
        if (!_inputDone)
        {
            _inputDone = true;
            _input.Writer.Complete(failure is OperationCanceledException ? TransportDefaults.Aborted(failure) : failure);
        }

        _output.Reader.CancelPendingRead();
        Signal();
        ReleaseBuffers();
        _manager.Remove(this);
    }

    private void ReleaseBuffers()
    {
        for (int i = 0; i < Ring; i++)
        {
            if (_out[i] is { } packet)
            {
                _out[i] = null;
                if (!packet.SendPending)
                {
                    ArrayPool<byte>.Shared.Return(packet.Buffer);
                }
            }

            if (_in[i] is { } held)
            {
                _in[i] = null;
                ArrayPool<byte>.Shared.Return(held);
            }
        }

        _reorderCount = 0;
        _reorderBytes = 0;
        _bytesInFlight = 0;
        _needResend = 0;
    }

    /// <summary>
    /// Completes both pipes, lets what was flushed go out and be acked with our FIN (for at most the close timeout,
    /// after which it resets), then leaves the manager.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _reader.CompleteAsync().ConfigureAwait(false);
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        if (_state != State.SynSent)
        {
            try
            {
                await _finished.Task.WaitAsync(_settings.CloseTimeout, _manager.Time).ConfigureAwait(false);
            }
            catch (TimeoutException e)
            {
                Abort(e);
            }
        }

        lock (_gate)
        {
            if (_state != State.Closed)
            {
                if (_state == State.SynSent)
                {
                    _manager.Counters.CountConnectFailed(UtpEnd.Aborted);
                }
                else
                {
                    _manager.Counters.CountClosed(_outgoing, UtpEnd.Closed); // our side was delivered (or the close timed out, aborting it above)
                }

                _state = State.Closed;
                ReleaseBuffers();
            }
        }

        _output.Reader.CancelPendingRead();
        Signal();
        await _sendLoop.ConfigureAwait(false);
        _manager.Remove(this);
    }
}
