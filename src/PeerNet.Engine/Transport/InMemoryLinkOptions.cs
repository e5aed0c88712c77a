namespace PeerNet.Transport;

/// <summary>
/// How an in-memory node's uplink behaves: what every byte it sends goes through before the peer can read it.
/// </summary>
internal sealed record InMemoryLinkOptions
{
    /// <summary>No shaping: bytes are handed across as soon as they are flushed.</summary>
    public static InMemoryLinkOptions Unlimited { get; } = new();

    /// <summary>
    /// The node's upload capacity in bytes per second, shared by all of its connections; 0 (default) is unlimited.
    /// </summary>
    public long BytesPerSecond
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(BytesPerSecond), value, "Must not be negative.");
    }

    /// <summary>
    /// One-way delay added to every byte the node sends, and to its half of a connect's round trip (default none).
    /// At most 64 chunks of up to 64 KiB are in flight per direction, so like a TCP window it also caps a single
    /// stream's throughput at about that window divided by the latency.
    /// </summary>
    public TimeSpan Latency
    {
        get;
        init => field = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(Latency), value, "Must not be negative.");
    }

    /// <summary>Whether bytes pass straight through, with neither a rate cap nor latency.</summary>
    public bool IsUnlimited => BytesPerSecond == 0 && Latency == TimeSpan.Zero;
}
