using PeerNet.Tracker;

namespace PeerNet.Discovery.Trackers;

/// <summary>Timing and limits of the tracker client. The defaults follow the BEPs; tests shorten the waits.</summary>
internal sealed record TrackerClientOptions
{
    /// <summary>Time allowed for one HTTP announce or scrape, redirects included.</summary>
    public TimeSpan HttpTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Most HTTP redirects followed for one request.</summary>
    public int MaxHttpRedirects { get; init; } = 3;

    /// <summary>BEP 15's first wait for a UDP reply: "15 * 2 ^ n seconds".</summary>
    public TimeSpan UdpBaseTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>BEP 15's largest n in 15 * 2 ^ n: "increased up to 8 (3840 seconds)". The request fails after that wait.</summary>
    public int UdpMaxRetransmissions { get; init; } = 8;

    /// <summary>How long a UDP connection id is used: BEP 15, "A client can use a connection ID until one minute after it has received it."</summary>
    public TimeSpan UdpConnectionIdLifetime { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The re-announce interval when a tracker names none.</summary>
    public TimeSpan DefaultInterval { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>The shortest re-announce interval used, whatever a tracker asks (a hostile tracker must not make us flood it).</summary>
    public TimeSpan MinInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The longest re-announce interval used, whatever a tracker asks.</summary>
    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromHours(3);

    /// <summary>The first wait after every tracker failed; it doubles with each failure in a row, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait between failed rounds.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Time allowed for the <c>stopped</c> announce when a torrent leaves; shutdown never waits longer.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Peers asked for in each announce.</summary>
    public int NumWant { get; init; } = 50;

    /// <summary>Limits on what a tracker may send.</summary>
    public TrackerLimits Limits { get; init; } = TrackerLimits.Default;
}
