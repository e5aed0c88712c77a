using PeerNet.Metainfo;

namespace PeerNet.Storage;

/// <summary>
/// Verifies pieces against the torrent's hashes. v1: SHA-1 over the whole piece (pad bytes included).
/// v2: SHA-256 of each 16 KiB block of the piece's file data, hashed up the merkle tree to the piece's node in its
/// file's piece layer — or, for a file of one piece or less, to the file's pieces root (BEP 52). Hybrid: both,
/// and a piece is good only if both agree. The synchronous methods hash on the calling thread; the async ones
/// go through the shared <see cref="WorkQueue"/>.
/// </summary>
internal sealed partial class PieceVerifier
{
    /// <summary>Largest read when hashing a piece from disk: pieces up to 128 MiB never need a piece-sized buffer.</summary>
    public const int ReadChunkSize = 1024 * 1024;

    private readonly WorkQueue? _queue;

    /// <summary>Creates a verifier for <paramref name="map"/>'s torrent; <paramref name="queue"/> runs the async methods.</summary>
    public PieceVerifier(PieceMap map, WorkQueue? queue = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        Map = map;
        _queue = queue;
        HasV1 = map.Metainfo.Version is TorrentVersion.V1 or TorrentVersion.Hybrid;
        HasV2 = map.Metainfo.Version is TorrentVersion.V2 or TorrentVersion.Hybrid;
    }

    /// <summary>The torrent's map.</summary>
    public PieceMap Map { get; }

    /// <summary>Whether pieces have SHA-1 hashes.</summary>
    public bool HasV1 { get; }

    /// <summary>Whether pieces have merkle hashes.</summary>
    public bool HasV2 { get; }

    private WorkQueue Queue => _queue ?? throw new InvalidOperationException("This verifier has no hashing queue; use the synchronous methods.");

    /// <summary>
    /// Verifies piece <paramref name="piece"/> from memory. <paramref name="data"/> is the whole piece as laid out
    /// in piece space (for a v2-only torrent it may instead stop at the end of the file's data). Optional
    /// <paramref name="expectedBlockHashes"/> (the piece's leaf hashes, fetched from a peer) are first proven
    /// against the trusted piece hash, then used to name the bad blocks of a bad piece.
    /// </summary>
    public PieceCheckResult Verify(int piece, ReadOnlySpan<byte> data, ReadOnlySpan<Sha256Hash> expectedBlockHashes = default)
    {
        int size = Map.GetPieceSize(piece);
        int v2Length = HasV2 ? Map.GetV2DataLength(piece) : 0;
        if (data.Length != size && (HasV1 || data.Length != v2Length))
        {
            throw new ArgumentException($"Piece {piece} is {size} bytes; {data.Length} were given.", nameof(data));
        }

        var hasher = new PieceHasher(this, piece);
        try
        {
            hasher.HashV1OneShot(data);
            hasher.Append(data, 0);
            return hasher.Finish(expectedBlockHashes);
        }
        finally
        {
            hasher.Dispose();
        }
    }

    /// <summary>
    /// Verifies piece <paramref name="piece"/> as stored, reading it in chunks of at most
    /// <see cref="ReadChunkSize"/> bytes. A missing or short file gives <see cref="PieceVerdict.Missing"/>; other
    /// I/O failures throw <see cref="StorageException"/>.
    /// </summary>
    public PieceCheckResult VerifyStored(int piece, TorrentStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        int size = Map.GetPieceSize(piece);

        // A v2-only piece is hashed over its file's data alone; the gap after it is no file's.
        int length = HasV1 ? size : Map.GetV2DataLength(piece);
        long offset = Map.GetPieceOffset(piece);
        // Chunks are a multiple of 16 KiB, so every chunk starts on a block boundary.
        int chunkSize = Math.Min(ReadChunkSize, Math.Max(length, 1));
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(chunkSize);
        var hasher = new PieceHasher(this, piece);
        try
        {
            for (int done = 0; done < length;)
            {
                int n = Math.Min(chunkSize, length - done);
                Span<byte> chunk = buffer.AsSpan(0, n);
                storage.Read(offset + done, chunk);
                hasher.AppendV1(chunk);
                hasher.Append(chunk, done);
                done += n;
            }

            return hasher.Finish(default);
        }
        catch (StorageException e) when (e.Code is StorageErrorCode.FileMissing or StorageErrorCode.FileTruncated)
        {
            return new PieceCheckResult { Piece = piece, Verdict = PieceVerdict.Missing, MissingReason = e.Message };
        }
        finally
        {
            hasher.Dispose();
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// <see cref="Verify"/> on the hashing queue. <paramref name="data"/> must stay untouched until the task
    /// completes (cancellation drops only work not yet started, and the task still completes).
    /// </summary>
    public Task<PieceCheckResult> VerifyAsync(int piece, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        => VerifyAsync(piece, data, default, cancellationToken);

    /// <summary><see cref="Verify"/> with expected block hashes, on the hashing queue.</summary>
    public Task<PieceCheckResult> VerifyAsync(int piece, ReadOnlyMemory<byte> data, ReadOnlyMemory<Sha256Hash> expectedBlockHashes, CancellationToken cancellationToken)
        => Queue.RunAsync(() => Verify(piece, data.Span, expectedBlockHashes.Span), cancellationToken);

    /// <summary><see cref="VerifyStored"/> on the hashing queue.</summary>
    public Task<PieceCheckResult> VerifyStoredAsync(int piece, TorrentStorage storage, CancellationToken cancellationToken = default)
        => Queue.RunAsync(() => VerifyStored(piece, storage), cancellationToken);

    /// <summary>
    /// Indices where <paramref name="computed"/> and <paramref name="expected"/> block hashes differ. The two runs must
    /// be of one length: a block without an expected hash proves nothing against its sender (blaming it once let a short
    /// reply get every sender of a piece banned).
    /// </summary>
    public static int[] FindBadBlocks(ReadOnlySpan<Sha256Hash> computed, ReadOnlySpan<Sha256Hash> expected)
    {
        if (computed.Length != expected.Length)
        {
            throw new ArgumentException("The computed and expected block hashes must be runs of one length.", nameof(expected));
        }

        var bad = new List<int>();
        for (int i = 0; i < computed.Length; i++)
        {
            if (computed[i] != expected[i])
            {
                bad.Add(i);
            }
        }

        return [.. bad];
    }

    /// <summary>
    /// The trusted v2 hash for piece <paramref name="piece"/> and the width (leaves, a power of two) of the subtree
    /// under it. False when the piece has no v2 file, or <paramref name="known"/> false when its layer is missing.
    /// </summary>
    public bool TryGetV2Target(int piece, out Sha256Hash target, out int width, out bool known)
    {
        target = default;
        width = 0;
        known = false;
        int fileIndex = HasV2 ? Map.GetV2File(piece) : -1;
        if (fileIndex < 0)
        {
            return false;
        }

        TorrentFile file = Map.Metainfo.Files[fileIndex];
        long pieceLength = Map.PieceLength;
        if (file.Length <= pieceLength)
        {
            // A file of one piece or less has no layer: its blocks hash straight to its pieces root.
            target = file.PiecesRoot!.Value;
            width = (int)MerkleTree.LeafCount((file.Length + MerkleTree.BlockSize - 1) / MerkleTree.BlockSize);
            known = true;
            return true;
        }

        width = Map.BlocksPerPiece;
        if (Map.Metainfo.PieceLayers.TryGetValue(file.PiecesRoot!.Value, out ReadOnlyMemory<byte> layer))
        {
            long index = (Map.GetPieceOffset(piece) - file.Offset) / pieceLength;
            target = new Sha256Hash(layer.Span.Slice((int)(index * Sha256Hash.Length), Sha256Hash.Length));
            known = true;
        }

        return true;
    }
}
