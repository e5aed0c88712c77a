using PeerNet.Metainfo;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>Whole transfers between PeerNet nodes over the in-memory network.</summary>
public sealed class SwarmTransferTests
{
    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task OneSeeder_OneLeecher_DownloadsByteIdentical(TorrentVersion version)
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(version, [100_000, 1, 0, 250_000, 65_536, 33_333]);
        SwarmSession seeder = await harness.StartNodeAsync();
        SwarmSession leecher = await harness.StartNodeAsync();
        TorrentSwarm seed = await SwarmHarness.SeedAsync(seeder, torrent, content);
        Assert.Equal(TorrentState.Seeding, seed.State);

        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, [seeder]);
        await download.Completed.WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);

        SwarmHarness.AssertSameFiles(torrent, content, folder);
        TorrentStatus status = download.GetStatus();
        Assert.Equal(status.PieceCount, status.PiecesVerified);
        Assert.True(status.Downloaded >= torrent.TotalSize, $"received {status.Downloaded} of {torrent.TotalSize}");
        Assert.True(seed.GetStatus().Uploaded >= torrent.TotalSize);
    }

    [Fact]
    public async Task CappedSeeder_LeechersTradePieces_AndAllComplete()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [2_000_000], pieceLength: 32 * 1024);
        SwarmSession seeder = await harness.StartNodeAsync(uploadLimit: 1_000_000);
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        var leechers = new List<SwarmSession>();
        var downloads = new List<(TorrentSwarm Torrent, string Folder)>();
        for (int i = 0; i < 4; i++)
        {
            SwarmSession node = await harness.StartNodeAsync();
            downloads.Add(await harness.LeechAsync(node, torrent, [seeder, .. leechers]));
            leechers.Add(node);
        }

        await Task.WhenAll(downloads.Select(d => d.Torrent.Completed)).WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);

        foreach ((TorrentSwarm _, string folder) in downloads)
        {
            SwarmHarness.AssertSameFiles(torrent, content, folder);
        }

        // Peer-to-peer, not client-server: leechers served each other.
        long leecherUpload = downloads.Sum(d => d.Torrent.GetStatus().Uploaded);
        Assert.True(leecherUpload > torrent.TotalSize / 2, $"leechers uploaded only {leecherUpload} bytes");
    }
}
