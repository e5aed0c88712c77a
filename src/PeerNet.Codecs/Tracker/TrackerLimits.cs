namespace PeerNet.Tracker;

/// <summary>
/// Hard limits on tracker responses, checked before anything is buffered or allocated: the body's length before
/// it is parsed, a peer or file count before its list is built. A response at a limit is accepted, one past it is
/// refused. Real trackers answer 50 to 200 peers in a few kilobytes.
/// </summary>
internal sealed record TrackerLimits
{
    /// <summary>Default longest HTTP response body: 1 MiB.</summary>
    public const int DefaultMaxResponseBytes = 1024 * 1024;

    /// <summary>Default most peers (IPv4 and IPv6 together) in one announce response: 1,000.</summary>
    public const int DefaultMaxPeers = 1000;

    /// <summary>Default most torrents in one scrape response: 1,000.</summary>
    public const int DefaultMaxScrapeFiles = 1000;

    /// <summary>
    /// Most info-hashes in one UDP scrape request: BEP 15, "Up to about 74 torrents can be scraped at once. A full
    /// scrape can't be done with this protocol."
    /// </summary>
    public const int MaxUdpScrapeHashes = 74;

    /// <summary>
    /// Largest UDP datagram read from a tracker: the IPv4 UDP payload maximum. An announce reply with
    /// <see cref="DefaultMaxPeers"/> IPv6 peers (20 + 18,000 bytes) fits.
    /// </summary>
    public const int MaxUdpPacketBytes = 65_507;

    /// <summary>Longest failure reason, warning or tracker id kept, in bytes of UTF-8; longer ones are cut.</summary>
    public const int MaxTextBytes = 1024;

    /// <summary>The limits used when none are given.</summary>
    public static TrackerLimits Default { get; } = new();

    /// <summary>Longest HTTP response body, in bytes (at least 1).</summary>
    public int MaxResponseBytes
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxResponseBytes), value, "At least one byte.");
    } = DefaultMaxResponseBytes;

    /// <summary>Most peers in one announce response (0 or more).</summary>
    public int MaxPeers
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxPeers), value, "Must not be negative.");
    } = DefaultMaxPeers;

    /// <summary>Most torrents in one scrape response (0 or more).</summary>
    public int MaxScrapeFiles
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxScrapeFiles), value, "Must not be negative.");
    } = DefaultMaxScrapeFiles;
}
