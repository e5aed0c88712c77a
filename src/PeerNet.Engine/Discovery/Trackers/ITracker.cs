using PeerNet.Tracker;
using PeerNet.Transport;

namespace PeerNet.Discovery.Trackers;

/// <summary>One tracker URL, spoken to over HTTP(S) or UDP.</summary>
internal interface ITracker : IDisposable
{
    /// <summary>The announce URL, as the torrent gave it.</summary>
    string Url { get; }

    /// <summary>
    /// How local the tracker is: the scope of the addresses it was reached at (<see cref="NetworkScope.Global"/> until
    /// it has been). Peers it names in a narrower scope are not taken (<see cref="NetworkScopes.MayName(NetworkScope, System.Net.IPAddress)"/>).
    /// </summary>
    NetworkScope Scope { get; }

    /// <summary>
    /// Announces; returns the tracker's successful answer. A refusal, an unreadable answer, a timeout or a network
    /// error throws <see cref="TrackerException"/>; cancellation throws <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken);

    /// <summary>Scrapes the counts of <paramref name="infoHashes"/>; failures as for <see cref="AnnounceAsync"/>.</summary>
    Task<IReadOnlyDictionary<Sha1Hash, ScrapeStats>> ScrapeAsync(IReadOnlyList<Sha1Hash> infoHashes, CancellationToken cancellationToken);
}
