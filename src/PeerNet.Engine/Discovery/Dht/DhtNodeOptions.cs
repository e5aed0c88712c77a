using System.Net;

namespace PeerNet.Discovery.Dht;

/// <summary>Settings of a <see cref="DhtNode"/>. Every bound has a default; tests on loopback relax a few.</summary>
public sealed record DhtNodeOptions
{
    /// <summary>The well-known public routers used when no bootstrap nodes are configured.</summary>
    public static IReadOnlyList<string> DefaultBootstrapNodes { get; } =
        ["router.bittorrent.com:6881", "dht.transmissionbt.com:6881", "router.utorrent.com:6881"];

    /// <summary>
    /// Where the UDP socket binds (default 0.0.0.0:6881). An IPv4 address runs the IPv4 DHT, an IPv6 address the
    /// IPv6 DHT of BEP 32 (<c>nodes6</c>); run one node per family for both.
    /// </summary>
    public IPEndPoint BindEndPoint { get; init; } = new(IPAddress.Any, 6881);

    /// <summary>Bootstrap nodes as <c>HOST:PORT</c> (names are resolved); default <see cref="DefaultBootstrapNodes"/>.</summary>
    public IReadOnlyList<string> BootstrapNodes { get; init; } = DefaultBootstrapNodes;

    /// <summary>File keeping the node ID and routing-table nodes across restarts; null keeps nothing.</summary>
    public string? StatePath { get; init; }

    /// <summary>BEP 43 read-only: send <c>ro=1</c>, answer no queries, stay out of other nodes' tables.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>
    /// At most one routing-table entry per IP address (BEP 42), default true. Turn off only for tests where
    /// several nodes share one loopback address.
    /// </summary>
    public bool RestrictRoutingAddresses { get; init; } = true;

    /// <summary>The node's external address, when known; its ID is then generated per BEP 42.</summary>
    public IPAddress? ExternalAddress { get; init; }

    /// <summary>k: nodes per bucket and per lookup result (BEP 5: 8).</summary>
    public int BucketSize { get; init; } = 8;

    /// <summary>Queries in flight per lookup (Kademlia's alpha: 3).</summary>
    public int Alpha { get; init; } = 3;

    /// <summary>How long to wait for a response before a query counts as failed (default 5 s).</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A lookup query unanswered this long (default 1 s) is "slow": the lookup sends another in its place and no
    /// longer waits for it to decide that it is done (its answer is still used if it comes in time). Without this,
    /// one dead node among the k closest holds every lookup for the whole <see cref="QueryTimeout"/>.
    /// </summary>
    public TimeSpan SlowQueryTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Most queries one lookup sends before it stops (default 64).</summary>
    public int MaxQueriesPerLookup { get; init; } = 64;

    /// <summary>Most queries of ours awaiting a response at once (default 512); more wait their turn.</summary>
    public int MaxOutstandingQueries { get; init; } = 512;

    /// <summary>Queries per second accepted from one IP address, sustained (default 10; burst 4x).</summary>
    public double QueriesPerSecondPerAddress { get; init; } = 10;

    /// <summary>Reply bytes per second sent to one IP address, sustained (default 20 KB; burst 4x).</summary>
    public double ReplyBytesPerSecondPerAddress { get; init; } = 20_000;

    /// <summary>Info-hashes whose peers this node stores (default 2,000).</summary>
    public int MaxStoredInfoHashes { get; init; } = 2_000;

    /// <summary>Peers stored per info-hash (default 200).</summary>
    public int MaxPeersPerInfoHash { get; init; } = 200;

    /// <summary>BEP 44 items this node stores for others (default 1,000; each at most 1000 bytes, kept 2 hours).</summary>
    public int MaxStoredItems { get; init; } = 1_000;

    /// <summary>How long an announced peer is kept (default 30 minutes, as libtorrent).</summary>
    public TimeSpan PeerLifetime { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How often the node checks its table, rotates nothing it need not, and saves its state (default 1 minute).</summary>
    public TimeSpan MaintenanceInterval { get; init; } = TimeSpan.FromMinutes(1);
}
