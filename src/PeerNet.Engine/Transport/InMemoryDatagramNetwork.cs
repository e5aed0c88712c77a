using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>
/// Many datagram sockets in one process, for tests and simulations: a send puts a copy of the datagram in the
/// receive queue of whichever socket is bound at the destination, after the configured loss, latency and
/// jitter (timed by the injected <see cref="System.TimeProvider"/>). Nothing bound there, or a full queue: the
/// datagram is dropped, as UDP would.
/// </summary>
internal sealed class InMemoryDatagramNetwork : IDatagramTransport
{
    private const int FirstEphemeralPort = 49152;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPEndPoint, Socket> _sockets = [];
    private readonly Random _random;
    private int _nextPort = FirstEphemeralPort;
    private long _sent;
    private long _delivered;
    private long _dropped;

    /// <summary>Creates a network; defaults: no loss, no latency, the system clock.</summary>
    public InMemoryDatagramNetwork(InMemoryDatagramOptions? options = null, TimeProvider? timeProvider = null)
    {
        Options = options ?? new InMemoryDatagramOptions();
        TimeProvider = timeProvider ?? TimeProvider.System;
        _random = new Random(Options.Seed);
    }

    /// <summary>Loss, latency and queue settings.</summary>
    public InMemoryDatagramOptions Options { get; }

    /// <summary>The clock that times latency.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Datagrams sent so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Datagrams put in a receive queue so far.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Datagrams lost: to the loss rate, to no socket at the destination, or to a full queue.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <inheritdoc />
    public IDatagramSocket Bind(IPEndPoint localEndPoint)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        lock (_lock)
        {
            int port = localEndPoint.Port;
            if (port == 0)
            {
                for (int tries = 0; tries <= IPEndPoint.MaxPort - FirstEphemeralPort; tries++)
                {
                    int candidate = _nextPort;
                    _nextPort = _nextPort == IPEndPoint.MaxPort ? FirstEphemeralPort : _nextPort + 1;
                    if (!_sockets.ContainsKey(new IPEndPoint(localEndPoint.Address, candidate)))
                    {
                        port = candidate;
                        break;
                    }
                }

                if (port == 0)
                {
                    throw new SocketException((int)SocketError.AddressAlreadyInUse);
                }
            }

            var endPoint = new IPEndPoint(localEndPoint.Address, port);
            if (_sockets.ContainsKey(endPoint))
            {
                throw new SocketException((int)SocketError.AddressAlreadyInUse);
            }

            var socket = new Socket(this, endPoint);
            _sockets.Add(endPoint, socket);
            return socket;
        }
    }

    private void Unbind(Socket socket)
    {
        lock (_lock)
        {
            if (_sockets.TryGetValue(socket.LocalEndPoint, out Socket? bound) && ReferenceEquals(bound, socket))
            {
                _sockets.Remove(socket.LocalEndPoint);
            }
        }
    }

    private void Send(IPEndPoint from, ReadOnlyMemory<byte> datagram, IPEndPoint to)
    {
        Interlocked.Increment(ref _sent);
        bool twice;
        lock (_lock)
        {
            twice = Options.DuplicateRate > 0 && _random.NextDouble() < Options.DuplicateRate;
        }

        Transmit(from, datagram, to);
        if (twice)
        {
            Transmit(from, datagram, to);
        }
    }

    private void Transmit(IPEndPoint from, ReadOnlyMemory<byte> datagram, IPEndPoint to)
    {
        TimeSpan delay = Options.Latency;
        lock (_lock)
        {
            if (Options.LossRate > 0 && _random.NextDouble() < Options.LossRate)
            {
                Interlocked.Increment(ref _dropped);
                return;
            }

            if (Options.Jitter > TimeSpan.Zero)
            {
                delay += Options.Jitter * _random.NextDouble();
            }
        }

        var packet = new Packet(datagram.ToArray(), from);
        if (delay == TimeSpan.Zero)
        {
            Deliver(packet, to);
            return;
        }

        // The timer delivers once and disposes itself; the state holds what it needs.
        var pending = new Pending(this, packet, to);
        pending.Timer = TimeProvider.CreateTimer(static s => ((Pending)s!).Fire(), pending, delay, Timeout.InfiniteTimeSpan);
    }

    private void Deliver(Packet packet, IPEndPoint to)
    {
        Socket? target;
        lock (_lock)
        {
            _sockets.TryGetValue(to, out target);
        }

        if (target is not null && target.TryEnqueue(packet.Data, packet.From))
        {
            Interlocked.Increment(ref _delivered);
        }
        else
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private readonly record struct Packet(byte[] Data, IPEndPoint From);

    private sealed class Pending(InMemoryDatagramNetwork network, Packet packet, IPEndPoint to)
    {
        public ITimer? Timer { get; set; }

        public void Fire()
        {
            network.Deliver(packet, to);
            Timer?.Dispose();
        }
    }

    private sealed class Socket(InMemoryDatagramNetwork network, IPEndPoint localEndPoint)
        : InMemoryDatagramSocket(localEndPoint, network.Options.ReceiveQueueCapacity)
    {
        protected override void Send(ReadOnlyMemory<byte> datagram, IPEndPoint remote) => network.Send(LocalEndPoint, datagram, remote);

        protected override void Leave() => network.Unbind(this);
    }
}
