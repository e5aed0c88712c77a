using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Logging;
using PeerNet.Discovery.Dht;
using PeerNet.Grid;
using PeerNet.Libp2p;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet;

/// <summary>
/// A PeerNet node: client and server at once, one listening port for any number of torrents, one DHT node, one local
/// discovery service, one tracker client, one connection budget and one bandwidth limit shared by all its torrents.
/// Start it with <see cref="StartAsync(PeerNetNodeOptions, ILoggerFactory?, IMeterFactory?, TimeProvider?, CancellationToken)"/>,
/// add torrents with <see cref="AddTorrentAsync"/>, watch what happens with <see cref="WatchEventsAsync"/>, and dispose
/// it to stop (every torrent's resume data is saved, trackers hear <c>stopped</c>).
/// </summary>
/// <example>
/// <code>
/// await using PeerNetNode node = await PeerNetNode.StartAsync(new PeerNetNodeOptions { StateDirectory = "state" });
/// TorrentHandle torrent = await node.AddTorrentAsync(await TorrentSource.FromFileAsync("x.torrent"), new AddTorrentOptions { SavePath = "downloads" });
/// await torrent.WaitForCompletionAsync();
/// </code>
/// </example>
public sealed partial class PeerNetNode : IAsyncDisposable
{
    /// <summary>
    /// The name of the meter the node's instruments are on (made by the <see cref="IMeterFactory"/> given to
    /// <see cref="StartAsync(PeerNetNodeOptions, ILoggerFactory?, IMeterFactory?, TimeProvider?, CancellationToken)"/>):
    /// what an OpenTelemetry <c>AddMeter</c> or <c>dotnet-counters --counters</c> names.
    /// </summary>
    public const string MeterName = Diagnostics.PeerNetMetrics.MeterName;

    private readonly SwarmSession _session;
    private readonly DhtNode? _dht;
    private readonly DhtNode? _dht6;
    private readonly NodeEventHub _events;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _torrentsGate = new();
    private readonly List<TorrentHandle> _torrents = [];
    private readonly Dictionary<Sha1Hash, TorrentHandle> _bySwarmHash = []; // each torrent under every swarm hash it has
    private readonly Dictionary<long, TorrentHandle> _byId = [];
    private TorrentHandle[]? _torrentsSnapshot; // what Torrents hands out until the next add or removal
    private readonly ILogger _logger;
    private long _nextId;
    private int _disposed;

    private PeerNetNode(PeerNetNodeOptions options, SwarmSession session, DhtNode? dht, DhtNode? dht6, TimeProvider time, ILogger logger)
    {
        Options = options;
        _session = session;
        _dht = dht;
        _dht6 = dht6;
        _logger = logger;
        _events = new NodeEventHub(time, options.EventBufferSize);
        session.Connectivity.Learned = LearnedAddress; // announces tell trackers our public address of each family (BEP 7)
    }

    /// <summary>The node's options: those it was started with, and the rate limits as <see cref="SetRateLimits"/> last set them.</summary>
    public PeerNetNodeOptions Options { get => Volatile.Read(ref _options); private init => _options = value; }

    private PeerNetNodeOptions _options = null!;

    /// <summary>
    /// Changes the node's rate limits over all its torrents (bytes per second, 0 for none), at once: what
    /// <see cref="PeerNetNodeOptions.UploadRateLimit"/> and <see cref="PeerNetNodeOptions.DownloadRateLimit"/> set at start.
    /// Each torrent's own limits (<see cref="TorrentHandle.SetRateLimits"/>) apply as well.
    /// </summary>
    public void SetRateLimits(long uploadBytesPerSecond, long downloadBytesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(uploadBytesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(downloadBytesPerSecond);
        lock (_torrentsGate)
        {
            Volatile.Write(ref _options, _options with { UploadRateLimit = uploadBytesPerSecond, DownloadRateLimit = downloadBytesPerSecond });
            _session.UploadLimit.Rate = uploadBytesPerSecond;
            _session.DownloadLimit.Rate = downloadBytesPerSecond;
        }
    }

    /// <summary>The port peers reach every torrent of this node on: TCP, and UDP (DHT, tracker replies) on the same number.</summary>
    public int ListenPort => _session.ListenPort;

    /// <summary>The address and port the node listens on.</summary>
    public IPEndPoint LocalEndPoint => _session.LocalEndPoint!;

    /// <summary>
    /// The node's libp2p identity: its key pair and peer ID, kept as <c>identity.key</c> in
    /// <see cref="PeerNetNodeOptions.StateDirectory"/> (created on first start), or made afresh for a node without one.
    /// </summary>
    public NodeIdentity Identity { get; private init; } = null!;

    /// <summary>
    /// The node's DHT node, when <see cref="PeerNetNodeOptions.Dht"/> is on: on IPv4, unless the node listens on an IPv6
    /// address only.
    /// </summary>
    public DhtNode? Dht => _dht;

    /// <summary>
    /// The node's IPv6 DHT node beside <see cref="Dht"/> (BEP 32: a routing table and a node ID per family), when the
    /// DHT is on and the node listens on both families (<see cref="PeerNetNodeOptions.ListenAddress"/>
    /// <see cref="IPAddress.IPv6Any"/> on a host with IPv6); null otherwise. Torrents announce and look up on both; a
    /// query that asks for the other family's nodes (<c>want</c>) is answered from the other's table.
    /// </summary>
    public DhtNode? Dht6 => _dht6;

    /// <summary>The node's torrents, in the order they were added.</summary>
    public IReadOnlyList<TorrentHandle> Torrents
    {
        get
        {
            lock (_torrentsGate)
            {
                return _torrentsSnapshot ??= [.. _torrents];
            }
        }
    }

    internal SwarmSession Session => _session;

    /// <summary>
    /// The node's libp2p side on its own port: its peer ID and listen addresses, dialling peers, ping, identify, protocol
    /// streams and handlers (see docs/libp2p.md).
    /// </summary>
    public Libp2pService Libp2p { get; private set; } = null!;

    /// <summary>Gives the node a libp2p host: incoming libp2p connections (secured by the router's route) go to it.</summary>
    private void StartLibp2p(IPeerTransport transport, TimeProvider time)
    {
        Multiaddr[] addresses = [.. Libp2pAddresses.Of(Options.ListenAddress, ListenPort).Select(a => Multiaddr.ForTcp(a, ListenPort, Identity.PeerId))];
        var host = new Libp2pHost(Identity, new Libp2pHostOptions { ListenAddrs = addresses, Limits = Options.Libp2pLimits });
        host.Resources.Refused = _session.Metrics.Libp2pLimit;
        Libp2p = new Libp2pService(host, transport, Identity, addresses, TimeSpan.FromSeconds(20), _stopping.Token)
        {
            MessageTaken = m => Publish(new DirectMessageReceived(m)),
        };
        host.ConnectionReady += c => Publish(new Libp2pPeerConnected(
            c.RemotePeer, c.RemoteEndPoint, c.IsInitiator, host.Peers.Get(c.RemotePeer)?.AgentVersion is { } agent ? DisplayText.Sanitize(agent, 256) : null));
        host.ConnectionClosed += c => Publish(new Libp2pPeerDisconnected(c.RemotePeer, c.RemoteEndPoint));
        Libp2pConnectionHandler = Libp2p.AcceptAsync;
        if (Options.StorageShareBytes > 0 && Options.StateDirectory is { } state)
        {
            _gridProvider = new GridProvider(state, Options.StorageShareBytes, time) { AllowedPeers = [.. Options.StorageAllowedPeers] };
            Libp2p.SetStreamHandler(GridStoreCodec.ProtocolId, _gridProvider.ServeAsync);
        }

        Storage = new GridStorage(Libp2p, Options.StateDirectory, _gridProvider, time, Options.GridMaintenance);
    }

    private GridProvider? _gridProvider;

    /// <summary>
    /// Redundant storage across peers (docs/storage.md): put a file as k-of-n encrypted shares on other peers, get it
    /// back, check and repair it; and, with <see cref="PeerNetNodeOptions.StorageShareBytes"/>, the space lent to others.
    /// </summary>
    public GridStorage Storage { get; private set; } = null!;

    /// <summary>
    /// Takes each incoming libp2p connection once Noise has secured it and authenticated its peer (the owner from then
    /// on); null closes them. <see cref="Libp2p"/>'s host takes them (yamux, identify, the protocol handlers).
    /// </summary>
    internal Func<SecuredLibp2pConnection, CancellationToken, Task>? Libp2pConnectionHandler
    {
        get => _session.Libp2pConnectionHandler;
        set => _session.Libp2pConnectionHandler = value;
    }

    internal CancellationToken Stopping => _stopping.Token;

    internal bool HasWatchers => _events.HasWatchers;

    /// <summary>
    /// Starts a node on real sockets: its DHT node first (if on; joining goes on in the background after 15 s), then
    /// its listener. Throws <see cref="ArgumentException"/> for unusable options (with every problem named), and
    /// <see cref="System.Net.Sockets.SocketException"/> when the port cannot be listened on (in use, or not allowed).
    /// </summary>
    public static async Task<PeerNetNode> StartAsync(
        PeerNetNodeOptions options,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        TimeProvider time = timeProvider ?? TimeProvider.System;
        // A node bound to one address dials from it too (libtorrent's outgoing interfaces follow the listen ones):
        // peers then see one address for it, as bans and the per-address cap count them.
        bool specific = !options.ListenAddress.Equals(IPAddress.IPv6Any) && !options.ListenAddress.Equals(IPAddress.Any);
        IPeerTransport transport = new TcpTransport(new TcpTransportOptions { LocalAddress = specific ? options.ListenAddress : null }, time);
        transport = new UtpFirstTransport(transport, options.Utp?.Outgoing ?? false, options.OutgoingTcp, options.Utp?.TcpFallbackDelay ?? TimeSpan.Zero, time);
        if (loggerFactory is not null)
        {
            transport = new Diagnostics.DialLoggingTransport(transport, loggerFactory.CreateLogger("PeerNet.Peers"));
        }

        PeerNetNode node = await StartAsync(options, transport, loggerFactory, meterFactory, time, cancellationToken, bindUdp: BindUdp).ConfigureAwait(false);
        node.StartPortMapping(loggerFactory, time);
        return node;
    }

    /// <summary>One real UDP socket of one family (IPv6's not dual-mode: IPv4 has a socket of its own on the same port).</summary>
    private static IDatagramSocket BindUdp(IPEndPoint endPoint) => UdpDatagramTransport.Bind(endPoint, dualMode: false);

    /// <summary>
    /// Starts a node over <paramref name="transport"/> (tests give an in-memory network); the node owns it.
    /// <paramref name="bindUdp"/> binds the node's UDP socket of each family on the listening port; without it the node
    /// has no UDP side (the DHT must then be off).
    /// </summary>
    internal static async Task<PeerNetNode> StartAsync(
        PeerNetNodeOptions options,
        IPeerTransport transport,
        ILoggerFactory? loggerFactory,
        IMeterFactory? meterFactory,
        TimeProvider time,
        CancellationToken cancellationToken,
        Func<SessionOptions, SessionOptions>? configure = null,
        Func<IPEndPoint, IDatagramSocket>? bindUdp = null)
    {
        IReadOnlyList<string> problems = options.Validate();
        if (options.Dht && bindUdp is null)
        {
            problems = [.. problems, "the DHT needs a UDP socket, and this transport has none"];
        }

        if (problems.Count > 0)
        {
            await transport.DisposeAsync().ConfigureAwait(false);
            throw new ArgumentException("The node's options are not usable: " + string.Join("; ", problems) + ".", nameof(options));
        }

        ILogger logger = loggerFactory?.CreateLogger("PeerNet.Node") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        DhtNode? dht = null;
        DhtNode? dht6 = null;
        SwarmSession? session = null;
        IPeerListener? listener = null;
        DatagramDemux[] datagrams = [];
        NodeIdentity? identity = null;
        try
        {
            // First: a key file others can read stops the node before it opens a port.
            identity = options.StateDirectory is { } state ? NodeIdentity.LoadOrCreate(state) : NodeIdentity.CreateEphemeral();
            (listener, datagrams) = await BindPortAsync(options, transport, bindUdp, r => session?.Metrics.Dropped(r), logger, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<UtpSocketManager> utp = StartUtp(options, datagrams, transport, time);
            if (options.Dht)
            {
                (dht, dht6) = await StartDhtsAsync(options, datagrams, loggerFactory, logger, time, cancellationToken).ConfigureAwait(false);
            }

            var sessionOptions = new SessionOptions
            {
                Datagrams = datagrams,
                ListenEndPoint = new IPEndPoint(options.ListenAddress, options.ListenPort),
                MaxConnections = options.MaxConnections,
                MaxHalfOpen = options.MaxHalfOpen,
                UploadRateLimit = options.UploadRateLimit,
                DownloadRateLimit = options.DownloadRateLimit,
                HashingThreads = options.HashingThreads,
                PeerLimits = options.PeerLimits,
                Encryption = options.Encryption,
                Holepunch = options.Holepunch,
                UtpDialer = (transport is Diagnostics.DialLoggingTransport dialLogging ? dialLogging.Inner : transport) is UtpFirstTransport { Managers.Count: > 0 } utpDialer ? utpDialer.ConnectUtpAsync : null,
                Identity = identity,
                LocalDiscovery = options.LocalDiscovery,
                Dht = dht,
                Dht6 = dht6,
                OwnsDht = true,
                LoggerFactory = loggerFactory,
                MeterFactory = meterFactory,
                Time = time,
            };
            session = new SwarmSession(configure?.Invoke(sessionOptions) ?? sessionOptions, transport);
            session.Metrics.ObserveUtp(utp);
            IPeerListener bound = listener;
            listener = null; // the session's now
            await session.StartAsync(cancellationToken, bound).ConfigureAwait(false);
            if (options.Utp.Incoming)
            {
                foreach (UtpSocketManager manager in utp)
                {
                    session.AcceptFrom(manager.Listener);
                }
            }
            NodeLog.Started(logger, session.ListenPort, dht is not null, options.LocalDiscovery);
            var node = new PeerNetNode(options, session, dht, dht6, time, logger) { _transport = transport, _datagrams = datagrams, Identity = identity, Utp = utp };
            node.StartLibp2p(transport, time);
            node.Libp2p.StartPubsub(time, options.Gossipsub);
            node.Storage.StartMaintenance();
            return node;
        }
        catch
        {
            identity?.Dispose();
            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false); // disposes the DHT it owns, and the listener it was given
            }
            else
            {
                foreach (DhtNode? started in new[] { dht, dht6 })
                {
                    if (started is not null)
                    {
                        await started.DisposeAsync().ConfigureAwait(false);
                    }
                }
            }

            if (listener is not null)
            {
                await listener.DisposeAsync().ConfigureAwait(false);
            }

            await DisposeAsync(datagrams).ConfigureAwait(false);
            await transport.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// uTP on each of the node's UDP sockets (when <see cref="UtpOptions.Outgoing"/> or <see cref="UtpOptions.Incoming"/>
    /// is on); the dialer learns of them when it is the node's <see cref="UtpFirstTransport"/> (directly or under the
    /// dial logger).
    /// </summary>
    private static UtpSocketManager[] StartUtp(PeerNetNodeOptions options, DatagramDemux[] datagrams, IPeerTransport transport, TimeProvider time)
    {
        if (options.Utp is not { } utp || (!utp.Outgoing && !utp.Incoming))
        {
            return [];
        }

        var settings = new UtpSettings { Incoming = utp.Incoming, TargetDelay = utp.TargetDelay, ConnectTimeout = utp.ConnectTimeout };
        UtpSocketManager[] managers = [.. datagrams.Select(d => d.AttachUtp(settings, time))];
        if ((transport is Diagnostics.DialLoggingTransport logging ? logging.Inner : transport) is UtpFirstTransport dialer)
        {
            dialer.Managers = managers;
        }

        return managers;
    }

    private IPeerTransport? _transport;
    private DatagramDemux[] _datagrams = [];

    /// <summary>The node's dialer, when it is the uTP-then-TCP one (for tests and diagnostics).</summary>
    internal UtpFirstTransport? Dialer => (_transport is Diagnostics.DialLoggingTransport logging ? logging.Inner : _transport) as UtpFirstTransport;

    /// <summary>uTP on the node's UDP sockets (none when uTP is off or the node has no UDP side).</summary>
    internal IReadOnlyList<UtpSocketManager> Utp { get; private init; } = [];

    /// <summary>The node's UDP sockets, one per family, on <see cref="ListenPort"/>.</summary>
    internal IReadOnlyList<DatagramDemux> Datagrams => _datagrams;

    /// <summary>
    /// Every event of the node from this call on (so a watcher started before <see cref="AddTorrentAsync"/> misses none of
    /// its events), until <paramref name="cancellationToken"/> is cancelled or the node stops; enumerate it once. Each
    /// call is a watcher with a buffer of its own (<see cref="PeerNetNodeOptions.EventBufferSize"/>): one that falls behind
    /// loses the oldest events and is told how many (<see cref="EventsDropped"/>), never slowing the node.
    /// </summary>
    public IAsyncEnumerable<NodeEvent> WatchEventsAsync(CancellationToken cancellationToken = default) => _events.Watch(cancellationToken);

    /// <summary>A snapshot of the node: its port, connections, torrents, DHT and totals.</summary>
    public NodeStatus GetStatus() => new()
    {
        ListenPort = ListenPort,
        Connections = _session.ConnectionCount,
        Torrents = Torrents.Count,
        DhtNodes = (_dht?.GetStats().Nodes ?? 0) + (_dht6?.GetStats().Nodes ?? 0),
        PortMapping = PortMapping,
        DownloadRate = _session.Received.BytesPerSecond,
        UploadRate = _session.Sent.BytesPerSecond,
        Downloaded = _session.Received.Total,
        Uploaded = _session.Sent.Total,
    };

    /// <summary>The torrent known by any of <paramref name="hashes"/>' info-hashes, if this node has it.</summary>
    public TorrentHandle? FindTorrent(InfoHashes hashes)
    {
        lock (_torrentsGate)
        {
            return FindLocked(hashes);
        }
    }

    /// <summary>The torrent with this <see cref="TorrentHandle.Id"/>, if this node has it.</summary>
    public TorrentHandle? FindTorrent(long id)
    {
        lock (_torrentsGate)
        {
            return _byId.GetValueOrDefault(id);
        }
    }

    private TorrentHandle? FindLocked(InfoHashes hashes)
    {
        foreach (Sha1Hash hash in hashes.SwarmHashes)
        {
            if (_bySwarmHash.TryGetValue(hash, out TorrentHandle? torrent))
            {
                return torrent;
            }
        }

        return null;
    }

    /// <summary>Keeps <paramref name="torrent"/> among the node's torrents (the caller holds the gate and checked <see cref="FindLocked"/>).</summary>
    private void AddLocked(TorrentHandle torrent)
    {
        _torrents.Add(torrent);
        _byId.Add(torrent.Id, torrent);
        foreach (Sha1Hash hash in torrent.InfoHashes.SwarmHashes)
        {
            _bySwarmHash.Add(hash, torrent);
        }

        _torrentsSnapshot = null;
    }

    /// <summary>
    /// Finds <paramref name="torrent"/> under its info-hashes as they are now: a magnet link's metadata may show a hybrid
    /// behind a v1 or v2 hash. A hash another torrent of the node has already stays that torrent's.
    /// </summary>
    internal void Reindex(TorrentHandle torrent)
    {
        lock (_torrentsGate)
        {
            if (_byId.ContainsKey(torrent.Id))
            {
                foreach (Sha1Hash hash in torrent.InfoHashes.SwarmHashes)
                {
                    _bySwarmHash.TryAdd(hash, torrent);
                }
            }
        }
    }

    internal void Publish(NodeEvent e) => _events.Publish(e);

    internal void Forget(TorrentHandle torrent)
    {
        lock (_torrentsGate)
        {
            if (_byId.Remove(torrent.Id))
            {
                _torrents.Remove(torrent);
                foreach (Sha1Hash hash in torrent.InfoHashes.SwarmHashes)
                {
                    if (_bySwarmHash.GetValueOrDefault(hash) == torrent)
                    {
                        _bySwarmHash.Remove(hash);
                    }
                }

                _torrentsSnapshot = null;
            }
        }
    }

    /// <summary>Stops every torrent (resume data saved, trackers told), the listener and the DHT (its table saved).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        TorrentHandle[] torrents;
        lock (_torrentsGate)
        {
            torrents = [.. _torrents];
            _torrents.Clear();
            _byId.Clear();
            _bySwarmHash.Clear();
            _torrentsSnapshot = null;
        }

        // Together, so each torrent's bounded stopped announce overlaps the others', and the router's mappings go meanwhile.
        Task unmapping = _portMapper?.DisposeAsync().AsTask() ?? Task.CompletedTask;
        await Task.WhenAll(torrents.Select(t => t.StopForNodeAsync())).ConfigureAwait(false);
        await unmapping.ConfigureAwait(false);
        if (Storage is not null)
        {
            await Storage.StopMaintenanceAsync().ConfigureAwait(false); // first: its requests go over libp2p
        }

        if (Libp2p is not null)
        {
            await Libp2p.StopPubsubAsync().ConfigureAwait(false);
            await Libp2p.Host.DisposeAsync().ConfigureAwait(false); // GoAway to every libp2p peer
        }

        _gridProvider?.Dispose();
        await _session.DisposeAsync().ConfigureAwait(false);
        if (_transport is not null)
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
        }

        await DisposeAsync(_datagrams).ConfigureAwait(false); // last: the DHT and the trackers' stopped announces sent on them

        _events.Complete();
        _stopping.Dispose();
        Identity.Dispose();
        NodeLog.Stopped(_logger, torrents.Length);
    }
}

/// <summary>A node at one moment.</summary>
public sealed record NodeStatus
{
    /// <summary>The TCP port it listens on.</summary>
    public int ListenPort { get; init; }

    /// <summary>Peer connections over every torrent.</summary>
    public int Connections { get; init; }

    /// <summary>Torrents in the node.</summary>
    public int Torrents { get; init; }

    /// <summary>Nodes in its DHT routing tables, IPv4 and IPv6 together (0 without the DHT).</summary>
    public int DhtNodes { get; init; }

    /// <summary>Recent download rate over every torrent, bytes per second.</summary>
    public double DownloadRate { get; init; }

    /// <summary>Recent upload rate over every torrent, bytes per second.</summary>
    public double UploadRate { get; init; }

    /// <summary>Payload bytes received by the node's torrents since the node started (torrents since removed included).</summary>
    public long Downloaded { get; init; }

    /// <summary>Payload bytes sent by the node's torrents since the node started (torrents since removed included).</summary>
    public long Uploaded { get; init; }

    /// <summary>The port mapping on the home router: protocol, external address and ports, last problem (<see cref="PeerNetNode.PortMapping"/>).</summary>
    public PortMappingStatus PortMapping { get; init; } = PortMappingStatus.Off;
}
