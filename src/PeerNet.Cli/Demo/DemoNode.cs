using System.Net;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Cli.Demo;

/// <summary>What a node in the demo is there for.</summary>
internal enum DemoRole
{
    /// <summary>Has the whole content from the start; uploads at the seed rate.</summary>
    Seeder,

    /// <summary>Downloads the content and serves what it has.</summary>
    Leecher,

    /// <summary>Has a full copy but corrupts every block it sends.</summary>
    BadPeer,
}

/// <summary>
/// One PeerNet node of the demo: its own loopback address, port, folder and caps. A churning leecher goes
/// through several sessions; the byte counts add up over all of them. Read by the view from another thread,
/// so the session swap happens under a lock.
/// </summary>
internal sealed class DemoNode(string name, DemoRole role, IPAddress address, string folder, long uploadRate)
{
    private readonly Lock _gate = new();
    private TorrentSwarm? _torrent;
    private TorrentStatus? _last;
    private long _pastUploaded;
    private long _pastDownloaded;
    private long _pastWasted;
    private int _pastHashFailures;
    private readonly HashSet<IPAddress> _banned = [];

    public string Name { get; } = name;

    public DemoRole Role { get; } = role;

    public IPAddress Address { get; } = address;

    /// <summary>The folder the torrent's files are in (the seeder's is read-only).</summary>
    public string Folder { get; } = folder;

    public long UploadRate { get; } = uploadRate;

    /// <summary>Nodes this one connects to, or that connect to it (a rejoining node dials them all).</summary>
    public List<DemoNode> Neighbours { get; } = [];

    public SwarmSession? Session { get; private set; }

    public TcpTransport? Transport { get; private set; }

    public int ListenPort { get; private set; }

    public IPEndPoint EndPoint => new(Address, ListenPort);

    /// <summary>Progress at which this leecher leaves and rejoins (<c>--churn</c>); null if it stays.</summary>
    public double? LeaveAt { get; set; }

    public DemoRejoin? Rejoin { get; set; }

    /// <summary>From the start of the swarm to this copy's last verified piece.</summary>
    public TimeSpan? CompletedAfter { get; set; }

    /// <summary>Addresses this node banned, over every session that has stopped.</summary>
    public IReadOnlySet<IPAddress> BannedAddresses => _banned;

    /// <summary>Pieces that failed their hash check here, over every session that has stopped.</summary>
    public int HashFailures => _pastHashFailures;

    /// <summary>Banned addresses already reported (by the demo's polling loop only).</summary>
    public HashSet<IPAddress> ReportedBans { get; } = [];

    public bool IsOnline => Volatile.Read(ref _torrent) is not null;

    public TorrentSwarm? Torrent => Volatile.Read(ref _torrent);

    public void Attach(TcpTransport transport, SwarmSession session, TorrentSwarm torrent)
    {
        lock (_gate)
        {
            Transport = transport;
            Session = session;
            ListenPort = session.ListenPort;
            _torrent = torrent;
        }
    }

    /// <summary>Stops the node's session, keeping its counts; returns the last status of its torrent.</summary>
    public async Task<TorrentStatus?> StopAsync()
    {
        SwarmSession? session = Session;
        TcpTransport? transport = Transport;
        TorrentSwarm? torrent = Torrent;
        if (session is not null)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        if (transport is not null)
        {
            await transport.DisposeAsync().ConfigureAwait(false);
        }

        lock (_gate)
        {
            if (torrent is not null && ReferenceEquals(torrent, _torrent))
            {
                _last = torrent.GetStatus();
                _pastUploaded += _last.Uploaded;
                _pastDownloaded += _last.Downloaded;
                _pastWasted += _last.Wasted;
                _pastHashFailures += torrent.HashFailures;
                _banned.UnionWith(torrent.Banned);
                _torrent = null;
            }

            Session = null;
            Transport = null;
            return _last;
        }
    }

    /// <summary>Totals over every session so far, and the current one's status (or the last one's when offline).</summary>
    public DemoNodeStatus GetStatus()
    {
        lock (_gate)
        {
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

                _banned.Count + (online ? _torrent!.BannedCount : 0),
                _pastHashFailures + (online ? _torrent!.HashFailures : 0));
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
/// <param name="PiecesFoundOnRejoin">Pieces its new session found verified on disk.</param>
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
