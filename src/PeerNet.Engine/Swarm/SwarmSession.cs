using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography;
using PeerNet.Discovery.Lsd;
using PeerNet.Discovery.Trackers;
using PeerNet.Libp2p;
using PeerNet.Metainfo;
using PeerNet.Mse;
using PeerNet.PeerWire;
using PeerNet.Storage;
using PeerNet.Threading;
using PeerNet.Transport;

namespace PeerNet.Swarm;

/// <summary>
/// A node's BitTorrent side: one listening port for every torrent, client and server at once. Incoming
/// connections are matched to a torrent by the info-hash in their handshake; outgoing ones are made for
/// torrents. Limits on connections, half-open connects, pending handshakes and rates are shared here.
/// </summary>
internal sealed class SwarmSession : IAsyncDisposable
{
    public const string ClientName = "PeerNet 0.1";

    private readonly IPeerTransport _transport;
    private readonly ConcurrentDictionary<Sha1Hash, TorrentSwarm> _torrents = new();
    private readonly ConcurrentDictionary<Sha1Hash, Sha1Hash> _skeyByReq2 = new(); // HASH('req2', key) -> a key of _torrents
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _halfOpen;
    private readonly Lazy<TrackerClient> _trackers;
    private IPeerListener? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private readonly List<Task> _extraAcceptLoops = []; // guarded by itself
    private readonly Dictionary<IPAddress, int> _pendingByAddress = []; // guarded by itself
    private int _connections;
    private int _pendingHandshakes;

    public SwarmSession(SessionOptions options, IPeerTransport transport)
    {
        Options = options;
        _transport = transport;
        Time = options.Time;
        Hashing = new WorkQueue(options.HashingThreads);
        Writer = new WorkQueue(concurrency: 1);
        UploadLimit = Transport.TokenBucket.ForTransferRate(options.UploadRateLimit, Time);
        DownloadLimit = Transport.TokenBucket.ForTransferRate(options.DownloadRateLimit, Time);
        _halfOpen = new SemaphoreSlim(options.MaxHalfOpen, options.MaxHalfOpen);
        Logger = options.LoggerFactory?.CreateLogger("PeerNet.Swarm") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        Metrics = new Diagnostics.PeerNetMetrics(options.MeterFactory);
        Connectivity = new Diagnostics.ConnectivityTracker(Time);
        _trackers = new Lazy<TrackerClient>(() => new TrackerClient(options.TrackerOptions, options.Time, options.Datagrams) { ExternalAddressReported = Connectivity.TrackerReported });
        Router = new ConnectionRouter(options.RouterOptions, Time, Metrics.Unrouted);
        Router.Register("bittorrent", RecognizeHandshake, AcceptPlainAsync);
        if (options.Identity is not null)
        {
            // Before MSE, which would take it as not plaintext BitTorrent. Both start with 0x13: the second byte decides.
            Router.Register("libp2p", RecognizeMultistream, AcceptLibp2pAsync);
        }

        if (options.Encryption.Policy != EncryptionPolicy.Disabled)
        {
            // Last: it takes whatever is not plaintext BitTorrent.
            Router.Register("mse", RecognizeEncrypted, AcceptEncryptedAsync);
        }
        Ticker = new SwarmTicker(Time);
        Received = new RateMeter(Time);
        Sent = new RateMeter(Time);

        // Azureus-style peer id (BEP 20): client code and version, then random bytes.
        Span<byte> id = stackalloc byte[PeerId.Length];
        "-PN0010-"u8.CopyTo(id);
        RandomNumberGenerator.Fill(id[8..]);
        LocalPeerId = new PeerId(id);
    }

    public SessionOptions Options { get; }

    /// <summary>The session's instruments (every torrent, LSD and the metadata fetcher count on them).</summary>
    internal Diagnostics.PeerNetMetrics Metrics { get; }

    /// <summary>Incoming connections seen and the address peers see us at (for <see cref="PeerNetNode.Diagnose"/>).</summary>
    internal Diagnostics.ConnectivityTracker Connectivity { get; }

    /// <summary>The session's logger (every torrent logs through it).</summary>
    internal Microsoft.Extensions.Logging.ILogger Logger { get; }

    /// <summary>
    /// Routes each incoming connection by its first bytes: the BitTorrent handshake to this session's torrents, then
    /// libp2p's multistream header when the session has an identity, then (unless encryption is disabled) MSE for anything
    /// else (HTTP will register here too, before MSE).
    /// </summary>
    internal ConnectionRouter Router { get; }

    /// <summary>The tracker client every torrent of this session announces through.</summary>
    public TrackerClient Trackers => _trackers.Value;

    /// <summary>The <c>key</c> sent in every announce: random, fixed for the session.</summary>
    public uint TrackerKey { get; } = (uint)Random.Shared.NextInt64(0, 1L << 32);

    public TimeProvider Time { get; }

    /// <summary>The one timer that ticks every torrent of the session.</summary>
    internal SwarmTicker Ticker { get; }

    public WorkQueue Hashing { get; }

    /// <summary>
    /// One worker for verified pieces' writes (a torrent writes one at a time anyway): apart from hashing, so a
    /// write the kernel throttles holds up only writes.
    /// </summary>
    public WorkQueue Writer { get; }

    /// <summary>Payload bytes every torrent of the session received, and the rate (a node's status reads it whole, not torrent by torrent).</summary>
    internal RateMeter Received { get; }

    /// <summary>Payload bytes every torrent of the session sent, and the rate.</summary>
    internal RateMeter Sent { get; }

    public Transport.TokenBucket UploadLimit { get; }

    public Transport.TokenBucket DownloadLimit { get; }

    public PeerId LocalPeerId { get; }

    /// <summary>BEP 55 ut_holepunch counts over every torrent (relayed, asked, told, dialed).</summary>
    internal HolepunchCounters Holepunch { get; } = new();

    /// <summary>The port peers can reach us on (after <see cref="StartAsync"/>).</summary>
    public int ListenPort => _listener?.LocalEndPoint.Port ?? 0;

    public IPEndPoint? LocalEndPoint => _listener?.LocalEndPoint;

    /// <summary>Connections open now (handshaken peers of every torrent).</summary>
    public int ConnectionCount => Volatile.Read(ref _connections);

    /// <summary>Incoming connections still in their handshake.</summary>
    public int PendingHandshakeCount => Volatile.Read(ref _pendingHandshakes);

    public IReadOnlyCollection<TorrentSwarm> Torrents => [.. _torrents.Values.Distinct()];

    /// <summary>Local service discovery (BEP 14), when <see cref="SessionOptions.LocalDiscovery"/> is on and a group could be joined.</summary>
    public LsdService? LocalDiscovery { get; private set; }

    /// <summary>Listens (on <paramref name="listener"/> when the caller bound it already: the session owns it then) and starts accepting.</summary>
    public async Task StartAsync(CancellationToken cancellationToken, IPeerListener? listener = null)
    {
        _listener = listener ?? await _transport.ListenAsync(Options.ListenEndPoint, cancellationToken).ConfigureAwait(false);
        IPeerListener bound = _listener;
        _acceptLoop = BackgroundLoop.Start(() => AcceptLoopAsync(bound, Diagnostics.InboundTransport.Tcp, _stopping.Token));
        if (Options.LocalDiscovery)
        {
            await StartLocalDiscoveryAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Joins the LSD groups of the listening address's family (both for a wildcard), on its interface when it is a
    /// specific address; a host where no group can be joined runs without LSD.
    /// </summary>
    private async Task StartLocalDiscoveryAsync()
    {
        IPAddress address = Options.ListenEndPoint.Address;
        bool wildcard = address.Equals(IPAddress.IPv6Any);
        LsdOptions options = Options.LocalDiscoveryOptions with
        {
            UseIPv4 = Options.LocalDiscoveryOptions.UseIPv4 && (wildcard || address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork),
            UseIPv6 = Options.LocalDiscoveryOptions.UseIPv6 && (wildcard || address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6),
        };
        var lsd = new LsdService(options, Options.LocalDiscoveryTransport ?? new UdpMulticastTransport(wildcard ? null : address), Time, Logger, Metrics);
        if (lsd.Start(ListenPort) == 0)
        {
            await lsd.DisposeAsync().ConfigureAwait(false);
            return;
        }

        LocalDiscovery = lsd;
    }

    /// <summary>Adds a torrent: opens its storage, checks what is on disk, and starts finding peers.</summary>
    public async Task<TorrentSwarm> AddTorrentAsync(TorrentMetainfo metainfo, string path, TorrentOptions options, StorageOptions? storageOptions, CancellationToken cancellationToken, ITorrentObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(metainfo);
        ArgumentNullException.ThrowIfNull(options);
        if (options.FilePriorities is { } priorities
            && (priorities.Count != metainfo.Files.Count || priorities.Any(p => p is < 0 or > PiecePicker.MaxPriority)))
        {
            throw new ArgumentException($"FilePriorities needs one priority from 0 to {PiecePicker.MaxPriority} per file ({metainfo.Files.Count}).", nameof(options));
        }

        TorrentStorage storage = TorrentStorage.Open(metainfo, path, storageOptions);
        var torrent = new TorrentSwarm(this, metainfo, storage, options) { Observer = observer };
        Sha1Hash key = metainfo.InfoHashes.WireHash;
        if (!_torrents.TryAdd(key, torrent))
        {
            await storage.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"torrent {metainfo.InfoHashes} is already in this session");
        }

        _skeyByReq2[MseKeyHash(key)] = key;

        // A hybrid torrent is reachable by its truncated v2 hash too (BEP 52), in plain and as an MSE SKEY.
        if (metainfo.InfoHashes is { V1: not null, V2: { } v2 } && _torrents.TryAdd(v2.Truncate(), torrent))
        {
            _skeyByReq2[MseKeyHash(v2.Truncate())] = v2.Truncate();
        }

        try
        {
            await torrent.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await RemoveTorrentAsync(torrent).ConfigureAwait(false);
            throw;
        }

        return torrent;
    }

    public async Task RemoveTorrentAsync(TorrentSwarm torrent)
    {
        // By its own keys (those AddTorrentAsync gave it), each only if it is this torrent's: a node stopping 10,000
        // torrents would otherwise walk the whole table for each.
        InfoHashes hashes = torrent.Metainfo.InfoHashes;
        Remove(hashes.WireHash);
        if (hashes is { V1: not null, V2: { } v2 })
        {
            Remove(v2.Truncate());
        }

        await torrent.DisposeAsync().ConfigureAwait(false);

        void Remove(Sha1Hash key)
        {
            if (_torrents.TryRemove(new KeyValuePair<Sha1Hash, TorrentSwarm>(key, torrent)))
            {
                _skeyByReq2.TryRemove(MseKeyHash(key), out _);
            }
        }
    }

    internal void OnPeerClosed() => Interlocked.Decrement(ref _connections);

    private readonly Lock _dialGate = new();
    private long _dialWindowStart;
    private int _dialsInWindow;

    /// <summary>
    /// Whether another outgoing connection may be started this second (<see cref="PeerLimits.MaxDialsPerSecond"/> over
    /// every torrent); a torrent that finds none left dials the rest at its next tick.
    /// </summary>
    internal bool CanDial
    {
        get
        {
            lock (_dialGate)
            {
                StartDialWindow();
                return _dialsInWindow < Options.PeerLimits.MaxDialsPerSecond;
            }
        }
    }

    /// <summary>Counts an outgoing connection started.</summary>
    internal void CountDial()
    {
        lock (_dialGate)
        {
            StartDialWindow();
            _dialsInWindow++;
        }

        Metrics.Dials.Add(1);
    }

    private void StartDialWindow()
    {
        long now = Time.GetTimestamp();
        if (Time.GetElapsedTime(_dialWindowStart, now) >= TimeSpan.FromSeconds(1))
        {
            _dialWindowStart = now;
            _dialsInWindow = 0;
        }
    }

    /// <summary>The reserved bits we send for a torrent with <paramref name="hashes"/>: extensions, fast, and v2 when it has a v2 hash.</summary>
    internal static HandshakeReserved ReservedFor(InfoHashes hashes)
        => HandshakeReserved.ExtensionProtocol | HandshakeReserved.FastExtension
            | (hashes.V2 is not null ? HandshakeReserved.V2Upgrade : 0);

    /// <summary>
    /// Accepts from another listener too (the node's uTP managers): its connections go the same way as the TCP
    /// listener's, through the pending-handshake limits and the router. The caller owns the listener.
    /// </summary>
    internal void AcceptFrom(IPeerListener listener)
    {
        lock (_extraAcceptLoops)
        {
            _extraAcceptLoops.Add(Task.Run(() => AcceptLoopAsync(listener, Diagnostics.InboundTransport.Utp, _stopping.Token), CancellationToken.None));
        }
    }

    private async Task AcceptLoopAsync(IPeerListener listener, Diagnostics.InboundTransport kind, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            IDuplexConnection connection;
            try
            {
                connection = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                continue;
            }

            Connectivity.Inbound(kind, connection.RemoteEndPoint); // it reached us, whatever comes of it
            if (!TryBeginHandshake(connection.RemoteEndPoint.Address))
            {
                connection.Abort();
                _ = connection.DisposeAsync().AsTask();
                continue;
            }

            _ = RouteIncomingAsync(connection, cancellationToken);
        }
    }

    /// <summary>Hands an incoming connection to the protocol its first bytes name; its pending slot is freed once that protocol's handler returns.</summary>
    private async Task RouteIncomingAsync(IDuplexConnection connection, CancellationToken cancellationToken)
    {
        IPAddress address = connection.RemoteEndPoint.Address;
        try
        {
            await Router.RouteAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            EndHandshake(address);
        }
    }

    private static Recognition RecognizeHandshake(in ReadOnlySequence<byte> firstBytes) => ConnectionRouter.MatchPrefix(firstBytes, Handshake.Protocol);

    /// <summary>libp2p's opening: multistream-select's header, <c>\x13/multistream/1.0.0\n</c>.</summary>
    private static Recognition RecognizeMultistream(in ReadOnlySequence<byte> firstBytes) => ConnectionRouter.MatchPrefix(firstBytes, "\x13/multistream/1.0.0\n"u8);

    /// <summary>
    /// Takes each incoming libp2p connection once secured (its owner from then on); the pending-handshake slot is held
    /// until the task it returns completes, so it should return once it has taken the connection. Null: the connection
    /// is closed (nothing speaks libp2p on top of Noise yet).
    /// </summary>
    internal Func<SecuredLibp2pConnection, CancellationToken, Task>? Libp2pConnectionHandler { get; set; }

    /// <summary>
    /// A libp2p dialer came in: agree on <c>/noise</c> and prove the node's identity (within the handshake timeout, in a
    /// pending-handshake slot as every other handshake), then hand the secured connection to <see cref="Libp2pConnectionHandler"/>.
    /// </summary>
    private async Task AcceptLibp2pAsync(IDuplexConnection connection, CancellationToken cancellationToken)
    {
        SecuredLibp2pConnection secured;
        try
        {
            secured = await Libp2pSecurity.SecureInboundAsync(connection, Options.Identity!, cancellationToken, Options.HandshakeTimeout).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Anything else (a bug of ours on hostile input) closes this connection too, rather than escaping the slot.
            string reason = e switch
            {
                Libp2pUpgradeException u => u.Reason,
                OperationCanceledException or IOException or ObjectDisposedException => "closed",
                _ => "error",
            };
            Metrics.Libp2p("in", reason);
            SwarmLog.Libp2pFailed(Logger, connection.RemoteEndPoint, "in", reason, e.Message);
            connection.Abort();
            await connection.DisposeAsync().ConfigureAwait(false);
            return;
        }

        Metrics.Libp2p("in", "ok");
        Func<SecuredLibp2pConnection, CancellationToken, Task>? handler = Libp2pConnectionHandler;
        if (handler is null)
        {
            await secured.Connection.DisposeAsync().ConfigureAwait(false);
            return;
        }

        try
        {
            await handler(secured, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            SwarmLog.Libp2pFailed(Logger, connection.RemoteEndPoint, "in", e is Libp2pResourceLimitException limit ? "over_limit:" + limit.Limit : "handler", e.Message);
            secured.Connection.Abort(e);
            await secured.Connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>MSE has no magic of its own (Ya is random): it is whatever cannot be a plaintext BitTorrent handshake.</summary>
    private static Recognition RecognizeEncrypted(in ReadOnlySequence<byte> firstBytes) => ConnectionRouter.MatchPrefix(firstBytes, Handshake.Protocol) switch
    {
        Recognition.No => Recognition.Yes,
        Recognition.NeedMore => Recognition.NeedMore,
        _ => Recognition.No,
    };

    /// <summary><c>HASH('req2', SKEY)</c> of an info-hash, as an initiator sends it (masked).</summary>
    private static Sha1Hash MseKeyHash(Sha1Hash infoHash) => MseConstants.Req2(MseConstants.Bytes(infoHash));

    /// <summary>The responder's SKEY search: the hosted info-hash whose <c>HASH('req2', ...)</c> the initiator sent.</summary>
    private Sha1Hash? FindSkey(Sha1Hash req2) => _skeyByReq2.TryGetValue(req2, out Sha1Hash key) && _torrents.ContainsKey(key) ? key : null;

    /// <summary>The MSE methods our options allow.</summary>
    private MseCryptoMethods AllowedMethods => Options.Encryption.Level switch
    {
        EncryptionLevel.Plaintext => MseCryptoMethods.Plaintext,
        EncryptionLevel.Rc4 => MseCryptoMethods.Rc4,
        _ => MseCryptoMethods.Both,
    };

    /// <summary>A plaintext BitTorrent handshake came in: taken unless the policy is forced encryption.</summary>
    private async Task AcceptPlainAsync(IDuplexConnection connection, CancellationToken cancellationToken)
    {
        if (Options.Encryption.Policy == EncryptionPolicy.Forced)
        {
            Metrics.Encryption("in", "plaintext_refused");
            SwarmLog.EncryptionFailed(Logger, connection.RemoteEndPoint, "in", "plaintext_refused");
            connection.Abort();
            await connection.DisposeAsync().ConfigureAwait(false);
            return;
        }

        await AcceptAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Anything else came in: answer it as an MSE responder (within the handshake timeout), find the torrent by the SKEY
    /// hash, then take the BitTorrent handshake inside, which must name that torrent.
    /// </summary>
    private async Task AcceptEncryptedAsync(IDuplexConnection connection, CancellationToken cancellationToken)
    {
        var handshake = MseHandshake.Responder(FindSkey, AllowedMethods, Options.Encryption.PreferRc4);
        MseConnection secured;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(Options.HandshakeTimeout);
            try
            {
                secured = await MseNegotiation.RunAsync(connection, handshake, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
            {
                string reason = EncryptionFailure(e, cancellationToken);
                Metrics.Encryption("in", reason);
                SwarmLog.EncryptionFailed(Logger, connection.RemoteEndPoint, "in", reason);
                connection.Abort();
                await connection.DisposeAsync().ConfigureAwait(false);
                return;
            }
        }

        Metrics.Encryption("in", MethodName(secured.Selected));
        await AcceptAsync(secured, cancellationToken, handshake.Skey).ConfigureAwait(false);
    }

    private static string MethodName(MseCryptoMethods method) => method == MseCryptoMethods.Rc4 ? "rc4" : "plaintext";

    /// <summary>The metric's reason for a failed MSE handshake.</summary>
    private static string EncryptionFailure(Exception e, CancellationToken stopping) => e switch
    {
        MseHandshakeException m => m.Failure switch
        {
            MseFailure.BadPublicKey => "bad_public_key",
            MseFailure.SyncNotFound => "sync_not_found",
            MseFailure.UnknownTorrent => "unknown_torrent",
            MseFailure.BadVerificationConstant => "bad_verification_constant",
            MseFailure.PadTooLong => "pad_too_long",
            MseFailure.PayloadTooLong => "payload_too_long",
            MseFailure.NoCommonMethod => "no_common_method",
            _ => "closed",
        },
        OperationCanceledException when !stopping.IsCancellationRequested => "timeout",
        _ => "closed",
    };

    /// <summary>
    /// Takes a pending-handshake slot for an incoming connection, or refuses it: when the node is full, when
    /// <see cref="SessionOptions.MaxPendingHandshakes"/> are pending, or when its address already has
    /// <see cref="SessionOptions.MaxPendingHandshakesPerAddress"/> of them (so one host's slowloris cannot take
    /// every slot and lock honest peers out).
    /// </summary>
    private bool TryBeginHandshake(IPAddress address)
    {
        lock (_pendingByAddress)
        {
            _pendingByAddress.TryGetValue(address, out int fromAddress);
            if (_pendingHandshakes >= Options.MaxPendingHandshakes || fromAddress >= Options.MaxPendingHandshakesPerAddress
                || Volatile.Read(ref _connections) >= Options.MaxConnections)
            {
                return false;
            }

            _pendingByAddress[address] = fromAddress + 1;
            Volatile.Write(ref _pendingHandshakes, _pendingHandshakes + 1);
            return true;
        }
    }

    private void EndHandshake(IPAddress address)
    {
        lock (_pendingByAddress)
        {
            int fromAddress = _pendingByAddress[address] - 1;
            if (fromAddress == 0)
            {
                _pendingByAddress.Remove(address);
            }
            else
            {
                _pendingByAddress[address] = fromAddress;
            }

            Volatile.Write(ref _pendingHandshakes, _pendingHandshakes - 1);
        }
    }

    /// <summary>
    /// Incoming, once the router saw the BitTorrent handshake's start: read the first 48 bytes (protocol, reserved,
    /// info-hash) to find the torrent by any of its swarm hashes (v1, or a v2 hash truncated), answer with our handshake,
    /// then read the peer id.
    /// </summary>
    private async Task AcceptAsync(IDuplexConnection connection, CancellationToken cancellationToken, Sha1Hash? skey = null)
    {
        bool attached = false;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.HandshakeTimeout);
            (HandshakeReserved reserved, Sha1Hash infoHash) = await ReadAsync<(HandshakeReserved, Sha1Hash)>(connection.Input, ReadHeader, timeout.Token).ConfigureAwait(false);
            if (!_torrents.TryGetValue(infoHash, out TorrentSwarm? torrent) || !torrent.CanAccept(connection.RemoteEndPoint.Address)
                || (skey is { } key && (!_torrents.TryGetValue(key, out TorrentSwarm? keyed) || keyed != torrent)))
            {
                return;
            }

            await WriteHandshakeAsync(connection.Output, torrent.Metainfo.InfoHashes, infoHash, timeout.Token).ConfigureAwait(false);
            PeerId peerId = await ReadAsync<PeerId>(connection.Input, ReadPeerId, timeout.Token).ConfigureAwait(false);
            if (peerId == LocalPeerId)
            {
                return; // connected to ourselves
            }

            attached = Attach(torrent, connection, new Handshake(reserved, infoHash, peerId), outgoing: false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidDataException or ObjectDisposedException)
        {
        }
        finally
        {
            if (!attached)
            {
                connection.Abort();
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Outgoing: connect (within the half-open limit), send our handshake, check theirs. The handshake carries
    /// <paramref name="handshakeHash"/> (default the wire hash; a hybrid's truncated v2 hash for a peer found under it).
    /// </summary>
    public async Task ConnectAsync(TorrentSwarm torrent, IPEndPoint endpoint, CancellationToken cancellationToken, Sha1Hash? handshakeHash = null, bool utpOnly = false)
    {
        if (Volatile.Read(ref _connections) >= Options.MaxConnections)
        {
            throw new IOException("connection limit reached");
        }

        (IDuplexConnection connection, Handshake remote) = await OpenPeerAsync(endpoint, torrent.Metainfo.InfoHashes, handshakeHash ?? torrent.Metainfo.InfoHashes.WireHash, cancellationToken, utpOnly).ConfigureAwait(false);
        bool attached = false;
        try
        {
            if (remote.PeerId == LocalPeerId)
            {
                throw new InvalidDataException("connected to ourselves");
            }

            attached = Attach(torrent, connection, remote, outgoing: true);
        }
        finally
        {
            if (!attached)
            {
                connection.Abort();
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Dials <paramref name="endpoint"/> and handshakes for <paramref name="infoHash"/> (one of <paramref name="hashes"/>),
    /// each attempt within the handshake timeout: over MSE first unless the policy is disabled (the SKEY is the info-hash
    /// the handshake then carries: v1, or a v2 hash truncated; a hybrid's truncated v2 one), and when the policy is enabled and the peer
    /// does not complete MSE, once more in plain. A failed connect is not retried. Returns the connection (encrypted or
    /// not) and the peer's handshake; the caller owns the connection.
    /// </summary>
    internal async Task<(IDuplexConnection Connection, Handshake Remote)> OpenPeerAsync(IPEndPoint endpoint, InfoHashes hashes, Sha1Hash infoHash, CancellationToken cancellationToken, bool utpOnly = false)
    {
        EncryptionPolicy policy = Options.Encryption.Policy;
        bool encrypt = policy != EncryptionPolicy.Disabled;

        // A hybrid is keyed (and its handshake sent) by the truncated v2 hash over MSE: libtorrent takes the SKEY's hash
        // as the connection's protocol, so one keyed by the v1 hash is v1 to it, and our first BEP 52 hash request closes
        // it ("invalid message"). A peer that knows only the v1 hash fails that handshake; enabled then dials it in plain.
        Sha1Hash encryptedHash = hashes is { V1: not null, V2: { } v2 } ? v2.Truncate() : infoHash;
        while (true)
        {
            IDuplexConnection connection = await DialAsync(endpoint, cancellationToken, utpOnly).ConfigureAwait(false);
            bool done = false;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(Options.HandshakeTimeout);
                IDuplexConnection stream = connection;
                if (encrypt)
                {
                    try
                    {
                        MseConnection secured = await MseNegotiation.RunAsync(connection, MseHandshake.Initiator(encryptedHash, AllowedMethods), timeout.Token).ConfigureAwait(false);
                        Metrics.Encryption("out", MethodName(secured.Selected));
                        stream = secured;
                    }
                    catch (Exception e) when (e is OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
                    {
                        string reason = EncryptionFailure(e, cancellationToken);
                        Metrics.Encryption("out", reason);
                        SwarmLog.EncryptionFailed(Logger, endpoint, "out", reason);
                        if (policy == EncryptionPolicy.Forced)
                        {
                            throw new IOException($"the peer did not complete the encrypted handshake ({reason}) and encryption is forced", e);
                        }

                        encrypt = false;
                        continue; // in plain, on a new connection (this one is closed below)
                    }
                }

                Handshake remote = await ExchangeHandshakesAsync(stream, hashes, encrypt ? encryptedHash : infoHash, timeout.Token).ConfigureAwait(false);
                done = true;
                return (stream, remote);
            }
            finally
            {
                if (!done)
                {
                    connection.Abort();
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// Opens a connection within the half-open limit and the connect timeout; the caller handshakes. With
    /// <paramref name="utpOnly"/> (a holepunch dial), over <see cref="SessionOptions.UtpDialer"/> when there is one.
    /// </summary>
    internal async Task<IDuplexConnection> DialAsync(IPEndPoint endpoint, CancellationToken cancellationToken, bool utpOnly = false)
    {
        await _halfOpen.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.ConnectTimeout);
            return utpOnly && Options.UtpDialer is { } utp
                ? await utp(endpoint, timeout.Token).ConfigureAwait(false)
                : await _transport.ConnectAsync(endpoint, timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            _halfOpen.Release();
        }
    }

    private bool Attach(TorrentSwarm torrent, IDuplexConnection connection, Handshake remote, bool outgoing)
    {
        if (Interlocked.Increment(ref _connections) > Options.MaxConnections)
        {
            Interlocked.Decrement(ref _connections);
            return false;
        }

        torrent.Attach(new PeerConnection(torrent, connection, torrent.NextPeerId(), remote, outgoing));
        return true;
    }

    /// <summary>
    /// An outgoing connection's handshakes: ours for <paramref name="infoHash"/>, then theirs, which must name the same
    /// torrent: any of its swarm hashes (BEP 52 upgrade: a v2-capable peer of a hybrid may answer our v1 hash with
    /// the truncated v2 one).
    /// </summary>
    internal async Task<Handshake> ExchangeHandshakesAsync(IDuplexConnection connection, InfoHashes hashes, Sha1Hash infoHash, CancellationToken cancellationToken)
    {
        await WriteHandshakeAsync(connection.Output, hashes, infoHash, cancellationToken).ConfigureAwait(false);
        Handshake remote = await ReadHandshakeAsync(connection.Input, cancellationToken).ConfigureAwait(false);
        return hashes.SwarmHashes.Contains(remote.InfoHash) ? remote : throw new InvalidDataException("the peer answered for another torrent");
    }

    /// <summary>Sends our handshake for <paramref name="infoHash"/> (one of <paramref name="hashes"/>, as the wire carries it).</summary>
    internal async Task WriteHandshakeAsync(PipeWriter output, InfoHashes hashes, Sha1Hash infoHash, CancellationToken cancellationToken)
    {
        var handshake = new Handshake(ReservedFor(hashes), infoHash, LocalPeerId);
        output.Advance(handshake.WriteTo(output.GetSpan(Handshake.Length)));
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private delegate OperationStatus Reader<T>(ref ReadOnlySequence<byte> buffer, out T value);

    private static OperationStatus ReadHeader(ref ReadOnlySequence<byte> buffer, out (HandshakeReserved, Sha1Hash) value)
    {
        OperationStatus status = Handshake.TryReadHeader(ref buffer, out HandshakeReserved reserved, out Sha1Hash hash, out _);
        value = (reserved, hash);
        return status;
    }

    private static OperationStatus ReadPeerId(ref ReadOnlySequence<byte> buffer, out PeerId value) => Handshake.TryReadPeerId(ref buffer, out value);

    private static OperationStatus ReadHandshake(ref ReadOnlySequence<byte> buffer, out Handshake value) => Handshake.TryRead(ref buffer, out value, out _);

    /// <summary>Reads the remote's whole 68-byte handshake, leaving what follows in the pipe.</summary>
    internal static Task<Handshake> ReadHandshakeAsync(PipeReader input, CancellationToken cancellationToken) => ReadAsync<Handshake>(input, ReadHandshake, cancellationToken);

    /// <summary>Reads one fixed-size handshake part, leaving anything after it in the pipe for the peer loop.</summary>
    private static async Task<T> ReadAsync<T>(PipeReader input, Reader<T> read, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            OperationStatus status = read(ref buffer, out T value);
            if (status == OperationStatus.Done)
            {
                input.AdvanceTo(buffer.Start);
                return value;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (status == OperationStatus.InvalidData)
            {
                throw new InvalidDataException("not a BitTorrent handshake");
            }

            if (result.IsCompleted)
            {
                throw new IOException("the connection closed during the handshake");
            }
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }

        await _acceptLoop.ConfigureAwait(false);
        Task[] extra;
        lock (_extraAcceptLoops)
        {
            extra = [.. _extraAcceptLoops];
        }

        await Task.WhenAll(extra).ConfigureAwait(false);

        // Together, so each torrent's bounded stopped announce overlaps the others'.
        await Task.WhenAll(Torrents.Select(t => t.DisposeAsync().AsTask())).ConfigureAwait(false);
        _torrents.Clear();
        await Ticker.DisposeAsync().ConfigureAwait(false);
        if (LocalDiscovery is { } lsd)
        {
            await lsd.DisposeAsync().ConfigureAwait(false);
        }

        if (Options.OwnsDht)
        {
            foreach (PeerNet.Discovery.Dht.DhtNode dht in Options.DhtNodes)
            {
                await dht.DisposeAsync().ConfigureAwait(false); // saves its routing table for the next run
            }
        }

        if (_trackers.IsValueCreated)
        {
            _trackers.Value.Dispose();
        }

        await Hashing.DisposeAsync().ConfigureAwait(false);
        await Writer.DisposeAsync().ConfigureAwait(false);
        _halfOpen.Dispose();
        _stopping.Dispose();
        Metrics.Dispose();
    }
}
