using System.Net;
using PeerNet.Storage;

namespace PeerNet.Swarm;

/// <summary>Settings of a session: the listening port and the limits shared by all its torrents.</summary>
internal sealed record SessionOptions
{
    /// <summary>Where to listen for peers; port 0 picks a free one. Default: every IPv4 and IPv6 address.</summary>
    public IPEndPoint ListenEndPoint { get; init; } = new(IPAddress.IPv6Any, 0);

    /// <summary>Most peer connections over all torrents.</summary>
    public int MaxConnections { get; init; } = 200;

    /// <summary>Most outgoing connections being set up at once (half-open).</summary>
    public int MaxHalfOpen { get; init; } = 8;

    /// <summary>Most incoming connections still in their handshake; more are closed at once (slowloris).</summary>
    public int MaxPendingHandshakes { get; init; } = 32;

    /// <summary>Most of those from one IP address; more from it are closed at once (default a quarter of 32).</summary>
    public int MaxPendingHandshakesPerAddress { get; init; } = 8;

    /// <summary>Time allowed for a handshake, each way.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The byte and time limits on reading an incoming connection's first bytes to choose its protocol.</summary>
    public Transport.ConnectionRouterOptions RouterOptions { get; init; } = new();

    /// <summary>Time allowed to connect to a peer.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Upload limit in bytes per second over all torrents; 0 for none.</summary>
    public long UploadRateLimit { get; init; }

    /// <summary>Download limit in bytes per second over all torrents; 0 for none.</summary>
    public long DownloadRateLimit { get; init; }

    /// <summary>Per-peer budgets and the dial policy, shared by every torrent of the session.</summary>
    public PeerLimits PeerLimits { get; init; } = new();

    /// <summary>
    /// Message Stream Encryption of peer connections. Default here: disabled (the node passes its own options, enabled by
    /// default; a session made directly, as in tests, speaks plain BitTorrent unless told otherwise).
    /// </summary>
    public EncryptionOptions Encryption { get; init; } = new() { Policy = EncryptionPolicy.Disabled };

    /// <summary>
    /// The node's libp2p identity: with one, the port also answers libp2p (a first message of <c>/multistream/1.0.0</c>)
    /// with a Noise handshake proving it; null (sessions made directly, as in tests) for none. The caller disposes it.
    /// </summary>
    public PeerNet.Libp2p.NodeIdentity? Identity { get; init; }

    /// <summary>Hashing workers; 0 uses every core.</summary>
    public int HashingThreads { get; init; }

    /// <summary>
    /// A running Mainline DHT node the session's torrents announce to and find peers through (and magnet links
    /// fetch their metadata with); null for none. The caller starts and disposes it.
    /// </summary>
    public PeerNet.Discovery.Dht.DhtNode? Dht { get; init; }

    /// <summary>
    /// The IPv6 DHT node beside <see cref="Dht"/>'s IPv4 one (BEP 32: a routing table per family), when the node
    /// listens on both families; torrents announce and look up on both. Null for none.
    /// </summary>
    public PeerNet.Discovery.Dht.DhtNode? Dht6 { get; init; }

    /// <summary><see cref="Dht"/> and <see cref="Dht6"/>, those that are set.</summary>
    public IEnumerable<PeerNet.Discovery.Dht.DhtNode> DhtNodes => new[] { Dht, Dht6 }.OfType<PeerNet.Discovery.Dht.DhtNode>();

    /// <summary>The session disposes <see cref="Dht"/> and <see cref="Dht6"/> after its torrents (the CLI's sessions own theirs).</summary>
    public bool OwnsDht { get; init; }

    /// <summary>
    /// Local Service Discovery (BEP 14): multicast announces of the session's public torrents on the local network
    /// (239.192.152.143:6771 and [ff15::efc0:988f]:6771, TTL 1), and peers found from other nodes' announces. Default:
    /// off, because it sends onto the host's real network; the CLI turns it on (<c>--no-lsd</c> turns it off). Private
    /// torrents never use it.
    /// </summary>
    public bool LocalDiscovery { get; init; }

    /// <summary>
    /// BEP 55 ut_holepunch: advertised in the extension handshake of public torrents; the session relays rendezvous
    /// between its peers, asks a peer that told it of an unreachable one (by PEX) to relay, and dials over uTP at once
    /// when a relay says connect. Default: on (libtorrent's default too).
    /// </summary>
    public bool Holepunch { get; init; } = true;

    /// <summary>
    /// Dials over uTP only, whatever the dialer remembers of the peer: the holepunch dial (both ends send their SYNs at
    /// once so both NATs open). Null: holepunch dials go through the session's transport (in-memory tests).
    /// </summary>
    internal Func<IPEndPoint, CancellationToken, ValueTask<Transport.IDuplexConnection>>? UtpDialer { get; init; }

    /// <summary>Where the session logs (peer events at Debug, what an operator should see at Information and up); null logs nothing.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Makes the meter the session counts on; null for a meter of its own.</summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; init; }

    /// <summary>The clock every timeout and rate uses.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>The node's UDP sockets, one per family on the listening port: UDP trackers are asked from them. Empty: each UDP tracker has a socket of its own.</summary>
    internal IReadOnlyList<Transport.DatagramDemux> Datagrams { get; init; } = [];

    /// <summary>Tracker timing and limits (tests shorten the BEP 15 waits).</summary>
    internal Discovery.Trackers.TrackerClientOptions TrackerOptions { get; init; } = new();

    /// <summary>The multicast groups LSD joins: null for real UDP on <see cref="ListenEndPoint"/>'s interface; tests give an in-memory one.</summary>
    internal Transport.IMulticastTransport? LocalDiscoveryTransport { get; init; }

    /// <summary>LSD timing and limits (tests shorten them).</summary>
    internal Discovery.Lsd.LsdOptions LocalDiscoveryOptions { get; init; } = new();
}

/// <summary>Settings of one torrent in a session.</summary>
internal sealed record TorrentOptions
{
    /// <summary>Peers to connect to at start.</summary>
    public IReadOnlyList<IPEndPoint> Peers { get; init; } = [];

    /// <summary>Where resume data is kept; null keeps none (every start checks the files).</summary>
    public string? ResumeDirectory { get; init; }

    /// <summary>Check every piece on disk even if resume data says it is verified.</summary>
    public bool Recheck { get; init; }

    /// <summary>Most peers connected to this torrent.</summary>
    public int MaxConnections { get; init; } = 50;

    /// <summary>Most peer addresses remembered.</summary>
    public int MaxKnownPeers { get; init; } = 2000;

    /// <summary>Peers unchoked at once (one of them optimistic); 0 unchokes every interested peer.</summary>
    public int UploadSlots { get; init; } = 4;

    /// <summary>Most requests in flight to one peer (within its <c>reqq</c>); the <c>reqq</c> we announce is <see cref="PeerLimits.MaxQueuedUploads"/>.</summary>
    public int MaxRequestsPerPeer { get; init; } = 500;

    /// <summary>Memory for pieces being downloaded (each held whole until verified and written).</summary>
    public long MaxPieceBufferBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// One priority per file of the torrent (0 skips the file, 1–7 order it, higher first; 4 is normal), or null
    /// for every file at normal priority. The torrent completes once every piece of a wanted file is verified.
    /// </summary>
    public IReadOnlyList<int>? FilePriorities { get; init; }

    /// <summary>Fetch new pieces in index order (for streaming) rather than rarest first.</summary>
    public bool Sequential { get; init; }

    /// <summary>
    /// Announce to the torrent's trackers (BEP 3, 12, 15). Default: on. Off keeps the torrent to the peers it is
    /// given (and, later, to DHT and peer exchange).
    /// </summary>
    public bool UseTrackers { get; init; } = true;

    /// <summary>Announce to and look up peers in the session's DHT (when it has one). Default: on; private torrents never do.</summary>
    public bool UseDht { get; init; } = true;

    /// <summary>
    /// Announce to and find peers on the local network (BEP 14), when the session has <see cref="SessionOptions.LocalDiscovery"/>
    /// on. Default: on; private torrents never do.
    /// </summary>
    public bool UseLocalDiscovery { get; init; } = true;

    /// <summary>How often peers hear our peer-list changes over BEP 11 peer exchange (about once a minute, as BEP 11 asks).</summary>
    public TimeSpan PexInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// BEP 16 super-seeding, for the first seed of a new torrent whose upload is the swarm's bottleneck: while this
    /// torrent has every piece, each peer that connects is shown only a few pieces at a time (half a second of upload to
    /// a peer we unchoke, one piece to the others), chosen so that every piece is sent once before any is sent twice; the
    /// peers spread them among themselves. Costs nothing when we are the only source; pointless once other seeds
    /// exist. Default: off.
    /// </summary>
    public bool SuperSeeding { get; init; }

    /// <summary>Wait before redialling an address whose dial failed, doubled with each failure in a row (tests shorten it).</summary>
    internal TimeSpan RedialDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Wait before redialling a peer whose connection ended (libtorrent waits 60 s; tests shorten it).</summary>
    internal TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>This torrent's upload limit in bytes per second, on top of the session's; 0 for none.</summary>
    public long UploadRateLimit { get; init; }

    /// <summary>This torrent's download limit in bytes per second, on top of the session's; 0 for none.</summary>
    public long DownloadRateLimit { get; init; }

    /// <summary>Seed for piece-selection randomness (tests); null for random.</summary>
    public int? RandomSeed { get; init; }

    internal IProgress<CheckProgress>? CheckProgress { get; init; }
}
