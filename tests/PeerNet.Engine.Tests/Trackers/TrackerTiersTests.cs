using PeerNet.Discovery.Trackers;
using PeerNet.Tracker;
using static PeerNet.Engine.Tests.Trackers.TrackerTestKit;

namespace PeerNet.Engine.Tests.Trackers;

public sealed class TrackerTiersTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly Dictionary<string, ScriptedTracker> _trackers = [];

    private TrackerTiers Tiers(int seed, params string[][] tiers)
        => new(tiers, url => url.StartsWith("wss:", StringComparison.Ordinal) ? null : _trackers[url] = new ScriptedTracker(url), new Random(seed));

    [Fact]
    public void Combine_ATrackerWorkingUnderEitherHash_IsWorking_AndTheErrorGoesWithTheLastFailure()
    {
        const string A = "http://a/announce", B = "http://b/announce", C = "udp://c:1";
        (IReadOnlyList<(string, TrackerState)>, string?) v1 = ([(A, TrackerState.Failing), (B, TrackerState.Failing), (C, TrackerState.NotContacted)], "http://b/announce: down");
        (IReadOnlyList<(string, TrackerState)>, string?) v2 = ([(A, TrackerState.Working), (B, TrackerState.Failing), (C, TrackerState.NotContacted)], null);
        Assert.Equal(new TrackerSummary(3, 1, 1, "http://b/announce: down"), TrackerSummary.Combine([v1, v2]));
        Assert.Equal(new TrackerSummary(3, 1, 1, "http://b/announce: down"), TrackerSummary.Combine([v2, v1]));

        // Only A failed under v1, and it answers under v2: nothing is failing, so no error is shown.
        (IReadOnlyList<(string, TrackerState)>, string?) v1Only = ([(A, TrackerState.Failing)], "http://a/announce: not whitelisted");
        (IReadOnlyList<(string, TrackerState)>, string?) v2Only = ([(A, TrackerState.Working)], null);
        Assert.Equal(new TrackerSummary(1, 1, 0, null), TrackerSummary.Combine([v1Only, v2Only]));
        Assert.Equal(default, TrackerSummary.Combine([]));
    }

    [Fact]
    public void Tiers_AreShuffledWithinButNotAcross()
    {
        string[] first = [.. Enumerable.Range(0, 8).Select(i => $"http://a{i}/announce")];
        string[] second = ["http://b0/announce", "http://b1/announce"];
        var orders = new HashSet<string>();
        for (int seed = 0; seed < 20; seed++)
        {
            using TrackerTiers tiers = Tiers(seed, first, second);
            Assert.Equal(2, tiers.Order.Count);
            Assert.Equal(first.Order(StringComparer.Ordinal), tiers.Order[0].Order(StringComparer.Ordinal));
            Assert.Equal(second.Order(StringComparer.Ordinal), tiers.Order[1].Order(StringComparer.Ordinal));
            orders.Add(string.Join(",", tiers.Order[0]));
        }

        Assert.True(orders.Count > 10, "the first tier should come out in many orders");
    }

    [Fact]
    public void UnsupportedUrls_AreLeftOut_AndEmptyTiersDropped()
    {
        using TrackerTiers tiers = Tiers(1, ["wss://x/announce"], ["http://a/announce", "wss://y/announce"]);
        Assert.Equal(1, tiers.Count);
        Assert.Equal([["http://a/announce"]], tiers.Order);
    }

    [Fact]
    public async Task Announce_FirstTierFails_FallsToTheNextTier()
    {
        using TrackerTiers tiers = Tiers(1, ["http://a/announce", "http://b/announce"], ["http://c/announce"]);
        _trackers["http://a/announce"].Fails = true;
        _trackers["http://b/announce"].Fails = true;
        (TrackerEntry entry, _) = await tiers.AnnounceAsync(Request(), Ct).Bounded();
        Assert.Equal("http://c/announce", entry.Tracker.Url);
        Assert.Single(_trackers["http://a/announce"].Requests);
        Assert.Single(_trackers["http://b/announce"].Requests);
        Assert.Equal(new TrackerSummary(3, 1, 2, null), tiers.GetSummary());
    }

    [Fact]
    public async Task Announce_ResponderMovesToTheFrontOfItsTier()
    {
        using TrackerTiers tiers = Tiers(3, ["http://a/announce", "http://b/announce", "http://c/announce"]);
        string[] order = [.. tiers.Order[0]];
        _trackers[order[0]].Fails = true;
        _trackers[order[1]].Fails = true;
        (TrackerEntry entry, _) = await tiers.AnnounceAsync(Request(), Ct).Bounded();
        Assert.Equal(order[2], entry.Tracker.Url);
        Assert.Equal([order[2], order[0], order[1]], tiers.Order[0]);

        // The next announce goes to it first and no one else.
        await tiers.AnnounceAsync(Request(TrackerEvent.None), Ct).Bounded();
        Assert.Equal(2, _trackers[order[2]].Requests.Count);
        Assert.Single(_trackers[order[0]].Requests);
    }

    [Fact]
    public async Task Announce_EveryTrackerFails_ThrowsTheLastError()
    {
        using TrackerTiers tiers = Tiers(1, ["http://a/announce"], ["http://b/announce"]);
        _trackers["http://a/announce"].Fails = true;
        _trackers["http://b/announce"].Fails = true;
        TrackerException e = await Assert.ThrowsAsync<TrackerException>(() => tiers.AnnounceAsync(Request(), Ct).Bounded());
        Assert.Equal("http://b/announce: http://b/announce is down", e.Message);
        Assert.Equal(new TrackerSummary(2, 0, 2, e.Message), tiers.GetSummary());
    }

    [Fact]
    public async Task Announce_FailureWithEscapesInUrlAndMessage_StatusShowsThemReplaced()
    {
        // The URL comes from the torrent; ScriptedTracker's message repeats it, as a tracker's own text could hold anything.
        const string Url = "http://a/announce\u202e\u001b[2J";
        using TrackerTiers tiers = Tiers(1, [Url]);
        _trackers[Url].Fails = true;

        TrackerException e = await Assert.ThrowsAsync<TrackerException>(() => tiers.AnnounceAsync(Request(), Ct).Bounded());

        const string Shown = "http://a/announce\uFFFD\uFFFD[2J";
        Assert.Equal($"{Shown}: {Shown} is down", e.Message);
        Assert.Equal(e.Message, tiers.GetSummary().LastError);
        Assert.Equal([Url], tiers.Order[0]); // the URL itself, used to announce, stays exact
    }

    [Fact]
    public async Task TrackerId_IsSentBackToTheTrackerThatGaveIt()
    {
        using TrackerTiers tiers = Tiers(1, ["http://a/announce"]);
        _trackers["http://a/announce"].Answer = _ => new AnnounceResponse { TrackerId = "xyz" };
        await tiers.AnnounceAsync(Request(), Ct).Bounded();
        await tiers.AnnounceAsync(Request(TrackerEvent.None), Ct).Bounded();
        Assert.Equal([null, "xyz"], _trackers["http://a/announce"].Requests.Select(r => r.TrackerId));
    }

    [Fact]
    public void Dispose_DisposesEveryTracker()
    {
        TrackerTiers tiers = Tiers(1, ["http://a/announce"], ["http://b/announce"]);
        tiers.Dispose();
        Assert.All(_trackers.Values, t => Assert.True(t.Disposed));
    }
}
