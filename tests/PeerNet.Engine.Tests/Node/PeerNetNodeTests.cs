using System.Net;
using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Magnet;
using PeerNet.Metainfo;

namespace PeerNet.Engine.Tests.Node;

/// <summary>The public node: torrents added, downloaded, watched, paused, moved and removed through its API alone.</summary>
public sealed class PeerNetNodeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Download_FromAnotherNode_CompletesByteIdentical_AndEventsTellItAll()
    {
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.Hybrid, [300_000, 70_000, 5]);
        PeerNetNode seeder = await harness.StartNodeAsync();
        await NodeHarness.SeedAsync(seeder, torrent, content);
        PeerNetNode leecher = await harness.StartNodeAsync();
        var events = new List<NodeEvent>();
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IAsyncEnumerable<NodeEvent> watcher = leecher.WatchEventsAsync(watching.Token); // sees every event from here on
        Task watch = Task.Run(async () =>
        {
            await foreach (NodeEvent e in watcher)
            {
                events.Add(e);
                if (e is TorrentCompleted)
                {
                    watched.TrySetResult();
                }
            }
        }, Ct);

        string folder = harness.NewFolder("download");
        TorrentHandle download = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = folder, Peers = [seeder.LocalEndPoint] }, Ct);
        await NodeHarness.WaitCompletedAsync(download);
        await watched.Task.WaitAsync(NodeHarness.Timeout, Ct);
        await watching.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watch);

        SwarmHarness.AssertSameFiles(torrent, content, folder);
        TorrentStatus status = download.GetStatus();
        Assert.Equal(TorrentState.Seeding, status.State);
        Assert.Equal(1.0, status.Progress);
        Assert.IsType<TorrentAdded>(events[0]);
        Assert.Contains(events, e => e is PeerConnected c && c.Torrent == download && c.Outgoing);
        Assert.Equal(torrent.PieceCount, events.OfType<PieceVerified>().Select(p => p.Piece).Distinct().Count());
        Assert.All(events, e => Assert.NotEqual(default, e.Time));

        // The nodes' totals count every torrent's payload.
        Assert.InRange(leecher.GetStatus().Downloaded, torrent.TotalSize, long.MaxValue);
        Assert.InRange(seeder.GetStatus().Uploaded, torrent.TotalSize, long.MaxValue);
    }

    [Fact]
    public async Task OneNode_ServesManyTorrentsOnOnePort_RoutedByV1AndV2InfoHashes()
    {
        await using var harness = new NodeHarness();
        PeerNetNode seeder = await harness.StartNodeAsync();
        PeerNetNode leecher = await harness.StartNodeAsync();
        var torrents = new List<(TorrentMetainfo Torrent, string Content)>();
        foreach (TorrentVersion version in new[] { TorrentVersion.V1, TorrentVersion.V2, TorrentVersion.Hybrid, TorrentVersion.V1, TorrentVersion.V2, TorrentVersion.Hybrid })
        {
            (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(version, [100_000 + (torrents.Count * 7_777)]);
            await NodeHarness.SeedAsync(seeder, torrent, content);
            torrents.Add((torrent, content));
        }

        Assert.Equal(torrents.Count, seeder.Torrents.Count);
        var downloads = new List<(TorrentHandle Handle, string Folder)>();
        foreach ((TorrentMetainfo torrent, _) in torrents)
        {
            string folder = harness.NewFolder("download");
            downloads.Add((await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = folder, Peers = [seeder.LocalEndPoint] }, Ct), folder));
        }

        await Task.WhenAll(downloads.Select(d => NodeHarness.WaitCompletedAsync(d.Handle)));
        for (int i = 0; i < torrents.Count; i++)
        {
            SwarmHarness.AssertSameFiles(torrents[i].Torrent, torrents[i].Content, downloads[i].Folder);
        }

        Assert.Equal(torrents.Count, leecher.GetStatus().Torrents);
    }

    [Fact]
    public async Task Magnet_FetchesMetadataThenDownloads()
    {
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V2, [200_000, 40_000]);
        PeerNetNode seeder = await harness.StartNodeAsync();
        await NodeHarness.SeedAsync(seeder, torrent, content);
        PeerNetNode leecher = await harness.StartNodeAsync();
        string magnet = MagnetLink.Create(torrent.InfoHashes, displayName: "by magnet").ToString();
        string folder = harness.NewFolder("magnet");

        TorrentHandle download = await leecher.AddTorrentAsync(TorrentSource.FromMagnet(magnet), new AddTorrentOptions { SavePath = folder, Peers = [seeder.LocalEndPoint] }, Ct);
        Assert.Equal("by magnet", download.Name);
        TorrentMetainfo metadata = await download.WaitForMetadataAsync(Ct).WaitAsync(NodeHarness.Timeout, Ct);
        Assert.Equal(torrent.InfoHashes, metadata.InfoHashes);
        await NodeHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);
        Assert.Equal(torrent.Name, download.Name);
    }

    [Fact]
    public async Task Magnet_WithNoPeerYet_ReportsNoProgress()
    {
        // Before its metadata a magnet knows no pieces: 0 %, not "all of none" (the dashboard once showed 100 %).
        await using var harness = new NodeHarness();
        PeerNetNode node = await harness.StartNodeAsync();
        string magnet = MagnetLink.Create(new InfoHashes(Sha1Hash.Compute("nobody has this"u8), null), displayName: "nowhere").ToString();

        TorrentHandle handle = await node.AddTorrentAsync(TorrentSource.FromMagnet(magnet), new AddTorrentOptions { SavePath = harness.NewFolder("nowhere"), Peers = [new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1)] }, Ct);
        TorrentStatus status = handle.GetStatus();

        Assert.Contains(status.State, new[] { TorrentState.FetchingMetadata, TorrentState.Error }); // port 1 refuses: it may have given up already
        Assert.Equal(0, status.PieceCount);
        Assert.Equal(0, status.Progress);
    }

    [Fact]
    public async Task Magnet_OfAHybridByItsV1Hash_IsFoundByItsV2HashOnceTheMetadataArrives()
    {
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.Hybrid, [120_000]);
        PeerNetNode seeder = await harness.StartNodeAsync();
        await NodeHarness.SeedAsync(seeder, torrent, content);
        PeerNetNode leecher = await harness.StartNodeAsync();
        var byV1 = new InfoHashes(torrent.InfoHashes.V1, null);
        var byV2 = new InfoHashes(null, torrent.InfoHashes.V2);
        string folder = harness.NewFolder("hybrid");

        // Added paused: a started magnet can fetch the metadata from a node on the same host before the add returns
        // (a CI run saw it), and then the v2 hash is known already.
        TorrentHandle download = await leecher.AddTorrentAsync(TorrentSource.FromMagnet(MagnetLink.Create(byV1).ToString()), new AddTorrentOptions { SavePath = folder, Peers = [seeder.LocalEndPoint], Paused = true }, Ct);
        Assert.Same(download, leecher.FindTorrent(byV1));
        Assert.Null(leecher.FindTorrent(byV2)); // nothing says yet that it is a hybrid

        await download.ResumeAsync(Ct);
        await download.WaitForMetadataAsync(Ct).WaitAsync(NodeHarness.Timeout, Ct);
        Assert.Same(download, leecher.FindTorrent(byV2));
        Assert.Same(download, leecher.FindTorrent(download.Id));
        await Assert.ThrowsAsync<InvalidOperationException>(() => leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = folder }, Ct));
        await NodeHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);
    }

    [Fact]
    public async Task PauseResume_StopsAndResumesWithoutFetchingVerifiedPiecesAgain()
    {
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [2 * 1024 * 1024]);
        PeerNetNode seeder = await harness.StartNodeAsync(new PeerNetNodeOptions { UploadRateLimit = 1_000_000 });
        await NodeHarness.SeedAsync(seeder, torrent, content);
        PeerNetNode leecher = await harness.StartNodeAsync(new PeerNetNodeOptions { StateDirectory = harness.NewFolder("state") });
        string folder = harness.NewFolder("paused");
        TorrentHandle download = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = folder, Peers = [seeder.LocalEndPoint] }, Ct);
        await SwarmHarness.WaitUntilAsync(() => download.GetStatus().PiecesVerified >= torrent.PieceCount / 4);

        await download.PauseAsync(Ct);
        TorrentStatus paused = download.GetStatus();
        Assert.Equal(TorrentState.Paused, paused.State);
        Assert.Empty(await download.GetPeersAsync(Ct));
        Assert.True(paused.PiecesVerified > 0 && paused.PiecesVerified < torrent.PieceCount, $"{paused.PiecesVerified} pieces at the pause");

        await download.ResumeAsync(Ct);
        await NodeHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);

        // After the resume, only what was missing at the pause was fetched (verified pieces came from resume data).
        long fetchedAfter = download.GetStatus().Downloaded;
        Assert.True(fetchedAfter <= (long)(torrent.PieceCount - paused.PiecesVerified + 2) * torrent.PieceLength, $"{fetchedAfter} bytes fetched after the resume");
    }

    [Fact]
    public async Task Restart_OfASeedWhoseDataIsAsSaved_TrustsItsResumeData_AndWritesItNoMore()
    {
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.Hybrid, [200_000, 30_000]);
        var options = new PeerNetNodeOptions { StateDirectory = harness.NewFolder("state") };
        PeerNetNode first = await harness.StartNodeAsync(options);
        TorrentHandle seed = await NodeHarness.SeedAsync(first, torrent, content);
        Assert.Equal(TorrentState.Seeding, seed.GetStatus().State);
        await first.DisposeAsync(); // the first start checked the data and saved what it found
        string resume = Path.Combine(options.StateDirectory, "resume");
        Dictionary<string, (DateTime Written, byte[] Bytes)> saved = Directory.GetFiles(resume).ToDictionary(f => f, f => (File.GetLastWriteTimeUtc(f), File.ReadAllBytes(f)));
        Assert.NotEmpty(saved);

        for (int restart = 0; restart < 2; restart++)
        {
            PeerNetNode again = await harness.StartNodeAsync(options);
            TorrentHandle restored = await NodeHarness.SeedAsync(again, torrent, content);
            Assert.Equal(TorrentState.Seeding, restored.GetStatus().State);
            Assert.Equal(torrent.PieceCount, restored.GetStatus().PiecesFoundOnDisk);
            await again.DisposeAsync();
        }

        // Neither the starts nor the stops rewrote (and synced) the resume data: a daemon with 10,000 seeds starts and stops without 10,000 writes.
        Assert.Equal(saved.Keys.Order(), Directory.GetFiles(resume).Order());
        Assert.All(saved, f =>
        {
            Assert.Equal(f.Value.Written, File.GetLastWriteTimeUtc(f.Key));
            Assert.Equal(f.Value.Bytes, File.ReadAllBytes(f.Key));
        });
    }

    [Fact]
    public async Task Remove_WithData_DeletesItsFiles_AndTheHandleReportsItGone()
    {
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.Hybrid, [50_000, 60_000, 70_000]);
        PeerNetNode seeder = await harness.StartNodeAsync();
        await NodeHarness.SeedAsync(seeder, torrent, content);
        PeerNetNode leecher = await harness.StartNodeAsync();
        string folder = harness.NewFolder("removed");
        File.WriteAllText(Path.Combine(folder, "mine.txt"), "not the torrent's");
        TorrentHandle download = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = folder, Peers = [seeder.LocalEndPoint] }, Ct);
        await NodeHarness.WaitCompletedAsync(download);

        await download.RemoveAsync(deleteData: true, Ct);
        Assert.False(download.IsValid);
        Assert.Equal(TorrentState.Stopped, download.GetStatus().State);
        Assert.Empty(leecher.Torrents);
        Assert.Null(leecher.FindTorrent(torrent.InfoHashes));
        Assert.Null(leecher.FindTorrent(download.Id));
        long downloadedBefore = leecher.GetStatus().Downloaded;
        Assert.InRange(downloadedBefore, torrent.TotalSize, long.MaxValue); // the node's totals keep a removed torrent's bytes
        Assert.Equal(["mine.txt"], Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => download.PauseAsync(Ct));
        await download.RemoveAsync(cancellationToken: Ct); // a second remove does nothing

        // It can be added again, as a new torrent.
        TorrentHandle again = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = folder, Peers = [seeder.LocalEndPoint] }, Ct);
        Assert.NotEqual(download.Id, again.Id);
        Assert.Same(again, leecher.FindTorrent(again.Id));
        Assert.Same(again, leecher.FindTorrent(torrent.InfoHashes));
        await NodeHarness.WaitCompletedAsync(again);
        Assert.InRange(leecher.GetStatus().Downloaded, downloadedBefore + torrent.TotalSize, long.MaxValue);
    }

    [Fact]
    public async Task MoveStorage_MovesTheFiles_AndSeedsFromTheNewPlace()
    {
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [90_000, 10_000]);
        PeerNetNode seeder = await harness.StartNodeAsync();
        await NodeHarness.SeedAsync(seeder, torrent, content);
        PeerNetNode leecher = await harness.StartNodeAsync();
        string before = harness.NewFolder("before");
        TorrentHandle download = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = before, Peers = [seeder.LocalEndPoint] }, Ct);
        await NodeHarness.WaitCompletedAsync(download);

        string after = Path.Combine(harness.Root, "after-move");
        await download.MoveStorageAsync(after, Ct);
        SwarmHarness.AssertSameFiles(torrent, content, after);
        Assert.Empty(Directory.EnumerateFileSystemEntries(before));
        Assert.Equal(after, download.Options.SavePath);
        await SwarmHarness.WaitUntilAsync(() => download.GetStatus().State == TorrentState.Seeding);
        Assert.Equal(torrent.PieceCount, download.GetStatus().PiecesVerified);
    }

    [Fact]
    public async Task Recheck_FindsACorruptedPiece_AndFetchesItAgain()
    {
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [256 * 1024]);
        PeerNetNode seeder = await harness.StartNodeAsync();
        await NodeHarness.SeedAsync(seeder, torrent, content);
        PeerNetNode leecher = await harness.StartNodeAsync();
        string folder = harness.NewFolder("recheck");
        TorrentHandle download = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = folder, Peers = [seeder.LocalEndPoint] }, Ct);
        await NodeHarness.WaitCompletedAsync(download);
        await download.PauseAsync(Ct);
        string file = Path.Combine(folder, torrent.Files[0].Path);
        byte[] bytes = File.ReadAllBytes(file);
        bytes[100_000] ^= 0xFF;
        File.WriteAllBytes(file, bytes);

        var refetched = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        IAsyncEnumerable<NodeEvent> watcher = leecher.WatchEventsAsync(watching.Token);
        Task watch = Task.Run(async () =>
        {
            await foreach (NodeEvent e in watcher)
            {
                if (e is PieceVerified v)
                {
                    refetched.TrySetResult(v.Piece);
                }
            }
        }, Ct);
        await download.RecheckAsync(Ct);
        Assert.Equal((int)(100_000 / torrent.PieceLength), await refetched.Task.WaitAsync(NodeHarness.Timeout, Ct));
        await NodeHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);
        await watching.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watch);
    }

    [Fact]
    public async Task StatusQueries_PeersFilesAndTrackers()
    {
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.Hybrid, [120_000, 3_000]);
        PeerNetNode seeder = await harness.StartNodeAsync();
        TorrentHandle seed = await NodeHarness.SeedAsync(seeder, torrent, content);
        PeerNetNode leecher = await harness.StartNodeAsync();
        string folder = harness.NewFolder("status");
        TorrentHandle download = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = folder, Peers = [seeder.LocalEndPoint], SeedWhenDone = true }, Ct);
        await NodeHarness.WaitCompletedAsync(download);

        IReadOnlyList<TorrentFileStatus> files = await download.GetFilesAsync(Ct);
        Assert.Equal(torrent.Files.Count(f => !f.IsPadFile), files.Count);
        Assert.All(files, f => Assert.Equal(1.0, f.Progress));
        Assert.All(files, f => Assert.Equal(FilePriorities.Normal, f.Priority));

        // Two seeds have nothing to trade: the leecher's completion closes the connection, so ask the seeder while it lasts, or see none.
        IReadOnlyList<PeerStatus> peers = await seed.GetPeersAsync(Ct);
        Assert.All(peers, p => Assert.Equal(IPAddress.Parse("10.50.0.2"), p.EndPoint.Address));
        Assert.Empty(download.GetTrackers());
        Assert.Null(download.GetStatus().Eta);
    }

    [Fact]
    public async Task SeedWhenDoneOff_PausesOnCompletion()
    {
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [64 * 1024]);
        PeerNetNode seeder = await harness.StartNodeAsync();
        await NodeHarness.SeedAsync(seeder, torrent, content);
        PeerNetNode leecher = await harness.StartNodeAsync();
        TorrentHandle download = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = harness.NewFolder("once"), Peers = [seeder.LocalEndPoint], SeedWhenDone = false }, Ct);
        await NodeHarness.WaitCompletedAsync(download);
        await SwarmHarness.WaitUntilAsync(() => download.GetStatus().State == TorrentState.Paused);
    }

    [Fact]
    public async Task Add_TheSameTorrentTwice_OrAMagnetWithNowhereToLook_IsRefusedWithAReason()
    {
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.Hybrid, [10_000]);
        PeerNetNode node = await harness.StartNodeAsync();
        await NodeHarness.SeedAsync(node, torrent, content);

        InvalidOperationException twice = await Assert.ThrowsAsync<InvalidOperationException>(() => NodeHarness.SeedAsync(node, torrent, content));
        Assert.Contains("already", twice.Message, StringComparison.Ordinal);
        InvalidOperationException nowhere = await Assert.ThrowsAsync<InvalidOperationException>(() => node.AddTorrentAsync(
            TorrentSource.FromMagnet(MagnetLink.Create(new InfoHashes(Sha1Hash.Compute([1]), null))), new AddTorrentOptions { SavePath = content }, Ct));
        Assert.Contains("somewhere to find peers", nowhere.Message, StringComparison.Ordinal);
        Assert.Single(node.Torrents);
    }

    [Fact]
    public async Task Start_WithUnusableOptions_NamesEveryProblem()
    {
        ArgumentException e = await Assert.ThrowsAsync<ArgumentException>(() => PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenPort = 70000, UploadRateLimit = -1, MaxConnections = 0, Gossipsub = new PeerNet.Libp2p.GossipsubOptions { D = 20 } }, cancellationToken: Ct));
        Assert.Contains("ListenPort 70000", e.Message, StringComparison.Ordinal);
        Assert.Contains("Gossipsub: gossipsub degrees", e.Message, StringComparison.Ordinal);
        Assert.Contains("negative", e.Message, StringComparison.Ordinal);
        Assert.Contains("MaxConnections", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetRateLimits_ChangesTheSharedLimitsAtOnce_AndTheOptionsSaySo()
    {
        await using var harness = new NodeHarness();
        PeerNetNode node = await harness.StartNodeAsync(new PeerNetNodeOptions { UploadRateLimit = 50_000 });
        Assert.Equal(50_000, node.Session.UploadLimit.Rate);

        node.SetRateLimits(uploadBytesPerSecond: 12_000, downloadBytesPerSecond: 34_000);
        Assert.Equal(12_000, node.Options.UploadRateLimit);
        Assert.Equal(34_000, node.Options.DownloadRateLimit);
        Assert.Equal(12_000, node.Session.UploadLimit.Rate);
        Assert.Equal(34_000, node.Session.DownloadLimit.Rate);

        node.SetRateLimits(0, 0); // none again
        Assert.Equal(0, node.Session.UploadLimit.Rate);
        Assert.Equal(0, node.Options.DownloadRateLimit);
        Assert.Throws<ArgumentOutOfRangeException>(() => node.SetRateLimits(-1, 0));
        Assert.Equal(0, node.Options.UploadRateLimit);
    }
}
