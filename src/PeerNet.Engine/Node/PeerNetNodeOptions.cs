using System.Net;

namespace PeerNet;

/// <summary>How a <see cref="PeerNetNode"/> runs: where it listens and keeps its state, what it discovers peers with, and its limits.</summary>
public sealed record PeerNetNodeOptions
{
    /// <summary>The address to listen on for peers: every IPv4 and IPv6 address by default.</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.IPv6Any;

    /// <summary>
    /// The port of the node, TCP and UDP on the same number: peers reach every torrent on it, the DHT runs on it and UDP
    /// trackers are asked from it. 0 picks a port free for both. Default 6881.
    /// </summary>
    public int ListenPort { get; init; } = 6881;

    /// <summary>
    /// Where the node keeps what outlives it: the DHT's node ID and routing table, and each torrent's resume data (so a
    /// restart fetches no verified piece again). Null keeps nothing: every start checks the files and joins the DHT anew.
    /// The library reads and writes no other place.
    /// </summary>
    public string? StateDirectory { get; init; }

    /// <summary>Where resume data goes; null for <c>resume</c> under <see cref="StateDirectory"/> (none without a state folder).</summary>
    public string? ResumeDirectory { get; init; }

    /// <summary>Join the Mainline DHT (BEP 5) to find peers without trackers. Default: on.</summary>
    public bool Dht { get; init; } = true;

    /// <summary>
    /// The bytes of disk this node lends to other peers' encrypted shares (the storage grid, <c>/peernet/store/1.0.0</c>,
    /// docs/storage.md), kept under <see cref="StateDirectory"/> in <c>grid/</c>. 0, the default, lends nothing (the
    /// protocol is not served); a quota needs a state folder.
    /// </summary>
    public long StorageShareBytes { get; init; }

    /// <summary>
    /// The peers allowed to place shares in the space this node lends (<see cref="StorageShareBytes"/>): a grid of
    /// friends, as Tahoe-LAFS grids are. Empty, the default, lets any peer allocate within the quota. A peer not listed
    /// is refused with the reason before any byte is taken; reading, checking and renewing shares stay open to anyone
    /// who knows their storage index (audits and repair by a verify capability need that).
    /// </summary>
    public IReadOnlyCollection<Libp2p.Libp2pPeerId> StorageAllowedPeers { get; init; } = [];

    /// <summary>
    /// The schedule on which the node maintains the files it put into the storage grid: leases renewed on their
    /// providers, providers audited, lost shares repaired (docs/storage.md). On by default (a 31-day lease renewed every
    /// 7 days, an audit every 7 days); <see cref="Grid.GridMaintenanceOptions.Off"/> turns it off.
    /// </summary>
    public Grid.GridMaintenanceOptions GridMaintenance { get; init; } = new();

    /// <summary>
    /// The budget of the node's libp2p side (a resource manager as go-libp2p's): connections, streams per peer and per
    /// protocol, and the stream memory peers can make the node hold; over a limit, a stream is reset and a connection
    /// closed (docs/libp2p.md). The defaults are go-libp2p's base limits.
    /// </summary>
    public Libp2p.Libp2pResourceLimits Libp2pLimits { get; init; } = Libp2p.Libp2pResourceLimits.Default;

    /// <summary>
    /// The gossipsub router's parameters (<see cref="Libp2p.Libp2pService.Pubsub"/>): mesh degrees, heartbeat, gossip,
    /// backoffs, peer scoring and its thresholds, with per-topic score parameters. The defaults are the spec's and
    /// js-libp2p's.
    /// </summary>
    public Libp2p.GossipsubOptions Gossipsub { get; init; } = Libp2p.GossipsubOptions.Default;

    /// <summary>DHT nodes to join through (HOST:PORT); null for the public routers (router.bittorrent.com and others).</summary>
    public IReadOnlyList<string>? DhtBootstrapNodes { get; init; }

    /// <summary>
    /// Local service discovery (BEP 14): multicast announces on the local network. Default: off, because it sends onto
    /// the host's real network; an application that wants LAN peers turns it on.
    /// </summary>
    public bool LocalDiscovery { get; init; }

    /// <summary>Announce to the trackers torrents name. Default: on.</summary>
    public bool Trackers { get; init; } = true;

    /// <summary>Upload limit over every torrent, in bytes per second; 0 for none.</summary>
    public long UploadRateLimit { get; init; }

    /// <summary>Download limit over every torrent, in bytes per second; 0 for none.</summary>
    public long DownloadRateLimit { get; init; }

    /// <summary>Most peer connections over every torrent. Default 200.</summary>
    public int MaxConnections { get; init; } = 200;

    /// <summary>Most outgoing connections being set up at once. Default 8.</summary>
    public int MaxHalfOpen { get; init; } = 8;

    /// <summary>Per-peer budgets and the dial policy (docs/security.md).</summary>
    public PeerLimits PeerLimits { get; init; } = new();

    /// <summary>Message Stream Encryption of peer connections (MSE/PE): policy, levels, preference. Default: enabled, both levels.</summary>
    public EncryptionOptions Encryption { get; init; } = new();

    /// <summary>
    /// Port mapping on the home router (PCP, falling back to NAT-PMP, and UPnP) for the node's TCP and UDP port, and the
    /// external address it learns (<see cref="PeerNetNode.PortMapping"/>). Default: all on, as libtorrent 2; <see cref="PortMappingOptions.None"/>
    /// turns it off. A node listening on a loopback address never maps.
    /// </summary>
    public PortMappingOptions PortMapping { get; init; } = new();

    /// <summary>
    /// uTP (BEP 29, with LEDBAT) on the node's UDP socket: whether peers are dialed over it first and accepted over it.
    /// Default: both on, as libtorrent.
    /// </summary>
    public UtpOptions Utp { get; init; } = new();

    /// <summary>
    /// Dial peers over TCP (libtorrent's <c>enable_outgoing_tcp</c>): when uTP is tried first, TCP is the fallback; off,
    /// peers are reached over uTP only. Incoming TCP is always accepted. Default: on.
    /// </summary>
    public bool OutgoingTcp { get; init; } = true;

    /// <summary>
    /// BEP 55 ut_holepunch (docs/utp.md): relay rendezvous between connected peers, ask a peer that named an unreachable
    /// one by PEX to relay, and dial over uTP at once when told to connect, so two peers behind NATs reach each other.
    /// Only with uTP on. Default: on.
    /// </summary>
    public bool Holepunch { get; init; } = true;

    /// <summary>Events buffered for each watcher of <see cref="PeerNetNode.WatchEventsAsync"/> before the oldest are dropped. Default 4096.</summary>
    public int EventBufferSize { get; init; } = 4096;

    /// <summary>Threads hashing pieces; 0 uses every core.</summary>
    public int HashingThreads { get; init; }

    /// <summary>The problems with these options, in words a user can act on; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (ListenAddress is null)
        {
            problems.Add("ListenAddress is required");
        }

        if (ListenPort is < 0 or > 65535)
        {
            problems.Add($"ListenPort {ListenPort} is not a port: give 1 to 65535, or 0 for any free one");
        }

        if (UploadRateLimit < 0 || DownloadRateLimit < 0)
        {
            problems.Add("rate limits cannot be negative (0 means none)");
        }

        if (MaxConnections < 1 || MaxHalfOpen < 1)
        {
            problems.Add("MaxConnections and MaxHalfOpen must be at least 1");
        }

        if (StorageShareBytes < 0 || (StorageShareBytes > 0 && StateDirectory is null))
        {
            problems.Add("StorageShareBytes must be 0 (lend nothing) or a positive size with a StateDirectory to keep the shares in");
        }

        if (GridMaintenance is null)
        {
            problems.Add("GridMaintenance is required (GridMaintenanceOptions.Off turns it off)");
        }
        else
        {
            problems.AddRange(GridMaintenance.Validate());
        }

        if (Libp2pLimits is null)
        {
            problems.Add("Libp2pLimits is required (Libp2pResourceLimits.Default for the defaults)");
        }
        else
        {
            problems.AddRange(Libp2pLimits.Validate());
        }

        if (Gossipsub is null)
        {
            problems.Add("Gossipsub is required (GossipsubOptions.Default for the defaults)");
        }
        else
        {
            try
            {
                Gossipsub.Validate();
            }
            catch (ArgumentException e)
            {
                problems.Add($"Gossipsub: {e.Message}");
            }
        }

        if (EventBufferSize < 1)
        {
            problems.Add("EventBufferSize must be at least 1");
        }

        if (HashingThreads < 0)
        {
            problems.Add("HashingThreads cannot be negative (0 uses every core)");
        }

        if (PeerLimits is null)
        {
            problems.Add("PeerLimits is required");
        }

        if (Utp is null)
        {
            problems.Add("Utp is required");
        }
        else if (Utp.TargetDelay <= TimeSpan.Zero || Utp.TargetDelay > TimeSpan.FromSeconds(10))
        {
            problems.Add($"Utp.TargetDelay {Utp.TargetDelay.TotalMilliseconds} ms is not usable: give 1 ms to 10 s (100 ms is libtorrent's)");
        }

        if (Utp is not null && (Utp.ConnectTimeout < TimeSpan.FromMilliseconds(100) || Utp.ConnectTimeout > TimeSpan.FromMinutes(2)))
        {
            problems.Add($"Utp.ConnectTimeout {Utp.ConnectTimeout.TotalMilliseconds} ms is not usable: give 100 ms to 2 min (3 s is libtorrent's)");
        }

        if (Utp is not null && (Utp.TcpFallbackDelay < TimeSpan.Zero || Utp.TcpFallbackDelay > TimeSpan.FromMinutes(2)))
        {
            problems.Add($"Utp.TcpFallbackDelay {Utp.TcpFallbackDelay.TotalMilliseconds} ms is not usable: give 0 to 2 min (500 ms by default)");
        }

        if (!OutgoingTcp && Utp is { Outgoing: false })
        {
            problems.Add("with OutgoingTcp and Utp.Outgoing both off the node can dial no peer");
        }

        if (Encryption is null)
        {
            problems.Add("Encryption is required");
        }
        else if (!Enum.IsDefined(Encryption.Policy) || !Enum.IsDefined(Encryption.Level))
        {
            problems.Add("Encryption.Policy and Encryption.Level must be one of their named values");
        }

        if (PortMapping is null)
        {
            problems.Add("PortMapping is required (PortMappingOptions.None turns it off)");
        }
        else if (PortMapping.UpnpLeaseSeconds is < 0 or > 604800 || PortMapping.NatPmpLifetimeSeconds is < 60 or > 604800)
        {
            problems.Add("PortMapping.UpnpLeaseSeconds must be 0 (permanent) to 604800, and NatPmpLifetimeSeconds 60 to 604800");
        }

        return problems;
    }
}

/// <summary>The node's uTP (BEP 29): micro transport protocol over UDP with LEDBAT congestion control, on the node's port.</summary>
public sealed record UtpOptions
{
    /// <summary>
    /// Dial peers over uTP first, as libtorrent's <c>enable_outgoing_utp</c>, with TCP tried beside it once uTP has not
    /// answered within <see cref="TcpFallbackDelay"/> (the first connected wins). Default: on, as libtorrent. A peer that
    /// speaks only TCP costs little: on Linux its closed UDP port's ICMP "port unreachable" fails the uTP connect at once,
    /// and a peer that answers with a reset does too; a peer whose UDP is silently dropped costs the head start
    /// (docs/utp.md). Such a peer is dialed over TCP straight away for the next ten minutes.
    /// </summary>
    public bool Outgoing { get; init; } = true;

    /// <summary>
    /// How long a uTP connect waits for the answer to its SYN (sent again after 1 s and 2 s) before it gives up and the
    /// peer is dialed over TCP. Default 3 s, as libtorrent's <c>utp_connect_timeout</c>.
    /// </summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long a uTP dial has the peer to itself before TCP is dialed beside it (when <see cref="PeerNetNodeOptions.OutgoingTcp"/>
    /// is on): a head start, as Happy Eyeballs (RFC 8305) gives IPv6. Default 500 ms: an answer to uTP's SYN takes one round
    /// trip, so uTP still wins unless its SYN was lost, while a peer that silently ignores uTP (libtorrent and aria2 with uTP
    /// off) is reached over TCP half a second later instead of after <see cref="ConnectTimeout"/>, which is when libtorrent
    /// falls back. <see cref="ConnectTimeout"/> or more: TCP only after uTP has given up, as libtorrent.
    /// </summary>
    public TimeSpan TcpFallbackDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Accept uTP connections on the node's UDP port, as libtorrent's <c>enable_incoming_utp</c>. Default: on.</summary>
    public bool Incoming { get; init; } = true;

    /// <summary>
    /// LEDBAT's target queuing delay: uTP backs off when its packets wait longer than this in queues, leaving the link to
    /// TCP and interactive traffic. Default 100 ms, as libtorrent's <c>utp_target_delay</c>.
    /// </summary>
    public TimeSpan TargetDelay { get; init; } = TimeSpan.FromMilliseconds(100);
}
