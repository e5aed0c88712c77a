namespace PeerNet.Transport;

/// <summary>How an <see cref="InMemoryDatagramNetwork"/> treats datagrams: loss, delay, queue size, and the seed of its dice.</summary>
internal sealed record InMemoryDatagramOptions
{
    /// <summary>Fraction of datagrams dropped, 0 (default) to 1.</summary>
    public double LossRate
    {
        get;
        init => field = value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(LossRate), value, "A fraction from 0 to 1.");
    }

    /// <summary>Fraction of datagrams delivered twice (the copy with its own jitter), 0 (default) to 1.</summary>
    public double DuplicateRate
    {
        get;
        init => field = value is >= 0 and <= 1 ? value : throw new ArgumentOutOfRangeException(nameof(DuplicateRate), value, "A fraction from 0 to 1.");
    }

    /// <summary>One-way delay of every datagram (default none: delivered during the send).</summary>
    public TimeSpan Latency
    {
        get;
        init => field = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(Latency), value, "Must not be negative.");
    }

    /// <summary>Extra delay, uniform from 0 to this, added to <see cref="Latency"/> (reorders datagrams).</summary>
    public TimeSpan Jitter
    {
        get;
        init => field = value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(Jitter), value, "Must not be negative.");
    }

    /// <summary>Datagrams waiting at one socket before further ones are dropped, as a full UDP receive buffer does (default 256).</summary>
    public int ReceiveQueueCapacity
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(ReceiveQueueCapacity), value, "At least 1.");
    } = 256;

    /// <summary>Seed of the random choices (loss, jitter), so a run can be repeated.</summary>
    public int Seed { get; init; }
}
