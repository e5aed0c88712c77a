using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Metainfo;

namespace PeerNet.Engine.Tests.Node;

/// <summary>File priorities changed on a torrent already added (<see cref="TorrentHandle.SetFilePrioritiesAsync"/>).</summary>
public sealed class FilePriorityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SetFilePriorities_ASkippedFileWantedAgain_IsFetched_AndCompletionWaitsForIt()
    {
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [200_000, 200_000, 200_000]);
        PeerNetNode seeder = await harness.StartNodeAsync();
        await NodeHarness.SeedAsync(seeder, torrent, content);
        PeerNetNode leecher = await harness.StartNodeAsync();
        string folder = harness.NewFolder("download");
        var options = new AddTorrentOptions { SavePath = folder, Peers = [seeder.LocalEndPoint], FilePriorities = [FilePriorities.Normal, FilePriorities.Skip, FilePriorities.Skip] };
        TorrentHandle download = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), options, Ct);
        await NodeHarness.WaitCompletedAsync(download);
        IReadOnlyList<TorrentFileStatus> before = await download.GetFilesAsync(Ct);
        Assert.Equal(before[0].Length, before[0].BytesVerified);
        Assert.True(before[2].BytesVerified < before[2].Length, $"the skipped last file has {before[2].BytesVerified} bytes verified");
        Assert.Equal([FilePriorities.Normal, FilePriorities.Skip, FilePriorities.Skip], before.Select(f => f.Priority));

        await download.SetFilePrioritiesAsync([FilePriorities.Normal, FilePriorities.Highest, 1], Ct);
        Assert.Equal([FilePriorities.Normal, FilePriorities.Highest, 1], (await download.GetFilesAsync(Ct)).Select(f => f.Priority));
        await NodeHarness.WaitCompletedAsync(download); // completed again only once the files wanted now are there
        SwarmHarness.AssertSameFiles(torrent, content, folder);
        Assert.Equal(TorrentState.Seeding, download.GetStatus().State);
        Assert.Equal(1.0, download.GetStatus().Progress);
    }

    [Fact]
    public async Task SetFilePriorities_OnAPausedTorrent_AppliesAtResume_AndBadListsAreRefused()
    {
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [100_000, 100_000]);
        PeerNetNode seeder = await harness.StartNodeAsync();
        await NodeHarness.SeedAsync(seeder, torrent, content);
        PeerNetNode leecher = await harness.StartNodeAsync();
        string folder = harness.NewFolder("paused");
        TorrentHandle download = await leecher.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = folder, Peers = [seeder.LocalEndPoint], Paused = true }, Ct);

        await Assert.ThrowsAsync<ArgumentException>(() => download.SetFilePrioritiesAsync([FilePriorities.Normal], Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => download.SetFilePrioritiesAsync([FilePriorities.Normal, FilePriorities.Highest + 1], Ct));
        await download.SetFilePrioritiesAsync([FilePriorities.Skip, FilePriorities.Normal], Ct);
        Assert.Equal(TorrentState.Paused, download.GetStatus().State);

        await download.ResumeAsync(Ct);
        await NodeHarness.WaitCompletedAsync(download);
        IReadOnlyList<TorrentFileStatus> files = await download.GetFilesAsync(Ct);
        Assert.Equal(files[1].Length, files[1].BytesVerified);
        Assert.True(files[0].BytesVerified < files[0].Length, $"the skipped first file has {files[0].BytesVerified} bytes verified");

        await download.RemoveAsync(cancellationToken: Ct);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => download.SetFilePrioritiesAsync([FilePriorities.Normal, FilePriorities.Normal], Ct));
    }
}
