namespace PeerNet.Discovery.Lsd;

/// <summary>Timing and limits of an <see cref="LsdService"/> (tests shorten or tighten them).</summary>
internal sealed record LsdOptions
{
    /// <summary>How often each info-hash is announced again: every 5 minutes.</summary>
    public TimeSpan AnnounceInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The least time between two announces of one info-hash, whatever registers it again: one minute (BEP 14 asks
    /// for at most one announce per torrent per minute, so LSD cannot flood a LAN).
    /// </summary>
    public TimeSpan MinAnnounceInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Join the IPv4 group 239.192.152.143:6771.</summary>
    public bool UseIPv4 { get; init; } = true;

    /// <summary>Join the IPv6 group [ff15::efc0:988f]:6771.</summary>
    public bool UseIPv6 { get; init; } = true;

    /// <summary>Datagrams accepted per second from one address (after a burst of <see cref="BurstPerSource"/>); more are dropped unread.</summary>
    public double DatagramsPerSecondPerSource { get; init; } = 5;

    /// <summary>Datagrams one address may send at once (a node starting with many torrents announces them together).</summary>
    public double BurstPerSource { get; init; } = 50;

    /// <summary>Datagrams accepted per second from everyone together (a flood from many spoofed addresses).</summary>
    public double DatagramsPerSecond { get; init; } = 100;

    /// <summary>Addresses whose rate is tracked at once; idle ones are forgotten first.</summary>
    public int MaxTrackedSources { get; init; } = 256;

    /// <summary>Accepted datagrams waiting to be read; more are dropped while the reader is behind.</summary>
    public int QueueCapacity { get; init; } = 64;
}
