using System.Net;
using System.Net.Sockets;
using PeerNet.Discovery.Dht;

namespace PeerNet;

/// <summary>
/// What <see cref="PeerNetNode.Diagnose"/> finds about the node's reachability: where it listens, its port mapping, the
/// external address and who told it, which incoming connections reached it and when, the DHT's health, libp2p, and one
/// plain sentence per problem with what to do about it (<see cref="Problems"/>). What <c>peernet doctor</c> prints.
/// </summary>
public sealed record ConnectivityReport
{
    /// <summary>When the report was made (on the node's clock).</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>When the node started (on the node's clock).</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>The port number the node listens on, TCP and UDP alike.</summary>
    public int ListenPort { get; init; }

    /// <summary>The TCP listener's address and port (an IPv6 wildcard takes IPv4 too).</summary>
    public IReadOnlyList<IPEndPoint> TcpEndPoints { get; init; } = [];

    /// <summary>The UDP sockets (DHT, uTP, UDP trackers), one per address family.</summary>
    public IReadOnlyList<IPEndPoint> UdpEndPoints { get; init; } = [];

    /// <summary>Whether incoming uTP connections are accepted on the UDP sockets.</summary>
    public bool UtpIncoming { get; init; }

    /// <summary>The port mapping on the home router: protocol, external address and ports, last problem.</summary>
    public PortMappingStatus PortMapping { get; init; } = PortMappingStatus.Off;

    /// <summary>Every external address the node was told of, one per source (and family), most trusted source first.</summary>
    public IReadOnlyList<ExternalAddressReport> ExternalAddresses { get; init; } = [];

    /// <summary>Incoming TCP connections that reached the node.</summary>
    public InboundReport InboundTcp { get; init; } = new();

    /// <summary>Incoming uTP connections that reached the node.</summary>
    public InboundReport InboundUtp { get; init; } = new();

    /// <summary>uTP on the node's UDP sockets: connections, the half-open table and its limits, SYNs answered and refused.</summary>
    public UtpReport Utp { get; init; } = new();

    /// <summary>The IPv4 DHT node's health, or null without one (DHT off, or an IPv6-only node).</summary>
    public DhtHealthReport? Dht { get; init; }

    /// <summary>The IPv6 DHT node's health, or null without one.</summary>
    public DhtHealthReport? Dht6 { get; init; }

    /// <summary>The node's libp2p listen addresses (multiaddrs).</summary>
    public IReadOnlyList<string> Libp2pListenAddresses { get; init; } = [];

    /// <summary>libp2p peers connected now.</summary>
    public int Libp2pConnectedPeers { get; init; }

    /// <summary>
    /// The libp2p resource manager: its limits, what the node holds against them and what it refused since start
    /// (<see cref="Libp2p.Libp2pService.Resources"/>); null without libp2p.
    /// </summary>
    public Libp2p.Libp2pResourceUsage? Libp2pResources { get; init; }

    /// <summary>BitTorrent peer connections open now, over every torrent.</summary>
    public int Connections { get; init; }

    /// <summary>Torrents in the node (without any, no peer has a reason to connect in).</summary>
    public int Torrents { get; init; }

    /// <summary>BEP 55 holepunching since the node started: what it relayed for others and what it asked for itself.</summary>
    public HolepunchReport Holepunch { get; init; } = new();

    /// <summary>The problems found, most serious first; empty when all looks well.</summary>
    public IReadOnlyList<ConnectivityProblem> Problems { get; init; } = [];

    /// <summary>How long the node had been running when the report was made.</summary>
    public TimeSpan Uptime => At - StartedAt;
}

/// <summary>How the node learned an external address.</summary>
public enum ExternalAddressSource
{
    /// <summary>The home router, when mapping the port (PCP, NAT-PMP or UPnP).</summary>
    PortMapping,

    /// <summary>DHT nodes' replies (BEP 42 <c>ip</c>), once two agree.</summary>
    Dht,

    /// <summary>Peers' extension handshakes (BEP 10 <c>yourip</c>): the address most peers on the internet see.</summary>
    Peers,

    /// <summary>Trackers on the internet (BEP 24 <c>external ip</c> in announce replies): the address most of them saw.</summary>
    Tracker,
}

/// <summary>An external address the node was told of.</summary>
/// <param name="Address">The address.</param>
/// <param name="Source">Who told the node.</param>
/// <param name="Reports">How many said so (peers agreeing), 1 for the router and the DHT's majority.</param>
public sealed record ExternalAddressReport(IPAddress Address, ExternalAddressSource Source, int Reports);

/// <summary>Incoming connections that reached one listener of the node since it started.</summary>
public sealed record InboundReport
{
    /// <summary>Connections from IPv4 addresses.</summary>
    public long IPv4 { get; init; }

    /// <summary>Connections from IPv6 addresses.</summary>
    public long IPv6 { get; init; }

    /// <summary>When the last one came, from anywhere (loopback and the LAN included), or null.</summary>
    public DateTimeOffset? Last { get; init; }

    /// <summary>When the last one from an address on the internet came (what proves the port is reachable from outside), or null.</summary>
    public DateTimeOffset? LastFromInternet { get; init; }

    /// <summary>Every connection counted.</summary>
    public long Total => IPv4 + IPv6;
}

/// <summary>
/// uTP since the node started, summed over its UDP sockets (one per address family), with the limits that bound what
/// strangers' SYNs can cost it (docs/utp.md, "Connection set-up and the anti-amplification rule").
/// </summary>
public sealed record UtpReport
{
    /// <summary>uTP connections open now, both ways.</summary>
    public int Connections { get; init; }

    /// <summary>Incoming connections established (their initiator acked our answer to its SYN).</summary>
    public long Accepted { get; init; }

    /// <summary>Half-open entries now: SYNs answered whose senders have not yet shown they receive at their address.</summary>
    public int HalfOpen { get; init; }

    /// <summary>The most half-open entries held at once (on one socket) since the node started.</summary>
    public int HalfOpenPeak { get; init; }

    /// <summary>The half-open table's size per socket.</summary>
    public int MaxHalfOpen { get; init; }

    /// <summary>Of those, from one address at most.</summary>
    public int MaxHalfOpenPerAddress { get; init; }

    /// <summary>SYNs that named no connection of the node's, answered or not.</summary>
    public long SynsReceived { get; init; }

    /// <summary>SYNs dropped unanswered because the half-open table, or their address's share of it, was full.</summary>
    public long SynsRefused { get; init; }

    /// <summary>uTP bytes of the SYNs received (UDP payload).</summary>
    public long SynBytes { get; init; }

    /// <summary>Answers sent to SYNs.</summary>
    public long SynAnswers { get; init; }

    /// <summary>uTP bytes of those answers: never more than <see cref="SynBytes"/> (no amplification).</summary>
    public long SynAnswerBytes { get; init; }
}

/// <summary>One DHT node's health.</summary>
public sealed record DhtHealthReport
{
    /// <summary>The family of its socket and routing table.</summary>
    public AddressFamily Family { get; init; }

    /// <summary>Nodes in the routing table.</summary>
    public int Nodes { get; init; }

    /// <summary>Nodes heard from in the last 15 minutes.</summary>
    public int GoodNodes { get; init; }

    /// <summary>Where joining stands.</summary>
    public DhtBootstrapState Bootstrap { get; init; }

    /// <summary>When some node last answered a lookup, or null.</summary>
    public DateTimeOffset? LastLookupAnswered { get; init; }

    /// <summary>Lookups started since the node did.</summary>
    public long Lookups { get; init; }
}

/// <summary>How serious a <see cref="ConnectivityProblem"/> is.</summary>
public enum ConnectivitySeverity
{
    /// <summary>Worth knowing; the node works.</summary>
    Notice,

    /// <summary>The node works less well than it could (fewer peers, slower).</summary>
    Warning,

    /// <summary>Peers cannot reach the node, or it cannot reach them.</summary>
    Error,
}

/// <summary>What kind of problem a <see cref="ConnectivityProblem"/> is.</summary>
public enum ConnectivityProblemKind
{
    /// <summary>The node listens on a loopback address only.</summary>
    LoopbackOnly,

    /// <summary>No incoming connection from the internet for a while, with torrents to be found by, and no port mapping.</summary>
    NotReachable,

    /// <summary>A port mapping is in place, yet no incoming connection from the internet for a while.</summary>
    MappedButNoInbound,

    /// <summary>Port mapping was tried and failed.</summary>
    PortMappingFailed,

    /// <summary>Port mapping is off and nothing came in yet.</summary>
    PortMappingOff,

    /// <summary>The router mapped another external port than the node's.</summary>
    MappedPortDiffers,

    /// <summary>The router's external address is not a public one: a second router or carrier-grade NAT.</summary>
    DoubleNat,

    /// <summary>The router's external address differs from the one the internet sees.</summary>
    ExternalAddressMismatch,

    /// <summary>TCP comes in, uTP does not: UDP looks blocked.</summary>
    NoInboundUtp,

    /// <summary>The DHT is off.</summary>
    DhtOff,

    /// <summary>A DHT node has no nodes in its table.</summary>
    DhtNoNodes,

    /// <summary>No DHT lookup was answered for a while.</summary>
    DhtNoRecentLookup,

    /// <summary>The node holds 90% or more of a node-wide libp2p limit (connections, streams or stream memory).</summary>
    Libp2pLimitNear,

    /// <summary>The libp2p resource manager refused connections or streams since the node started.</summary>
    Libp2pLimitRefused,
}

/// <summary>A problem with the node's connectivity, and what to do about it, in one sentence.</summary>
/// <param name="Kind">What kind of problem.</param>
/// <param name="Severity">How serious.</param>
/// <param name="Message">The sentence for the user: what is wrong, then what to do.</param>
public sealed record ConnectivityProblem(ConnectivityProblemKind Kind, ConnectivitySeverity Severity, string Message);

/// <summary>BEP 55 ut_holepunch counts since the node started (docs/utp.md).</summary>
public sealed record HolepunchReport
{
    /// <summary>Rendezvous peers asked of this node, as a relay.</summary>
    public long RendezvousReceived { get; init; }

    /// <summary>Rendezvous relayed: a connect sent to both peers.</summary>
    public long Relayed { get; init; }

    /// <summary>Rendezvous answered with an error (no such peer, not connected, no support, no self).</summary>
    public long ErrorsSent { get; init; }

    /// <summary>Rendezvous dropped: the peer sent more than 8 in a minute.</summary>
    public long RateLimited { get; init; }

    /// <summary>Rendezvous this node sent, asking a peer to relay to one it could not dial.</summary>
    public long RendezvousSent { get; init; }

    /// <summary>Errors relays answered this node's rendezvous with.</summary>
    public long ErrorsReceived { get; init; }

    /// <summary>Connect messages relays sent this node.</summary>
    public long ConnectsReceived { get; init; }

    /// <summary>Holepunch dials (over uTP, on a connect) that ended in a connection.</summary>
    public long Connected { get; init; }

    /// <summary>Holepunch dials that failed.</summary>
    public long ConnectFailed { get; init; }
}
