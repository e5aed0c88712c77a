using PeerNet.Tracker;
using PeerNet.Transport;

namespace PeerNet.Discovery.Trackers;

/// <summary>One tracker of a torrent and what it last said.</summary>
internal sealed class TrackerEntry(ITracker tracker)
{
    public ITracker Tracker { get; } = tracker;

    /// <summary>The tracker's URL for status lines: it comes from the torrent or magnet, and is used exact to announce.</summary>
    public string DisplayUrl { get; } = DisplayText.Sanitize(tracker.Url);

    public TrackerState State { get; set; }

    /// <summary>Why its last announce failed, cleaned for display (<see cref="DisplayText"/>); null after a success.</summary>
    public string? LastError { get; set; }

    /// <summary>The <c>tracker id</c> it gave, sent back in later announces (BEP 3).</summary>
    public string? TrackerId { get; set; }
}

/// <summary>A count of a torrent's trackers by state, and the last error, for status lines.</summary>
internal readonly record struct TrackerSummary(int Total, int Working, int Failing, string? LastError)
{
    /// <summary>
    /// One summary of the same trackers announced to under several hashes (a hybrid's v1 and v2): a tracker works
    /// if it answers under any of them, fails if it fails under one and answers under none. The error is kept only
    /// while some tracker fails.
    /// </summary>
    public static TrackerSummary Combine(IReadOnlyList<(IReadOnlyList<(string Url, TrackerState State)> States, string? LastError)> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var byUrl = new Dictionary<string, TrackerState>(StringComparer.Ordinal);
        string? error = null;
        foreach ((IReadOnlyList<(string Url, TrackerState State)> states, string? lastError) in parts)
        {
            foreach ((string url, TrackerState state) in states)
            {
                // Working beats Failing beats NotContacted: the enum's order is not that, so rank explicitly.
                byUrl[url] = byUrl.TryGetValue(url, out TrackerState seen) && Rank(seen) >= Rank(state) ? seen : state;
            }

            error ??= lastError;
        }

        int failing = byUrl.Values.Count(s => s == TrackerState.Failing);
        return new TrackerSummary(byUrl.Count, byUrl.Values.Count(s => s == TrackerState.Working), failing, failing > 0 ? error : null);

        static int Rank(TrackerState state) => state switch
        {
            TrackerState.Working => 2,
            TrackerState.Failing => 1,
            _ => 0,
        };
    }
}

/// <summary>
/// BEP 12 multitracker: "The tiers of announces will be processed sequentially; all URLs in each tier must be
/// checked before the client goes on to the next tier. URLs within each tier will be processed in a randomly chosen
/// order; in other words, the list will be shuffled when first read, and then parsed in order. In addition, if a
/// connection with a tracker is successful, it will be moved to the front of the tier." URLs of schemes no client
/// here speaks are left out; tiers left empty are dropped.
/// </summary>
internal sealed class TrackerTiers : IDisposable
{
    private readonly List<List<TrackerEntry>> _tiers = [];
    private readonly Lock _gate = new();
    private string? _lastError;

    /// <summary>Called (outside the lock) with a tracker's URL and its cleaned error each time an announce to it fails.</summary>
    public Action<string, string>? Failed { get; set; }

    public TrackerTiers(IReadOnlyList<IReadOnlyList<string>> tiers, Func<string, ITracker?> create, Random random)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(random);
        foreach (IReadOnlyList<string> urls in tiers)
        {
            var tier = new List<TrackerEntry>();
            foreach (string url in urls)
            {
                if (create(url) is { } tracker)
                {
                    tier.Add(new TrackerEntry(tracker));
                }
            }

            if (tier.Count > 0)
            {
                TrackerEntry[] shuffled = [.. tier];
                random.Shuffle(shuffled);
                _tiers.Add([.. shuffled]);
            }
        }
    }

    /// <summary>Trackers over every tier.</summary>
    public int Count => _tiers.Sum(t => t.Count);

    /// <summary>The trackers in the order they will be tried.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Order
    {
        get
        {
            lock (_gate)
            {
                return [.. _tiers.Select(t => (IReadOnlyList<string>)[.. t.Select(e => e.Tracker.Url)])];
            }
        }
    }

    /// <summary>Each tracker's URL and state, for <see cref="TrackerSummary.Combine"/>.</summary>
    public IReadOnlyList<(string Url, TrackerState State)> GetStates()
    {
        lock (_gate)
        {
            return [.. _tiers.SelectMany(t => t).Select(e => (e.Tracker.Url, e.State))];
        }
    }

    /// <summary>Every tracker with its tier, state and last error, for a torrent's tracker list.</summary>
    public IReadOnlyList<TrackerStatus> GetStatuses()
    {
        lock (_gate)
        {
            return [.. _tiers.SelectMany((tier, index) => tier.Select(e => new TrackerStatus(e.Tracker.Url, index, e.State, e.LastError)))];
        }
    }

    public TrackerSummary GetSummary()
    {
        lock (_gate)
        {
            IEnumerable<TrackerEntry> all = _tiers.SelectMany(t => t);
            return new TrackerSummary(all.Count(), all.Count(e => e.State == TrackerState.Working), all.Count(e => e.State == TrackerState.Failing), _lastError);
        }
    }

    /// <summary>
    /// Announces to the first tracker that answers, in BEP 12 order, and returns it with its answer; throws
    /// <see cref="TrackerException"/> naming the last error when none does. <paramref name="request"/> gets the
    /// tracker's own <c>tracker id</c> added.
    /// </summary>
    public async Task<(TrackerEntry Entry, AnnounceResponse Response)> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? lastError = null;
        for (int t = 0; t < _tiers.Count; t++)
        {
            List<TrackerEntry> tier = _tiers[t];
            for (int i = 0; i < tier.Count; i++)
            {
                TrackerEntry entry = tier[i];
                AnnounceResponse response;
                try
                {
                    response = await AnnounceOneAsync(entry, request, cancellationToken).ConfigureAwait(false);
                }
                catch (TrackerException)
                {
                    lastError = Describe(entry);
                    continue;
                }

                lock (_gate)
                {
                    tier.RemoveAt(i);
                    tier.Insert(0, entry);
                    _lastError = null;
                }

                return (entry, response);
            }
        }

        lock (_gate)
        {
            _lastError = lastError ?? "no tracker";
        }

        throw new TrackerException(lastError ?? "no tracker");
    }

    /// <summary>Announces to one tracker and records the outcome on its entry.</summary>
    public async Task<AnnounceResponse> AnnounceOneAsync(TrackerEntry entry, AnnounceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        try
        {
            // Our public addresses go to trackers on the internet only: one on the LAN or loopback would hand them to
            // local peers, who reach us better at the address they see.
            AnnounceRequest sent = entry.Tracker.Scope == NetworkScope.Global
                ? request with { TrackerId = entry.TrackerId }
                : request with { TrackerId = entry.TrackerId, ExternalIPv4 = null, ExternalIPv6 = null };
            AnnounceResponse response = await entry.Tracker.AnnounceAsync(sent, cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                entry.State = TrackerState.Working;
                entry.LastError = null;
                entry.TrackerId = response.TrackerId ?? entry.TrackerId;
            }

            return response;
        }
        catch (TrackerException e)
        {
            lock (_gate)
            {
                // The summary's error is set with the state it explains, so no one sees a failing tracker with no
                // reason (AnnounceAsync used to set it only after trying the whole list).
                entry.State = TrackerState.Failing;

                // Where a tracker's failure becomes status text, whichever ITracker raised it: the message can
                // carry the tracker's own words (a failure reason, an HTTP reason phrase, a UDP error message).
                entry.LastError = DisplayText.Sanitize(e.Message);
                _lastError = Describe(entry);
            }

            Failed?.Invoke(entry.Tracker.Url, entry.LastError);
            throw;
        }
    }

    /// <summary>"URL: why" for status lines, both parts already cleaned.</summary>
    private static string Describe(TrackerEntry entry) => $"{entry.DisplayUrl}: {entry.LastError}";

    public void Dispose()
    {
        foreach (TrackerEntry entry in _tiers.SelectMany(t => t))
        {
            entry.Tracker.Dispose();
        }
    }
}
