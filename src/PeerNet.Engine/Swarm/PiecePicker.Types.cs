namespace PeerNet.Swarm;

/// <summary>What <see cref="PiecePicker.OnBlockReceived"/> made of an incoming block.</summary>
internal enum BlockStatus
{
    /// <summary>The block was missing: write it. It may be a late answer to a request that timed out.</summary>
    Accepted,

    /// <summary>We already have the block (another peer delivered it first, or the piece is verified): drop it.</summary>
    Duplicate,

    /// <summary>We are not downloading that piece, or the offset is not a block of it: drop it.</summary>
    Unrequested,
}

/// <summary>
/// How fast a peer delivers, as the caller measures it. A piece remembers the class of the peer that started it;
/// peers join partial pieces of their own class first, so a slow peer does not hold back a piece a fast one is
/// finishing, and <see cref="Fast"/> peers download whole pieces on their own.
/// </summary>
internal enum PeerSpeed
{
    /// <summary>Slower than the swarm's median.</summary>
    Slow,

    /// <summary>The default.</summary>
    Medium,

    /// <summary>Can fetch a whole piece within a request round: gets pieces to itself.</summary>
    Fast,
}

/// <summary>
/// The result of <see cref="PiecePicker.OnBlockReceived"/>. <see cref="CancelPeers"/> points into the picker's
/// scratch space and is valid only until the next call into the picker.
/// </summary>
internal readonly ref struct BlockReceipt
{
    /// <summary>Creates a receipt.</summary>
    public BlockReceipt(BlockStatus status, bool pieceComplete, ReadOnlySpan<int> cancelPeers)
    {
        Status = status;
        PieceComplete = pieceComplete;
        CancelPeers = cancelPeers;
    }

    /// <summary>What to do with the block.</summary>
    public BlockStatus Status { get; }

    /// <summary>Every block of the piece has now arrived: hash it, then call OnHashPassed or OnHashFailed.</summary>
    public bool PieceComplete { get; }

    /// <summary>Other peers that still had this block requested (endgame): send each a <c>cancel</c>.</summary>
    public ReadOnlySpan<int> CancelPeers { get; }
}
