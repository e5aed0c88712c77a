using System.Net;
using System.Net.Sockets;
using PeerNet.Dht;
using PeerNet.Threading;
using PeerNet.Transport;

namespace PeerNet.Discovery.Dht;

/// <summary>
/// A Mainline DHT node (BEP 5) for one address family: it answers ping, find_node, get_peers and announce_peer
/// (and BEP 44/51 queries), keeps a k-bucket routing table, finds peers for an info-hash with iterative lookups,
/// and announces this node's peers. Create it, <see cref="StartAsync"/> it (bind and bootstrap), use
/// <see cref="GetPeersAsync"/> and <see cref="AnnounceAsync"/>, dispose it to save its state and stop.
/// </summary>
public sealed partial class DhtNode : IAsyncDisposable
{
    /// <summary>Client version sent in <c>v</c>: "PN" and version 0.1.</summary>
    private static readonly byte[] Version = [(byte)'P', (byte)'N', 0, 1];

    private readonly DhtNodeOptions _options;
    private readonly IDatagramTransport _transport;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Lock _lock = new();
    private readonly DhtLimits _limits = DhtLimits.Default;
    private readonly WriteTokens _tokens;
    private readonly PeerStore _peers;
    private readonly ItemStore _items;
    private readonly SourceRateLimiter _queryLimiter;
    private readonly SourceRateLimiter _replyLimiter;
    private readonly CancellationTokenSource _stopping = new();
    private RoutingTable _table = null!;
    private IDatagramSocket? _socket;
    private Task? _receiveLoop;
    private Task? _maintenanceLoop;
    private long _queriesSent;
    private readonly Microsoft.Extensions.Logging.ILogger _log;
    private long _queriesReceived;
    private long _queriesDropped;
    private long _lookups;
    private int _activeLookups;

    /// <summary>Creates a node on real UDP, logging to <paramref name="loggerFactory"/> when given; nothing happens until <see cref="StartAsync"/>.</summary>
    public DhtNode(DhtNodeOptions options, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
        : this(options, UdpDatagramTransport.Instance, TimeProvider.System, null, loggerFactory)
    {
    }

    /// <summary>Creates a node on any datagram transport, clock and random source (tests, simulations).</summary>
    internal DhtNode(DhtNodeOptions options, IDatagramTransport transport, TimeProvider timeProvider, Random? random, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _log = loggerFactory?.CreateLogger("PeerNet.Dht") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _transport = transport;
        _time = timeProvider;
        _random = random ?? new Random();
        _tokens = new WriteTokens(timeProvider);
        _peers = new PeerStore(options.MaxStoredInfoHashes, options.MaxPeersPerInfoHash, options.PeerLifetime, timeProvider);
        _items = new ItemStore(options.MaxStoredItems, TimeSpan.FromHours(2), timeProvider);
        _queryLimiter = new SourceRateLimiter(options.QueriesPerSecondPerAddress, options.QueriesPerSecondPerAddress * 4, 4096, timeProvider);
        _replyLimiter = new SourceRateLimiter(options.ReplyBytesPerSecondPerAddress, options.ReplyBytesPerSecondPerAddress * 4, 4096, timeProvider);
        _outstanding = new SemaphoreSlim(options.MaxOutstandingQueries, options.MaxOutstandingQueries);
    }

    /// <summary>The bound UDP endpoint (after <see cref="StartAsync"/>).</summary>
    public IPEndPoint LocalEndPoint => _socket?.LocalEndPoint ?? throw new InvalidOperationException("The DHT node is not started.");

    /// <summary>This node's ID as 40 hex characters (after <see cref="StartAsync"/>).</summary>
    public string NodeIdHex => _table?.OwnId.ToString() ?? throw new InvalidOperationException("The DHT node is not started.");

    internal NodeId Id => _table.OwnId;

    internal AddressFamily Family => DhtContact.FamilyOf(_options.BindEndPoint);

    /// <summary>
    /// The same node's DHT on the other address family (BEP 32: a routing table per family), whose nodes answer a query
    /// that asks for that family with <c>want</c>; null when this node has only one family.
    /// </summary>
    internal DhtNode? OtherFamily { get; set; }

    /// <summary>
    /// Binds the socket, loads the saved state, and bootstraps: asks the saved nodes and the bootstrap nodes for
    /// nodes near our ID, then looks our ID up. Returns when bootstrapping is done (an empty table if nobody
    /// answered: the node keeps serving and retries at each maintenance tick).
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_socket is not null)
        {
            throw new InvalidOperationException("The DHT node is already started.");
        }

        DhtState? state = _options.StatePath is null ? null : DhtState.Load(_options.StatePath);
        NodeId id = ChooseId(state);
        _table = new RoutingTable(id, _options.BucketSize, _options.RestrictRoutingAddresses, _time);
        _socket = _transport.Bind(_options.BindEndPoint);
        _receiveLoop = BackgroundLoop.Start(() => ReceiveLoopAsync(_stopping.Token));
        _savedNodes = state?.Nodes.Where(n => DhtContact.FamilyOf(n.EndPoint) == Family).ToList() ?? [];
        DhtLog.Started(_log, id.ToString(), _socket.LocalEndPoint, _savedNodes.Count);
        await BootstrapAsync(cancellationToken).ConfigureAwait(false);
        _maintenanceLoop = BackgroundLoop.Start(() => MaintenanceLoopAsync(_stopping.Token));
    }

    /// <summary>
    /// Finds peers for <paramref name="infoHash"/>: an iterative get_peers lookup towards it, returning every peer
    /// the nodes on the way and the k closest ones gave (distinct, possibly empty).
    /// </summary>
    public async Task<IReadOnlyList<IPEndPoint>> GetPeersAsync(Sha1Hash infoHash, CancellationToken cancellationToken)
    {
        LookupResult result = await LookupAsync(NodeId.FromHash(infoHash), DhtMethod.GetPeers, cancellationToken).ConfigureAwait(false);
        return result.Peers;
    }

    /// <summary>
    /// Announces that this host serves <paramref name="infoHash"/> on TCP <paramref name="port"/>: a get_peers
    /// lookup for tokens, then announce_peer to the k closest nodes that gave one. Port 0 sends
    /// <c>implied_port=1</c> (the DHT socket's port, as seen by the nodes, is used). Returns the peers the lookup
    /// found along the way, and how many nodes accepted the announce.
    /// </summary>
    public async Task<DhtAnnounceResult> AnnounceAsync(Sha1Hash infoHash, int port, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        NodeId target = NodeId.FromHash(infoHash);
        LookupResult lookup = await LookupAsync(target, DhtMethod.GetPeers, cancellationToken).ConfigureAwait(false);
        int accepted = await AnnounceToAsync(lookup, target, port, cancellationToken).ConfigureAwait(false);
        return new DhtAnnounceResult(lookup.Peers, accepted);
    }

    /// <summary>A snapshot of the routing table and counters.</summary>
    public DhtStats GetStats()
    {
        lock (_lock)
        {
            (int good, int questionable, int bad, int replacements) = _table.CountStates();
            return new DhtStats(
                _table.OwnId.ToString(),
                _table.Count,
                _table.BucketCount,
                good,
                questionable,
                bad,
                replacements,
                _peers.InfoHashCount,
                _peers.PeerCount,
                ExternalAddress,
                Interlocked.Read(ref _queriesSent),
                Interlocked.Read(ref _queriesReceived),
                Interlocked.Read(ref _queriesDropped))
            {
                Lookups = Interlocked.Read(ref _lookups),
                ActiveLookups = Volatile.Read(ref _activeLookups),
                LastLookupAnswered = LastLookupAnswered,
                Bootstrap = Bootstrap,
            };
        }
    }

    /// <summary>Stops the loops, saves the state (when a path is set) and closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_socket is not null)
        {
            await _socket.DisposeAsync().ConfigureAwait(false);
        }

        foreach (Task? loop in new[] { _receiveLoop, _maintenanceLoop })
        {
            if (loop is not null)
            {
                await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        if (_socket is not null)
        {
            SaveState();
        }

        _stopping.Dispose();
    }

    private NodeId ChooseId(DhtState? state)
    {
        IPAddress? external = _options.ExternalAddress ?? state?.ExternalAddress;
        if (state is not null && (external is null || NodeIdSecurity.IsValid(state.Id, external)))
        {
            return state.Id;
        }

        // BEP 42: a node that knows its external address takes an ID derived from it.
        return external is null ? NodeId.Random(_random) : NodeIdSecurity.Generate(external, _random);
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        // One byte more than the largest packet accepted, so an oversized one is seen as such, not cut to fit.
        var buffer = new byte[_limits.MaxPacketLength + 1];
        IDatagramSocket socket = _socket!;
        while (!cancellationToken.IsCancellationRequested)
        {
            DatagramReceived received;
            try
            {
                received = await socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            // Decoding copies what it keeps, so the buffer is free for the next datagram.
            if (!KrpcMessage.TryDecode(buffer.AsMemory(0, received.Length), out KrpcMessage? message, out KrpcDecodeFailure failure, _limits))
            {
                await RefuseAsync(failure, received.RemoteEndPoint, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (message.Type == KrpcMessageType.Query)
            {
                await HandleQueryAsync(message, received.RemoteEndPoint, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                CompleteQuery(message, received.RemoteEndPoint);
            }
        }
    }

    private async Task SendAsync(KrpcMessage message, IPEndPoint to, CancellationToken cancellationToken)
    {
        byte[] bytes = message.ToArray();
        try
        {
            await _socket!.SendAsync(bytes, to, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            // Unreachable or refused locally: the query times out like a lost datagram.
        }
        catch (ObjectDisposedException)
        {
        }
    }
}

/// <summary>What an announce found and did.</summary>
/// <param name="Peers">Peers the get_peers lookup found for the info-hash.</param>
/// <param name="AcceptedBy">How many of the k closest nodes accepted the announce_peer.</param>
public sealed record DhtAnnounceResult(IReadOnlyList<IPEndPoint> Peers, int AcceptedBy);
