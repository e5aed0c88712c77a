using System.Net;

namespace PeerNet.Discovery.Dht;

/// <summary>A snapshot of a <see cref="DhtNode"/>'s routing table and traffic, for <c>peernet dht</c> and metrics.</summary>
/// <param name="NodeId">This node's ID, 40 hex characters.</param>
/// <param name="Nodes">Entries in the routing table.</param>
/// <param name="Buckets">Buckets in the routing table.</param>
/// <param name="GoodNodes">Entries heard from in the last 15 minutes.</param>
/// <param name="QuestionableNodes">Entries silent for 15 minutes, not yet failed.</param>
/// <param name="BadNodes">Entries that failed queries in a row.</param>
/// <param name="ReplacementNodes">Nodes waiting in replacement caches.</param>
/// <param name="StoredInfoHashes">Info-hashes with peers announced to this node.</param>
/// <param name="StoredPeers">Peers announced to this node.</param>
/// <param name="ExternalAddress">This node's address as most responders report it (BEP 42 <c>ip</c>), if known.</param>
/// <param name="QueriesSent">Queries sent.</param>
/// <param name="QueriesReceived">Queries received and accepted for answering.</param>
/// <param name="QueriesDropped">Queries dropped by the per-address rate limit or for being malformed without a reply.</param>
public sealed record DhtStats(
    string NodeId,
    int Nodes,
    int Buckets,
    int GoodNodes,
    int QuestionableNodes,
    int BadNodes,
    int ReplacementNodes,
    int StoredInfoHashes,
    int StoredPeers,
    IPAddress? ExternalAddress,
    long QueriesSent,
    long QueriesReceived,
    long QueriesDropped)
{
    /// <summary>Iterative lookups started (find_node, get_peers and get, the node's own upkeep included).</summary>
    public long Lookups { get; init; }

    /// <summary>Iterative lookups running now.</summary>
    public int ActiveLookups { get; init; }

    /// <summary>When a lookup was last answered by some node (on the node's clock), or null if none was yet.</summary>
    public DateTimeOffset? LastLookupAnswered { get; init; }

    /// <summary>Where joining the DHT stands: the last bootstrap's outcome.</summary>
    public DhtBootstrapState Bootstrap { get; init; }
}
