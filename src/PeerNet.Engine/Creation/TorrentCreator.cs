using System.Numerics;
using System.Security.Cryptography;
using PeerNet.Metainfo;

namespace PeerNet.Creation;

/// <summary>
/// Builds .torrent files: streams the source from disk with bounded memory, hashes on every core, and lays
/// files out as libtorrent does, so the same content and piece size give the same info-hashes.
/// </summary>
/// <remarks>
/// Files are listed in canonical tree order (path segments compared as raw UTF-8 bytes), for v1, v2 and
/// hybrid alike. Hidden files and empty files are included, symlinks to files are followed and symlinks to
/// folders are not entered. Owner-executable files get <c>attr "x"</c>.
/// </remarks>
public static partial class TorrentCreator
{
    /// <summary>Smallest piece: one BEP 52 block.</summary>
    public const long MinPieceLength = MerkleTree.BlockSize;

    /// <summary>Largest piece accepted: 1 GiB.</summary>
    public const long MaxPieceLength = 1L << 30;

    /// <summary>Largest piece <see cref="AutoPieceLength"/> picks: 4 MiB.</summary>
    public const long MaxAutoPieceLength = 4L << 20;

    /// <summary>Number of pieces <see cref="AutoPieceLength"/> aims for at most.</summary>
    private const long TargetPieceCount = 2048;

    /// <summary>Creates the encoded .torrent for <paramref name="options"/>.</summary>
    public static async Task<byte[]> CreateAsync(TorrentCreationOptions options, IProgress<CreationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        TorrentCreationResult result = await CreateWithDetailsAsync(options, progress, cancellationToken).ConfigureAwait(false);
        return result.Torrent;
    }

    /// <summary>
    /// Creates the .torrent for <paramref name="options"/> and reports what went into it: the info-hashes,
    /// the piece length chosen and the files' total size.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid, or the source holds no files or no data.</exception>
    /// <exception cref="IOException">The source is missing or a file cannot be read.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<TorrentCreationResult> CreateWithDetailsAsync(TorrentCreationOptions options, IProgress<CreationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ValidateOptions(options);
        ScannedSource source = await Task.Run(() => SourceScanner.Scan(options.SourcePath, cancellationToken), cancellationToken).ConfigureAwait(false);
        long pieceLength = options.PieceLength == 0 ? AutoPieceLength(source.TotalLength) : options.PieceLength;
        var layout = new PieceLayout(source, options.Version, pieceLength);
        int parallelism = options.Parallelism > 0 ? options.Parallelism : Environment.ProcessorCount;
        PieceHashes hashes = await PieceHasher.HashAsync(layout, parallelism, progress, cancellationToken).ConfigureAwait(false);

        byte[] info = MetainfoEncoder.EncodeInfo(layout, hashes, options.IsPrivate);
        byte[] torrent = MetainfoEncoder.EncodeTorrent(info, layout, hashes, options);
        var infoHashes = new InfoHashes(
            layout.HasV1 ? new Sha1Hash(SHA1.HashData(info)) : null,
            layout.HasV2 ? new Sha256Hash(SHA256.HashData(info)) : null);
        return new TorrentCreationResult(torrent, infoHashes, source.Name, pieceLength, source.TotalLength, source.Files.Length);
    }

    /// <summary>
    /// libtorrent's automatic piece size: the smallest power of two from 16 KiB to 4 MiB that keeps the piece
    /// count near 2,048 (a .torrent of about 40 KiB of v1 hashes).
    /// </summary>
    public static long AutoPieceLength(long totalSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalSize);
        long wanted = (totalSize + TargetPieceCount - 1) / TargetPieceCount;
        if (wanted <= MinPieceLength)
        {
            return MinPieceLength;
        }

        return wanted >= MaxAutoPieceLength ? MaxAutoPieceLength : (long)BitOperations.RoundUpToPowerOf2((ulong)wanted);
    }

    private static void ValidateOptions(TorrentCreationOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.SourcePath))
        {
            throw new ArgumentException("A source file or folder is required.", nameof(options));
        }

        if (options.Version is not (TorrentVersion.V1 or TorrentVersion.V2 or TorrentVersion.Hybrid))
        {
            throw new ArgumentException($"Unknown torrent version {options.Version}.", nameof(options));
        }

        long pieceLength = options.PieceLength;
        if (pieceLength != 0)
        {
            if (pieceLength < 0 || !BitOperations.IsPow2(pieceLength))
            {
                throw new ArgumentException($"Piece length {pieceLength:N0} is not a power of two.", nameof(options));
            }

            if (pieceLength < MinPieceLength)
            {
                // BEP 52 needs whole 16 KiB blocks per piece; libtorrent holds v1 to the same minimum.
                string which = options.Version == TorrentVersion.V1 ? "torrents need" : "v2 and hybrid torrents need";
                throw new ArgumentException($"Piece length {pieceLength:N0} is too small: {which} pieces of at least 16 KiB (16,384 bytes).", nameof(options));
            }

            if (pieceLength > MaxPieceLength)
            {
                throw new ArgumentException($"Piece length {pieceLength:N0} is too large: at most 1 GiB.", nameof(options));
            }
        }

        if (options.Parallelism < 0)
        {
            throw new ArgumentException("Parallelism must be 0 (every core) or more.", nameof(options));
        }

        foreach (string url in options.Trackers.Concat(options.WebSeeds))
        {
            if (string.IsNullOrWhiteSpace(url))
            {
                throw new ArgumentException("Tracker and web seed URLs must not be empty.", nameof(options));
            }
        }
    }
}
