namespace PeerNet.Metainfo;

/// <summary>Hard limits on torrents, checked before anything is allocated for them.</summary>
public sealed record MetainfoLimits
{
    /// <summary>The limits used when none are given.</summary>
    public static MetainfoLimits Default { get; } = new();

    /// <summary>Largest .torrent file accepted: 64 MiB.</summary>
    public int MaxTorrentSize { get; init; } = 64 * 1024 * 1024;

    /// <summary>Most files (pad files included): 1,000,000.</summary>
    public int MaxFiles { get; init; } = 1_000_000;

    /// <summary>Most pieces: 16,777,216 (2^24).</summary>
    public int MaxPieces { get; init; } = 1 << 24;

    /// <summary>
    /// Largest piece: 1,073,741,823 bytes (2^30 - 1), libtorrent's limit (<c>INT_MAX / 2</c>), so every torrent
    /// libtorrent loads has pieces PeerNet can hold.
    /// </summary>
    public long MaxPieceLength { get; init; } = int.MaxValue / 2;

    /// <summary>Deepest folder nesting of one file path: 64 segments.</summary>
    public int MaxPathDepth { get; init; } = 64;

    /// <summary>
    /// Longest path element, in UTF-8 bytes: 255, the limit of common file systems. Longer names are cut to 240
    /// bytes as libtorrent cuts them (keeping the extension); only an element that stays longer is refused.
    /// </summary>
    public int MaxSegmentBytes { get; init; } = 255;

    /// <summary>Longest whole relative path, in UTF-8 bytes: 4,096.</summary>
    public int MaxPathBytes { get; init; } = 4096;

    /// <summary>
    /// Most bytes in all file paths together, in UTF-8 with the name folder: 64 MiB. Each file's
    /// <see cref="TorrentFile.Path"/> is a string of its own, and a v2 file tree shares its folders, so a file of a
    /// few bytes of input can have a 4 KiB path; this bounds the memory the paths of one torrent can take.
    /// </summary>
    public long MaxTotalPathBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Most trackers over all tiers: 1,000.</summary>
    public int MaxTrackers { get; init; } = 1000;
}
