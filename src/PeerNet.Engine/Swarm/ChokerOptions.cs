namespace PeerNet.Swarm;

/// <summary>Settings of the <see cref="Choker"/>.</summary>
internal sealed record ChokerOptions
{
    /// <summary>Peers unchoked at once, the optimistic one included; 0 = every interested peer. Default 4.</summary>
    public int UploadSlots { get; init; } = 4;

    /// <summary>Rounds between optimistic unchoke rotations. Default 3 (30 s at 10 s rounds).</summary>
    public int OptimisticInterval { get; init; } = 3;

    /// <summary>A peer connected for less than this is new: <see cref="NewPeerWeight"/> times as likely to be the optimistic unchoke. Default 30 s.</summary>
    public TimeSpan NewPeerWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Weight of a new peer in the optimistic draw (1 for the others). Default 3, as in the original client.</summary>
    public int NewPeerWeight { get; init; } = 3;

    /// <summary>
    /// Anti-fibrillation: a peer unchoked less than this ago keeps its slot unless more such peers than slots
    /// compete, or it lost interest or got snubbed. Default one round (10 s).
    /// </summary>
    public TimeSpan MinimumUnchokeTime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Seeding: how long an unchoked peer keeps its turn while others wait. Default 30 s (3 rounds).</summary>
    public TimeSpan SeedTurn { get; init; } = TimeSpan.FromSeconds(30);
}
