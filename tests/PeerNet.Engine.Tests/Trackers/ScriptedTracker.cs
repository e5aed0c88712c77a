using System.Collections.Concurrent;
using PeerNet.Discovery.Trackers;
using PeerNet.Tracker;

namespace PeerNet.Engine.Tests.Trackers;

/// <summary>An in-memory tracker: answers with <see cref="Answer"/> (or fails while <see cref="Fails"/>), and records every request.</summary>
internal sealed class ScriptedTracker(string url) : ITracker
{
    public string Url { get; } = url;

    /// <summary>How local the tracker counts as (a real one learns it from its address); the peers it names are held to it.</summary>
    public PeerNet.Transport.NetworkScope Scope { get; set; } = PeerNet.Transport.NetworkScope.Loopback;

    public bool Fails { get; set; }

    public Func<AnnounceRequest, AnnounceResponse> Answer { get; set; } = _ => new AnnounceResponse { Interval = TimeSpan.FromMinutes(5) };

    /// <summary>When set, announces wait for it (a tracker that does not answer).</summary>
    public TaskCompletionSource? Gate { get; set; }

    public ConcurrentQueue<AnnounceRequest> Requests { get; } = new();

    public bool Disposed { get; private set; }

    public async Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        return Fails ? throw new TrackerException($"{Url} is down") : Answer(request);
    }

    public Task<IReadOnlyDictionary<Sha1Hash, ScrapeStats>> ScrapeAsync(IReadOnlyList<Sha1Hash> infoHashes, CancellationToken cancellationToken)
        => Task.FromResult<IReadOnlyDictionary<Sha1Hash, ScrapeStats>>(new Dictionary<Sha1Hash, ScrapeStats>());

    public void Dispose() => Disposed = true;
}
