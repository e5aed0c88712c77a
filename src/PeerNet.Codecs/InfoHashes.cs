namespace PeerNet;

/// <summary>
/// The identity of a torrent: its v1 (SHA-1) info-hash, its v2 (SHA-256) info-hash, or both for a hybrid
/// torrent (BEP 52). At least one is present.
/// </summary>
public readonly record struct InfoHashes
{
    /// <summary>Creates the identity of a torrent; at least one hash must be given.</summary>
    public InfoHashes(Sha1Hash? v1, Sha256Hash? v2)
    {
        if (v1 is null && v2 is null)
        {
            ThrowHelper.ThrowArgument(nameof(v1), "A torrent has a v1 info-hash, a v2 info-hash, or both.");
        }

        V1 = v1;
        V2 = v2;
    }

    /// <summary>The SHA-1 info-hash of a v1 or hybrid torrent.</summary>
    public Sha1Hash? V1 { get; }

    /// <summary>The SHA-256 info-hash of a v2 or hybrid torrent.</summary>
    public Sha256Hash? V2 { get; }

    /// <summary>True when both are present (a hybrid torrent).</summary>
    public bool IsHybrid => V1 is not null && V2 is not null;

    /// <summary>
    /// The 20 bytes a peer puts in its handshake for this torrent: the v1 hash, or, for a v2-only torrent, the
    /// v2 hash truncated to 20 bytes (BEP 52, "Handshake").
    /// </summary>
    public Sha1Hash WireHash => V1 ?? V2!.Value.Truncate();

    /// <summary>
    /// The 20-byte hashes the torrent's swarm is found under on trackers and the DHT: the wire hash, and for a hybrid
    /// also its truncated v2 hash (BEP 52: a hybrid swarm is announced under both, so v1-only and v2-only clients
    /// of the same content meet its peers).
    /// </summary>
    public IReadOnlyList<Sha1Hash> SwarmHashes => (V1, V2) switch
    {
        ({ } v1, { } v2) => [v1, v2.Truncate()],
        _ => [WireHash],
    };

    /// <summary>Human-readable form: the hashes present, v1 first.</summary>
    public override string ToString() => (V1, V2) switch
    {
        ({ } a, { } b) => $"v1 {a} v2 {b}",
        ({ } a, null) => a.ToString(),
        (null, { } b) => b.ToString(),
        _ => "(none)",
    };
}
