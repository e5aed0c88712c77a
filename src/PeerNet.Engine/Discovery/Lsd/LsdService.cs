using System.Net;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using PeerNet.Discovery.Dht;
using PeerNet.Lsd;
using PeerNet.Threading;
using PeerNet.Transport;

namespace PeerNet.Discovery.Lsd;

/// <summary>
/// Local Service Discovery (BEP 14) for one session: joins the IPv4 and IPv6 LSD groups, multicasts an announce
/// for every registered info-hash at once and then every <see cref="LsdOptions.AnnounceInterval"/> (several
/// info-hashes per datagram when they fit), never more than once per <see cref="LsdOptions.MinAnnounceInterval"/>
/// per info-hash, and hands every peer another node announces (the datagram's source address, the announced
/// <c>Port</c>) to whoever registered that info-hash. Our own announces, heard back through multicast loopback, are
/// recognised by <see cref="Cookie"/> and ignored. Incoming work is bounded: per-address and overall rate limits
/// drop a flood unread, and a bounded queue sits between the sockets and the parser.
/// </summary>
internal sealed partial class LsdService : IAsyncDisposable
{
    private readonly LsdOptions _options;
    private readonly IMulticastTransport _transport;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<Sha1Hash, HashState> _hashes = [];
    private readonly List<Group> _groups = [];
    private readonly List<Task> _loops = [];
    private readonly CancellationTokenSource _stopping = new();
    private int _port;
    private int _disposed;

    /// <summary>Creates the service; nothing is joined or sent until <see cref="Start"/>.</summary>
    private readonly Diagnostics.PeerNetMetrics _metrics;

    public LsdService(LsdOptions options, IMulticastTransport transport, TimeProvider time, ILogger? logger = null, Diagnostics.PeerNetMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(transport);
        _metrics = metrics ?? new Diagnostics.PeerNetMetrics();
        _options = options;
        _transport = transport;
        _time = time;
        _logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _perSource = new SourceRateLimiter(options.DatagramsPerSecondPerSource, options.BurstPerSource, options.MaxTrackedSources, time);
        _overall = new SourceRateLimiter(options.DatagramsPerSecond, options.DatagramsPerSecond * 2, 1, time);
        _queue = Channel.CreateBounded<Received>(new BoundedChannelOptions(options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the datagram is dropped
            SingleReader = true,
        });
    }

    /// <summary>
    /// The <c>cookie</c> of our announces: 8 random hexadecimal digits, new for each service. BEP 14: an "opaque value,
    /// allowing the sending client to filter out its own announces if it receives them via multicast loopback".
    /// </summary>
    public string Cookie { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>The groups joined (after <see cref="Start"/>).</summary>
    public IReadOnlyList<IPEndPoint> JoinedGroups
    {
        get
        {
            lock (_lock)
            {
                return [.. _groups.Select(g => g.EndPoint)];
            }
        }
    }

    /// <summary>
    /// Joins the groups the options allow (a group this host cannot join is logged and skipped) and starts announcing
    /// <paramref name="listenPort"/> as our BitTorrent port. Returns how many groups were joined; with 0, nothing runs.
    /// </summary>
    public int Start(int listenPort)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(listenPort, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(listenPort, IPEndPoint.MaxPort);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_port != 0)
        {
            throw new InvalidOperationException("Local service discovery is already started.");
        }

        _port = listenPort;
        if (_options.UseIPv4)
        {
            TryJoin(LsdMessage.GroupV4, LsdMessage.HostV4);
        }

        if (_options.UseIPv6)
        {
            TryJoin(LsdMessage.GroupV6, LsdMessage.HostV6);
        }

        if (_groups.Count == 0)
        {
            return 0;
        }

        CancellationToken token = _stopping.Token;
        _loops.Add(BackgroundLoop.Start(() => AnnounceLoopAsync(token)));
        _loops.Add(BackgroundLoop.Start(() => ProcessLoopAsync(token)));
        foreach (Group group in _groups)
        {
            _loops.Add(BackgroundLoop.Start(() => ReceiveLoopAsync(group, token)));
        }

        return _groups.Count;
    }

    private void TryJoin(IPEndPoint group, string host)
    {
        try
        {
            IDatagramSocket socket = _transport.Join(group);
            lock (_lock)
            {
                _groups.Add(new Group(group, host, socket));
            }

            LsdLog.Joined(_logger, group);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            LsdLog.JoinFailed(_logger, group, e.Message);
        }
    }

    /// <summary>
    /// Announces <paramref name="infoHashes"/> (soon, and then every <see cref="LsdOptions.AnnounceInterval"/>) and
    /// hands <paramref name="onPeer"/> every peer that announces one of them, until the result is disposed; peers
    /// heard for them within the last announce interval are handed over at once. The callback runs on the caller's
    /// thread or the service's reader, and must not block.
    /// </summary>
    public IDisposable Register(IReadOnlyList<Sha1Hash> infoHashes, Action<IPEndPoint> onPeer)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        ArgumentNullException.ThrowIfNull(onPeer);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var registration = new Registration(this, [.. infoHashes.Distinct()], onPeer);
        List<IPEndPoint> heard = [];
        lock (_lock)
        {
            foreach (Sha1Hash hash in registration.InfoHashes)
            {
                if (!_hashes.TryGetValue(hash, out HashState? state))
                {
                    state = new HashState();
                    _hashes.Add(hash, state);
                }

                state.Registrations.Add(registration);
                state.Pending = true;
            }

            // Peers heard lately for these info-hashes (by a magnet fetch that is now handing over to its torrent) will
            // not announce again for minutes: hand them over now.
            long now = _time.GetTimestamp();
            heard.AddRange(_heard.Where(e => registration.InfoHashes.Contains(e.Key.Item1) && _time.GetElapsedTime(e.Value, now) < _options.AnnounceInterval)
                .Select(e => e.Key.Item2).Distinct());
        }

        _wake.Writer.TryWrite(true);
        foreach (IPEndPoint peer in heard)
        {
            Interlocked.Increment(ref _peersFound);
            onPeer(peer);
        }

        return registration;
    }

    private void Unregister(Registration registration)
    {
        lock (_lock)
        {
            foreach (Sha1Hash hash in registration.InfoHashes)
            {
                // The state stays until a minute after its last announce, so registering again cannot announce sooner.
                if (_hashes.TryGetValue(hash, out HashState? state))
                {
                    state.Registrations.Remove(registration);
                }
            }
        }
    }

    /// <summary>A snapshot of the counters.</summary>
    public LsdStats GetStats() => new(
        Interlocked.Read(ref _announcesSent),
        Interlocked.Read(ref _infoHashesAnnounced),
        Interlocked.Read(ref _datagramsReceived),
        Interlocked.Read(ref _droppedRateLimited),
        Interlocked.Read(ref _droppedQueueFull),
        Interlocked.Read(ref _refused),
        Interlocked.Read(ref _ownIgnored),
        Interlocked.Read(ref _peersFound));

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (Group group in _groups)
        {
            await group.Socket.DisposeAsync().ConfigureAwait(false);
        }

        _queue.Writer.TryComplete();
        await Task.WhenAll(_loops).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private sealed record Group(IPEndPoint EndPoint, string Host, IDatagramSocket Socket);

    /// <summary>Who wants one info-hash, and when it was last announced.</summary>
    private sealed class HashState
    {
        public List<Registration> Registrations { get; } = [];

        public long? LastAnnounced { get; set; }

        /// <summary>Registered since the last announce: due as soon as the one-minute limit allows.</summary>
        public bool Pending { get; set; }
    }

    private sealed class Registration(LsdService service, Sha1Hash[] infoHashes, Action<IPEndPoint> onPeer) : IDisposable
    {
        private int _disposed;

        public Sha1Hash[] InfoHashes { get; } = infoHashes;

        public Action<IPEndPoint> OnPeer { get; } = onPeer;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                service.Unregister(this);
            }
        }
    }
}
