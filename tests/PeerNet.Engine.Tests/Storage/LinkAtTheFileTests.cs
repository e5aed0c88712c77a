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

    [Fact]
    public void OpenFile_LinkAtThePath_IsRefusedEvenWhenItLeadsInside()
    {
        using var f = new PlantedLinks();
        string real = Path.Combine(f.Root, "real.bin");
        File.WriteAllText(real, "kept");
        f.Link("link.bin", "real.bin");

        foreach ((FileMode mode, FileAccess access) in new[] { (FileMode.Open, FileAccess.Read), (FileMode.OpenOrCreate, FileAccess.ReadWrite), (FileMode.Create, FileAccess.Write) })
        {
            StorageException e = Assert.Throws<StorageException>(() => PhysicalFileSystem.Instance.OpenFile(Path.Combine(f.Root, "link.bin"), mode, access));
            Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
            Assert.Contains("symbolic link", e.Message, StringComparison.Ordinal);
        }

        Assert.Equal("kept", File.ReadAllText(real));
    }

    [Fact]
    public void OpenFile_WithoutLinks_BehavesAsFileOpenHandle()
    {
        using var f = new PlantedLinks();
        string path = Path.Combine(f.Root, "file.bin");

        Assert.Throws<FileNotFoundException>(() => PhysicalFileSystem.Instance.OpenFile(path, FileMode.Open, FileAccess.Read));
        Assert.Throws<UnauthorizedAccessException>(() => PhysicalFileSystem.Instance.OpenFile(f.Outside, FileMode.Open, FileAccess.Read));
        using (IStorageFile created = PhysicalFileSystem.Instance.OpenFile(path, FileMode.OpenOrCreate, FileAccess.ReadWrite))
        {
            created.Write("abcdef"u8, 0);
            Assert.Equal(6, created.GetLength());
        }

        using (IStorageFile kept = PhysicalFileSystem.Instance.OpenFile(path, FileMode.OpenOrCreate, FileAccess.ReadWrite))
        {
            Assert.Equal(6, kept.GetLength());
        }

        using (IStorageFile truncated = PhysicalFileSystem.Instance.OpenFile(path, FileMode.Create, FileAccess.Write))
        {
            Assert.Equal(0, truncated.GetLength());
        }

        Assert.Throws<IOException>(() => PhysicalFileSystem.Instance.OpenFile(path, FileMode.CreateNew, FileAccess.Write));
    }
}
