using PeerNet.Metainfo;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>BEP 11 peer exchange between PeerNet nodes.</summary>
public sealed class SwarmPexTests
{
    [Fact]
    public async Task TwoLeechersKnowingOnlyTheSeeder_MeetThroughPeerExchange()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [2_000_000]);
        var fast = new TorrentOptions { UploadSlots = 0, PexInterval = TimeSpan.FromSeconds(1) };
        SwarmSession seeder = await harness.StartNodeAsync(uploadLimit: 200_000); // slow: the leechers are still downloading when they meet
        await SwarmHarness.SeedAsync(seeder, torrent, content, fast);
        SwarmSession a = await harness.StartNodeAsync();
        SwarmSession b = await harness.StartNodeAsync();
        (TorrentSwarm downloadA, _) = await harness.LeechAsync(a, torrent, [seeder], fast);
        (TorrentSwarm downloadB, _) = await harness.LeechAsync(b, torrent, [seeder], fast);

        await SwarmHarness.WaitUntilAsync(() => downloadA.PeerCount >= 2 && downloadB.PeerCount >= 2);
        await SwarmHarness.WaitCompletedAsync(downloadA);
        await SwarmHarness.WaitCompletedAsync(downloadB);
        Assert.True(downloadA.GetStatus().Uploaded + downloadB.GetStatus().Uploaded > 0, "the leechers traded pieces");
    }

    [Fact]
    public async Task PrivateTorrent_NoPeerExchange()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [500_000], isPrivate: true);
        var fast = new TorrentOptions { UploadSlots = 0, PexInterval = TimeSpan.FromSeconds(1) };
        SwarmSession seeder = await harness.StartNodeAsync(uploadLimit: 100_000);
        await SwarmHarness.SeedAsync(seeder, torrent, content, fast);
        SwarmSession a = await harness.StartNodeAsync();
        SwarmSession b = await harness.StartNodeAsync();
        (TorrentSwarm downloadA, _) = await harness.LeechAsync(a, torrent, [seeder], fast);
        (TorrentSwarm downloadB, _) = await harness.LeechAsync(b, torrent, [seeder], fast);

        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken); // three PEX intervals
        Assert.Equal(1, downloadA.PeerCount);
        Assert.Equal(1, downloadB.PeerCount);
    }
}
