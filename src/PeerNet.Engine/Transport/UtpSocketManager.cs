using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using PeerNet.Utp;

namespace PeerNet.Transport;

/// <summary>
/// uTP (BEP 29) on one shared UDP socket: the owner of a <see cref="DatagramDemux"/>'s uTP slot. It keeps the
/// connections by (remote endpoint, receive id), answers SYNs from a bounded half-open table that holds a few numbers
/// per entry and replies with a state packet no larger than the SYN (so a spoofed SYN buys an attacker no
/// amplification and no connection), promotes an entry to a connection only when the initiator's first data packet
/// acks that reply (it has shown it receives at its address), and answers junk at most with a rate-limited reset. One
/// timer ticks every connection (retransmission, delayed acks, keepalives, timeouts); there is no timer per connection.
/// </summary>
internal sealed class UtpSocketManager : IAsyncDisposable
{
    private readonly Func<ReadOnlyMemory<byte>, IPEndPoint, ValueTask> _send;
    private readonly ConcurrentDictionary<ConnectionKey, UtpConnection> _connections = new();
    private readonly ConcurrentDictionary<UtpConnection, IPEndPoint> _connecting = new();
    private readonly Lock _halfOpenGate = new();
    private readonly Dictionary<ConnectionKey, HalfOpen> _halfOpen = [];
    private readonly Dictionary<IPAddress, int> _halfOpenByAddress = [];
    private readonly Channel<UtpConnection> _accepted;
    private readonly ITimer _timer;
    private readonly double _microsecondsPerTick;
    private readonly HashSet<UtpConnection> _drain = []; // receive thread only
    private readonly Lock _resetGate = new();
    private long _resetWindowStart;
    private int _resetsInWindow;
    private long _dropped;
    private long _halfOpenRefused;
    private int _halfOpenPeak;
    private long _synsReceived;
    private long _synBytes;
    private long _synAnswers;
    private long _synAnswerBytes;
    private int _disposed;

    /// <param name="send">Sends one datagram out of the shared socket.</param>
    /// <param name="localEndPoint">The shared socket's endpoint.</param>
    /// <param name="settings">Limits and tuning.</param>
    /// <param name="time">The clock of timestamps and the tick.</param>
    public UtpSocketManager(Func<ReadOnlyMemory<byte>, IPEndPoint, ValueTask> send, IPEndPoint localEndPoint, UtpSettings settings, TimeProvider time)
    {
        _send = send;
        LocalEndPoint = localEndPoint;
        Settings = settings;
        Time = time;
        _microsecondsPerTick = 1_000_000.0 / time.TimestampFrequency;
        _accepted = Channel.CreateBounded<UtpConnection>(new BoundedChannelOptions(settings.AcceptBacklog) { FullMode = BoundedChannelFullMode.Wait });
        _timer = time.CreateTimer(static s => ((UtpSocketManager)s!).Tick(), this, settings.TickInterval, settings.TickInterval);
    }

    public UtpSettings Settings { get; }

    public TimeProvider Time { get; }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Connections open now (for tests and diagnostics).</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Half-open entries now (for tests of the bound).</summary>
    public int HalfOpenCount
    {
        get
        {
            lock (_halfOpenGate)
            {
                return _halfOpen.Count;
            }
        }
    }

    /// <summary>SYNs dropped because the half-open table (or one address's share of it) was full.</summary>
    public long HalfOpenRefused => Interlocked.Read(ref _halfOpenRefused);

    /// <summary>The most half-open entries held at once since the manager started (never above <see cref="UtpSettings.MaxHalfOpen"/>).</summary>
    public int HalfOpenPeak => Volatile.Read(ref _halfOpenPeak);

    /// <summary>SYNs that named no connection of ours (new ones, and repeats of a half-open one), answered or not.</summary>
    public long SynsReceived => Interlocked.Read(ref _synsReceived);

    /// <summary>uTP bytes of those SYNs (UDP payload).</summary>
    public long SynBytes => Interlocked.Read(ref _synBytes);

    /// <summary>Answers sent to those SYNs (state packets, or resets when uTP is not accepted).</summary>
    public long SynAnswers => Interlocked.Read(ref _synAnswers);

    /// <summary>uTP bytes of those answers: never more than <see cref="SynBytes"/> (the anti-amplification rule).</summary>
    public long SynAnswerBytes => Interlocked.Read(ref _synAnswerBytes);

    /// <summary>Incoming connections established so far.</summary>
    public long AcceptedCount => Interlocked.Read(ref _acceptedCount);

    private long _acceptedCount;

    /// <summary>Datagrams that were not valid uTP or named no connection.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Packets, bytes, retransmissions, connections and refusals counted for the node's meters.</summary>
    internal UtpCounters Counters { get; } = new();

    /// <summary>Incoming connections, as a listener (disposing it does not stop the manager).</summary>
    public IPeerListener Listener => new AcceptListener(this);

    /// <summary>Microseconds on this manager's clock.</summary>
    internal long NowMicroseconds => (long)(Time.GetTimestamp() * _microsecondsPerTick);

    /// <summary>Opens a uTP connection to <paramref name="remote"/>.</summary>
    /// <exception cref="SocketException">Refused (reset) or <see cref="SocketError.TimedOut"/>.</exception>
    public async ValueTask<IDuplexConnection> ConnectAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        remote = TransportDefaults.Normalize(remote);
        UtpConnection connection;
        while (true)
        {
            ushort recvId = (ushort)Random.Shared.Next(0, 65536);
            var key = new ConnectionKey(remote, recvId);
            if (_connections.ContainsKey(new ConnectionKey(remote, (ushort)(recvId + 1))))
            {
                continue;
            }

            connection = UtpConnection.ForInitiator(this, remote, recvId);
            if (_connections.TryAdd(key, connection))
            {
                break;
            }
        }

        _connecting[connection] = remote;
        try
        {
            await connection.ConnectAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            connection.Abort();
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            _connecting.TryRemove(connection, out _);
        }
    }

    /// <summary>Connects failed at once by an ICMP error for their SYN (port, host or network unreachable).</summary>
    public long UnreachableRefused => Interlocked.Read(ref _unreachableRefused);

    /// <summary>ICMP errors that named no connecting endpoint of ours, or were of another kind: counted, not acted on.</summary>
    public long UnreachableIgnored => Interlocked.Read(ref _unreachableIgnored);

    private long _unreachableRefused;
    private long _unreachableIgnored;

    /// <summary>
    /// The socket reports an ICMP error for a datagram we sent to <paramref name="destination"/>. Only a connect still
    /// waiting for its SYN's answer from exactly that endpoint acts on it, failing at once with
    /// <see cref="SocketError.ConnectionRefused"/> (so the dialer goes on over TCP without waiting out the SYN
    /// timeout). An established connection ignores it, as TCP ignores soft errors: ICMP is easy to forge, and a
    /// forged one must cost a peer at most a uTP attempt, never a running transfer.
    /// </summary>
    public void OnUnreachable(IPEndPoint destination, SocketError error)
    {
        bool acted = false;
        if ((error is SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable) && !_connecting.IsEmpty)
        {
            destination = TransportDefaults.Normalize(destination);
            foreach (KeyValuePair<UtpConnection, IPEndPoint> connecting in _connecting)
            {
                if (connecting.Value.Equals(destination) && connecting.Key.OnUnreachable(error))
                {
                    acted = true;
                }
            }
        }

        if (acted)
        {
            Interlocked.Increment(ref _unreachableRefused);
        }
        else
        {
            Interlocked.Increment(ref _unreachableIgnored);
        }
    }

    /// <summary>Waits for the next incoming connection.</summary>
    public async ValueTask<IDuplexConnection> AcceptAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(UtpSocketManager));
        }
    }

    /// <summary>One datagram from the shared socket (the demultiplexer's receive loop: one thread at a time).</summary>
    public void OnDatagram(ReadOnlySpan<byte> datagram, IPEndPoint from)
    {
        Volatile.Write(ref Counters.PacketsReceived, Counters.PacketsReceived + 1); // one writer: this loop
        Volatile.Write(ref Counters.BytesReceived, Counters.BytesReceived + datagram.Length);
        if (UtpPacket.TryParse(datagram, out UtpPacket packet) != UtpParseError.None)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        UtpHeader header = packet.Header;
        if (_connections.TryGetValue(new ConnectionKey(from, header.ConnectionId), out UtpConnection? connection))
        {
            connection.OnPacket(packet, NowMicroseconds);
            _drain.Add(connection);
            return;
        }

        switch (header.Type)
        {
            case UtpPacketType.Syn:
                if (_connections.TryGetValue(new ConnectionKey(from, (ushort)(header.ConnectionId + 1)), out connection))
                {
                    connection.OnPacket(packet, NowMicroseconds); // a repeated SYN: its answer was lost
                }
                else
                {
                    OnSyn(packet, from, datagram.Length);
                }

                return;
            case UtpPacketType.Data or UtpPacketType.Fin or UtpPacketType.State:
                if (TryPromote(packet, from, out connection))
                {
                    _drain.Add(connection);
                    return;
                }

                break;
            case UtpPacketType.Reset:
                ForgetHalfOpen(new ConnectionKey(from, header.ConnectionId));
                Interlocked.Increment(ref _dropped);
                return; // never answer a reset
        }

        Interlocked.Increment(ref _dropped);
        SendReset(from, header);
    }

    /// <summary>The socket has no more datagrams waiting: deferred acks go out and received bytes reach the readers.</summary>
    public void OnDrained()
    {
        if (_drain.Count == 0)
        {
            return;
        }

        foreach (UtpConnection connection in _drain)
        {
            connection.OnDrained();
        }

        _drain.Clear();
    }

    private void OnSyn(in UtpPacket syn, IPEndPoint from, int synLength)
    {
        UtpHeader header = syn.Header;
        Interlocked.Increment(ref _synsReceived);
        Interlocked.Add(ref _synBytes, synLength);
        if (!Settings.Incoming || _disposed != 0)
        {
            Interlocked.Increment(ref Counters.SynsRefusedNotAccepting);
            if (SendReset(from, header))
            {
                Interlocked.Increment(ref _synAnswers);
                Interlocked.Add(ref _synAnswerBytes, UtpHeader.Length);
            }

            return;
        }

        var key = new ConnectionKey(from, (ushort)(header.ConnectionId + 1));
        HalfOpen entry;
        lock (_halfOpenGate)
        {
            if (!_halfOpen.TryGetValue(key, out entry))
            {
                int fromAddress = _halfOpenByAddress.GetValueOrDefault(from.Address);
                if (_halfOpen.Count >= Settings.MaxHalfOpen || fromAddress >= Settings.MaxHalfOpenPerAddress)
                {
                    Interlocked.Increment(ref _halfOpenRefused);
                    Interlocked.Increment(ref _halfOpen.Count >= Settings.MaxHalfOpen ? ref Counters.SynsRefusedTableFull : ref Counters.SynsRefusedAddressFull);
                    return;
                }

                entry = new HalfOpen(header.SequenceNumber, (ushort)Random.Shared.Next(0, 65536), syn.MaxDatagram, NowMicroseconds, header.TimestampMicroseconds);
                _halfOpen.Add(key, entry);
                _halfOpenByAddress[from.Address] = fromAddress + 1;
                if (_halfOpen.Count > _halfOpenPeak)
                {
                    Volatile.Write(ref _halfOpenPeak, _halfOpen.Count);
                }
            }
        }

        // The answer: a state packet acking the SYN, with our offer only when the SYN made one, so it is never larger.
        var reply = new UtpHeader(UtpPacketType.State, header.ConnectionId, (uint)NowMicroseconds, (uint)NowMicroseconds - header.TimestampMicroseconds,
            (uint)Settings.ReceiveBufferBytes, entry.OurSequence, header.SequenceNumber);
        Span<byte> scratch = stackalloc byte[UtpPacket.GetLength(0, true, 0)];
        int length = UtpPacket.Write(scratch, reply, default, syn.MaxDatagram != 0 ? OfferFor(from) : 0, default);
        Interlocked.Increment(ref _synAnswers);
        Interlocked.Add(ref _synAnswerBytes, length);
        SendCopy(scratch[..length], from);
    }

    /// <summary>The datagram size we offer <paramref name="remote"/>: large only on loopback, where it pays.</summary>
    internal int OfferFor(IPEndPoint remote)
        => Settings.LoopbackDatagramBytes >= UtpPacket.MinOfferedDatagram && IPAddress.IsLoopback(remote.Address) ? Settings.LoopbackDatagramBytes : SmallDatagram(remote);

    /// <summary>The Ethernet-sized datagram for <paramref name="remote"/>'s family.</summary>
    internal int SmallDatagram(IPEndPoint remote)
        => remote.AddressFamily == AddressFamily.InterNetworkV6 ? Settings.Ipv6DatagramBytes : Settings.Ipv4DatagramBytes;

    private bool TryPromote(in UtpPacket packet, IPEndPoint from, out UtpConnection connection)
    {
        connection = null!;
        UtpHeader header = packet.Header;
        var key = new ConnectionKey(from, header.ConnectionId);
        HalfOpen entry;
        lock (_halfOpenGate)
        {
            // The initiator acks our state packet (ack_nr one before its sequence number: it is the next we send): it got it.
            if (header.Type == UtpPacketType.State || !_halfOpen.TryGetValue(key, out entry))
            {
                return false;
            }

            if (header.AckNumber != (ushort)(entry.OurSequence - 1))
            {
                Interlocked.Increment(ref Counters.HalfOpenBadAcks);
                return false;
            }

            RemoveHalfOpenLocked(key);
        }

        connection = UtpConnection.ForAcceptor(this, from, header.ConnectionId, entry.OurSequence, entry.TheirSequence, entry.Offer);
        if (!_connections.TryAdd(key, connection))
        {
            return false;
        }

        connection.OnPacket(packet, NowMicroseconds);
        Interlocked.Increment(ref _acceptedCount);
        if (!_accepted.Writer.TryWrite(connection))
        {
            connection.Abort(new IOException("uTP accept backlog full"));
        }

        return true;
    }

    private void ForgetHalfOpen(ConnectionKey key)
    {
        lock (_halfOpenGate)
        {
            RemoveHalfOpenLocked(key);
        }
    }

    private void RemoveHalfOpenLocked(ConnectionKey key)
    {
        if (_halfOpen.Remove(key))
        {
            int left = _halfOpenByAddress[key.Remote.Address] - 1;
            if (left == 0)
            {
                _halfOpenByAddress.Remove(key.Remote.Address);
            }
            else
            {
                _halfOpenByAddress[key.Remote.Address] = left;
            }
        }
    }

    /// <summary>
    /// A reset for a packet that names no connection, within the rate limit (false when over it: nothing sent); it is 20
    /// bytes, never more than what it answers.
    /// </summary>
    private bool SendReset(IPEndPoint to, in UtpHeader answered)
    {
        lock (_resetGate)
        {
            long now = NowMicroseconds;
            if (now - _resetWindowStart >= 1_000_000)
            {
                _resetWindowStart = now;
                _resetsInWindow = 0;
            }

            if (++_resetsInWindow > Settings.ResetsPerSecond)
            {
                return false;
            }
        }

        var reset = new UtpHeader(UtpPacketType.Reset, answered.ConnectionId, (uint)NowMicroseconds, 0, 0, (ushort)Random.Shared.Next(0, 65536), answered.SequenceNumber);
        Span<byte> scratch = stackalloc byte[UtpHeader.Length];
        reset.WriteTo(scratch, 0);
        SendCopy(scratch, to);
        return true;
    }

    /// <summary>Sends a small packet built on the stack (a pooled copy lives until the send is done).</summary>
    internal void SendCopy(ReadOnlySpan<byte> datagram, IPEndPoint to)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(datagram.Length);
        datagram.CopyTo(buffer);
        if (Send(buffer, datagram.Length, to))
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Sends <paramref name="length"/> bytes of <paramref name="buffer"/>. True when the send is done (the buffer is free
    /// again); false when it goes on in the background, which then owns the buffer (it is not returned to the pool).
    /// Local send failures are taken as loss.
    /// </summary>
    internal bool Send(byte[] buffer, int length, IPEndPoint to)
    {
        Interlocked.Increment(ref Counters.PacketsSent);
        Interlocked.Add(ref Counters.BytesSent, length);
        ValueTask pending;
        try
        {
            pending = _send(buffer.AsMemory(0, length), to);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            return true;
        }

        if (pending.IsCompleted)
        {
            try
            {
                pending.GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // loss
            }

            return true;
        }

        _ = ObserveAsync(pending);
        return false;
    }

    private static async Task ObserveAsync(ValueTask pending)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // loss
        }
    }

    internal void Remove(UtpConnection connection) => _connections.TryRemove(new KeyValuePair<ConnectionKey, UtpConnection>(new ConnectionKey(connection.RemoteEndPoint, connection.ReceiveId), connection));

    private int _ticking;

    private void Tick()
    {
        if (Interlocked.Exchange(ref _ticking, 1) != 0)
        {
            return; // the last tick is still running: skip one
        }

        try
        {
            long now = NowMicroseconds;
            foreach (UtpConnection connection in _connections.Values)
            {
                connection.OnTick(now);
            }

            long expiry = (long)Settings.HalfOpenTimeout.TotalMicroseconds;
            lock (_halfOpenGate)
            {
                if (_halfOpen.Count > 0)
                {
                    foreach (KeyValuePair<ConnectionKey, HalfOpen> entry in _halfOpen)
                    {
                        if (now - entry.Value.CreatedAt > expiry)
                        {
                            RemoveHalfOpenLocked(entry.Key);
                            Interlocked.Increment(ref Counters.HalfOpenExpired);
                        }
                    }
                }
            }
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _timer.DisposeAsync().ConfigureAwait(false);
        _accepted.Writer.TryComplete();
        while (_accepted.Reader.TryRead(out UtpConnection? waiting))
        {
            waiting.Abort();
        }

        foreach (UtpConnection connection in _connections.Values)
        {
            connection.Abort();
        }
    }

    private readonly record struct ConnectionKey(IPEndPoint Remote, ushort Id);

    /// <summary>An answered SYN: all we keep until the initiator shows it received our answer.</summary>
    private readonly record struct HalfOpen(ushort TheirSequence, ushort OurSequence, int Offer, long CreatedAt, uint TheirTimestamp);

    private sealed class AcceptListener(UtpSocketManager manager) : IPeerListener
    {
        public IPEndPoint LocalEndPoint => manager.LocalEndPoint;

        public ValueTask<IDuplexConnection> AcceptAsync(CancellationToken cancellationToken) => manager.AcceptAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
