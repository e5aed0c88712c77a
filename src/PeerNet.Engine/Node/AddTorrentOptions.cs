using System.Net;

namespace PeerNet;

/// <summary>How a torrent added to a node is stored and run.</summary>
public sealed record AddTorrentOptions
{
    /// <summary>
    /// The folder the torrent's content goes in (its file, or its folder named after the torrent). With
    /// <see cref="SavePathIsContent"/>, the content itself.
    /// </summary>
    public required string SavePath { get; init; }

    /// <summary>
    /// <see cref="SavePath"/> names the torrent's content itself (its single file, or the folder whose files are the
    /// torrent's) rather than the folder holding it: for seeding data where it lies. Default: off.
    /// </summary>
    public bool SavePathIsContent { get; init; }

    /// <summary>Never write to the data: serve what verifies, fetch nothing (seeding in place). Default: off.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Peers to connect to at start (the user's own: taken as given).</summary>
    public IReadOnlyList<IPEndPoint> Peers { get; init; } = [];

    /// <summary>Fetch pieces in index order (for playing while downloading) instead of rarest first.</summary>
    public bool Sequential { get; init; }

    /// <summary>
    /// One priority per file (0 skips the file, 1 to 7 order it, higher first; 4 is normal), or null for every file
    /// at normal priority. For a magnet link, applied once the metadata arrives (its <c>so</c> applies otherwise).
    /// </summary>
    public IReadOnlyList<int>? FilePriorities { get; init; }

    /// <summary>
    /// The files to download, by index (a magnet's BEP 53 <c>so</c> form; <see cref="FilePriorities.ParseSelection"/> reads
    /// <c>0,2-4</c>): normal priority for these, skip the rest. Applied once the metadata is known, so it works for a
    /// magnet link too; <see cref="FilePriorities"/> wins when both are given. A selection that names no file of the
    /// torrent stops it with an error.
    /// </summary>
    public IReadOnlyList<Magnet.FileIndexRange>? SelectedFiles { get; init; }

    /// <summary>Keep serving once complete (default); off pauses the torrent when its last wanted piece is verified.</summary>
    public bool SeedWhenDone { get; init; } = true;

    /// <summary>BEP 16 super-seeding while it has every piece: for the first seed of a new torrent. Default: off.</summary>
    public bool SuperSeeding { get; init; }

    /// <summary>This torrent's upload limit in bytes per second, on top of the node's; 0 for none.</summary>
    public long UploadRateLimit { get; init; }

    /// <summary>This torrent's download limit in bytes per second, on top of the node's; 0 for none.</summary>
    public long DownloadRateLimit { get; init; }

    /// <summary>Peers unchoked at once (one of them optimistic); 0 unchokes every interested peer. Default 4.</summary>
    public int UploadSlots { get; init; } = 4;

    /// <summary>Most peers connected to this torrent. Default 50.</summary>
    public int MaxConnections { get; init; } = 50;

    /// <summary>Announce to the torrent's trackers, when the node's trackers are on. Default: on.</summary>
    public bool UseTrackers { get; init; } = true;

    /// <summary>Announce to and look up peers in the node's DHT, when it runs one. Default: on; private torrents never do.</summary>
    public bool UseDht { get; init; } = true;

    /// <summary>Local service discovery, when the node runs it. Default: on; private torrents never do.</summary>
    public bool UseLocalDiscovery { get; init; } = true;

    /// <summary>Check every piece on disk even if resume data says it is verified.</summary>
    public bool Recheck { get; init; }

    /// <summary>Add it paused: nothing is checked or connected until <see cref="TorrentHandle.ResumeAsync"/>.</summary>
    public bool Paused { get; init; }

    /// <summary>
    /// Write verified pieces with <c>O_DIRECT</c> on Linux, past the page cache (default; docs/design.md says why); off
    /// writes through the cache.
    /// </summary>
    public bool DirectWrites { get; init; } = true;
}
