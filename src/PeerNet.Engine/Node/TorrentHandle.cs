using PeerNet.Magnet;
using PeerNet.Metainfo;
using PeerNet.Swarm;

namespace PeerNet;

/// <summary>
/// A torrent of a <see cref="PeerNetNode"/>: its status, peers, files and trackers, and what its owner can do with it
/// (pause, resume, recheck, move, remove). A handle stays usable after its torrent is removed: it then reports
/// <see cref="TorrentState.Stopped"/> and <see cref="IsValid"/> false, and its actions throw
/// <see cref="ObjectDisposedException"/>. Every member is safe from any thread; status is a snapshot, peers and files
/// are read on the torrent's own loop.
/// </summary>
#pragma warning disable CA1001 // _lifecycle is a SemaphoreSlim whose wait handle is never asked for: nothing to dispose.
public sealed partial class TorrentHandle
#pragma warning restore CA1001
{
    private readonly PeerNetNode _node;
    private readonly MagnetLink? _magnet;
    private readonly SemaphoreSlim _lifecycle = new(1, 1); // pause, resume, move and remove, one at a time
    private TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<TorrentMetainfo> _metadata = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TorrentMetainfo? _metainfo;
    private TorrentSwarm? _swarm;
    private TorrentState _state;
    private string? _error;
    private TorrentStatus? _lastStatus;
    private int _removed;

    internal TorrentHandle(PeerNetNode node, long id, TorrentSource source, AddTorrentOptions options)
    {
        _node = node;
        Id = id;
        _magnet = source.Magnet;
        _metainfo = source.Metainfo;
        InfoHashes = source.InfoHashes;
        Options = options;
        _state = _metainfo is null ? TorrentState.FetchingMetadata : TorrentState.Checking;
        if (_metainfo is not null)
        {
            _metadata.TrySetResult(_metainfo);
        }
    }

    /// <summary>A number unique among the node's torrents, for as long as the node runs.</summary>
    public long Id { get; }

    /// <summary>The info-hashes the torrent is known by (a magnet link's until the metadata proves the rest).</summary>
    public InfoHashes InfoHashes { get; private set; }

    /// <summary>Whether the torrent is still in its node (false once removed, or the node stopped).</summary>
    public bool IsValid => Volatile.Read(ref _removed) == 0;

    /// <summary>The torrent's name, exact: the metadata's, else the magnet's <c>dn</c>, else its info-hash.</summary>
    public string Name => _metainfo?.Name ?? _magnet?.DisplayName ?? InfoHashes.ToString();

    /// <summary>The torrent's metadata; null until a magnet link's has arrived.</summary>
    public TorrentMetainfo? Metainfo => Volatile.Read(ref _metainfo);

    /// <summary>How the torrent was added (with <see cref="AddTorrentOptions.SavePath"/> updated by a move).</summary>
    public AddTorrentOptions Options { get; private set; }

    /// <summary>A snapshot of the torrent's state, progress and rates.</summary>
    public TorrentStatus GetStatus()
    {
        TorrentSwarm? swarm = Volatile.Read(ref _swarm);
        if (swarm is not null)
        {
            TorrentStatus live = swarm.GetStatus();
            return live.State == TorrentState.Stopped ? live with { State = _state } : live;
        }

        TorrentStatus? last = _lastStatus;
        TorrentMetainfo? metainfo = Metainfo;
        return new TorrentStatus
        {
            Name = Name,
            InfoHashes = InfoHashes,
            State = IsValid ? _state : TorrentState.Stopped,
            Error = _error,
            PieceCount = last?.PieceCount ?? metainfo?.PieceCount ?? 0,
            PiecesVerified = last?.PiecesVerified ?? 0,
            TotalSize = metainfo?.TotalSize ?? _magnet?.ExactLength ?? 0,
            PieceLength = metainfo?.PieceLength ?? 0,
            Downloaded = last?.Downloaded ?? 0,
            Uploaded = last?.Uploaded ?? 0,
            Wasted = last?.Wasted ?? 0,
        };
    }

    /// <summary>The connected peers (none while the torrent is paused, fetching its metadata, or stopped).</summary>
    public async Task<IReadOnlyList<PeerStatus>> GetPeersAsync(CancellationToken cancellationToken = default)
    {
        TorrentSwarm? swarm = Volatile.Read(ref _swarm);
        if (swarm is null)
        {
            return [];
        }

        try
        {
            return await swarm.InvokeAsync(swarm.SnapshotPeers, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            return []; // paused or removed meanwhile
        }
    }

    /// <summary>Each file with its size, verified bytes and priority (none until a magnet link's metadata arrives).</summary>
    public async Task<IReadOnlyList<TorrentFileStatus>> GetFilesAsync(CancellationToken cancellationToken = default)
    {
        TorrentMetainfo? metainfo = Metainfo;
        if (metainfo is null)
        {
            return [];
        }

        IReadOnlyList<long>? done = null;
        TorrentSwarm? swarm = Volatile.Read(ref _swarm);
        if (swarm is not null)
        {
            try
            {
                done = await swarm.InvokeAsync(swarm.SnapshotFileProgress, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
            }
        }

        IReadOnlyList<int>? priorities = Options.FilePriorities;
        var files = new List<TorrentFileStatus>(metainfo.Files.Count);
        for (int i = 0; i < metainfo.Files.Count; i++)
        {
            TorrentFile file = metainfo.Files[i];
            if (!file.IsPadFile)
            {
                files.Add(new TorrentFileStatus(i, file.Path, file.Length, done?[i] ?? 0, priorities?[i] ?? 4));
            }
        }

        return files;
    }

    /// <summary>The torrent's trackers with their state and last error.</summary>
    public IReadOnlyList<TrackerStatus> GetTrackers()
    {
        TorrentSwarm? swarm = Volatile.Read(ref _swarm);
        if (swarm is not null)
        {
            return swarm.GetTrackerStatuses();
        }

        IReadOnlyList<IReadOnlyList<string>> tiers = Metainfo?.Trackers ?? (_magnet is null ? [] : [.. _magnet.Trackers.Select(t => (IReadOnlyList<string>)[t])]);
        return [.. tiers.SelectMany((tier, index) => tier.Select(url => new TrackerStatus(url, index, TrackerState.NotContacted, null)))];
    }

    /// <summary>
    /// Completes once every wanted piece is verified on disk (at once if it is). Faults with an <see cref="IOException"/>
    /// if the torrent stops on an error, and with <see cref="ObjectDisposedException"/> if it is removed first.
    /// </summary>
    public Task WaitForCompletionAsync(CancellationToken cancellationToken = default) => Volatile.Read(ref _completed).Task.WaitAsync(cancellationToken);

    /// <summary>The metadata: at once for a torrent, once fetched and verified for a magnet link.</summary>
    public Task<TorrentMetainfo> WaitForMetadataAsync(CancellationToken cancellationToken = default) => _metadata.Task.WaitAsync(cancellationToken);

    /// <summary>
    /// Connects to <paramref name="peers"/> (taken as given, like <see cref="AddTorrentOptions.Peers"/>), now if the torrent
    /// runs and again whenever it starts: for a peer no source names, such as a client that never dials out.
    /// </summary>
    public void AddPeers(IEnumerable<System.Net.IPEndPoint> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        System.Net.IPEndPoint[] added = [.. peers];
        Options = Options with { Peers = [.. Options.Peers.Union(added)] };
        if (Volatile.Read(ref _swarm) is { } swarm)
        {
            foreach (System.Net.IPEndPoint peer in added)
            {
                swarm.AddPeerEndpoint(peer);
            }
        }
    }

    /// <summary>Changes this torrent's own rate limits (bytes per second, 0 for none), at once.</summary>
    public void SetRateLimits(long uploadBytesPerSecond, long downloadBytesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(uploadBytesPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegative(downloadBytesPerSecond);
        Options = Options with { UploadRateLimit = uploadBytesPerSecond, DownloadRateLimit = downloadBytesPerSecond };
        if (Volatile.Read(ref _swarm) is { } swarm)
        {
            swarm.UploadLimit.Rate = uploadBytesPerSecond;
            swarm.DownloadLimit.Rate = downloadBytesPerSecond;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{DisplayText.Sanitize(Name)} ({InfoHashes})";
}
