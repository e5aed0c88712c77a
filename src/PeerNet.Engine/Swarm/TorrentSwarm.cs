using System.Threading.Channels;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Storage;
using PeerNet.Threading;

namespace PeerNet.Swarm;

/// <summary>
/// One torrent in a session: its peers, pieces, choking and storage, driven by one loop that owns all of
/// that state. Reader and writer loops of each peer, hashing and disk writes run beside it and post events.
/// </summary>
internal sealed partial class TorrentSwarm : IAsyncDisposable
{
    /// <summary>Our id for ut_metadata in the extension handshake (BEP 9).</summary>
    public const byte LocalMetadataExtensionId = 2;

    private const int BlockLength = PeerWireLimits.BlockLength;

    private readonly SwarmSession _session;

    // The name as logs show it, cleaned once: the torrent's name is data (the file or folder on disk keeps C1 and
    // bidi characters, which are legal there), but a log line must not carry them to a terminal.
    private readonly string _logName;
    private readonly Channel<SwarmEvent> _events = Channel.CreateBounded<SwarmEvent>(new BoundedChannelOptions(8192)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly PeerSet _peerSet;
    private readonly PieceVerifier _verifier;
    private readonly PieceWriter _pieceWriter;
    private readonly PiecePicker _picker;
    private readonly PieceBitfield _have;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RequestScheduler _requests;
    private Task _loop = Task.CompletedTask;
    private IDisposable? _tickRegistration;
    private long _downloaded;
    private long _uploaded;
    private long _wasted;
    private int _nextPeerId;

    public TorrentSwarm(SwarmSession session, TorrentMetainfo metainfo, TorrentStorage storage, TorrentOptions options)
    {
        _session = session;
        Metainfo = metainfo;
        _logName = DisplayText.Sanitize(metainfo.Name);
        Storage = storage;
        Options = options;
        Time = session.Time;
        PieceCount = metainfo.PieceCount;
        _startedAt = Time.GetTimestamp();
        _downloadRate = new RateMeter(Time);
        _uploadRate = new RateMeter(Time);
        UploadLimit = Transport.TokenBucket.ForTransferRate(options.UploadRateLimit, Time);
        DownloadLimit = Transport.TokenBucket.ForTransferRate(options.DownloadRateLimit, Time);
        _verifier = new PieceVerifier(storage.Map, session.Hashing);
        _pieceWriter = new PieceWriter(storage, _verifier, session.Hashing, session.Writer, options.MaxPieceBufferBytes, OnHashDone, _stopping.Token);
        _have = new PieceBitfield(PieceCount);
        _picker = new PiecePicker(PieceCount, storage.Map.GetRequestableLength, new Random(options.RandomSeed ?? Random.Shared.Next()));
        _requests = new RequestScheduler(_picker, _pieceWriter, Time, options.MaxRequestsPerPeer);
        _layers = new LayerFetcher(metainfo, storage.Map, _verifier, _picker, Time, this);
        _resume = options.ResumeDirectory is null ? null : new ResumeStore(options.ResumeDirectory);
        _handshakeHashes = new HandshakeHashes(metainfo.InfoHashes, options.MaxKnownPeers);
        _peerSet = new PeerSet(new PeerList(options.MaxKnownPeers, Time, options.RedialDelay, options.ReconnectDelay), _bans, options.MaxConnections, session.Options.PeerLimits.MaxConnectionsPerAddress, session.Metrics);
    }

    public TorrentMetainfo Metainfo { get; }

    public TorrentStorage Storage { get; }

    public TorrentOptions Options { get; }

    public TimeProvider Time { get; }

    public int PieceCount { get; }

    /// <summary>This torrent's own upload limit, on top of the session's (0: none; may change at run time).</summary>
    public Transport.TokenBucket UploadLimit { get; }

    /// <summary>The session's instruments.</summary>
    public Diagnostics.PeerNetMetrics Metrics => _session.Metrics;

    /// <summary>The session's per-peer budgets.</summary>
    public PeerLimits PeerLimits => _session.Options.PeerLimits;

    /// <summary>This torrent's own download limit, on top of the session's (0: none; may change at run time).</summary>
    public Transport.TokenBucket DownloadLimit { get; }

    /// <summary>Waits until <paramref name="bytes"/> may be sent: under this torrent's limit, then the session's.</summary>
    public async ValueTask TakeUploadAsync(int bytes, CancellationToken cancellationToken)
    {
        await UploadLimit.TakeAsync(bytes, cancellationToken).ConfigureAwait(false);
        await _session.UploadLimit.TakeAsync(bytes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until <paramref name="bytes"/> more may be received: under this torrent's limit, then the session's.</summary>
    public async ValueTask TakeDownloadAsync(int bytes, CancellationToken cancellationToken)
    {
        await DownloadLimit.TakeAsync(bytes, cancellationToken).ConfigureAwait(false);
        await _session.DownloadLimit.TakeAsync(bytes, cancellationToken).ConfigureAwait(false);
    }

    public TorrentState State { get; private set; } = TorrentState.Checking;

    public string? Error { get; private set; }

    /// <summary>Completes when every wanted piece is verified on disk; faults if the torrent stops on an error.</summary>
    public Task Completed => _completed.Task;

    public int GetPieceSize(int piece) => Storage.Map.GetPieceSize(piece);

    /// <summary>
    /// The largest piece a peer may ask for. libtorrent gives v2-only torrents an implicit tail pad file, so
    /// every piece is full-size on the wire and it requests the last block whole; the bytes past the data are
    /// zeros. BEP 52 does not settle this, so the server side accepts both views.
    /// </summary>
    public int GetServablePieceSize(int piece) => Metainfo.Version == TorrentVersion.V2 ? (int)Storage.Map.PieceLength : GetPieceSize(piece);

    public void CountDownload(int bytes)
    {
        Interlocked.Add(ref _downloaded, bytes);
        _downloadRate.Add(bytes);
        _session.Received.Add(bytes);
        Metrics.Downloaded.Add(bytes);
    }

    public void CountUpload(int bytes)
    {
        Interlocked.Add(ref _uploaded, bytes);
        _uploadRate.Add(bytes);
        _session.Sent.Add(bytes);
        Metrics.Uploaded.Add(bytes);
    }

    private Microsoft.Extensions.Logging.ILogger Log => _session.Logger;

    public bool TryGetPieceBuffer(int piece, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PieceBuffer? buffer)
        => _pieceWriter.TryGetBuffer(piece, out buffer);

    /// <summary>Reads a block we have for upload (called by writer loops).</summary>
    public void ReadBlock(int piece, int begin, Span<byte> destination)
    {
        long offset = (piece * Storage.Map.PieceLength) + begin;
        int data = (int)Math.Clamp(Storage.Map.SpaceSize - offset, 0, destination.Length);
        destination[data..].Clear(); // implicit tail padding of a v2 torrent
        Storage.Read(offset, destination[..data]);
    }

    /// <summary>The most bytes ever queued to one peer of this torrent and not yet taken (see <see cref="PeerLimits.MaxSendQueueBytes"/>).</summary>
    public long PeakSendQueueBytes => Interlocked.Read(ref _peakSendQueueBytes);

    private long _peakSendQueueBytes;

    /// <summary>Notes a peer's send queue at <paramref name="bytes"/>, for <see cref="PeakSendQueueBytes"/>.</summary>
    public void NoteSendQueue(long bytes)
    {
        long peak = Interlocked.Read(ref _peakSendQueueBytes);
        while (bytes > peak)
        {
            long seen = Interlocked.CompareExchange(ref _peakSendQueueBytes, bytes, peak);
            if (seen == peak)
            {
                return;
            }

            peak = seen;
        }
    }

    /// <summary>Posts an event without waiting (for events that must not be lost, such as a close).</summary>
    public void Post(SwarmEvent e)
    {
        if (!_events.Writer.TryWrite(e))
        {
            _ = _events.Writer.WriteAsync(e).AsTask();
        }
    }

    /// <summary>Posts an event, waiting while the loop is behind: back-pressure for reader loops.</summary>
    public ValueTask PostAsync(SwarmEvent e, CancellationToken cancellationToken) => _events.Writer.WriteAsync(e, cancellationToken);

    /// <summary>
    /// A snapshot of progress and rates (safe from any thread): what the loop owns is read from the
    /// <see cref="LoopStatus"/> it last published, the rest from counters written atomically.
    /// </summary>
    public TorrentStatus GetStatus()
    {
        LoopStatus loop = Volatile.Read(ref _loopStatus);
        Discovery.Trackers.TrackerSummary trackers = SummarizeTrackers();
        return new()
        {
            Name = Metainfo.Name,
            InfoHashes = Metainfo.InfoHashes,
            State = loop.State,
            Error = loop.Error,
            PieceCount = PieceCount,
            PiecesVerified = loop.PiecesVerified,
            TotalSize = Metainfo.TotalSize,
            Downloaded = Interlocked.Read(ref _downloaded),
            Uploaded = Interlocked.Read(ref _uploaded),
            Wasted = Interlocked.Read(ref _wasted),
            DownloadRate = _downloadRate.BytesPerSecond,
            UploadRate = _uploadRate.BytesPerSecond,
            Peers = _peerSet.Count,
            Seeds = Volatile.Read(ref _seedCount),
            PiecesFoundOnDisk = loop.PiecesFoundAtStart,
            HashFailures = loop.HashFailures,
            PeersBanned = _bans.Count,
            PieceLength = Metainfo.PieceLength,
            TrackerCount = trackers.Total,
            TrackersWorking = trackers.Working,
            TrackersFailing = trackers.Failing,
            TrackerError = trackers.LastError,
        };
    }

    /// <summary>
    /// What status calls read of the state the loop owns, published whole by the loop (<see cref="PublishStatus"/>), so
    /// no other thread walks the have-set or reads a state and error that do not belong together.
    /// </summary>
    private sealed record LoopStatus(TorrentState State, string? Error, int PiecesVerified, int HashFailures, int PiecesFoundAtStart);

    private LoopStatus _loopStatus = new(TorrentState.Checking, null, 0, 0, 0);

    /// <summary>
    /// Publishes <see cref="LoopStatus"/> again: at the end of each batch of events, and at once where an observer or a
    /// waiter on <see cref="Completed"/> may ask for status next (a piece verified, a hash failure, completion, failure).
    /// Only the loop (or start-up and shutdown, when the loop is not running) calls it.
    /// </summary>
    private void PublishStatus()
    {
        LoopStatus last = _loopStatus;
        if (last.State != State || !ReferenceEquals(last.Error, Error) || last.HashFailures != HashFailures
            || last.PiecesFoundAtStart != PiecesFoundAtStart || _haveChanged)
        {
            _haveChanged = false;
            Volatile.Write(ref _loopStatus, new LoopStatus(State, Error, _have.SetCount, HashFailures, PiecesFoundAtStart));
        }
    }

    private bool _haveChanged; // a piece was added to _have since the last PublishStatus

    private int _seedCount; // counted by the loop once a second

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await CheckExistingDataAsync(cancellationToken).ConfigureAwait(false);
        _loop = BackgroundLoop.Start(() => RunAsync(_stopping.Token));
        _tickRegistration = _session.Ticker.Register(OnTimer);
        foreach (System.Net.IPEndPoint endpoint in Options.Peers)
        {
            AddPeerEndpoint(endpoint);
        }

        StartTrackers();
        StartDht();
        StartLocalDiscovery();
    }

    public void AddPeerEndpoint(System.Net.IPEndPoint endpoint) => Post(new SwarmEvent(SwarmEventKind.AddPeers, Payload: endpoint));

    /// <summary>The session's timer, once a second (on its thread): a tick for the loop, but for an idle torrent only one in <see cref="IdleTickEvery"/>.</summary>
    private void OnTimer()
    {
        int timerTicks = ++_timerTicks; // only the timer's thread writes it
        if (!Volatile.Read(ref _idle) || timerTicks % IdleTickEvery == 0)
        {
            _events.Writer.TryWrite(new SwarmEvent(SwarmEventKind.Tick));
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        ChannelReader<SwarmEvent> reader = _events.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out SwarmEvent e))
                {
                    try
                    {
                        Process(e);
                    }
#pragma warning disable CA1031 // What one peer's message set off is that peer's fault: it is closed, the torrent goes on.
                    catch (Exception error) when (e.Peer is { } peer && error is not OperationCanceledException)
#pragma warning restore CA1031
                    {
                        SwarmLog.PeerFault(Log, _logName, peer.RemoteEndPoint, e.Kind.ToString(), error);
                        peer.Close($"internal error handling its {e.Kind}: {error.Message}");
                    }
                }

                if (State == TorrentState.Downloading)
                {
                    _requests.Fill(_peerSet.Connected);
                }

                PublishStatus();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // The loop owns the torrent: a bug must stop it visibly, not hang it silently.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Fail(new InvalidOperationException($"internal error in the torrent loop: {e}", e));
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (State is not TorrentState.Error)
        {
            State = TorrentState.Stopped;
        }

        PublishStatus();

        // The stopped announce runs beside the rest of the shutdown, bounded by its own timeout.
        Task trackersStopped = StopTrackersAsync();
        StopLocalDiscovery();
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            _tickRegistration?.Dispose();
            await Task.WhenAll(_loop, _dhtLoop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        PublishStatus(); // the loop has ended: nothing publishes after this
        PeerConnection[] peers = _peerSet.TakeAll();
        await Task.WhenAll(peers.Select(p => p.DisposeAsync().AsTask())).ConfigureAwait(false);
        // Hash-and-write items still running read their piece buffers and write the storage: both stay until they end.
        await _pieceWriter.WhenIdleAsync().ConfigureAwait(false);

        if (_resumeDirty)
        {
            SaveResume(); // a piece verified since the last save (a seed's stop writes nothing)
        }
        _pieceWriter.DisposeBuffers();
        await Storage.DisposeAsync().ConfigureAwait(false);
        await trackersStopped.ConfigureAwait(false);
        _completed.TrySetCanceled();
        _stopping.Dispose();
    }
}
