using System.Net;
using PeerNet.Discovery.Trackers;
using PeerNet.Tracker;
using static PeerNet.Engine.Tests.Trackers.TrackerTestKit;

namespace PeerNet.Engine.Tests.Trackers;

public sealed class UdpTrackerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static UdpTracker Create(FakeUdpTracker fake, TrackerClientOptions? options = null) => new(fake.Url, options ?? FastOptions, TimeProvider.System);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Announce_ConnectsThenAnnounces_PeersOfTheSocketFamily(bool ipv6)
    {
        await using var fake = new FakeUdpTracker(ipv6);
        using UdpTracker tracker = Create(fake);
        AnnounceResponse response = await tracker.AnnounceAsync(Request(), Ct).Bounded();

        Assert.Equal(ipv6 ? "[2001:db8::9]:99" : "10.1.2.3:4567", string.Join(",", response.Peers));
        Assert.Equal(TimeSpan.FromSeconds(120), response.Interval);
        Assert.Equal(1, response.Complete);
        Assert.Equal(2, response.Incomplete);
        FakeUdpRequest[] requests = [.. fake.Requests];
        Assert.Equal([UdpTrackerAction.Connect, UdpTrackerAction.Announce], requests.Select(r => r.Action));
        Assert.Equal(UdpTrackerPacket.ProtocolId, requests[0].ConnectionId);
        Assert.Equal(FakeUdpTracker.ConnectionId, requests[1].ConnectionId);
        Assert.Equal(TrackerEvent.Started, requests[1].Event);
        Assert.Equal(6881, requests[1].Port);
        Assert.Equal(77u, requests[1].Key);
        Assert.NotEqual(requests[0].TransactionId, requests[1].TransactionId);
    }

    [Fact]
    public async Task ConnectionId_ReusedForAMinute_ThenRequested_Again()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        await using var fake = new FakeUdpTracker();
        using var tracker = new UdpTracker(fake.Url, FastOptions with { UdpBaseTimeout = TimeSpan.FromHours(1) }, time);
        await tracker.AnnounceAsync(Request(), Ct).Bounded();
        time.Advance(TimeSpan.FromSeconds(59));
        await tracker.AnnounceAsync(Request(TrackerEvent.None), Ct).Bounded();
        Assert.Equal(1, fake.Count(UdpTrackerAction.Connect));

        time.Advance(TimeSpan.FromSeconds(1));
        await tracker.AnnounceAsync(Request(TrackerEvent.None), Ct).Bounded();
        Assert.Equal(2, fake.Count(UdpTrackerAction.Connect));
        Assert.Equal(3, fake.Count(UdpTrackerAction.Announce));
    }

    [Fact]
    public async Task LostPackets_AreRetransmitted_UntilAnswered()
    {
        await using var fake = new FakeUdpTracker();
        int seen = 0;
        fake.Intercept = r => Interlocked.Increment(ref seen) is 1 or 3 ? null : [fake.Answer(r)]; // drop the first connect and the first announce
        using UdpTracker tracker = Create(fake);
        Assert.NotEmpty((await tracker.AnnounceAsync(Request(), Ct).Bounded()).Peers);
        Assert.Equal([UdpTrackerAction.Connect, UdpTrackerAction.Connect, UdpTrackerAction.Announce, UdpTrackerAction.Announce], fake.Requests.Select(r => r.Action));
    }

    [Fact]
    public async Task NoAnswer_FailsAfterTheLastRetransmission()
    {
        await using var fake = new FakeUdpTracker { Intercept = _ => null };
        using UdpTracker tracker = Create(fake);
        TrackerException e = await Assert.ThrowsAsync<TrackerException>(() => tracker.AnnounceAsync(Request(), Ct).Bounded());
        Assert.Contains("no answer after 3 tries", e.Message, StringComparison.Ordinal);
        Assert.Equal(FastOptions.UdpMaxRetransmissions + 1, fake.Count(UdpTrackerAction.Connect));
    }

    [Fact]
    public async Task RetransmissionWaits_Double_15Times2PowN()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        await using var fake = new FakeUdpTracker { Intercept = _ => null };
        using var tracker = new UdpTracker(fake.Url, new TrackerClientOptions { UdpMaxRetransmissions = 8 }, time);
        Task<AnnounceResponse> announce = tracker.AnnounceAsync(Request(), Ct);
        for (int n = 0; n <= 8; n++)
        {
            await WaitForAsync(() => fake.Count(UdpTrackerAction.Connect) == n + 1);
            time.Advance(TimeSpan.FromSeconds(15 * Math.Pow(2, n)) - TimeSpan.FromMilliseconds(1));
            await Task.Delay(20, Ct);
            Assert.Equal(n + 1, fake.Count(UdpTrackerAction.Connect)); // not yet
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        await Assert.ThrowsAsync<TrackerException>(() => announce.Bounded());
        Assert.Equal(9, fake.Count(UdpTrackerAction.Connect));
    }

    [Fact]
    public async Task ReplyWithAnotherTransactionId_IsSkipped()
    {
        await using var fake = new FakeUdpTracker();
        fake.Intercept = r =>
        {
            byte[] stray = fake.Answer(r with { TransactionId = r.TransactionId + 1 });
            return [stray, fake.Answer(r)];
        };
        using UdpTracker tracker = Create(fake);
        Assert.NotEmpty((await tracker.AnnounceAsync(Request(), Ct).Bounded()).Peers);
        Assert.Equal(2, fake.Requests.Count);
    }

    [Fact]
    public async Task ErrorPacket_IsARefusalWithItsMessage()
    {
        await using var fake = new FakeUdpTracker();
        fake.Intercept = r =>
        {
            if (r.Action == UdpTrackerAction.Connect)
            {
                return [fake.Answer(r)];
            }

            var error = new byte[64];
            return [error[..UdpTrackerPacket.WriteError(error, r.TransactionId, "torrent not whitelisted"u8)]];
        };
        using UdpTracker tracker = Create(fake);
        TrackerException e = await Assert.ThrowsAsync<TrackerException>(() => tracker.AnnounceAsync(Request(), Ct).Bounded());
        Assert.True(e.IsRefusal);
        Assert.Equal("tracker refused: torrent not whitelisted", e.Message);
    }

    [Fact]
    public async Task NothingListening_FailsFast()
    {
        FakeUdpTracker fake = new();
        string url = fake.Url;
        await fake.DisposeAsync();
        using var tracker = new UdpTracker(url, FastOptions with { UdpBaseTimeout = TimeSpan.FromSeconds(20) }, TimeProvider.System);

        // Loopback answers with ICMP port unreachable, which a connected UDP socket reports at once.
        TrackerException e = await Assert.ThrowsAsync<TrackerException>(() => tracker.AnnounceAsync(Request(), Ct).WaitAsync(TimeSpan.FromSeconds(15), Ct));
        Assert.Contains("ConnectionRefused", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scrape_MapsCountsToHashesInOrder()
    {
        await using var fake = new FakeUdpTracker();
        using UdpTracker tracker = Create(fake);
        Sha1Hash other = Sha1Hash.Compute([9]);
        IReadOnlyDictionary<Sha1Hash, ScrapeStats> files = await tracker.ScrapeAsync([InfoHash, other], Ct).Bounded();
        Assert.Equal(new ScrapeStats(0, 10, 20), files[InfoHash]);
        Assert.Equal(new ScrapeStats(1, 11, 21), files[other]);
    }

    [Fact]
    public async Task Cancellation_StopsAWaitingAnnounce()
    {
        await using var fake = new FakeUdpTracker { Intercept = _ => null };
        using var tracker = new UdpTracker(fake.Url, new TrackerClientOptions(), TimeProvider.System);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        Task<AnnounceResponse> announce = tracker.AnnounceAsync(Request(), cts.Token);
        await WaitForAsync(() => fake.Requests.Count == 1);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => announce.Bounded());
    }


    [Fact]
    public void Create_NotUdpHostPort_Throws()
    {
        Assert.Throws<ArgumentException>(() => new UdpTracker("udp://host", FastOptions, TimeProvider.System));
        Assert.Throws<ArgumentException>(() => new UdpTracker("http://host:1/announce", FastOptions, TimeProvider.System));
        _ = IPAddress.Loopback;
    }
}
