namespace PeerNet.Cli.Demo;

/// <summary>What <c>peernet demo</c> runs: a seeder and leechers on loopback, each capped so that peer-to-peer is visible.</summary>
internal sealed record DemoOptions
{
    /// <summary>Most leechers a demo may run (one loopback address each, in one process).</summary>
    public const int MaxPeers = 100;

    /// <summary>Leechers (honest downloaders), besides the seeder and the bad peer.</summary>
    public int Peers { get; init; } = 12;

    /// <summary>Bytes of random content to share.</summary>
    public long Size { get; init; } = 64L << 20;

    /// <summary>The seeder's upload cap in bytes per second; 0 for none.</summary>
    public long SeedRate { get; init; } = 4L << 20;

    /// <summary>Each leecher's upload cap in bytes per second (the bad peer's too); 0 for none.</summary>
    public long PeerRate { get; init; } = 6L << 20;

    /// <summary>Peers leave mid-download and rejoin on the same folder.</summary>
    public bool Churn { get; init; }

    /// <summary>Adds a peer with a full copy that sends corrupt blocks, to be banned.</summary>
    public bool BadPeer { get; init; }

    /// <summary>Seeds the content, the topology and the churn.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// The seeder super-seeds (BEP 16), as the first seed of a new torrent behind a capped uplink should: every piece
    /// leaves it once. Default: on.
    /// </summary>
    public bool SuperSeed { get; init; } = true;

    /// <summary>Keep the temporary folder (content, torrent, every copy) at the end.</summary>
    public bool Keep { get; init; }

    /// <summary>Earlier leechers each new leecher is told about, besides the seeder.</summary>
    public int KnownPeers { get; init; } = 4;

    /// <summary>How long a churning peer stays away.</summary>
    public TimeSpan ChurnDowntime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The run fails when no copy gains a verified piece for this long.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Where to make the temporary folder; null for the system's temp folder.</summary>
    public string? TempRoot { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (Peers is < 1 or > MaxPeers)
        {
            throw new ArgumentException($"--peers must be between 1 and {MaxPeers}.");
        }

        if (Size is < 1 or > 16L << 30)
        {
            throw new ArgumentException("--size must be between 1 byte and 16 GiB.");
        }

        if (SeedRate < 0 || PeerRate < 0)
        {
            throw new ArgumentException("rates must not be negative (0 means no cap).");
        }
    }

    /// <summary>Piece length for <paramref name="size"/>: about 512 pieces, a power of two from 16 KiB to 4 MiB.</summary>
    public static long PieceLengthFor(long size)
    {
        long length = 16 * 1024;
        while (length < 4L << 20 && length * 512 < size)
        {
            length *= 2;
        }

        return length;
    }
}
