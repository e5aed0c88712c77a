using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using PeerNet.Tracker;
using PeerNet.Utp;

namespace PeerNet.Transport;

/// <summary>Why the demultiplexer dropped a datagram (the metric's <c>reason</c> tag).</summary>
internal enum DatagramDropReason
{
    /// <summary>Its first bytes name no protocol on this port (or a tracker reply with a transaction id we are not waiting for).</summary>
    Unknown,

    /// <summary>Its protocol's queue was full: the reader is behind, so the newest is dropped.</summary>
    QueueFull,

    /// <summary>A protocol of this port that nothing here runs now: the DHT or uTP when it is off.</summary>
    NoOwner,
}

/// <summary>Bounds of a <see cref="DatagramDemux"/>.</summary>
internal sealed record DatagramDemuxOptions
{
    /// <summary>Datagrams waiting for the DHT at most (default 256); more are dropped until it catches up.</summary>
    public int DhtQueueLength { get; init; } = 256;

    /// <summary>Bytes of a DHT datagram kept (default 1,501: one more than KRPC's 1,500, so the DHT sees an oversized one as such).</summary>
    public int MaxDhtDatagramBytes { get; init; } = PeerNet.Dht.DhtLimits.DefaultMaxPacketLength + 1;

    /// <summary>
    /// Tracker transactions awaited at once at most (default 4,096: each UDP tracker of each torrent has one at a time,
    /// and a node with 1,000 torrents announces them all at start; a transaction is a few hundred bytes).
    /// </summary>
    public int MaxTrackerTransactions { get; init; } = 4096;
}

/// <summary>
/// One UDP socket, several protocols: a receive loop reads every datagram once and hands it on by its first bytes. A
/// bencoded dictionary (<c>d</c>) goes to the DHT; a BEP 15 reply (action 0-3, then a transaction id) goes to the tracker
/// transaction that issued that id, when it came from the address it was sent to; a uTP packet (BEP 29: version 1 in
/// the first byte's low nibble) goes to the <see cref="UtpSocketManager"/> when one is attached; anything else is dropped and counted. Every queue
/// is bounded and junk costs nothing but the one receive buffer, so a flood cannot grow memory. Sends of every protocol
/// go out of the same socket, so peers, DHT nodes and trackers see one port.
/// </summary>
internal sealed class DatagramDemux : IAsyncDisposable
{
    private readonly IDatagramSocket _socket;
    private readonly DatagramDemuxOptions _options;
    private readonly Action<DatagramDropReason>? _onDropped;
    private readonly long[] _dropped = new long[Enum.GetValues<DatagramDropReason>().Length];
    private readonly ConcurrentDictionary<uint, TrackerTransaction> _transactions = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _receiveLoop;
    private ChannelSocket? _dht;
    private UtpSocketManager? _utp;
    private readonly Lock _refusalGate = new();
    private long _refusalSecond;
    private int _refusals;

    /// <summary>Resets a port without uTP sends a second at most in answer to SYNs.</summary>
    internal const int MaxRefusalsPerSecond = 20;

    /// <summary>Takes <paramref name="socket"/> (disposing the demultiplexer closes it) and starts reading it.</summary>
    public DatagramDemux(IDatagramSocket socket, DatagramDemuxOptions options, Action<DatagramDropReason>? onDropped = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.DhtQueueLength, 1);
        _socket = socket;
        _options = options;
        _onDropped = onDropped;
        if (socket is IReportsUnreachable reports)
        {
            reports.Unreachable = OnUnreachable;
        }

        _receiveLoop = Task.Run(() => ReceiveLoopAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>The shared socket's endpoint: the node's UDP port.</summary>
    public IPEndPoint LocalEndPoint => _socket.LocalEndPoint;

    /// <summary>The socket's address family.</summary>
    public AddressFamily Family => LocalEndPoint.AddressFamily;

    /// <summary>Datagrams dropped for <paramref name="reason"/> since the demultiplexer started.</summary>
    public long DroppedCount(DatagramDropReason reason) => Interlocked.Read(ref _dropped[(int)reason]);

    /// <summary>ICMP errors the socket reported for our sends (Linux; see <see cref="UdpErrorQueue"/>).</summary>
    public long UnreachableCount => Interlocked.Read(ref _unreachable);

    private long _unreachable;

    /// <summary>Datagrams waiting for the DHT now (for tests of the bound).</summary>
    internal int DhtQueued => _dht?.Queued ?? 0;

    /// <summary>
    /// A transport whose one socket is the DHT's view of this port: bencoded datagrams in, its sends out of the shared
    /// socket. Disposing that socket detaches the DHT and leaves the shared socket open. A second DHT cannot bind it.
    /// </summary>
    public IDatagramTransport DhtTransport => new DhtBinder(this);

    /// <summary>
    /// Makes uTP the owner of this port's uTP packets: a manager sending out of the shared socket, fed from the receive
    /// loop. Only one; disposing the demultiplexer disposes it first.
    /// </summary>
    public UtpSocketManager AttachUtp(UtpSettings settings, TimeProvider time)
    {
        var manager = new UtpSocketManager((datagram, remote) => _socket.SendAsync(datagram, remote, CancellationToken.None), LocalEndPoint, settings, time);
        if (Interlocked.CompareExchange(ref _utp, manager, null) is not null)
        {
            throw new InvalidOperationException("uTP already runs on this port");
        }

        return manager;
    }

    /// <summary>The uTP manager of this port, if uTP runs on it.</summary>
    public UtpSocketManager? Utp => _utp;

    /// <summary>Sends <paramref name="datagram"/> out of the shared socket (a tracker request, say).</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, CancellationToken cancellationToken)
        => _socket.SendAsync(datagram, remote, cancellationToken);

    /// <summary>
    /// Waits for the BEP 15 reply carrying <paramref name="transactionId"/> from <paramref name="from"/>; register before
    /// sending the request, dispose when done. Null when that id is already awaited or too many are.
    /// </summary>
    public TrackerTransaction? ExpectTrackerReply(uint transactionId, IPEndPoint from)
    {
        if (_transactions.Count >= _options.MaxTrackerTransactions)
        {
            return null;
        }

        var transaction = new TrackerTransaction(this, transactionId, from);
        return _transactions.TryAdd(transactionId, transaction) ? transaction : null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        if (_utp is not null)
        {
            await _utp.DisposeAsync().ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _socket.DisposeAsync().ConfigureAwait(false);
        await _receiveLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _dht?.Detach();
        _stopping.Dispose();
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        // The largest UDP payload: a datagram is never cut here, only where its protocol keeps fewer bytes.
        var buffer = new byte[TrackerLimits.MaxUdpPacketBytes];
        while (!cancellationToken.IsCancellationRequested)
        {
            DatagramReceived received;
            try
            {
                ValueTask<DatagramReceived> next = _socket.ReceiveAsync(buffer, cancellationToken);
                if (!next.IsCompleted)
                {
                    // Nothing more waiting: uTP sends its deferred acks and hands the burst to its readers.
                    _utp?.OnDrained();
                }

                received = await next.ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            Dispatch(buffer.AsSpan(0, received.Length), received.RemoteEndPoint);
        }
    }

    /// <summary>Hands one datagram to its protocol, or drops it. Copies only what a protocol keeps.</summary>
    internal void Dispatch(ReadOnlySpan<byte> datagram, IPEndPoint from)
    {
        if (datagram.IsEmpty)
        {
            Drop(DatagramDropReason.Unknown);
        }
        else if (datagram[0] == (byte)'d')
        {
            // BEP 5: every KRPC message is a bencoded dictionary.
            if (_dht is not { } dht)
            {
                Drop(DatagramDropReason.NoOwner);
            }
            else if (!dht.TryEnqueue(datagram[..Math.Min(datagram.Length, _options.MaxDhtDatagramBytes)], from))
            {
                Drop(DatagramDropReason.QueueFull);
            }
        }
        else if (UdpTrackerPacket.TryReadHeader(datagram, out _, out uint transactionId))
        {
            // BEP 15: "Check whether the transaction ID is equal to the one you chose": one we are not waiting for, or
            // from another address than the tracker's, is someone else's (or a forgery).
            if (!_transactions.TryGetValue(transactionId, out TrackerTransaction? transaction) || !transaction.From.Equals(from) || !transaction.TryComplete(datagram))
            {
                Drop(DatagramDropReason.Unknown);
            }
        }
        else if ((datagram[0] & 0x0F) == 1 && datagram[0] >> 4 <= 4)
        {
            // BEP 29: "The current version is 1", in the low nibble; types 0-4 in the high one.
            if (_utp is { } utp)
            {
                utp.OnDatagram(datagram, from);
            }
            else
            {
                Drop(DatagramDropReason.NoOwner);
                RefuseSyn(datagram, from);
            }
        }
        else
        {
            Drop(DatagramDropReason.Unknown);
        }
    }

    /// <summary>
    /// Without uTP on this port a SYN is answered with a reset (20 bytes, never more than the SYN; at most
    /// <see cref="MaxRefusalsPerSecond"/> a second), so a dialer that tries uTP first goes on over TCP at once instead of
    /// waiting out its SYN timeout, as it would for a closed port's ICMP error.
    /// </summary>
    private void RefuseSyn(ReadOnlySpan<byte> datagram, IPEndPoint from)
    {
        if (datagram[0] >> 4 != (int)UtpPacketType.Syn || UtpPacket.TryParse(datagram, out UtpPacket syn) != UtpParseError.None)
        {
            return;
        }

        long second = Environment.TickCount64 / 1000;
        lock (_refusalGate)
        {
            if (second != _refusalSecond)
            {
                _refusalSecond = second;
                _refusals = 0;
            }

            if (++_refusals > MaxRefusalsPerSecond)
            {
                return;
            }
        }

        byte[] reset = new byte[UtpHeader.Length];
        new UtpHeader(UtpPacketType.Reset, syn.Header.ConnectionId, 0, 0, 0, (ushort)Random.Shared.Next(0, 65536), syn.Header.SequenceNumber).WriteTo(reset, 0);
        _ = SendQuietlyAsync(reset, from);
    }

    private async Task SendQuietlyAsync(byte[] datagram, IPEndPoint to)
    {
        try
        {
            await _socket.SendAsync(datagram, to, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // lost, as a datagram may be
        }
    }

    /// <summary>An ICMP error for a datagram we sent: uTP fails a connect it names (the DHT and trackers time out as before).</summary>
    internal void OnUnreachable(DatagramUnreachable error)
    {
        Interlocked.Increment(ref _unreachable);
        _utp?.OnUnreachable(error.Destination, error.Error);
    }

    private void Drop(DatagramDropReason reason)
    {
        Interlocked.Increment(ref _dropped[(int)reason]);
        _onDropped?.Invoke(reason);
    }

    /// <summary>One awaited tracker reply: completed once, with a copy of the first datagram that matched.</summary>
    internal sealed class TrackerTransaction : IDisposable
    {
        private readonly DatagramDemux _owner;
        private readonly uint _id;
        private readonly TaskCompletionSource<byte[]> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TrackerTransaction(DatagramDemux owner, uint id, IPEndPoint from)
        {
            _owner = owner;
            _id = id;
            From = from;
        }

        public IPEndPoint From { get; }

        /// <summary>The reply's bytes, when it comes.</summary>
        public Task<byte[]> Reply => _reply.Task;

        internal bool TryComplete(ReadOnlySpan<byte> datagram) => !_reply.Task.IsCompleted && _reply.TrySetResult(datagram.ToArray());

        public void Dispose()
        {
            _owner._transactions.TryRemove(new KeyValuePair<uint, TrackerTransaction>(_id, this));
            _reply.TrySetCanceled();
        }
    }

    private sealed class DhtBinder(DatagramDemux owner) : IDatagramTransport
    {
        public IDatagramSocket Bind(IPEndPoint localEndPoint)
        {
            if (localEndPoint.AddressFamily != owner.Family)
            {
                throw new ArgumentException($"this port's socket is {owner.Family}, not {localEndPoint.AddressFamily}", nameof(localEndPoint));
            }

            var socket = new ChannelSocket(owner);
            if (Interlocked.CompareExchange(ref owner._dht, socket, null) is not null)
            {
                throw new InvalidOperationException("a DHT already runs on this port");
            }

            return socket;
        }
    }

    /// <summary>The DHT's socket: a bounded queue in, the shared socket out.</summary>
    private sealed class ChannelSocket(DatagramDemux owner) : IDatagramSocket
    {
        private readonly System.Threading.Channels.Channel<(byte[] Bytes, IPEndPoint From)> _queue =
            System.Threading.Channels.Channel.CreateBounded<(byte[], IPEndPoint)>(new System.Threading.Channels.BoundedChannelOptions(owner._options.DhtQueueLength)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = System.Threading.Channels.BoundedChannelFullMode.Wait, // so TryWrite fails and the drop is counted
            });

        public IPEndPoint LocalEndPoint => owner.LocalEndPoint;

        public int Queued => _queue.Reader.Count;

        public bool TryEnqueue(ReadOnlySpan<byte> datagram, IPEndPoint from)
        {
            // The copy is made only when there is room, so a full queue costs the flood nothing.
            return _queue.Reader.Count < owner._options.DhtQueueLength && _queue.Writer.TryWrite((datagram.ToArray(), from));
        }

        public async ValueTask SendAsync(ReadOnlyMemory<byte> datagram, IPEndPoint remote, CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(owner._dht != this, this);
            await owner.SendAsync(datagram, remote, cancellationToken).ConfigureAwait(false);
        }

        public async ValueTask<DatagramReceived> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            (byte[] bytes, IPEndPoint from) item;
            try
            {
                item = await _queue.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (System.Threading.Channels.ChannelClosedException)
            {
                throw new ObjectDisposedException(nameof(ChannelSocket));
            }

            int length = Math.Min(item.bytes.Length, buffer.Length);
            item.bytes.AsSpan(0, length).CopyTo(buffer.Span);
            return new DatagramReceived(length, item.from);
        }

        public void Detach() => _queue.Writer.TryComplete();

        public ValueTask DisposeAsync()
        {
            Interlocked.CompareExchange(ref owner._dht, null, this);
            Detach();
            return ValueTask.CompletedTask;
        }
    }
}
