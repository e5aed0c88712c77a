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

    [Theory]
    [InlineData(TorrentVersion.V2)]     // zero gaps after each file that ends inside a piece
    [InlineData(TorrentVersion.Hybrid)] // BEP 47 pad files after each file
    public async Task PaddedTorrent_PadAndGapBytesAreNeverRequested(TorrentVersion version)
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(version, [40_000, 5_000, 70_000]);
        Assert.True(torrent.PieceSpaceSize - torrent.TotalSize > 48 * 1024, "the layout should have more than 48 KiB of pad or gap");
        SwarmSession seeder = await harness.StartNodeAsync();
        SwarmSession leecher = await harness.StartNodeAsync();
        TorrentSwarm seed = await SwarmHarness.SeedAsync(seeder, torrent, content);
        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, [seeder]);
        await download.Completed.WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);

        SwarmHarness.AssertSameFiles(torrent, content, folder);

        // Each file's data rounded up to whole 16 KiB blocks: 40,000 -> 48 KiB, 5,000 -> 16 KiB, 70,000 -> 80 KiB;
        // except that a v2 piece space ends with the last file, whose final block is then only 70,000 - 64 KiB long.
        long wanted = version == TorrentVersion.V2 ? (128 * 1024) + (70_000 - (64 * 1024)) : 144 * 1024;
        Assert.Equal(wanted, seed.GetStatus().Uploaded);
        Assert.Equal(wanted, download.GetStatus().Downloaded);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SkippedFiles_AreNotFetched_AndTheTorrentCompletesWithTheWantedOne(bool sequential)
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [100_000, 200_000, 150_000]);
        int wanted = Enumerable.Range(0, torrent.Files.Count).Single(i => torrent.Files[i].Length == 200_000);
        TorrentFile file = torrent.Files[wanted];
        SwarmSession seeder = await harness.StartNodeAsync();
        SwarmSession leecher = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        int[] priorities = new int[torrent.Files.Count];
        priorities[wanted] = 4;
        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, [seeder], new TorrentOptions { FilePriorities = priorities, Sequential = sequential });
        await download.Completed.WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);

        Assert.Equal(
            await File.ReadAllBytesAsync(Path.Combine(content, file.Path), TestContext.Current.CancellationToken),
            await File.ReadAllBytesAsync(Path.Combine(folder, file.Path), TestContext.Current.CancellationToken));
        TorrentStatus status = download.GetStatus();
        int piecesOfFile = file.LastPiece - file.FirstPiece + 1;
        Assert.Equal(piecesOfFile, status.PiecesVerified);
        Assert.True(status.Downloaded <= piecesOfFile * torrent.PieceLength, $"received {status.Downloaded} for {piecesOfFile} pieces");
        Assert.Equal(TorrentState.Seeding, download.State);
    }

    [Fact]
    public async Task FilePriorities_WrongCount_IsRefusedWithAClearError()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, _) = await harness.CreateContentAsync(TorrentVersion.V1, [100_000, 200_000]);
        SwarmSession leecher = await harness.StartNodeAsync();
        ArgumentException e = await Assert.ThrowsAsync<ArgumentException>(() => harness.LeechAsync(leecher, torrent, [], new TorrentOptions { FilePriorities = [4] }));
        Assert.Contains("one priority", e.Message, StringComparison.Ordinal);
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
