using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using PeerNet.Utp;

namespace PeerNet.Transport;

/// <summary>
/// One uTP connection (BEP 29) as a pair of pipes. The manager's receive loop hands it packets; a send loop drains
/// <see cref="Output"/> into data packets as far as the congestion window (LEDBAT) and the peer's receive window allow;
/// the manager's tick times retransmissions, keepalives and the end. All protocol state is guarded by one lock.
/// </summary>
internal sealed partial class UtpConnection : IDuplexConnection
{
    /// <summary>Packets in flight, and out-of-order packets held, at most (a power of two: slots are seq &amp; mask).</summary>
    private const int Ring = 4096;
    private const int Mask = Ring - 1;

    /// <summary>Duplicate acks (or packets selectively acked past a hole) that mean the hole was lost (TCP's and libtorrent's 3).</summary>
    private const int DuplicateAckLimit = 3;

    /// <summary>In-order packets received before an ack goes out at once instead of at the end of the burst.</summary>
    private const int AckEvery = 32;

    private readonly UtpSocketManager _manager;
    private readonly UtpSettings _settings;
    private readonly bool _outgoing;
    private readonly Lock _gate = new();
    private readonly Pipe _input = new(new PipeOptions(
        pool: null, readerScheduler: PipeScheduler.ThreadPool, writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0, resumeWriterThreshold: 0, minimumSegmentSize: TransportDefaults.SegmentSize, useSynchronizationContext: false));

    private readonly Pipe _output = new(TransportDefaults.OutputPipeOptions);
    private readonly UtpInputReader _reader;
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _windowOpened = new(0, 1);
    private readonly OutPacket?[] _out = new OutPacket?[Ring];
    private readonly byte[]?[] _in = new byte[Ring][];
    private readonly int[] _inLength = new int[Ring];
    private readonly uint[] _baseDelays = new uint[BaseDelayMinutes];
    private readonly uint[] _recentDelays = [uint.MaxValue, uint.MaxValue, uint.MaxValue];
    private Task _sendLoop = Task.CompletedTask;

    private State _state;
    private Exception? _failure;
    private ushort _seqNr;          // next sequence number we send
    private ushort _ackedSeq;       // every packet up to this one is acked
    private ushort _ackNr;          // the last sequence number received in order
    private ushort _lastAckSeen;
    private ushort _lossSeq;        // losses up to this one already halved cwnd
    private ushort _finSeq;
    private bool _finSent;
    private bool _eof;
    private ushort _eofSeq;
    private bool _inputDone;
    private int _bytesInFlight;
    private int _needResend;
    private int _dupAcks;
    private double _cwnd;
    private double _ssthresh;
    private bool _slowStart = true;
    private uint _peerWindow;
    private int _maxDatagram;
    private int _offer;
    private long _rtt = -1;         // microseconds
    private long _rttVar;
    private int _timeouts;
    private long _timeoutAt;        // microseconds; 0: no timer
    private long _connectStarted;
    private long _lastReceived;
    private long _lastSent;
    private uint _replyMicro;       // the delay of the peer's last packet, echoed in ours
    private bool _ackDue;
    private int _unackedIn;
    private int _reorderBytes;
    private int _reorderCount;
    private bool _waitingForWindow;
    private uint _lastWindowSent;
    private bool _unflushed;
    private int _baseDelayMinute = -1;
    private int _recentDelayIndex;
    private long _written;
    private long _consumed;
    private long _bytesReceived;
    private long _bytesSent;
    private int _disposed;

    private const int BaseDelayMinutes = 13;

    private UtpConnection(UtpSocketManager manager, IPEndPoint remote, ushort receiveId, ushort sendId, bool outgoing)
    {
        _manager = manager;
        _settings = manager.Settings;
        _outgoing = outgoing;
        RemoteEndPoint = remote;
        LocalEndPoint = manager.LocalEndPoint;
        ReceiveId = receiveId;
        SendId = sendId;
        _reader = new UtpInputReader(_input.Reader, OnConsumed, OnReaderCompleted);
        _maxDatagram = manager.SmallDatagram(remote);
        _cwnd = PayloadSize;
        _lastReceived = _lastSent = manager.NowMicroseconds;
        Array.Fill(_baseDelays, uint.MaxValue);
    }

    private enum State
    {
        SynSent,
        Connected,
        Closed,
    }

    /// <summary>An initiator's connection: receive id random, send id one above, first sequence number random.</summary>
    internal static UtpConnection ForInitiator(UtpSocketManager manager, IPEndPoint remote, ushort receiveId)
    {
        var connection = new UtpConnection(manager, remote, receiveId, (ushort)(receiveId + 1), outgoing: true);
        connection._seqNr = (ushort)Random.Shared.Next(0, 65536);
        connection._ackedSeq = connection._seqNr; // the SYN (seq_nr) is acked when connected
        connection._offer = manager.OfferFor(remote);
        return connection;
    }

    /// <summary>An acceptor's connection, made once the initiator acked our answer to its SYN.</summary>
    internal static UtpConnection ForAcceptor(UtpSocketManager manager, IPEndPoint remote, ushort receiveId, ushort ourSequence, ushort theirSynSequence, int theirOffer)
    {
        var connection = new UtpConnection(manager, remote, receiveId, (ushort)(receiveId - 1), outgoing: false)
        {
            _seqNr = ourSequence,
            _ackedSeq = (ushort)(ourSequence - 1),
            _ackNr = theirSynSequence,
            _state = State.Connected,
        };
        connection._lossSeq = connection._ackedSeq;
        connection._lastAckSeen = connection._ackedSeq;
        connection.AgreeDatagram(theirOffer);
        connection.StartLoops();
        connection._connected.TrySetResult();
        return connection;
    }

    public PipeReader Input => _reader;

    public PipeWriter Output => _output.Writer;

    public IPEndPoint RemoteEndPoint { get; }

    public IPEndPoint LocalEndPoint { get; }

    public long BytesReceived => Volatile.Read(ref _bytesReceived);

    public long BytesSent => Volatile.Read(ref _bytesSent);

    /// <summary>The id packets to us carry.</summary>
    internal ushort ReceiveId { get; }

    /// <summary>The id our packets carry.</summary>
    internal ushort SendId { get; }

    /// <summary>The largest datagram this connection sends (for tests and diagnostics).</summary>
    internal int MaxDatagram => _maxDatagram;

    /// <summary>The congestion window in bytes (for tests and diagnostics).</summary>
    internal int CongestionWindow => (int)_cwnd;

    private int PayloadSize => _maxDatagram - UtpHeader.Length;

    /// <summary>Sends the SYN and waits for its answer, resending as the timeout says, until the connect timeout.</summary>
    internal async Task ConnectAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _connectStarted = _manager.NowMicroseconds;
            SendSyn(_connectStarted);
        }

        await using (cancellationToken.Register(static s => ((UtpConnection)s!).Fail(new OperationCanceledException()), this).ConfigureAwait(false))
        {
            await _connected.Task.ConfigureAwait(false);
        }
    }

    private void AgreeDatagram(int theirOffer)
    {
        int ours = _manager.OfferFor(RemoteEndPoint);
        _maxDatagram = theirOffer >= UtpPacket.MinOfferedDatagram ? Math.Max(_manager.SmallDatagram(RemoteEndPoint), Math.Min(ours, theirOffer)) : _manager.SmallDatagram(RemoteEndPoint);
        _cwnd = Math.Max(_cwnd, 2 * PayloadSize);
    }

    private void StartLoops() => _sendLoop = Task.Run(SendLoopAsync);

    private void SendSyn(long now)
    {
        var header = new UtpHeader(UtpPacketType.Syn, ReceiveId, (uint)now, 0, Window(), _seqNr, 0);
        Span<byte> scratch = stackalloc byte[UtpPacket.GetLength(0, true, 0)];
        int length = UtpPacket.Write(scratch, header, default, _offer, default);
        _manager.SendCopy(scratch[..length], RemoteEndPoint);
        long timeout = (long)TimeSpan.FromSeconds(1).TotalMicroseconds << Math.Min(_timeouts, 4);
        _timeoutAt = now + timeout;
        _lastSent = now;
    }

    /// <summary>The receive window: what is left of the receive buffer after unread and out-of-order bytes.</summary>
    private uint Window()
    {
        long used = Volatile.Read(ref _written) - Volatile.Read(ref _consumed) + _reorderBytes;
        return (uint)Math.Max(0, _settings.ReceiveBufferBytes - used);
    }

    /// <summary>A packet for this connection (the manager's receive loop).</summary>
    internal void OnPacket(in UtpPacket packet, long now)
    {
        lock (_gate)
        {
            if (_state == State.Closed)
            {
                return;
            }

            UtpHeader header = packet.Header;
            _lastReceived = now;
            _replyMicro = (uint)now - header.TimestampMicroseconds;
            if (header.Type == UtpPacketType.Reset)
            {
                FailLocked(_state == State.SynSent
                    ? new SocketException((int)SocketError.ConnectionRefused)
                    : new ConnectionResetException("The peer reset the uTP connection."), sendReset: false, UtpEnd.Reset);
                return;
            }

            if (header.Type == UtpPacketType.Syn)
            {
                SendAck(now); // its SYN again: the first answer was lost (the connection exists only once it was not)
                return;
            }

            if (_state == State.SynSent)
            {
                if (header.Type != UtpPacketType.State || header.AckNumber != _seqNr)
                {
                    return;
                }

                // Connected: the acceptor's data starts at the state packet's sequence number.
                _ackNr = (ushort)(header.SequenceNumber - 1);
                _seqNr++;
                _ackedSeq = (ushort)(_seqNr - 1);
                _lossSeq = _ackedSeq;
                _lastAckSeen = _ackedSeq;
                _peerWindow = header.WindowSize;
                _timeouts = 0;
                _timeoutAt = 0;
                UpdateRtt(now - _connectStarted);
                AgreeDatagram(packet.MaxDatagram);
                _state = State.Connected;
                Interlocked.Increment(ref _manager.Counters.OpenedOut);
                StartLoops();
                _connected.TrySetResult();
                return;
            }

            ProcessAck(packet, now);
            switch (header.Type)
            {
                case UtpPacketType.Data when !packet.Payload.IsEmpty:
                    Receive(header.SequenceNumber, packet.Payload);
                    break;
                case UtpPacketType.Fin:
                    if (!_eof)
                    {
                        _eof = true;
                        _eofSeq = header.SequenceNumber;
                    }

                    _ackDue = true;
                    TryEndInput();
                    break;
            }

            if (_unackedIn >= AckEvery || (_reorderCount > 0 && _ackDue))
            {
                SendAck(now);
            }

            TryFinish();
        }
    }

    /// <summary>End of a burst of datagrams: readers see the new bytes, and the deferred ack goes out.</summary>
    internal void OnDrained()
    {
        lock (_gate)
        {
            if (_state == State.Closed)
            {
                return;
            }

            FlushInput();
            if (_ackDue)
            {
                SendAck(_manager.NowMicroseconds);
            }
        }
    }

    private void FlushInput()
    {
        if (!_unflushed)
        {
            return;
        }

        _unflushed = false;
        if (!_inputDone)
        {
            ValueTask<FlushResult> flush = _input.Writer.FlushAsync();
            if (flush.IsCompletedSuccessfully && flush.Result.IsCompleted)
            {
                _inputDone = true; // the reader completed: the rest is dropped unread
            }
        }
    }

    private void Receive(ushort seq, ReadOnlySpan<byte> payload)
    {
        _ackDue = true;
        ushort next = (ushort)(_ackNr + 1);
        if (_eof && !UtpSequence.IsBefore(seq, _eofSeq))
        {
            return; // past the end the peer announced
        }

        if (seq == next)
        {
            if (!Deliver(payload))
            {
                return; // no room: the peer overran our window; it will resend
            }

            _ackNr = seq;
            _unackedIn++;
            while (_reorderCount > 0 && _in[(ushort)(_ackNr + 1) & Mask] is { } held)
            {
                int slot = (ushort)(_ackNr + 1) & Mask;
                int length = _inLength[slot];
                _in[slot] = null;
                _reorderCount--;
                _reorderBytes -= length;
                Deliver(held.AsSpan(0, length));
                ArrayPool<byte>.Shared.Return(held);
                _ackNr++;
            }

            TryEndInput();
            return;
        }

        if (UtpSequence.IsBefore(seq, next))
        {
            _unackedIn = AckEvery; // a duplicate: ack at once, its ack was lost
            return;
        }

        int ahead = UtpSequence.Distance(next, seq);
        int index = seq & Mask;
        if (ahead >= Ring - 1 || _in[index] is not null || _reorderBytes + payload.Length > _settings.ReceiveBufferBytes)
        {
            return;
        }

        byte[] copy = ArrayPool<byte>.Shared.Rent(payload.Length);
        payload.CopyTo(copy);
        _in[index] = copy;
        _inLength[index] = payload.Length;
        _reorderCount++;
        _reorderBytes += payload.Length;
    }

    private bool Deliver(ReadOnlySpan<byte> payload)
    {
        long unread = _written - Volatile.Read(ref _consumed);
        if (!_inputDone && unread + payload.Length > _settings.ReceiveBufferBytes + (2L * _maxDatagram))
        {
            return false;
        }

        Volatile.Write(ref _bytesReceived, _bytesReceived + payload.Length);
        if (_inputDone)
        {
            return true;
        }

        _input.Writer.Write(payload);
        Volatile.Write(ref _written, _written + payload.Length);
        _unflushed = true;
        return true;
    }

    /// <summary>Everything up to the peer's FIN arrived: its stream ends here (the FIN's number is acked).</summary>
    private void TryEndInput()
    {
        if (!_eof || _ackNr != (ushort)(_eofSeq - 1))
        {
            return;
        }

        _ackNr = _eofSeq;
        _ackDue = true;
        FlushInput();
        if (!_inputDone)
        {
            _inputDone = true;
            _input.Writer.Complete();
        }
    }

    private void OnConsumed(long bytes)
    {
        Interlocked.Add(ref _consumed, bytes);

        // A reader that catches up after the window was (nearly) closed tells the sender at once.
        if (Volatile.Read(ref _lastWindowSent) < (uint)(2 * _maxDatagram) && Window() >= (uint)(_settings.ReceiveBufferBytes / 2))
        {
            lock (_gate)
            {
                if (_state == State.Connected && _lastWindowSent < (uint)(2 * _maxDatagram))
                {
                    SendAck(_manager.NowMicroseconds);
                }
            }
        }
    }

    private void OnReaderCompleted()
    {
        lock (_gate)
        {
            _inputDone = true;
            Volatile.Write(ref _consumed, Volatile.Read(ref _written)); // what was not read no longer takes room
        }
    }

    /// <summary>An ack (a state packet), with a selective ACK of what is held out of order.</summary>
    private void SendAck(long now)
    {
        Span<byte> sack = stackalloc byte[UtpPacket.MaxSelectiveAckBytes];
        int sackLength = 0;
        if (_reorderCount > 0)
        {
            sack.Clear();
            int highest = 0;
            for (int i = 0; i < UtpPacket.MaxSelectiveAckBytes * 8; i++)
            {
                if (_in[(ushort)(_ackNr + 2 + i) & Mask] is not null)
                {
                    sack[i >> 3] |= (byte)(1 << (i & 7));
                    highest = i;
                }
            }

            sackLength = ((highest >> 3) + 4) & ~3;
        }

        uint window = Window();
        var header = new UtpHeader(UtpPacketType.State, SendId, (uint)now, _replyMicro, window, _seqNr, _ackNr);
        Span<byte> scratch = stackalloc byte[UtpHeader.Length + 2 + UtpPacket.MaxSelectiveAckBytes];
        int length = UtpPacket.Write(scratch, header, sack[..sackLength], 0, default);
        _manager.SendCopy(scratch[..length], RemoteEndPoint);
        Volatile.Write(ref _lastWindowSent, window);
        _ackDue = false;
        _unackedIn = 0;
        _lastSent = now;
    }

    public override string ToString() => $"utp {LocalEndPoint} -> {RemoteEndPoint}";

    /// <summary>A sent data or FIN packet kept until acked: the whole datagram, so a resend only rewrites its header.</summary>
    private sealed class OutPacket
    {
        public byte[] Buffer = [];
        public int Length;
        public int Payload;
        public long SentAt;
        public int Transmissions;
        public bool NeedResend;
        public bool SendPending;
    }
}
