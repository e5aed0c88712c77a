using System.Net;
using System.Text;
using PeerNet.Discovery.Trackers;
using PeerNet.Tracker;
using static PeerNet.Engine.Tests.Trackers.TrackerTestKit;

namespace PeerNet.Engine.Tests.Trackers;

public sealed class HttpTrackerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Announce_Compact_SendsEveryParameterAndReadsPeers()
    {
        await using var fake = new FakeHttpTracker(_ => FakeHttpResponse.Ok(Encode(new AnnounceResponse
        {
            Interval = TimeSpan.FromSeconds(900),
            Complete = 3,
            Peers = [IPEndPoint.Parse("10.0.0.1:6881"), IPEndPoint.Parse("[::2]:7")],
        })));
        using var client = new TrackerClient(FastOptions, TimeProvider.System);
        using ITracker tracker = client.Create(fake.AnnounceUrl)!;
        AnnounceResponse response = await tracker.AnnounceAsync(Request() with { Uploaded = 5, Downloaded = 6, TrackerId = "tid" }, Ct).Bounded();

        Assert.Equal("10.0.0.1:6881,[::2]:7", string.Join(",", response.Peers));
        Assert.Equal(TimeSpan.FromSeconds(900), response.Interval);
        Assert.Equal(3, response.Complete);
        FakeHttpRequest request = Assert.Single(fake.Requests);
        Assert.Equal("/announce", request.Path);
        Assert.Equal(InfoHash.ToArray(), request.GetBytes("info_hash"));
        Assert.Equal("-PN0010-testtesttest", request.Get("peer_id"));
        Assert.Equal(6881, request.GetInt64("port"));
        Assert.Equal(5, request.GetInt64("uploaded"));
        Assert.Equal(6, request.GetInt64("downloaded"));
        Assert.Equal(1000, request.GetInt64("left"));
        Assert.Equal("started", request.Get("event"));
        Assert.Equal("1", request.Get("compact"));
        Assert.Equal("tid", request.Get("trackerid"));
        Assert.Equal("0000004D", request.Get("key"));
    }

    [Fact]
    public async Task Announce_FailureReason_ThrowsARefusal()
    {
        await using var fake = new FakeHttpTracker(_ => FakeHttpResponse.Ok(Encode(AnnounceResponse.Failed("not whitelisted"))));
        using var client = new TrackerClient(FastOptions, TimeProvider.System);
        using ITracker tracker = client.Create(fake.AnnounceUrl)!;
        TrackerException e = await Assert.ThrowsAsync<TrackerException>(() => tracker.AnnounceAsync(Request(), Ct).Bounded());
        Assert.True(e.IsRefusal);
        Assert.Contains("not whitelisted", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Announce_Redirects_FollowsAFewThenGivesUp()
    {
        await using var fake = new FakeHttpTracker(_ => FakeHttpResponse.Ok(Encode(new AnnounceResponse())));
        fake.Handler = r => r.Path switch
        {
            "/announce" => new FakeHttpResponse(302, []) { Location = $"http://127.0.0.1:{fake.Port}/hop2" },
            "/hop2" => new FakeHttpResponse(302, []) { Location = $"http://127.0.0.1:{fake.Port}/final" },
            "/final" => FakeHttpResponse.Ok(Encode(new AnnounceResponse { Peers = [IPEndPoint.Parse("1.2.3.4:5")] })),
            _ => new FakeHttpResponse(302, []) { Location = $"http://127.0.0.1:{fake.Port}/loop" },
        };
        using var client = new TrackerClient(FastOptions, TimeProvider.System);
        using ITracker tracker = client.Create(fake.AnnounceUrl)!;
        Assert.Single((await tracker.AnnounceAsync(Request(), Ct).Bounded()).Peers);

        using ITracker looping = client.Create($"http://127.0.0.1:{fake.Port}/loop/announce")!;
        TrackerException e = await Assert.ThrowsAsync<TrackerException>(() => looping.AnnounceAsync(Request(), Ct).Bounded());
        Assert.Contains("302", e.Message, StringComparison.Ordinal);
        Assert.Equal(1 + 2 + 1 + FastOptions.MaxHttpRedirects, fake.Requests.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Announce_BodyOverTheLimit_Refused_WithOrWithoutContentLength(bool omitLength)
    {
        var options = FastOptions with { Limits = new TrackerLimits { MaxResponseBytes = 100 } };
        byte[] body = Encoding.ASCII.GetBytes("d1:x" + "95:" + new string('a', 95) + "e"); // 103 bytes
        await using var fake = new FakeHttpTracker(_ => FakeHttpResponse.Ok(body) with { OmitLength = omitLength });
        using var client = new TrackerClient(options, TimeProvider.System);
        using ITracker tracker = client.Create(fake.AnnounceUrl)!;
        TrackerException e = await Assert.ThrowsAsync<TrackerException>(() => tracker.AnnounceAsync(Request(), Ct).Bounded());
        Assert.Contains("100-byte limit", e.Message, StringComparison.Ordinal);

        fake.Handler = _ => FakeHttpResponse.Ok(Encoding.ASCII.GetBytes("d1:x" + "92:" + new string('a', 92) + "e")) with { OmitLength = omitLength };
        Assert.Empty((await tracker.AnnounceAsync(Request(), Ct).Bounded()).Peers);
    }

    [Fact]
    public async Task Announce_NoAnswer_TimesOut()
    {
        await using var fake = new FakeHttpTracker(_ => new FakeHttpResponse(200, []) { Hang = true });
        using var client = new TrackerClient(FastOptions with { HttpTimeout = TimeSpan.FromMilliseconds(300) }, TimeProvider.System);
        using ITracker tracker = client.Create(fake.AnnounceUrl)!;
        TrackerException e = await Assert.ThrowsAsync<TrackerException>(() => tracker.AnnounceAsync(Request(), Ct).Bounded());
        Assert.Contains("no response within", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(404, "HTTP 404")]
    [InlineData(200, "not valid bencode")]
    public async Task Announce_BadAnswer_ThrowsWithTheReason(int status, string expected)
    {
        await using var fake = new FakeHttpTracker(_ => new FakeHttpResponse(status, "<html>"u8.ToArray()));
        using var client = new TrackerClient(FastOptions, TimeProvider.System);
        using ITracker tracker = client.Create(fake.AnnounceUrl)!;
        TrackerException e = await Assert.ThrowsAsync<TrackerException>(() => tracker.AnnounceAsync(Request(), Ct).Bounded());
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Announce_NothingListening_Throws()
    {
        int port = UnusedTcpPort();
        using var client = new TrackerClient(FastOptions, TimeProvider.System);
        using ITracker tracker = client.Create($"http://127.0.0.1:{port}/announce")!;
        await Assert.ThrowsAsync<TrackerException>(() => tracker.AnnounceAsync(Request(), Ct).Bounded());
    }

    [Fact]
    public async Task Scrape_UsesTheBep48UrlAndReadsCounts()
    {
        var other = Sha1Hash.Compute([1]);
        await using var fake = new FakeHttpTracker(_ => FakeHttpResponse.Ok(Encoding.Latin1.GetBytes(
            "d5:filesd20:" + Encoding.Latin1.GetString(InfoHash.ToArray()) + "d8:completei4e10:downloadedi5e10:incompletei6eeee")));
        using var client = new TrackerClient(FastOptions, TimeProvider.System);
        using ITracker tracker = client.Create(fake.AnnounceUrl)!;
        IReadOnlyDictionary<Sha1Hash, ScrapeStats> files = await tracker.ScrapeAsync([InfoHash, other], Ct).Bounded();
        Assert.Equal(new ScrapeStats(4, 5, 6), files[InfoHash]);
        FakeHttpRequest request = Assert.Single(fake.Requests);
        Assert.Equal("/scrape", request.Path);
        Assert.Equal(2, request.Parameters.Count(p => p.Key == "info_hash"));

        using ITracker noScrape = client.Create("http://tracker.invalid/a")!; // refused before anything is sent
        await Assert.ThrowsAsync<TrackerException>(() => noScrape.ScrapeAsync([InfoHash], Ct).Bounded());
    }

    [Theory]
    [InlineData("wss://t/announce")]
    [InlineData("udp://t")]
    [InlineData("not a url")]
    [InlineData("ftp://t/announce")]
    [InlineData("http://127.0.0.1:8080/admin/delete?all=1")] // libtorrent's ssrf_mitigation: a tracker on this host ends in /announce
    [InlineData("http://localhost:631/printers")]
    [InlineData("https://[::1]:443/announce.php")]
    public void Create_UnsupportedUrl_ReturnsNull(string url)
    {
        using var client = new TrackerClient(FastOptions, TimeProvider.System);
        Assert.Null(client.Create(url));
    }

    [Theory]
    [InlineData("http://127.0.0.1:6969/announce")]
    [InlineData("http://localhost:6969/tracker/announce")]
    [InlineData("http://tracker.invalid:80/admin")] // not on this host: the rule is for local services only
    public void Create_TrackerUrl_IsKept(string url)
    {
        using var client = new TrackerClient(FastOptions, TimeProvider.System);
        using ITracker? tracker = client.Create(url);
        Assert.NotNull(tracker);
    }
}
