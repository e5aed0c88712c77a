using System.Net;
using PeerNet.Metainfo;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>Starting from a magnet link: metadata from peers (BEP 9), then piece layers for v2 (BEP 52).</summary>
public sealed class SwarmMagnetTests
{
    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task Magnet_FetchesMetadataAndLayers_ThenDownloadsByteIdentical(TorrentVersion version)
    {
        await using var harness = new SwarmHarness();
        // 2,000 pieces of 16 KiB in the big file: its layer needs four runs of 512 hashes.
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(version, [32_000_000, 70_000, 5_000], pieceLength: 16 * 1024);
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);

        SwarmSession leecher = await harness.StartNodeAsync();
        var fetcher = new MetadataFetcher(leecher, torrent.InfoHashes) { Trackers = ["http://tracker.invalid/announce"] };
        fetcher.AddPeer(seeder.LocalEndPoint!);
        fetcher.CompleteAdding();
        TorrentMetainfo fetched = await fetcher.FetchAsync(TestContext.Current.CancellationToken).WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(torrent.InfoHashes, fetched.InfoHashes);
        Assert.Equal(torrent.InfoBytes.ToArray(), fetched.InfoBytes.ToArray());
        Assert.Empty(fetched.PieceLayers); // a magnet brings the info dictionary only
        Assert.Equal("http://tracker.invalid/announce", Assert.Single(Assert.Single(fetched.Trackers)));

        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, fetched, [seeder]);
        await download.Completed.WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        SwarmHarness.AssertSameFiles(torrent, content, folder);

        // A hybrid verifies by SHA-1 and may finish first; it still fetches the layers, to serve v2 peers.
        await SwarmHarness.WaitUntilAsync(() => download.MissingLayers == 0, "every piece layer fetched");
        Assert.Equal(0, download.HashFailures);
        if (version != TorrentVersion.V1)
        {
            // The layers were proved against each pieces root and are now the torrent's own.
            foreach ((Sha256Hash root, ReadOnlyMemory<byte> layer) in torrent.PieceLayers)
            {
                Assert.Equal(layer.ToArray(), fetched.PieceLayers[root].ToArray());
            }
        }
    }

    [Fact]
    public async Task Magnet_NoPeerHasIt_FailsWithTheReason()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [100_000]);
        (TorrentMetainfo other, string otherContent) = await harness.CreateContentAsync(TorrentVersion.V1, [200_000]);
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, other, otherContent); // seeds another torrent only
        SwarmSession leecher = await harness.StartNodeAsync();

        var fetcher = new MetadataFetcher(leecher, torrent.InfoHashes);
        fetcher.AddPeer(seeder.LocalEndPoint!);
        fetcher.AddPeer(new IPEndPoint(IPAddress.Parse("10.0.0.250"), 6881)); // nobody there
        fetcher.CompleteAdding();
        IOException e = await Assert.ThrowsAsync<IOException>(() => fetcher.FetchAsync(TestContext.Current.CancellationToken).WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken));
        Assert.Contains("none of 2 peers", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, fetcher.FailedPeers);
        _ = content;
    }
}
