using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>
/// A network inside one process, for tests with many nodes: each <see cref="CreateTransport"/> is a node with its
/// own address, and connections between nodes are pairs of pipes, optionally shaped by each node's upload rate and
/// latency. Time (latency, pacing) comes from the injected <see cref="System.TimeProvider"/>.
/// </summary>
internal sealed class InMemoryNetwork
{
    private const int FirstEphemeralPort = 49152;
    private const int LastPort = 65535;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPEndPoint, InMemoryListener> _listeners = [];
    private readonly HashSet<IPEndPoint> _boundPorts = [];
    private int _nextEphemeralPort = FirstEphemeralPort;

    /// <summary>Creates an empty network; <paramref name="timeProvider"/> defaults to the system clock.</summary>
    public InMemoryNetwork(TimeProvider? timeProvider = null)
    {
        TimeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The clock for latency and bandwidth pacing.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>Adds a node at <paramref name="address"/> whose uplink is shaped by <paramref name="link"/> (default unlimited).</summary>
    public InMemoryTransport CreateTransport(IPAddress address, InMemoryLinkOptions? link = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new InMemoryTransport(this, address, link ?? InMemoryLinkOptions.Unlimited);
    }

    /// <summary>Binds a listener for <paramref name="transport"/> at its address and <paramref name="port"/> (0: a free one).</summary>
    internal InMemoryListener Listen(InMemoryTransport transport, int port)
    {
        lock (_lock)
        {
            IPEndPoint endPoint = BindLocked(transport.Address, port);
            var listener = new InMemoryListener(transport, endPoint, InMemoryTransport.ListenBacklog);
            _listeners.Add(endPoint, listener);
            return listener;
        }
    }

    /// <summary>The listener at <paramref name="endPoint"/>, if any.</summary>
    internal InMemoryListener? FindListener(IPEndPoint endPoint)
    {
        lock (_lock)
        {
            return _listeners.GetValueOrDefault(endPoint);
        }
    }

    /// <summary>Removes a listener and frees its port.</summary>
    internal void Unlisten(InMemoryListener listener)
    {
        lock (_lock)
        {
            if (_listeners.Remove(listener.LocalEndPoint))
            {
                _boundPorts.Remove(listener.LocalEndPoint);
            }
        }
    }

    /// <summary>Reserves <paramref name="port"/> at <paramref name="address"/> (0: a free ephemeral port).</summary>
    internal IPEndPoint Bind(IPAddress address, int port)
    {
        lock (_lock)
        {
            return BindLocked(address, port);
        }
    }

    /// <summary>Frees a port taken by <see cref="Bind"/>.</summary>
    internal void Release(IPEndPoint endPoint)
    {
        lock (_lock)
        {
            _boundPorts.Remove(endPoint);
        }
    }

    private IPEndPoint BindLocked(IPAddress address, int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, LastPort);
        if (port != 0)
        {
            var endPoint = new IPEndPoint(address, port);
            return _boundPorts.Add(endPoint) ? endPoint : throw new SocketException((int)SocketError.AddressAlreadyInUse);
        }

        for (int tries = 0; tries <= LastPort - FirstEphemeralPort; tries++)
        {
            int candidate = _nextEphemeralPort;
            _nextEphemeralPort = candidate == LastPort ? FirstEphemeralPort : candidate + 1;
            var endPoint = new IPEndPoint(address, candidate);
            if (_boundPorts.Add(endPoint))
            {
                return endPoint;
            }
        }

        throw new SocketException((int)SocketError.AddressAlreadyInUse);
    }
}
