using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Discovery.Trackers;
using PeerNet.Tracker;
using static PeerNet.Engine.Tests.Trackers.TrackerTestKit;

namespace PeerNet.Engine.Tests.Trackers;

public sealed class TrackerAnnouncerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedTracker _a = new("http://a/announce");
    private readonly ScriptedTracker _b = new("http://b/announce");
    private readonly ConcurrentQueue<IPEndPoint> _peers = new();
    private long _left = 100;

    private TrackerAnnouncer Create(TrackerClientOptions? options = null, bool twoTiers = false)
    {
        ScriptedTracker[] all = [_a, _b];
        var tiers = new TrackerTiers(twoTiers ? [[_a.Url], [_b.Url]] : [[_a.Url]], url => all.First(t => t.Url == url), new Random(1));
        return new TrackerAnnouncer(tiers, options ?? FastOptions, _time, e => Request(e) with { Left = Interlocked.Read(ref _left) }, peers =>
        {
            foreach (IPEndPoint p in peers)
            {
                _peers.Enqueue(p);
            }
        });
    }


    /// <summary>Moves the fake clock once the announcer waits for its <paramref name="round"/>-th timer (counting from 1), then lets it run.</summary>
    private async Task AdvanceAsync(TrackerAnnouncer announcer, int round, TimeSpan span)
    {
        await WaitForAsync(() => announcer.Waits >= round);
        _time.Advance(span);
        await Task.Delay(20, Ct);
    }

    [Fact]
    public async Task Start_AnnouncesStarted_AndPassesPeersOn()
    {
        _a.Answer = _ => new AnnounceResponse { Interval = TimeSpan.FromMinutes(10), Peers = [IPEndPoint.Parse("10.0.0.1:1")] };
        await using TrackerAnnouncer announcer = Create();
        announcer.Start();
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 1);
        Assert.Equal(TrackerEvent.Started, Assert.Single(_a.Requests).Event);
        Assert.Equal(IPEndPoint.Parse("10.0.0.1:1"), Assert.Single(_peers));
        Assert.Equal(new TrackerSummary(1, 1, 0, null), announcer.GetSummary());
    }

    [Fact]
    public async Task ExternalIp_FromATrackerOnTheInternet_IsReported_AndOurAddressesGoOnlyToIt()
    {
        var reported = new ConcurrentQueue<(string Url, IPAddress Address)>();
        ScriptedTracker[] all = [_a, _b];
        _a.Scope = PeerNet.Transport.NetworkScope.Global;
        _a.Answer = _ => new AnnounceResponse { Interval = TimeSpan.FromMinutes(10), ExternalAddress = IPAddress.Parse("203.0.113.9") };
        _b.Answer = _ => new AnnounceResponse { Interval = TimeSpan.FromMinutes(10), ExternalAddress = IPAddress.Parse("192.168.1.20") }; // a LAN tracker sees a LAN address
        var addresses = new AnnounceRequest { InfoHash = default, PeerId = default, Port = 1 } with { ExternalIPv4 = IPAddress.Parse("203.0.113.9"), ExternalIPv6 = IPAddress.Parse("2001:db8::9") };
        foreach (ScriptedTracker tracker in all)
        {
            var tiers = new TrackerTiers([[tracker.Url]], url => all.First(t => t.Url == url), new Random(1));
            await using var announcer = new TrackerAnnouncer(tiers, FastOptions, _time, e => Request(e) with { ExternalIPv4 = addresses.ExternalIPv4, ExternalIPv6 = addresses.ExternalIPv6 }, _ => { })
            {
                ExternalAddressReported = (url, address) => reported.Enqueue((url, address)),
            };
            announcer.Start();
            await WaitForAsync(() => announcer.SuccessfulAnnounces == 1);
        }

        Assert.Equal(("http://a/announce", IPAddress.Parse("203.0.113.9")), Assert.Single(reported));
        Assert.All(_a.Requests, r => Assert.Equal((IPAddress.Parse("203.0.113.9"), IPAddress.Parse("2001:db8::9")), (r.ExternalIPv4, r.ExternalIPv6))); // started and stopped
        Assert.All(_b.Requests, r => Assert.Equal((null, null), (r.ExternalIPv4, r.ExternalIPv6)));
        Assert.NotEmpty(_b.Requests);
    }

    [Fact]
    public async Task Peers_NarrowerThanTheTracker_AreNotPassedOn()
    {
        // A tracker on the internet cannot send us to loopback, link-local, private or unroutable addresses.
        _a.Scope = PeerNet.Transport.NetworkScope.Global;
        _a.Answer = _ => new AnnounceResponse
        {
            Interval = TimeSpan.FromMinutes(10),
            Peers = [.. new[] { "127.0.0.1:6881", "10.0.0.1:6881", "192.168.1.1:6881", "169.254.0.1:6881", "224.0.0.1:6881", "203.0.113.9:6881", "[fd00::1]:6881", "[2001:db8::9]:6881" }.Select(IPEndPoint.Parse)],
        };
        await using TrackerAnnouncer announcer = Create();
        announcer.Start();
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 1);
        Assert.Equal(["203.0.113.9:6881", "[2001:db8::9]:6881"], _peers.Select(p => p.ToString()));
    }

    [Fact]
    public async Task ReAnnounce_WaitsForTheInterval_AtLeastMinInterval()
    {
        _a.Answer = _ => new AnnounceResponse { Interval = TimeSpan.FromSeconds(100), MinInterval = TimeSpan.FromSeconds(300) };
        await using TrackerAnnouncer announcer = Create();
        announcer.Start();
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 1);
        await AdvanceAsync(announcer, 1, TimeSpan.FromSeconds(299));
        Assert.Single(_a.Requests);
        await AdvanceAsync(announcer, 1, TimeSpan.FromSeconds(1));
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 2);
        Assert.Equal([TrackerEvent.Started, TrackerEvent.None], _a.Requests.Select(r => r.Event));
    }

    [Fact]
    public async Task ReAnnounce_TinyInterval_IsRaisedToTheClientMinimum()
    {
        _a.Answer = _ => new AnnounceResponse { Interval = TimeSpan.FromSeconds(1) };
        await using TrackerAnnouncer announcer = Create(FastOptions with { MinInterval = TimeSpan.FromSeconds(60) });
        announcer.Start();
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 1);
        await AdvanceAsync(announcer, 1, TimeSpan.FromSeconds(59));
        Assert.Single(_a.Requests);
        await AdvanceAsync(announcer, 1, TimeSpan.FromSeconds(1));
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 2);
    }

    [Fact]
    public async Task Completed_IsAnnouncedAtOnce_AndOnlyOnce()
    {
        await using TrackerAnnouncer announcer = Create();
        announcer.Start();
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 1);
        Interlocked.Exchange(ref _left, 0);
        announcer.OnCompleted();
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 2);
        AnnounceRequest completed = _a.Requests.Last();
        Assert.Equal(TrackerEvent.Completed, completed.Event);
        Assert.Equal(0, completed.Left);

        await AdvanceAsync(announcer, 2, TimeSpan.FromMinutes(5));
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 3);
        Assert.Equal([TrackerEvent.Started, TrackerEvent.Completed, TrackerEvent.None], _a.Requests.Select(r => r.Event));
    }

    [Fact]
    public async Task CompletedBeforeStartedGotThrough_SendsStartedOnly()
    {
        _a.Fails = true;
        await using TrackerAnnouncer announcer = Create(FastOptions with { RetryDelay = TimeSpan.FromSeconds(30) });
        announcer.Start();
        await WaitForAsync(() => _a.Requests.Count == 1);
        Interlocked.Exchange(ref _left, 0);
        announcer.OnCompleted();
        _a.Fails = false;
        await AdvanceAsync(announcer, 1, TimeSpan.FromSeconds(30));
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 1);
        await AdvanceAsync(announcer, 2, TimeSpan.FromMinutes(5));
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 2);
        Assert.Equal([TrackerEvent.Started, TrackerEvent.Started, TrackerEvent.None], _a.Requests.Select(r => r.Event));
    }

    [Fact]
    public async Task CompletedWhileStartedInFlight_IsAnnouncedAfterIt()
    {
        // The started request said left=100; the download finished before its answer came back.
        var gate = new TaskCompletionSource();
        _a.Gate = gate;
        await using TrackerAnnouncer announcer = Create();
        announcer.Start();
        await WaitForAsync(() => _a.Requests.Count == 1);
        Interlocked.Exchange(ref _left, 0);
        announcer.OnCompleted();
        gate.SetResult();
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 2);
        Assert.Equal([TrackerEvent.Started, TrackerEvent.Completed], _a.Requests.Select(r => r.Event));
        Assert.Equal([100L, 0L], _a.Requests.Select(r => r.Left));
    }

    [Fact]
    public async Task Stop_WhileCompletedIsInFlight_LetsItFinish_ThenSendsStopped()
    {
        // peernet get stops the torrent the moment it completes: the completed announce must not be cut.
        await using TrackerAnnouncer announcer = Create();
        announcer.Start();
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 1);
        var gate = new TaskCompletionSource();
        _a.Gate = gate;
        Interlocked.Exchange(ref _left, 0);
        announcer.OnCompleted();
        await WaitForAsync(() => _a.Requests.Count == 2);

        Task stop = announcer.StopAsync();
        await Task.Delay(50, Ct);
        Assert.False(stop.IsCompleted);
        gate.SetResult();
        await stop.Bounded();

        Assert.Equal(2, announcer.SuccessfulAnnounces);
        Assert.Equal([TrackerEvent.Started, TrackerEvent.Completed, TrackerEvent.Stopped], _a.Requests.Select(r => r.Event));
    }

    [Fact]
    public async Task Stop_CompletedNotYetThrough_SendsCompletedThenStopped()
    {
        await using TrackerAnnouncer announcer = Create(FastOptions with { RetryDelay = TimeSpan.FromMinutes(1) });
        announcer.Start();
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 1);
        _a.Fails = true;
        Interlocked.Exchange(ref _left, 0);
        announcer.OnCompleted();
        await WaitForAsync(() => _a.Requests.Count == 2 && announcer.Waits >= 2); // completed failed; a retry waits
        _a.Fails = false;

        await announcer.StopAsync().Bounded();
        Assert.Equal([TrackerEvent.Started, TrackerEvent.Completed, TrackerEvent.Completed, TrackerEvent.Stopped], _a.Requests.Select(r => r.Event));
    }

    [Fact]
    public async Task Summary_FailingTracker_ComesWithItsReason_WhileTheNextTierIsTried()
    {
        // A failing tracker with no error is what a status line caught between the two used to show.
        _a.Fails = true;
        _b.Gate = new TaskCompletionSource();
        await using TrackerAnnouncer announcer = Create(twoTiers: true);
        announcer.Start();
        await WaitForAsync(() => _b.Requests.Count == 1);
        TrackerSummary summary = announcer.GetSummary();
        Assert.Equal(1, summary.Failing);
        Assert.StartsWith("http://a/announce: ", summary.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failures_RetryWithDoublingDelay()
    {
        _a.Fails = true;
        await using TrackerAnnouncer announcer = Create(FastOptions with { RetryDelay = TimeSpan.FromSeconds(10), MaxRetryDelay = TimeSpan.FromSeconds(25) });
        announcer.Start();
        // The fake records the request before the announcer has recorded its failure: wait for both.
        await WaitForAsync(() => _a.Requests.Count == 1 && announcer.GetSummary().LastError is not null);
        Assert.StartsWith("http://a/announce:", announcer.GetSummary().LastError, StringComparison.Ordinal);
        foreach ((int seconds, int expected) in new[] { (10, 2), (20, 3), (25, 4), (25, 5) })
        {
            await AdvanceAsync(announcer, expected - 1, TimeSpan.FromSeconds(seconds) - TimeSpan.FromMilliseconds(1));
            Assert.Equal(expected - 1, _a.Requests.Count);
            await AdvanceAsync(announcer, expected - 1, TimeSpan.FromMilliseconds(1));
            await WaitForAsync(() => _a.Requests.Count == expected);
        }
    }

    [Fact]
    public async Task Stop_SendsStoppedToTheTrackerInUse()
    {
        _a.Fails = true;
        await using TrackerAnnouncer announcer = Create(twoTiers: true);
        announcer.Start();
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 1);
        await announcer.StopAsync().Bounded();
        Assert.Equal([TrackerEvent.Started, TrackerEvent.Stopped], _b.Requests.Select(r => r.Event));
        Assert.Equal(0, _b.Requests.Last().NumWant);
        Assert.Single(_a.Requests);
    }

    [Fact]
    public async Task Stop_NeverAnnounced_SendsNothing()
    {
        _a.Fails = true;
        await using TrackerAnnouncer announcer = Create();
        announcer.Start();
        await WaitForAsync(() => _a.Requests.Count == 1);
        await announcer.StopAsync().Bounded();
        Assert.Single(_a.Requests);
    }

    [Fact]
    public async Task Stop_TrackerDoesNotAnswer_GivesUpAfterTheStopTimeout()
    {
        await using TrackerAnnouncer announcer = Create(FastOptions with { StopTimeout = TimeSpan.FromSeconds(2) });
        announcer.Start();
        await WaitForAsync(() => announcer.SuccessfulAnnounces == 1);
        _a.Gate = new TaskCompletionSource();
        Task stop = announcer.StopAsync();
        await WaitForAsync(() => _a.Requests.Count == 2);
        Assert.False(stop.IsCompleted);
        await AdvanceAsync(announcer, 0, TimeSpan.FromSeconds(2));
        await stop.Bounded();
    }

    [Fact]
    public async Task Stop_DuringAHangingAnnounce_CancelsIt()
    {
        _a.Gate = new TaskCompletionSource();
        await using TrackerAnnouncer announcer = Create();
        announcer.Start();
        await WaitForAsync(() => _a.Requests.Count == 1);
        await announcer.StopAsync().Bounded();
        Assert.Single(_a.Requests);
    }
}
