namespace PeerNet.Storage;

/// <summary>The outcome of hashing one piece.</summary>
internal enum PieceVerdict
{
    /// <summary>Every hash the torrent has for the piece matches.</summary>
    Good,

    /// <summary>A hash does not match: the data is wrong.</summary>
    Bad,

    /// <summary>
    /// v2 only: the piece's hash is not known yet (its file's piece layer is missing, as after a magnet
    /// download); fetch the layer (BEP 52 hash request) and verify again.
    /// </summary>
    Unknown,

    /// <summary>The piece's bytes are not on disk (a file is missing or short).</summary>
    Missing,
}

/// <summary>What verifying a piece found.</summary>
internal sealed class PieceCheckResult
{
    /// <summary>The piece.</summary>
    public required int Piece { get; init; }

    /// <summary>The verdict.</summary>
    public required PieceVerdict Verdict { get; init; }

    /// <summary>Whether the SHA-1 matched; null when the torrent has no v1 hashes (or the data was missing).</summary>
    public bool? V1Match { get; init; }

    /// <summary>Whether the merkle subtree matched; null when v2 hashes are absent or unknown.</summary>
    public bool? V2Match { get; init; }

    /// <summary>
    /// Hybrid only: one hash matched and the other did not. The torrent's v1 and v2 halves describe different
    /// data — a fault of the torrent, not of the peers that sent the piece.
    /// </summary>
    public bool HashesDisagree => V1Match is { } a && V2Match is { } b && a != b;

    /// <summary>
    /// Indices (within the piece) of 16 KiB blocks whose SHA-256 differs from the expected block hashes the
    /// caller supplied — so the peer that sent each can be blamed. Empty when none were supplied or the piece is good.
    /// </summary>
    public IReadOnlyList<int> BadBlocks { get; init; } = [];

    /// <summary>
    /// The SHA-256 of each 16 KiB block actually hashed, kept for bad pieces whose v2 hash is known, so the caller
    /// can compare them with block hashes it fetches later (<see cref="PieceVerifier.FindBadBlocks"/>). Null otherwise.
    /// </summary>
    public Sha256Hash[]? BlockHashes { get; init; }

    /// <summary>The caller's expected block hashes did not hash up to the trusted piece hash, so they were ignored.</summary>
    public bool BlockHashesRejected { get; init; }

    /// <summary>For <see cref="PieceVerdict.Missing"/>: why.</summary>
    public string? MissingReason { get; init; }
}

/// <summary>Progress of a full check.</summary>
/// <param name="PiecesDone">Pieces decided so far (verified, failed, missing or unknown).</param>
/// <param name="PieceCount">Pieces to decide.</param>
/// <param name="PiecesVerified">Pieces found good so far.</param>
internal readonly record struct CheckProgress(int PiecesDone, int PieceCount, int PiecesVerified);

/// <summary>What a full check found.</summary>
internal sealed class CheckResult
{
    /// <summary>Pieces whose data is on disk and correct.</summary>
    public required PieceBitfield Verified { get; init; }

    /// <summary>Pieces on disk whose v2 hash is not known yet (fetch their piece layers, then verify them).</summary>
    public required PieceBitfield Unknown { get; init; }

    /// <summary>Pieces on disk with wrong data.</summary>
    public int Failed { get; init; }

    /// <summary>Pieces not (fully) on disk.</summary>
    public int Missing { get; init; }
}
