using System.Net;
using PeerNet.Discovery.Lsd;
using PeerNet.Engine.Tests.Lsd;
using PeerNet.Lsd;
using PeerNet.Metainfo;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// Sessions with no tracker, no DHT and no peer given find each other by local service discovery (BEP 14) over an
/// in-memory multicast group, for a torrent and for a magnet link; private and opted-out torrents stay silent.
/// </summary>
public sealed class SwarmLsdTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A node on the harness's network whose LSD runs on <paramref name="group"/> at the same address.</summary>
    private static Task<SwarmSession> StartNodeAsync(SwarmHarness harness, InMemoryMulticastNetwork group, string address, LsdOptions? lsd = null, bool localDiscovery = true)
    {
        IPAddress ip = IPAddress.Parse(address);
        return harness.StartNodeAsync(new SessionOptions
        {
            ListenEndPoint = new IPEndPoint(ip, 6881),
            LocalDiscovery = localDiscovery,
            LocalDiscoveryTransport = group.CreateInterface(ip),
            LocalDiscoveryOptions = lsd ?? new LsdOptions(),
        });
    }

    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task TwoSessions_NoTrackerNoDhtNoPeer_FindEachOtherByLsd_AndTransfer(TorrentVersion version)
    {
        await using var harness = new SwarmHarness();
        var group = new InMemoryMulticastNetwork();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(version, [300_000, 50_000]);
        SwarmSession seeder = await StartNodeAsync(harness, group, "10.1.0.1");
        TorrentSwarm seeding = await SwarmHarness.SeedAsync(seeder, torrent, content);

        // The leecher's first announce reaches the seeder, which dials it.
        SwarmSession leecher = await StartNodeAsync(harness, group, "10.1.0.2");
        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, []);
        await SwarmHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);
        Assert.True(seeding.LsdPeersFound > 0);
        Assert.Equal(0, seeding.DhtPeersFound);
        Assert.Equal(torrent.InfoHashes.SwarmHashes.Count, seeder.LocalDiscovery!.GetStats().InfoHashesAnnounced);
    }

    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    public async Task Magnet_NoTrackerNoDhtNoPeer_FetchesMetadataThroughLsd_AndDownloads(TorrentVersion version)
    {
        await using var harness = new SwarmHarness();
        var group = new InMemoryMulticastNetwork();

        // The seeder answers a newly heard node once its minute is over; a short minute keeps the test short.
        var lsd = new LsdOptions { MinAnnounceInterval = TimeSpan.FromMilliseconds(200) };
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(version, [200_000]);
        SwarmSession seeder = await StartNodeAsync(harness, group, "10.1.0.1", lsd);
        await SwarmHarness.SeedAsync(seeder, torrent, content);

        SwarmSession leecher = await StartNodeAsync(harness, group, "10.1.0.2", lsd);
        var fetcher = new MetadataFetcher(leecher, torrent.InfoHashes); // no peer, no tracker, no DHT: LSD only
        TorrentMetainfo fetched = await fetcher.FetchAsync(Ct).WaitAsync(SwarmHarness.Timeout, Ct);
        Assert.Equal(torrent.InfoHashes, fetched.InfoHashes);

        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, fetched, []);
        await SwarmHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);
    }

    [Fact]
    public async Task PrivateAndOptedOutTorrents_AreNeverAnnounced_NorGivenLsdPeers()
    {
        await using var harness = new SwarmHarness();
        var group = new InMemoryMulticastNetwork();
        await using LsdTestNet.RawMember listener = new(group.CreateInterface(IPAddress.Parse("10.1.0.9")).Join(LsdMessage.GroupV4));
        (TorrentMetainfo secret, string secretContent) = await harness.CreateContentAsync(TorrentVersion.V1, [60_000], isPrivate: true);
        (TorrentMetainfo quiet, string quietContent) = await harness.CreateContentAsync(TorrentVersion.V1, [60_000]);
        (TorrentMetainfo open, string openContent) = await harness.CreateContentAsync(TorrentVersion.V1, [60_000]);
        SwarmSession node = await StartNodeAsync(harness, group, "10.1.0.1");
        TorrentSwarm secretSwarm = await SwarmHarness.SeedAsync(node, secret, secretContent);
        TorrentSwarm quietSwarm = await SwarmHarness.SeedAsync(node, quiet, quietContent, new TorrentOptions { UseLocalDiscovery = false });
        await SwarmHarness.SeedAsync(node, open, openContent);
        await LsdTestNet.WaitUntilAsync(() => listener.AnnouncesOf(open.InfoHashes.V1!.Value) == 1, "the public torrent announced");

        // Another node announces all three: only the public torrent takes the peer.
        await listener.SendAsync(LsdMessage.Create(ipv6: false, 7000, [secret.InfoHashes.V1!.Value, quiet.InfoHashes.V1!.Value, open.InfoHashes.V1!.Value], null));
        await LsdTestNet.WaitUntilAsync(() => node.LocalDiscovery!.GetStats().PeersFound == 1, "the public torrent's peer");
        Assert.Equal(0, listener.AnnouncesOf(secret.InfoHashes.V1!.Value, "10.1.0.1"));
        Assert.Equal(0, listener.AnnouncesOf(quiet.InfoHashes.V1!.Value, "10.1.0.1"));
        Assert.Equal(0, secretSwarm.LsdPeersFound);
        Assert.Equal(0, quietSwarm.LsdPeersFound);
    }

    [Fact]
    public async Task SessionDefault_RunsNoLocalDiscovery()
    {
        await using var harness = new SwarmHarness();
        var group = new InMemoryMulticastNetwork();
        SwarmSession node = await StartNodeAsync(harness, group, "10.1.0.1", localDiscovery: false);
        Assert.Null(node.LocalDiscovery);
        Assert.False(new SessionOptions().LocalDiscovery);
        Assert.True(new TorrentOptions().UseLocalDiscovery);
    }
}
