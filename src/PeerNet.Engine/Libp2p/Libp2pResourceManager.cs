namespace PeerNet.Libp2p;

/// <summary>
/// The host's resource manager (go-libp2p's concept, sized to this stack): scopes for the node ("system"), each peer,
/// each protocol, each connection and each stream, with <see cref="Libp2pResourceLimits"/> checked when a connection
/// or stream is reserved and when a stream's protocol is set. Every count lives under one lock (reservations are a
/// few per stream, far from contended); a scope is released once, whatever path ends it, and a connection's release
/// takes its streams' with it.
/// </summary>
internal sealed class Libp2pResourceManager
{
    private readonly Lock _gate = new();
    private readonly Counts _system = new();
    private readonly Dictionary<Libp2pPeerId, Counts> _peers = [];
    private readonly Dictionary<string, Counts> _protocols = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _refused = new(StringComparer.Ordinal);
    private int _transient;

    public Libp2pResourceManager(Libp2pResourceLimits? limits = null)
    {
        Limits = limits ?? Libp2pResourceLimits.Default;
        IReadOnlyList<string> problems = Limits.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(limits));
        }
    }

    public Libp2pResourceLimits Limits { get; }

    /// <summary>Called (outside the lock) for each refusal with the limit's name and the direction (<c>in</c>, <c>out</c>).</summary>
    public Action<string, string>? Refused { get; set; }

    /// <summary>Reserves a connection with <paramref name="peer"/>; throws <see cref="Libp2pResourceLimitException"/> over a limit.</summary>
    public Libp2pConnectionScope OpenConnection(Libp2pPeerId peer, bool inbound)
    {
        Libp2pResourceLimitException? refused;
        lock (_gate)
        {
            Counts peerCounts = _peers.TryGetValue(peer, out Counts? known) ? known : new Counts();
            refused = inbound
                ? Over(_system.ConnsIn, Limits.MaxInboundConnections, nameof(Limits.MaxInboundConnections), "inbound connections")
                    ?? Over(_system.ConnsIn + _system.ConnsOut, Limits.MaxConnections, nameof(Limits.MaxConnections), "connections")
                    ?? Over(peerCounts.ConnsIn, Limits.MaxInboundConnectionsPerPeer, nameof(Limits.MaxInboundConnectionsPerPeer), $"inbound connections from {peer}")
                : Over(_system.ConnsOut, Limits.MaxOutboundConnections, nameof(Limits.MaxOutboundConnections), "outbound connections")
                    ?? Over(_system.ConnsIn + _system.ConnsOut, Limits.MaxConnections, nameof(Limits.MaxConnections), "connections")
                    ?? Over(peerCounts.ConnsOut, Limits.MaxOutboundConnectionsPerPeer, nameof(Limits.MaxOutboundConnectionsPerPeer), $"outbound connections to {peer}");
            if (refused is null)
            {
                _peers[peer] = peerCounts;
                Apply(_system, inbound, 1);
                Apply(peerCounts, inbound, 1);
                return new Libp2pConnectionScope(this, peer, inbound);
            }

            CountRefusalLocked(refused.Limit);
        }

        Refused?.Invoke(refused.Limit, inbound ? "in" : "out");
        throw refused;

        static void Apply(Counts c, bool inbound, int delta)
        {
            if (inbound)
            {
                c.ConnsIn += delta;
            }
            else
            {
                c.ConnsOut += delta;
            }
        }
    }

    /// <summary>What every scope holds now.</summary>
    public Libp2pResourceUsage Snapshot()
    {
        lock (_gate)
        {
            return new Libp2pResourceUsage
            {
                Limits = Limits,
                System = _system.ToUsage(),
                TransientStreams = _transient,
                Peers = _peers.ToDictionary(p => p.Key, p => p.Value.ToUsage()),
                Protocols = _protocols.ToDictionary(p => p.Key, p => p.Value.ToUsage(), StringComparer.Ordinal),
                Refused = new Dictionary<string, long>(_refused, StringComparer.Ordinal),
            };
        }
    }

    /// <summary>Reserves a stream on <paramref name="connection"/>; false with the reason (a limit, or the connection's end) otherwise.</summary>
    internal bool TryOpenStream(Libp2pConnectionScope connection, bool inbound, long memory, string? protocol, out Libp2pStreamScope? scope, out IOException? error)
    {
        scope = null;
        Libp2pResourceLimitException? refused;
        lock (_gate)
        {
            if (connection.Closed)
            {
                error = new IOException("The connection has ended.");
                return false;
            }

            Counts peer = _peers[connection.Peer];
            Counts? proto = protocol is null ? null : _protocols.GetValueOrDefault(protocol) ?? new Counts();
            string who = connection.Peer.ToString();
            refused = inbound
                ? Over(_system.StreamsIn, Limits.MaxInboundStreams, nameof(Limits.MaxInboundStreams), "inbound streams")
                    ?? Over(peer.StreamsIn, Limits.MaxInboundStreamsPerPeer, nameof(Limits.MaxInboundStreamsPerPeer), $"inbound streams from {who}")
                    ?? (proto is null ? null : Over(proto.StreamsIn, Limits.MaxInboundStreamsPerProtocol, nameof(Limits.MaxInboundStreamsPerProtocol), $"inbound {protocol} streams"))
                : Over(_system.StreamsOut, Limits.MaxOutboundStreams, nameof(Limits.MaxOutboundStreams), "outbound streams")
                    ?? Over(peer.StreamsOut, Limits.MaxOutboundStreamsPerPeer, nameof(Limits.MaxOutboundStreamsPerPeer), $"outbound streams to {who}")
                    ?? (proto is null ? null : Over(proto.StreamsOut, Limits.MaxOutboundStreamsPerProtocol, nameof(Limits.MaxOutboundStreamsPerProtocol), $"outbound {protocol} streams"));
            refused ??= OverMemory(_system.Memory, memory, Limits.MaxStreamMemory, nameof(Limits.MaxStreamMemory), "all streams")
                ?? OverMemory(peer.Memory, memory, Limits.MaxStreamMemoryPerPeer, nameof(Limits.MaxStreamMemoryPerPeer), $"the streams with {who}");
            if (refused is null)
            {
                scope = new Libp2pStreamScope(connection, inbound, memory);
                Add(_system, inbound, 1, memory);
                Add(peer, inbound, 1, memory);
                if (protocol is not null)
                {
                    _protocols[protocol] = proto!;
                    Add(proto!, inbound, 1, memory);
                    scope.Protocol = protocol;
                }
                else
                {
                    _transient++;
                }

                connection.Streams.Add(scope);
                error = null;
                return true;
            }

            CountRefusalLocked(refused.Limit);
        }

        Refused?.Invoke(refused.Limit, inbound ? "in" : "out");
        error = refused;
        return false;
    }

    /// <summary>Moves a stream from the transient scope to <paramref name="protocol"/>'s; false (the limit named) when that is full.</summary>
    internal bool TrySetProtocol(Libp2pStreamScope stream, string protocol, out Libp2pResourceLimitException? error)
    {
        error = null;
        lock (_gate)
        {
            if (stream.Released || stream.Protocol is not null)
            {
                return true; // already set (an outbound stream reserves its one protocol up front), or gone anyway
            }

            Counts proto = _protocols.GetValueOrDefault(protocol) ?? new Counts();
            error = stream.Inbound
                ? Over(proto.StreamsIn, Limits.MaxInboundStreamsPerProtocol, nameof(Limits.MaxInboundStreamsPerProtocol), $"inbound {protocol} streams")
                : Over(proto.StreamsOut, Limits.MaxOutboundStreamsPerProtocol, nameof(Limits.MaxOutboundStreamsPerProtocol), $"outbound {protocol} streams");
            if (error is null)
            {
                _protocols[protocol] = proto;
                Add(proto, stream.Inbound, 1, stream.Memory);
                stream.Protocol = protocol;
                _transient--;
                return true;
            }

            CountRefusalLocked(error.Limit);
        }

        Refused?.Invoke(error.Limit, stream.Inbound ? "in" : "out");
        return false;
    }

    /// <summary>
    /// Reserves <paramref name="extra"/> bytes more for a stream whose receive window grows; false (nothing reserved,
    /// nothing counted as refused) when the stream is released or either memory budget would pass half its limit. The
    /// other half stays for the initial windows of new streams, so streams that grew never lock a peer out (go-libp2p
    /// reserves a yamux window's growth at a low priority the same way).
    /// </summary>
    internal bool TryGrowStream(Libp2pStreamScope stream, long extra)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(extra);
        lock (_gate)
        {
            if (stream.Released)
            {
                return false;
            }

            Counts peer = _peers[stream.Connection.Peer];
            if (_system.Memory + extra > Limits.MaxStreamMemory / 2 || peer.Memory + extra > Limits.MaxStreamMemoryPerPeer / 2)
            {
                return false;
            }

            stream.Memory += extra;
            _system.Memory += extra;
            peer.Memory += extra;
            if (stream.Protocol is { } protocol)
            {
                _protocols[protocol].Memory += extra;
            }

            return true;
        }
    }

    internal void ReleaseStream(Libp2pStreamScope stream)
    {
        lock (_gate)
        {
            ReleaseStreamLocked(stream);
            stream.Connection.Streams.Remove(stream);
        }
    }

    internal void ReleaseConnection(Libp2pConnectionScope connection)
    {
        lock (_gate)
        {
            if (connection.Closed)
            {
                return;
            }

            connection.Closed = true;
            foreach (Libp2pStreamScope stream in connection.Streams)
            {
                ReleaseStreamLocked(stream);
            }

            connection.Streams.Clear();
            Counts peer = _peers[connection.Peer];
            if (connection.Inbound)
            {
                _system.ConnsIn--;
                peer.ConnsIn--;
            }
            else
            {
                _system.ConnsOut--;
                peer.ConnsOut--;
            }

            if (peer.IsEmpty)
            {
                _peers.Remove(connection.Peer);
            }
        }
    }

    private void ReleaseStreamLocked(Libp2pStreamScope stream)
    {
        if (stream.Released)
        {
            return;
        }

        stream.Released = true;
        Add(_system, stream.Inbound, -1, -stream.Memory);
        Add(_peers[stream.Connection.Peer], stream.Inbound, -1, -stream.Memory);
        if (stream.Protocol is { } protocol)
        {
            Counts proto = _protocols[protocol];
            Add(proto, stream.Inbound, -1, -stream.Memory);
            if (proto.IsEmpty)
            {
                _protocols.Remove(protocol);
            }
        }
        else
        {
            _transient--;
        }
    }

    private static void Add(Counts c, bool inbound, int streams, long memory)
    {
        if (inbound)
        {
            c.StreamsIn += streams;
        }
        else
        {
            c.StreamsOut += streams;
        }

        c.Memory += memory;
    }

    private static Libp2pResourceLimitException? Over(int used, int limit, string name, string what) =>
        used < limit ? null : new Libp2pResourceLimitException(name, limit, $"libp2p resource limit exceeded: {name} ({limit} {what}).");

    private static Libp2pResourceLimitException? OverMemory(long used, long wanted, long limit, string name, string what) =>
        used + wanted <= limit ? null : new Libp2pResourceLimitException(name, limit, $"libp2p resource limit exceeded: {name} ({limit} bytes of receive window for {what}, {used} reserved, a stream needs {wanted}).");

    private void CountRefusalLocked(string limit) => _refused[limit] = _refused.GetValueOrDefault(limit) + 1;

    private sealed class Counts
    {
        public int ConnsIn;
        public int ConnsOut;
        public int StreamsIn;
        public int StreamsOut;
        public long Memory;

        public bool IsEmpty => ConnsIn == 0 && ConnsOut == 0 && StreamsIn == 0 && StreamsOut == 0 && Memory == 0;

        public Libp2pScopeUsage ToUsage() => new()
        {
            InboundConnections = ConnsIn,
            OutboundConnections = ConnsOut,
            InboundStreams = StreamsIn,
            OutboundStreams = StreamsOut,
            Memory = Memory,
        };
    }
}

/// <summary>A connection's reservation: released once, by the session's end, with its streams' reservations.</summary>
internal sealed class Libp2pConnectionScope : IDisposable
{
    private readonly Libp2pResourceManager _manager;

    internal Libp2pConnectionScope(Libp2pResourceManager manager, Libp2pPeerId peer, bool inbound)
    {
        _manager = manager;
        Peer = peer;
        Inbound = inbound;
    }

    public Libp2pPeerId Peer { get; }

    public bool Inbound { get; }

    /// <summary>The manager's lock guards it.</summary>
    internal HashSet<Libp2pStreamScope> Streams { get; } = [];

    /// <summary>Released (the manager's lock guards it); no stream reserves on it then.</summary>
    internal bool Closed { get; set; }

    /// <summary>Reserves a stream (its <paramref name="memory"/> of receive window; its protocol when known); false with why otherwise.</summary>
    public bool TryOpenStream(bool inbound, long memory, string? protocol, out Libp2pStreamScope? scope, out IOException? error) =>
        _manager.TryOpenStream(this, inbound, memory, protocol, out scope, out error);

    /// <summary>Releases the connection and every stream still reserved on it; idempotent.</summary>
    public void Dispose() => _manager.ReleaseConnection(this);

    internal Libp2pResourceManager Manager => _manager;
}

/// <summary>A stream's reservation: transient until its protocol is set; released once (stream over, or its connection's end).</summary>
internal sealed class Libp2pStreamScope : IDisposable
{
    internal Libp2pStreamScope(Libp2pConnectionScope connection, bool inbound, long memory)
    {
        Connection = connection;
        Inbound = inbound;
        Memory = memory;
    }

    public Libp2pConnectionScope Connection { get; }

    public bool Inbound { get; }

    /// <summary>The receive window reserved: the initial one, plus what growing it reserved (the manager's lock guards it).</summary>
    public long Memory { get; internal set; }

    /// <summary>The protocol's scope it is in, once set (the manager's lock guards it).</summary>
    public string? Protocol { get; internal set; }

    /// <summary>The manager's lock guards it.</summary>
    internal bool Released { get; set; }

    /// <summary>Moves the stream into <paramref name="protocol"/>'s scope; false (the limit named) over its limit.</summary>
    public bool TrySetProtocol(string protocol, out Libp2pResourceLimitException? error) =>
        Connection.Manager.TrySetProtocol(this, protocol, out error);

    /// <summary>Reserves <paramref name="extra"/> bytes more of receive window; false when the budget has no room for it (or the stream is released).</summary>
    public bool TryGrow(long extra) => Connection.Manager.TryGrowStream(this, extra);

    /// <summary>Releases the stream's reservation (grown windows included); idempotent.</summary>
    public void Dispose() => Connection.Manager.ReleaseStream(this);
}
