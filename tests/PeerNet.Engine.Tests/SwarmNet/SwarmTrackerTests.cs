using System.Net;
using PeerNet.Engine.Tests.Trackers;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;
using PeerNet.Tracker;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// Torrents announcing to a fake HTTP tracker on loopback while their peers meet over the in-memory network: the
/// tracker hands the leecher the seeder's address, and the events arrive in BEP 3's order.
/// </summary>
public sealed class SwarmTrackerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string PeerIdOf(SwarmSession session)
    {
        Span<byte> id = stackalloc byte[PeerId.Length];
        session.LocalPeerId.CopyTo(id);
        return System.Text.Encoding.Latin1.GetString(id);
    }

    [Fact]
    public async Task Leecher_GivenNoPeers_FindsTheSeederThroughTheTracker_AndAnnouncesEveryEvent()
    {
        IPEndPoint? seederEndPoint = null;
        await using var tracker = new FakeHttpTracker(_ => FakeHttpResponse.Ok(TrackerTestKit.Encode(new AnnounceResponse
        {
            Interval = TimeSpan.FromMinutes(30),
            Peers = seederEndPoint is null ? [] : [seederEndPoint],
        })));
        SwarmSession seeder, leecher;
        await using (var harness = new SwarmHarness())
        {
            (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [100_000, 3_000]);
            torrent.Trackers = [[tracker.AnnounceUrl]];
            seeder = await harness.StartNodeAsync(trackers: TrackerTestKit.FastOptions);
            leecher = await harness.StartNodeAsync(trackers: TrackerTestKit.FastOptions);
            seederEndPoint = seeder.LocalEndPoint;
            TorrentSwarm seed = await SwarmHarness.SeedAsync(seeder, torrent, content);
            (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, peers: []);
            await SwarmHarness.WaitCompletedAsync(download);
            SwarmHarness.AssertSameFiles(torrent, content, folder);
            Assert.Equal(1, download.GetStatus().TrackersWorking);
            Assert.Equal(1, seed.GetStatus().TrackerCount);
            await TrackerTestKit.WaitForAsync(() => tracker.Requests.Count(r => r.Get("event") == "completed") == 1);
        }

        FakeHttpRequest[] fromLeecher = [.. tracker.Requests.Where(r => r.Get("peer_id") == PeerIdOf(leecher))];
        FakeHttpRequest[] fromSeeder = [.. tracker.Requests.Where(r => r.Get("peer_id") == PeerIdOf(seeder))];
        Assert.Equal(["started", "completed", "stopped"], fromLeecher.Select(r => r.Get("event")));
        Assert.True(fromLeecher[0].GetInt64("left") > 0);
        Assert.Equal(0, fromLeecher[1].GetInt64("left"));
        Assert.Equal(["started", "stopped"], fromSeeder.Select(r => r.Get("event")));
        Assert.Equal(0, fromSeeder[0].GetInt64("left"));
        Assert.All(tracker.Requests, r => Assert.Equal(6881, r.GetInt64("port")));
    }

    [Fact]
    public async Task Hybrid_TrackerRefusingOneOfItsHashes_ShowsAsWorking()
    {
        // A hybrid announces under its v1 hash and its truncated v2 hash. A tracker that knows only the v2 one
        // (opentracker with a whitelist of it) still serves the torrent: the status must say so.
        Sha1Hash? refused = null;
        await using var tracker = new FakeHttpTracker(r => refused is { } hash && new Sha1Hash(r.GetBytes("info_hash")) == hash
            ? FakeHttpResponse.Ok(TrackerTestKit.Encode(AnnounceResponse.Failed("not whitelisted")))
            : FakeHttpResponse.Ok(TrackerTestKit.Encode(new AnnounceResponse { Interval = TimeSpan.FromMinutes(30) })));
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.Hybrid, [20_000]);
        refused = torrent.InfoHashes.V1;
        torrent.Trackers = [[tracker.AnnounceUrl]];
        SwarmSession seeder = await harness.StartNodeAsync(trackers: TrackerTestKit.FastOptions);
        TorrentSwarm seed = await SwarmHarness.SeedAsync(seeder, torrent, content);

        await TrackerTestKit.WaitForAsync(() => tracker.Requests.Select(r => Convert.ToHexString(r.GetBytes("info_hash")!)).Distinct().Count() == 2
            && seed.GetStatus().TrackersWorking == 1);
        TorrentStatus status = seed.GetStatus();
        Assert.Equal(1, status.TrackerCount);
        Assert.Equal(0, status.TrackersFailing);
        Assert.Null(status.TrackerError);
    }

    [Fact]
    public async Task UseTrackersOff_NeverAnnounces()
    {
        await using var tracker = new FakeHttpTracker(_ => FakeHttpResponse.Ok(TrackerTestKit.Encode(new AnnounceResponse())));
        await using (var harness = new SwarmHarness())
        {
            (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [20_000]);
            torrent.Trackers = [[tracker.AnnounceUrl]];
            SwarmSession seeder = await harness.StartNodeAsync(trackers: TrackerTestKit.FastOptions);
            TorrentSwarm seed = await SwarmHarness.SeedAsync(seeder, torrent, content, new TorrentOptions { UseTrackers = false });
            Assert.Equal(0, seed.GetStatus().TrackerCount);
        }

        Assert.Empty(tracker.Requests);
    }

    [Fact]
    public async Task Shutdown_TrackerNeverAnswersStopped_IsNotHeldUpPastTheStopTimeout()
    {
        await using var tracker = new FakeHttpTracker(r => r.Get("event") == "stopped"
            ? new FakeHttpResponse(200, []) { Hang = true }
            : FakeHttpResponse.Ok(TrackerTestKit.Encode(new AnnounceResponse())));
        var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [20_000]);
        torrent.Trackers = [[tracker.AnnounceUrl]];
        SwarmSession seeder = await harness.StartNodeAsync(trackers: TrackerTestKit.FastOptions with { StopTimeout = TimeSpan.FromMilliseconds(300) });
        TorrentSwarm seed = await SwarmHarness.SeedAsync(seeder, torrent, content);
        await TrackerTestKit.WaitForAsync(() => seed.GetStatus().TrackersWorking == 1);

        // Bounded by the stop timeout (0.3 s) plus the rest of the shutdown; the 10 s bound only catches a hang.
        await harness.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Contains(tracker.Requests, r => r.Get("event") == "stopped");
    }

    [Fact]
    public async Task DeadTracker_ShowsAsFailingWithTheReason()
    {
        int port = TrackerTestKit.UnusedTcpPort();
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [20_000]);
        torrent.Trackers = [[$"http://127.0.0.1:{port}/announce"], ["wss://unsupported/announce"]];
        SwarmSession seeder = await harness.StartNodeAsync(trackers: TrackerTestKit.FastOptions);
        TorrentSwarm seed = await SwarmHarness.SeedAsync(seeder, torrent, content);
        await TrackerTestKit.WaitForAsync(() => seed.GetStatus().TrackersFailing == 1);
        TorrentStatus status = seed.GetStatus();
        Assert.Equal(1, status.TrackerCount);
        Assert.Equal(0, status.TrackersWorking);
        Assert.StartsWith($"http://127.0.0.1:{port}/announce: ", status.TrackerError, StringComparison.Ordinal);
    }

}
