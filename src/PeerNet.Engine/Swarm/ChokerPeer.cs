namespace PeerNet.Swarm;

/// <summary>What the choker needs to know of one connected peer at a round. Times are on the caller's monotonic clock.</summary>
internal readonly record struct ChokerPeer
{
    /// <summary>The caller's id for the peer.</summary>
    public required int PeerId { get; init; }

    /// <summary>The peer is interested in us (wants our pieces).</summary>
    public bool IsInterested { get; init; }

    /// <summary>We unchoke it now.</summary>
    public bool IsUnchoked { get; init; }

    /// <summary>Bytes per second we receive from the peer.</summary>
    public long DownloadRate { get; init; }

    /// <summary>Bytes per second we send to the peer.</summary>
    public long UploadRate { get; init; }

    /// <summary>We requested blocks but the peer sent none for 60 s: it gets no regular slot.</summary>
    public bool IsSnubbed { get; init; }

    /// <summary>The peer has every piece.</summary>
    public bool IsSeed { get; init; }

    /// <summary>When the connection was established.</summary>
    public TimeSpan ConnectedSince { get; init; }

    /// <summary>When we last unchoked the peer (choked → unchoked), or null if never.</summary>
    public TimeSpan? LastUnchokedAt { get; init; }
}
