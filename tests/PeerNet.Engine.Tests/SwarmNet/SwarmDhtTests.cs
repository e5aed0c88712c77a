using System.Net;
using PeerNet.Discovery.Dht;
using PeerNet.Engine.Tests.Dht;
using PeerNet.Metainfo;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>A magnet link with no tracker and no peer: the DHT finds the seeder, for the metadata and the download.</summary>
public sealed class SwarmDhtTests
{
    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    public async Task TrackerlessMagnet_FindsTheSeederThroughTheDht_AndDownloads(TorrentVersion version)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using DhtTestNet dht = await DhtTestNet.StartAsync(6, seed: 7, ct);
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(version, [400_000, 70_000]);

        // Each node's DHT runs on its own address, as a real node's UDP port shares its TCP port's address.
        var seederAddress = IPAddress.Parse("10.9.0.1");
        DhtNode seederDht = await dht.AddAsync(ct, o => o with { BindEndPoint = new IPEndPoint(seederAddress, 6881) });
        SwarmSession seeder = await harness.StartNodeAsync(new SessionOptions { ListenEndPoint = new IPEndPoint(seederAddress, 6881), Dht = seederDht });
        await SwarmHarness.SeedAsync(seeder, torrent, content);

        var leecherAddress = IPAddress.Parse("10.9.0.2");
        DhtNode leecherDht = await dht.AddAsync(ct, o => o with { BindEndPoint = new IPEndPoint(leecherAddress, 6881) });
        SwarmSession leecher = await harness.StartNodeAsync(new SessionOptions { ListenEndPoint = new IPEndPoint(leecherAddress, 6881), Dht = leecherDht });
        var fetcher = new MetadataFetcher(leecher, torrent.InfoHashes); // no peer, no tracker: the DHT only
        TorrentMetainfo fetched = await fetcher.FetchAsync(ct).WaitAsync(SwarmHarness.Timeout, ct);
        Assert.Equal(torrent.InfoHashes, fetched.InfoHashes);

        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, fetched, []);
        await SwarmHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);
        Assert.True(download.DhtPeersFound > 0);
    }
}
