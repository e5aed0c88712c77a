namespace PeerNet.Libp2p;

/// <summary>
/// The node-wide budget of its libp2p side, as go-libp2p's resource manager keeps one: connections (in the whole node
/// and per peer, each direction), streams (in the whole node, per peer and per protocol, each direction) and the memory
/// the streams may make the node hold (every yamux stream grants its peer a receive window, which is the most it can
/// buffer for that stream). Something over a limit is refused, never queued: an inbound stream is reset (yamux RST)
/// when it arrives, or once its protocol is agreed for a per-protocol limit; an outbound open fails with a
/// <see cref="Libp2pResourceLimitException"/> naming the limit; a connection is closed once its peer is authenticated.
/// The defaults are go-libp2p's base limits (the floor of its scaled defaults), which suit a small node; see
/// docs/libp2p.md.
/// </summary>
public sealed record Libp2pResourceLimits
{
    /// <summary>The defaults.</summary>
    public static Libp2pResourceLimits Default { get; } = new();

    /// <summary>libp2p connections in both directions at once (go-libp2p: 128).</summary>
    public int MaxConnections { get; init; } = 128;

    /// <summary>libp2p connections peers opened to this node (go-libp2p: 64).</summary>
    public int MaxInboundConnections { get; init; } = 64;

    /// <summary>libp2p connections this node opened (go-libp2p: 128).</summary>
    public int MaxOutboundConnections { get; init; } = 128;

    /// <summary>Connections one peer opened to this node (go-libp2p allows 8 in all per peer; one is the norm).</summary>
    public int MaxInboundConnectionsPerPeer { get; init; } = 4;

    /// <summary>Connections this node opened to one peer.</summary>
    public int MaxOutboundConnectionsPerPeer { get; init; } = 4;

    /// <summary>Streams peers opened, over all connections (go-libp2p: 1024).</summary>
    public int MaxInboundStreams { get; init; } = 1024;

    /// <summary>Streams this node opened, over all connections (go-libp2p: 2048).</summary>
    public int MaxOutboundStreams { get; init; } = 2048;

    /// <summary>Streams one peer opened, over its connections (go-libp2p: 256).</summary>
    public int MaxInboundStreamsPerPeer { get; init; } = 256;

    /// <summary>Streams this node opened to one peer (go-libp2p: 512).</summary>
    public int MaxOutboundStreamsPerPeer { get; init; } = 512;

    /// <summary>Streams of one protocol peers opened, all peers together (go-libp2p: 512).</summary>
    public int MaxInboundStreamsPerProtocol { get; init; } = 512;

    /// <summary>Streams of one protocol this node opened, all peers together (go-libp2p: 2048).</summary>
    public int MaxOutboundStreamsPerProtocol { get; init; } = 2048;

    /// <summary>
    /// Bytes of receive window all streams together may have granted (128 MiB, go-libp2p's base system memory): each
    /// stream reserves its full window (256 KiB) when it opens, so a peer that fills every window and never reads
    /// cannot make the node buffer more than this. With the defaults it allows 512 streams at once.
    /// </summary>
    public long MaxStreamMemory { get; init; } = 128L * 1024 * 1024;

    /// <summary>Bytes of receive window the streams with one peer may have granted (32 MiB: 128 streams of 256 KiB).</summary>
    public long MaxStreamMemoryPerPeer { get; init; } = 32L * 1024 * 1024;

    /// <summary>The problems with these limits, in words a user can act on; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        void AtLeastOne(long value, string name)
        {
            if (value < 1)
            {
                problems.Add($"Libp2pLimits.{name} must be at least 1");
            }
        }

        AtLeastOne(MaxConnections, nameof(MaxConnections));
        AtLeastOne(MaxInboundConnections, nameof(MaxInboundConnections));
        AtLeastOne(MaxOutboundConnections, nameof(MaxOutboundConnections));
        AtLeastOne(MaxInboundConnectionsPerPeer, nameof(MaxInboundConnectionsPerPeer));
        AtLeastOne(MaxOutboundConnectionsPerPeer, nameof(MaxOutboundConnectionsPerPeer));
        AtLeastOne(MaxInboundStreams, nameof(MaxInboundStreams));
        AtLeastOne(MaxOutboundStreams, nameof(MaxOutboundStreams));
        AtLeastOne(MaxInboundStreamsPerPeer, nameof(MaxInboundStreamsPerPeer));
        AtLeastOne(MaxOutboundStreamsPerPeer, nameof(MaxOutboundStreamsPerPeer));
        AtLeastOne(MaxInboundStreamsPerProtocol, nameof(MaxInboundStreamsPerProtocol));
        AtLeastOne(MaxOutboundStreamsPerProtocol, nameof(MaxOutboundStreamsPerProtocol));
        if (MaxStreamMemory < YamuxOptions.SpecInitialWindow || MaxStreamMemoryPerPeer < YamuxOptions.SpecInitialWindow)
        {
            problems.Add($"Libp2pLimits.MaxStreamMemory and MaxStreamMemoryPerPeer must hold at least one stream's window ({YamuxOptions.SpecInitialWindow} bytes)");
        }

        if (MaxStreamMemoryPerPeer > MaxStreamMemory)
        {
            problems.Add("Libp2pLimits.MaxStreamMemoryPerPeer cannot be above MaxStreamMemory");
        }

        return problems;
    }
}

/// <summary>A libp2p connection or stream was refused because it would go over a <see cref="Libp2pResourceLimits"/> limit.</summary>
public sealed class Libp2pResourceLimitException : IOException
{
    /// <summary>Creates the exception for <paramref name="limit"/> (a <see cref="Libp2pResourceLimits"/> property name).</summary>
    public Libp2pResourceLimitException(string limit, long value, string message)
        : base(message)
    {
        Limit = limit;
        Value = value;
    }

    /// <summary>The limit that was reached: the name of a <see cref="Libp2pResourceLimits"/> property (e.g. <c>MaxOutboundStreamsPerPeer</c>).</summary>
    public string Limit { get; }

    /// <summary>The limit's value.</summary>
    public long Value { get; }
}

/// <summary>What one scope of the libp2p resource manager (the node, a peer, a protocol) holds now.</summary>
public sealed record Libp2pScopeUsage
{
    /// <summary>Connections peers opened (0 for a protocol).</summary>
    public int InboundConnections { get; init; }

    /// <summary>Connections this node opened (0 for a protocol).</summary>
    public int OutboundConnections { get; init; }

    /// <summary>Streams peers opened.</summary>
    public int InboundStreams { get; init; }

    /// <summary>Streams this node opened.</summary>
    public int OutboundStreams { get; init; }

    /// <summary>Bytes of receive window the streams hold reserved (the most they can make the node buffer).</summary>
    public long Memory { get; init; }
}

/// <summary>A snapshot of the libp2p resource manager: its limits, what each scope holds, and what it refused.</summary>
public sealed record Libp2pResourceUsage
{
    /// <summary>The limits in force.</summary>
    public required Libp2pResourceLimits Limits { get; init; }

    /// <summary>The whole node.</summary>
    public required Libp2pScopeUsage System { get; init; }

    /// <summary>Streams open whose protocol is not agreed yet (multistream-select under way); counted in <see cref="System"/> too.</summary>
    public int TransientStreams { get; init; }

    /// <summary>Each peer with a connection.</summary>
    public required IReadOnlyDictionary<Libp2pPeerId, Libp2pScopeUsage> Peers { get; init; }

    /// <summary>Each protocol with a stream open (connections are 0).</summary>
    public required IReadOnlyDictionary<string, Libp2pScopeUsage> Protocols { get; init; }

    /// <summary>Refusals since the node started, by limit (a <see cref="Libp2pResourceLimits"/> property name).</summary>
    public required IReadOnlyDictionary<string, long> Refused { get; init; }
}
