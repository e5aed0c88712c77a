using PeerNet.Metainfo;

namespace PeerNet.Creation;

/// <summary>The hashes a torrent's metadata is made of.</summary>
/// <param name="V1Pieces">The v1 <c>pieces</c> string: 20 bytes per piece (empty for v2-only).</param>
/// <param name="FileRoots">Each file's v2 <c>pieces root</c> (default for an empty file; empty for v1-only).</param>
/// <param name="PieceLayer">v2 piece hashes by stream piece index, set for pieces of files longer than one piece.</param>
internal sealed record PieceHashes(byte[] V1Pieces, Sha256Hash[] FileRoots, Sha256Hash[] PieceLayer);

/// <summary>
/// Hashes a <see cref="PieceLayout"/> on several threads. Workers claim runs of whole pieces (about one
/// <see cref="ChunkSize"/> of data) from a shared counter, read them with one positional read per file, and
/// hash each piece for v1 (SHA-1 over the piece, pads included) and v2 (SHA-256 per 16 KiB block, then the
/// piece's subtree) from the same bytes. Each worker holds one chunk buffer, so memory stays bounded
/// whatever the size of the files.
/// </summary>
internal sealed partial class PieceHasher
{
    /// <summary>Bytes read and hashed at a time by each worker; a multiple of the 16 KiB block size.</summary>
    public const int ChunkSize = 1 << 20;

    private const long ReportIntervalMs = 100;

    private readonly PieceLayout _layout;
    private readonly IProgress<CreationProgress>? _progress;
    private readonly byte[] _v1Pieces;
    private readonly Sha256Hash[] _fileRoots;
    private readonly Sha256Hash[] _pieceLayer;
    private readonly int _piecesPerClaim;
    private long _nextPiece;
    private long _bytesHashed;
    private long _lastReport;

    private PieceHasher(PieceLayout layout, IProgress<CreationProgress>? progress)
    {
        _layout = layout;
        _progress = progress;
        _v1Pieces = layout.HasV1 ? new byte[layout.PieceCount * Sha1Hash.Length] : [];
        _fileRoots = layout.HasV2 ? new Sha256Hash[layout.Files.Length] : [];
        _pieceLayer = layout.HasV2 ? new Sha256Hash[layout.PieceCount] : [];
        _piecesPerClaim = layout.PieceLength >= ChunkSize ? 1 : (int)(ChunkSize / layout.PieceLength);
    }

    /// <summary>Hashes every piece of <paramref name="layout"/> with up to <paramref name="parallelism"/> threads.</summary>
    public static async Task<PieceHashes> HashAsync(PieceLayout layout, int parallelism, IProgress<CreationProgress>? progress, CancellationToken cancellationToken)
    {
        var hasher = new PieceHasher(layout, progress);
        long claims = ((long)layout.PieceCount + hasher._piecesPerClaim - 1) / hasher._piecesPerClaim;
        int workers = (int)Math.Clamp(claims, 1, Math.Max(1, parallelism));
        long total = layout.Source.TotalLength;
        progress?.Report(new CreationProgress(0, total));
        hasher._lastReport = Environment.TickCount64;

        // A failing worker stops the others; the user's token stops them all.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tasks = new Task[workers];
        for (int i = 0; i < workers; i++)
        {
            tasks[i] = Task.Factory.StartNew(
                () => hasher.Work(stop),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();

        if (layout.HasV2)
        {
            hasher.ComputeLargeFileRoots();
        }

        progress?.Report(new CreationProgress(total, total));
        return new PieceHashes(hasher._v1Pieces, hasher._fileRoots, hasher._pieceLayer);
    }

    /// <summary>
    /// BEP 52: a file's root is the root over its piece layer, padded with the hash of an all-zero piece
    /// subtree to a power of two. Files of one piece or less got their root straight from their blocks.
    /// </summary>
    private void ComputeLargeFileRoots()
    {
        SourceFile[] files = _layout.Files;
        long pieceLength = _layout.PieceLength;
        for (int i = 0; i < files.Length; i++)
        {
            if (files[i].Length > pieceLength)
            {
                ReadOnlySpan<Sha256Hash> layer = _pieceLayer.AsSpan(_layout.FirstPieceOf(i), _layout.PieceCountOf(i));
                _fileRoots[i] = MerkleTree.RootFromPieceLayer(layer, files[i].Length, pieceLength);
            }
        }
    }

    private void Work(CancellationTokenSource stop)
    {
        try
        {
            using var worker = new Worker(this);
            worker.Run(stop.Token);
        }
        catch
        {
            stop.Cancel();
            throw;
        }
    }

    /// <summary>Claims the next run of pieces; false when none are left.</summary>
    private bool TryClaim(out int first, out int end)
    {
        long claimed = Interlocked.Add(ref _nextPiece, _piecesPerClaim) - _piecesPerClaim;
        first = (int)Math.Min(claimed, _layout.PieceCount);
        end = (int)Math.Min(claimed + _piecesPerClaim, _layout.PieceCount);
        return first < end;
    }

    private void AddProgress(long bytes)
    {
        long done = Interlocked.Add(ref _bytesHashed, bytes);
        if (_progress is null)
        {
            return;
        }

        long now = Environment.TickCount64;
        long last = Volatile.Read(ref _lastReport);
        if (now - last >= ReportIntervalMs && Interlocked.CompareExchange(ref _lastReport, now, last) == last)
        {
            _progress.Report(new CreationProgress(done, _layout.Source.TotalLength));
        }
    }
}
