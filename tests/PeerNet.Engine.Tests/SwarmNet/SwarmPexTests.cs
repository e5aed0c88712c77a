using System.Net;
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
    public async Task OverIPv6Loopback_TwoLeechersKnowingOnlyTheSeeder_MeetThroughAdded6()
    {
        // Real TCP on ::1: the seeder's ut_pex messages name each leecher in added6 (BEP 11's IPv6 list), the only way
        // the leechers can learn of each other.
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [2_000_000]);
        var fast = new TorrentOptions { UploadSlots = 0, PexInterval = TimeSpan.FromSeconds(1) };
        var v6 = new SessionOptions { ListenEndPoint = new IPEndPoint(IPAddress.IPv6Loopback, 0) };
        SwarmSession seeder = await harness.StartTcpNodeAsync(v6 with { UploadRateLimit = 200_000 }); // slow: the leechers are still downloading when they meet
        await SwarmHarness.SeedAsync(seeder, torrent, content, fast);
        SwarmSession a = await harness.StartTcpNodeAsync(v6);
        SwarmSession b = await harness.StartTcpNodeAsync(v6);
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, seeder.LocalEndPoint!.AddressFamily);
        (TorrentSwarm downloadA, _) = await harness.LeechAsync(a, torrent, [seeder], fast);
        (TorrentSwarm downloadB, _) = await harness.LeechAsync(b, torrent, [seeder], fast);

        await SwarmHarness.WaitUntilAsync(() => downloadA.PeerCount >= 2 && downloadB.PeerCount >= 2);
        IPEndPoint[] atA = [.. downloadA.SnapshotPeers().Select(p => p.EndPoint)];
        Assert.All(atA, e => Assert.Equal(IPAddress.IPv6Loopback, e.Address));
        Assert.Contains(atA, e => e.Port == b.LocalEndPoint!.Port || downloadB.SnapshotPeers().Any(p => p.EndPoint.Port == a.LocalEndPoint!.Port));
        await SwarmHarness.WaitCompletedAsync(downloadA);
        await SwarmHarness.WaitCompletedAsync(downloadB);
    }

    [Theory]
    [InlineData(false)] // the control: the same wait is long enough for peer exchange to introduce them
    [InlineData(true)]  // BEP 27: a private torrent's peers come from its tracker only
    public async Task TwoLeechersKnowingOnlyTheSeeder_AfterPeerExchangeHadItsTurn_HaveMetOnlyIfPublic(bool isPrivate)
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [500_000], isPrivate: isPrivate);
        var fast = new TorrentOptions { UploadSlots = 0, PexInterval = TimeSpan.FromSeconds(1) };
        SwarmSession seeder = await harness.StartNodeAsync(uploadLimit: 100_000); // slow: both still download meanwhile
        TorrentSwarm seeding = await SwarmHarness.SeedAsync(seeder, torrent, content, fast);
        SwarmSession a = await harness.StartNodeAsync();
        SwarmSession b = await harness.StartNodeAsync();
        (TorrentSwarm downloadA, _) = await harness.LeechAsync(a, torrent, [seeder], fast);
        (TorrentSwarm downloadB, _) = await harness.LeechAsync(b, torrent, [seeder], fast);
        await SwarmHarness.WaitUntilAsync(() => seeding.PeerCount == 2, "both leechers connected to the seeder");

        // Nothing announces that peer exchange did nothing: wait until it had its turn instead. The seeder sends on the
        // first tick at least PexInterval (one tick) after its last message, about and to the peers whose extension
        // handshake (listening port, ut_pex) it has read: three of its ticks cover that (two fell short once in six
        // runs). A leecher dials whom a message names as soon as it reads it; two of its ticks later it is connected.
        await WaitForTicksAsync(seeding, 3);
        await Task.WhenAll(WaitForTicksAsync(downloadA, 2), WaitForTicksAsync(downloadB, 2));
        int expected = isPrivate ? 1 : 2;
        Assert.Equal(expected, downloadA.PeerCount);
        Assert.Equal(expected, downloadB.PeerCount);
        Assert.False(downloadA.Completed.IsCompleted || downloadB.Completed.IsCompleted, "a leecher finished: the seeder was meant to be slow enough");
    }

    /// <summary>Waits until <paramref name="swarm"/>'s loop has handled <paramref name="count"/> more ticks (one a second).</summary>
    private static Task WaitForTicksAsync(TorrentSwarm swarm, int count)
    {
        int target = swarm.Ticks + count;
        return SwarmHarness.WaitUntilAsync(() => swarm.Ticks >= target, $"{count} more ticks of the torrent's loop");
    }
}
