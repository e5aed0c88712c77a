namespace PeerNet.Creation;

/// <summary>
/// Builds .torrent files: streams the source from disk with bounded memory, hashes on every core, and lays
/// files out as libtorrent does, so the same content and piece size give the same info-hashes.
/// </summary>
public static partial class TorrentCreator
{
    /// <summary>Creates the encoded .torrent for <paramref name="options"/>.</summary>
    public static Task<byte[]> CreateAsync(TorrentCreationOptions options, IProgress<CreationProgress>? progress = null, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();

    /// <summary>
    /// libtorrent's automatic piece size: the smallest power of two from 16 KiB to 4 MiB that keeps the piece
    /// count near 2,048 (a .torrent of about 40 KiB of v1 hashes).
    /// </summary>
    public static long AutoPieceLength(long totalSize) => throw new NotImplementedException();
}
