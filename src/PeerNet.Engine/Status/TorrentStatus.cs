namespace PeerNet;

/// <summary>What a torrent is doing.</summary>
public enum TorrentState
{
    /// <summary>Checking data already on disk.</summary>
    Checking,

    /// <summary>Fetching pieces (and serving those it has).</summary>
    Downloading,

    /// <summary>Has every wanted piece; serving.</summary>
    Seeding,

    /// <summary>Stopped by a fatal error (see <see cref="TorrentStatus.Error"/>); verified data is kept.</summary>
    Error,

    /// <summary>Stopped: removed from its node, or the node stopped.</summary>
    Stopped,

    /// <summary>Added from a magnet link: fetching the info dictionary from peers (BEP 9) before anything else.</summary>
    FetchingMetadata,

    /// <summary>Paused by its owner: no connections, nothing sent or received; resume picks up where it was.</summary>
    Paused,
}

/// <summary>A torrent's progress and rates at one moment.</summary>
public sealed record TorrentStatus
{
    /// <summary>
    /// The torrent's name, exact (it names the file or folder on disk): clean it with <see cref="DisplayText.Sanitize(string?, int)"/>
    /// before printing it.
    /// </summary>
    public required string Name { get; init; }

    /// <summary>Its info-hashes.</summary>
    public required InfoHashes InfoHashes { get; init; }

    /// <summary>What it is doing.</summary>
    public required TorrentState State { get; init; }

    /// <summary>
    /// Why it stopped, when <see cref="State"/> is <see cref="TorrentState.Error"/>: text for people, with control and
    /// bidi characters already replaced.
    /// </summary>
    public string? Error { get; init; }

    /// <summary>Pieces in the torrent.</summary>
    public int PieceCount { get; init; }

    /// <summary>Pieces verified on disk.</summary>
    public int PiecesVerified { get; init; }

    /// <summary>Size of the torrent's data.</summary>
    public long TotalSize { get; init; }

    /// <summary>Payload bytes received from peers since start.</summary>
    public long Downloaded { get; init; }

    /// <summary>Payload bytes sent to peers since start.</summary>
    public long Uploaded { get; init; }

    /// <summary>Payload bytes received but discarded (duplicates, failed pieces).</summary>
    public long Wasted { get; init; }

    /// <summary>Recent download rate, bytes per second.</summary>
    public double DownloadRate { get; init; }

    /// <summary>Recent upload rate, bytes per second.</summary>
    public double UploadRate { get; init; }

    /// <summary>Connected peers.</summary>
    public int Peers { get; init; }

    /// <summary>Pieces found verified on disk when the torrent last started (from resume data or a check).</summary>
    public int PiecesFoundOnDisk { get; init; }

    /// <summary>Pieces that failed their hash check since the torrent last started.</summary>
    public int HashFailures { get; init; }

    /// <summary>Addresses banned for sending data or hashes that failed verification.</summary>
    public int PeersBanned { get; init; }

    /// <summary>Connected peers that have every piece (counted once a second).</summary>
    public int Seeds { get; init; }

    /// <summary>Bytes in a piece (the last may be shorter).</summary>
    public long PieceLength { get; init; }

    /// <summary>Uploaded over downloaded payload since start (0 before anything was downloaded).</summary>
    public double Ratio => Downloaded == 0 ? 0 : (double)Uploaded / Downloaded;

    /// <summary>Estimated time to verify the rest at the recent download rate; null when complete or nothing is arriving.</summary>
    public TimeSpan? Eta
    {
        get
        {
            long left = Math.Max(0, TotalSize - (PiecesVerified * PieceLength));
            return left == 0 || DownloadRate < 1 ? null : TimeSpan.FromSeconds(left / DownloadRate);
        }
    }

    /// <summary>The torrent's trackers in use (0 when it has none or they are off).</summary>
    public int TrackerCount { get; init; }

    /// <summary>Trackers whose last announce succeeded.</summary>
    public int TrackersWorking { get; init; }

    /// <summary>Trackers whose last announce failed.</summary>
    public int TrackersFailing { get; init; }

    /// <summary>
    /// Why the last round of announces failed on every tracker, with control and bidi characters already replaced; null
    /// after a success.
    /// </summary>
    public string? TrackerError { get; init; }

    /// <summary>Fraction of pieces verified, 0 to 1; 0 while a magnet's metadata has not come (no pieces known yet).</summary>
    public double Progress => PieceCount == 0 ? 0 : (double)PiecesVerified / PieceCount;
}
