using System.Net;

namespace PeerNet.Cli.Demo;

/// <summary>What a node in the demo is there for.</summary>
internal enum DemoRole
{
    /// <summary>Has the whole content from the start; uploads at the seed rate.</summary>
    Seeder,

    /// <summary>Downloads the content and serves what it has.</summary>
    Leecher,

    /// <summary>Has a full copy but corrupts every block it sends (<see cref="DemoBadPeer"/>, not a PeerNet node).</summary>
    BadPeer,
}

/// <summary>
/// One peer of the demo: its own loopback address, port, folder and upload cap. The seeder and each leecher are a
/// <see cref="PeerNetNode"/> with one torrent; the bad peer is a <see cref="DemoBadPeer"/>. A churning leecher goes
/// through several nodes; the byte counts add up over all of them. Read by the view from another thread, so the swap
/// from one node to the next happens under a lock.
/// </summary>
internal sealed class DemoNode(string name, DemoRole role, IPAddress address, string folder, long uploadRate)
{
    private readonly Lock _gate = new();
    private PeerNetNode? _node;
    private TorrentHandle? _torrent;
    private Task _watching = Task.CompletedTask;
    private DemoBadPeer? _badPeer;
    private TorrentStatus? _last;
    private long _pastUploaded;
    private long _pastDownloaded;
    private long _pastWasted;
    private int _hashFailures;
    private readonly HashSet<IPAddress> _banned = [];

    public string Name { get; } = name;

    public DemoRole Role { get; } = role;

    public IPAddress Address { get; } = address;

    /// <summary>The folder the torrent's files are in (the seeder's and the bad peer's are only read).</summary>
    public string Folder { get; } = folder;

    public long UploadRate { get; } = uploadRate;

    /// <summary>Nodes this one connects to, or that connect to it (a rejoining node dials them all).</summary>
    public List<DemoNode> Neighbours { get; } = [];

    public int ListenPort { get; private set; }

    public IPEndPoint EndPoint => new(Address, ListenPort);

    /// <summary>Progress at which this leecher leaves and rejoins (<c>--churn</c>); null if it stays.</summary>
    public double? LeaveAt { get; set; }

    public DemoRejoin? Rejoin { get; set; }

    /// <summary>From the start of the swarm to this copy's last verified piece.</summary>
    public TimeSpan? CompletedAfter { get; set; }

    /// <summary>Addresses this node banned, over all its sessions.</summary>
    public IReadOnlySet<IPAddress> BannedAddresses
    {
        get
        {
            lock (_gate)
            {
                return new HashSet<IPAddress>(_banned);
            }
        }
    }

    /// <summary>Pieces that failed their hash check here, over all its sessions.</summary>
    public int HashFailures => Volatile.Read(ref _hashFailures);

    public bool IsOnline
    {
        get
        {
            lock (_gate)
            {
                return _torrent is not null || _badPeer is { IsRunning: true };
            }
        }
    }

    /// <summary>The torrent of the node running now; null while offline (and always for the bad peer).</summary>
    public TorrentHandle? Torrent => Volatile.Read(ref _torrent);

    /// <summary>Takes a started node and its torrent; <paramref name="watching"/> follows its events and ends when it stops.</summary>
    public void Attach(PeerNetNode node, TorrentHandle torrent, Task watching)
    {
        lock (_gate)
        {
            _node = node;
            _watching = watching;
            ListenPort = node.ListenPort;
            Volatile.Write(ref _torrent, torrent);
        }
    }

    public void Attach(DemoBadPeer badPeer)
    {
        lock (_gate)
        {
            _badPeer = badPeer;
            ListenPort = badPeer.LocalEndPoint.Port;
        }
    }

    /// <summary>Notes that this node banned <paramref name="banned"/>; false if it had before (in this session or an earlier one).</summary>
    public bool NoteBan(IPAddress banned)
    {
        lock (_gate)
        {
            return _banned.Add(banned);
        }
    }

    public void NoteHashFailure() => Interlocked.Increment(ref _hashFailures);

    /// <summary>
    /// Stops the node (its resume data saved) once every event it sent is counted, keeping its byte counts; returns
    /// the last status of its torrent.
    /// </summary>
    public async Task<TorrentStatus?> StopAsync()
    {
        PeerNetNode? node;
        TorrentHandle? torrent;
        Task watching;
        DemoBadPeer? badPeer;
        lock (_gate)
        {
            (node, torrent, watching, badPeer) = (_node, _torrent, _watching, _badPeer);
        }

        if (badPeer is not null)
        {
            await badPeer.DisposeAsync().ConfigureAwait(false);
        }

        if (node is not null)
        {
            await node.DisposeAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false); // the node's events end when it stops
        }

        lock (_gate)
        {
            if (torrent is not null && ReferenceEquals(torrent, _torrent))
            {
                _last = torrent.GetStatus(); // a stopped torrent's final counts
                _pastUploaded += _last.Uploaded;
                _pastDownloaded += _last.Downloaded;
                _pastWasted += _last.Wasted;
                Volatile.Write(ref _torrent, null);
                _node = null;
            }

            return _last;
        }
    }

    /// <summary>Totals over every session so far, and the current one's status (or the last one's when offline).</summary>
    public DemoNodeStatus GetStatus()
    {
        lock (_gate)
        {
            if (_badPeer is { } bad)
            {
                bool running = bad.IsRunning;
                return new DemoNodeStatus(this, running, bad.PieceCount, 0, running ? bad.UploadRate : 0, bad.Uploaded, 0, 0, 0, 0);
            }

            TorrentStatus? status = _torrent?.GetStatus() ?? _last;
            bool online = _torrent is not null;
            return new DemoNodeStatus(
                this,
                online,
                status?.PiecesVerified ?? 0,
                online ? status!.DownloadRate : 0,
                online ? status!.UploadRate : 0,
                _pastUploaded + (online ? status!.Uploaded : 0),
                _pastDownloaded + (online ? status!.Downloaded : 0),
                _pastWasted + (online ? status!.Wasted : 0),
                _banned.Count,
                HashFailures);
        }
    }
}

/// <summary>A node at one moment: verified pieces, rates, and bytes over all its sessions.</summary>
internal sealed record DemoNodeStatus(
    DemoNode Node,
    bool Online,
    int PiecesVerified,
    double DownloadRate,
    double UploadRate,
    long Uploaded,
    long Downloaded,
    long Wasted,
    int Banned,
    int HashFailures);

/// <summary>A leecher that left and came back: what it had, what it found on disk, and what it fetched after.</summary>
/// <param name="PiecesAtLeave">Pieces verified when it left.</param>
/// <param name="PiecesFoundOnRejoin">Pieces its new node found verified on disk.</param>
/// <param name="MissingBytes">At most this many bytes were left to fetch after rejoining.</param>
/// <param name="DownloadedBefore">Payload bytes received before leaving.</param>
/// <param name="WastedBefore">Of those, bytes discarded.</param>
internal sealed record DemoRejoin(int PiecesAtLeave, int PiecesFoundOnRejoin, long MissingBytes, long DownloadedBefore, long WastedBefore)
{
    /// <summary>Payload bytes received after rejoining (set at the end).</summary>
    public long DownloadedAfter { get; init; }

    /// <summary>Of those, bytes discarded (endgame duplicates, failed pieces).</summary>
    public long WastedAfter { get; init; }
}
