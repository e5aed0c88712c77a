using System.Net;

namespace PeerNet.Tracker;

/// <summary>
/// A tracker's answer to an announce. A refusal (<see cref="FailureReason"/>) carries nothing else; a success
/// carries the peers and the intervals, each optional field null when the tracker did not send it (or sent a
/// value out of range).
/// </summary>
internal sealed class AnnounceResponse
{
    /// <summary>Why the tracker refused (HTTP <c>failure reason</c>, UDP error message); null on success.</summary>
    public string? FailureReason { get; init; }

    /// <summary>A warning the tracker attached to a successful response.</summary>
    public string? WarningMessage { get; init; }

    /// <summary>How long to wait before the next regular announce.</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>The shortest wait the tracker allows between announces.</summary>
    public TimeSpan? MinInterval { get; init; }

    /// <summary>A value to send back as <c>trackerid</c> in later announces.</summary>
    public string? TrackerId { get; init; }

    /// <summary>Seeders the tracker knows of.</summary>
    public int? Complete { get; init; }

    /// <summary>Leechers the tracker knows of.</summary>
    public int? Incomplete { get; init; }

    /// <summary>Peers to try: IPv4 (compact or dictionary) and IPv6 (<c>peers6</c>, BEP 7), each with a non-zero port.</summary>
    public IReadOnlyList<IPEndPoint> Peers { get; init; } = [];

    /// <summary>
    /// The address the tracker saw the announce come from (BEP 24 <c>external ip</c>: 4 or 16 bytes); null when not
    /// sent or of another length.
    /// </summary>
    public IPAddress? ExternalAddress { get; init; }

    /// <summary>True when the tracker refused.</summary>
    public bool IsFailure => FailureReason is not null;

    /// <summary>A refusal with <paramref name="reason"/>.</summary>
    public static AnnounceResponse Failed(string reason) => new() { FailureReason = reason };
}

/// <summary>A tracker's counts for one torrent (BEP 48 and BEP 15 scrape).</summary>
/// <param name="Complete">Seeders.</param>
/// <param name="Downloaded">Completed downloads the tracker has counted.</param>
/// <param name="Incomplete">Leechers.</param>
internal readonly record struct ScrapeStats(int Complete, int Downloaded, int Incomplete);

/// <summary>A tracker's answer to a scrape: counts per info-hash, or a refusal.</summary>
internal sealed class ScrapeResponse
{
    /// <summary>Why the tracker refused; null on success.</summary>
    public string? FailureReason { get; init; }

    /// <summary>Counts per info-hash, for the torrents the tracker knows.</summary>
    public IReadOnlyDictionary<Sha1Hash, ScrapeStats> Files { get; init; } = new Dictionary<Sha1Hash, ScrapeStats>();
}
