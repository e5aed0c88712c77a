using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

/// <summary>
/// A symbolic link at the file itself, planted after its path was checked (or where nothing checks paths, as the
/// resume store's temporary file): the file system refuses to open through it (<c>O_NOFOLLOW</c> on Linux), so
/// its target is never written.
/// </summary>
public sealed class LinkAtTheFileTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Write_LinkPlantedAtTheFileBetweenCheckAndOpen_IsNotFollowed()
    {
        using var f = new PlantedLinks();
        string victim = f.Victim();
        bool planted = false;
        var fs = new FakeFileSystem
        {
            BeforeOpen = path =>
            {
                if (!planted && path.EndsWith("a.bin", StringComparison.Ordinal))
                {
                    planted = true;
                    File.CreateSymbolicLink(path, victim);
                }
            },
        };

        await f.AssertStoreRefusedAsync(options: new StorageOptions { FileSystem = fs });

        Assert.True(planted);
        Assert.Equal("precious", await File.ReadAllTextAsync(victim, Ct).WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task ResumeSave_TemporaryFileIsAPlantedLink_LeavesItsTargetAlone()
    {
        using var f = new PlantedLinks();
        string victim = f.Victim();
        TestTorrent t = TorrentStorageTests.MultiFile();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, f.Root);
        var store = new ResumeStore(Path.Combine(f.Parent, "resume"));
        string path = store.GetPath(t.Metainfo.InfoHashes);
        Directory.CreateDirectory(store.Directory);
        File.CreateSymbolicLink(path + ".tmp", victim);
        ResumeData data = ResumeData.Capture(storage, new PieceBitfield(t.Metainfo.PieceCount));

        StorageException e = Assert.Throws<StorageException>(() => store.Save(data));

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Equal("precious", await File.ReadAllTextAsync(victim, Ct).WaitAsync(Timeout, Ct));

        // The failed save removed the planted link (not its target), so the next one works.
        store.Save(data);
        Assert.Null(new FileInfo(path).LinkTarget);
        Assert.Equal("precious", await File.ReadAllTextAsync(victim, Ct).WaitAsync(Timeout, Ct));
    }
}
