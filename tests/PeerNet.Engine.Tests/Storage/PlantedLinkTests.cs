using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

/// <summary>
/// Symbolic links planted in the save folder before or during a download, on the real file system. A link whose
/// own target text looks inside but resolves outside — through a linked folder in the middle, a chain, or
/// <c>..</c> taken from a linked folder — is refused as surely as a plain link out, and nothing is written
/// outside; links that really stay inside keep working. The torrent is <see cref="TorrentStorageTests.MultiFile"/>:
/// test/dir/a.bin, test/dir/empty, test/dir/sub/b.bin, test/c.bin, test/d.bin.
/// </summary>
public sealed class PlantedLinkTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Store_LinkWhoseTargetPassesThroughALinkedFolder_IsRefusedAndWritesNothingOutside()
    {
        using var f = new Folders();
        Directory.CreateDirectory(Path.Combine(f.Outside, "y"));
        f.Link("x", f.Outside);

        // The text of root/test's target is root/x/y, inside the root; root/x is what leads out.
        f.Link("test", Path.Combine(f.Root, "x", "y"));
        string[] before = f.SnapshotOutside();

        StorageException e = await StoreRefusedAsync(f.Root);

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Contains(Path.Combine(f.Root, "test"), e.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine("outside", "y"), e.Message, StringComparison.Ordinal);
        Assert.Equal(before, f.SnapshotOutside());
    }

    [Fact]
    public async Task Store_ChainOfLinksOut_IsRefused()
    {
        using var f = new Folders();
        f.Link("test", Path.Combine(f.Root, "d1"));
        f.Link("d1", "d2");
        f.Link("d2", f.Outside);

        StorageException e = await StoreRefusedAsync(f.Root);

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Empty(f.SnapshotOutside());
    }

    [Fact]
    public async Task Store_ChainEndingInsideALinkedFolder_IsRefused()
    {
        using var f = new Folders();
        Directory.CreateDirectory(Path.Combine(f.Outside, "inner"));
        f.Link("test", "d1");
        f.Link("d1", "d2/inner");
        f.Link("d2", "../outside");
        string[] before = f.SnapshotOutside();

        StorageException e = await StoreRefusedAsync(f.Root);

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Equal(before, f.SnapshotOutside());
    }

    [Fact]
    public async Task Store_FileLinkWhoseTargetPassesThroughALinkedFolder_IsRefusedAndTargetUntouched()
    {
        using var f = new Folders();
        string victim = f.Victim();
        f.Link("x", f.Outside);
        Directory.CreateDirectory(Path.Combine(f.Root, "test"));
        f.Link("test/c.bin", Path.Combine(f.Root, "x", "victim.txt"));

        StorageException e = await StoreRefusedAsync(f.Root);

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Contains(Path.Combine(f.Root, "test", "c.bin"), e.Message, StringComparison.Ordinal);
        Assert.Equal("precious", await File.ReadAllTextAsync(victim, Ct).WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task Store_RelativeDotDotLinkTakenFromALinkedFolder_IsRefused()
    {
        using var f = new Folders();
        Directory.CreateDirectory(Path.Combine(f.Outside, "deep", "er", "y"));
        f.Link("x", Path.Combine(f.Outside, "deep", "er"));

        // Read as text, x/y/../.. is the root itself; the kernel takes each '..' from where x really is.
        f.Link("test", "x/y/../..");
        string[] before = f.SnapshotOutside();

        StorageException e = await StoreRefusedAsync(f.Root);

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Equal(before, f.SnapshotOutside());
    }

    [Fact]
    public void Open_LinkLoop_IsRefusedAsAnEscape()
    {
        using var f = new Folders();
        f.Link("test", "loop");
        f.Link("loop", "test");

        StorageException e = Assert.Throws<StorageException>(() => TorrentStorage.Open(TorrentStorageTests.MultiFile().Metainfo, f.Root));

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Contains("40", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_LinkPlantedAtTheFileBetweenCheckAndOpen_IsNotFollowed()
    {
        using var f = new Folders();
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

        StorageException e = await StoreRefusedAsync(f.Root, new StorageOptions { FileSystem = fs });

        Assert.True(planted);
        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Equal("precious", await File.ReadAllTextAsync(victim, Ct).WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task Store_LinksThatStayInside_AreFollowed()
    {
        using var f = new Folders();
        Directory.CreateDirectory(Path.Combine(f.Root, "real", "sub"));
        Directory.CreateDirectory(Path.Combine(f.Root, "elsewhere"));
        f.Link("test", "d1");
        f.Link("d1", "real/sub/..");
        f.Link("real/c.bin", "../elsewhere/c-real.bin");
        TestTorrent t = TorrentStorageTests.MultiFile();

        await StoreAsync(t, f.Root);

        Assert.Equal(Content(t, "dir/a.bin"), await File.ReadAllBytesAsync(Path.Combine(f.Root, "real", "dir", "a.bin"), Ct).WaitAsync(Timeout, Ct));
        Assert.Equal(Content(t, "c.bin"), await File.ReadAllBytesAsync(Path.Combine(f.Root, "elsewhere", "c-real.bin"), Ct).WaitAsync(Timeout, Ct));
        Assert.NotNull(new FileInfo(Path.Combine(f.Root, "real", "c.bin")).LinkTarget);
        Assert.True(File.Exists(Path.Combine(f.Root, "real", "dir", "empty")));
        Assert.Empty(f.SnapshotOutside());
    }

    [Fact]
    public async Task Store_SaveFolderReachedThroughALinkedParent_AcceptsLinksToItsRealPath()
    {
        using var f = new Folders();
        string realParent = Path.Combine(f.Parent, "real-parent");
        Directory.CreateDirectory(Path.Combine(realParent, "downloads", "real"));
        File.CreateSymbolicLink(Path.Combine(f.Parent, "alias"), realParent);
        string root = Path.Combine(f.Parent, "alias", "downloads");

        // Written by someone who knows the folder by its real name: inside, although not under 'alias'.
        File.CreateSymbolicLink(Path.Combine(root, "test"), Path.Combine(realParent, "downloads", "real"));
        TestTorrent t = TorrentStorageTests.MultiFile();

        await StoreAsync(t, root);

        Assert.Equal(Content(t, "dir/a.bin"), await File.ReadAllBytesAsync(Path.Combine(realParent, "downloads", "real", "dir", "a.bin"), Ct).WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task ResumeSave_TemporaryFileIsAPlantedLink_LeavesItsTargetAlone()
    {
        using var f = new Folders();
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

    private static async Task StoreAsync(TestTorrent t, string root, StorageOptions? options = null)
    {
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, root, options);
        await TorrentStorageTests.WriteAllAsync(storage, t).WaitAsync(Timeout, Ct);
        storage.CreateEmptyFiles();
        await storage.FlushAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
    }

    /// <summary>Opens, writes every piece and creates the empty files; returns what refused it.</summary>
    private static Task<StorageException> StoreRefusedAsync(string root, StorageOptions? options = null)
        => Assert.ThrowsAsync<StorageException>(() => StoreAsync(TorrentStorageTests.MultiFile(), root, options));

    private static byte[] Content(TestTorrent t, string path) => t.Layout.Single(l => l.File.Path == path).File.Content;

    /// <summary>parent/root (the save folder) and parent/outside, where nothing may ever be written.</summary>
    private sealed class Folders : IDisposable
    {
        private readonly TempDirectory _parent = new();

        public Folders()
        {
            Directory.CreateDirectory(Root);
            Directory.CreateDirectory(Outside);
        }

        public string Parent => _parent.Path;

        public string Root => _parent.Combine("root");

        public string Outside => _parent.Combine("outside");

        /// <summary>Plants a link at <paramref name="relative"/> under the root whose target text is <paramref name="target"/>, verbatim.</summary>
        public void Link(string relative, string target) => File.CreateSymbolicLink(Path.Combine(Root, relative), target);

        /// <summary>outside/victim.txt, holding "precious".</summary>
        public string Victim()
        {
            string victim = Path.Combine(Outside, "victim.txt");
            File.WriteAllText(victim, "precious");
            return victim;
        }

        /// <summary>Every entry under outside with its length, without following links.</summary>
        public string[] SnapshotOutside() =>
            [.. Directory.EnumerateFileSystemEntries(Outside, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Select(p => $"{p} {(File.Exists(p) ? new FileInfo(p).Length : -1)}")
                .Order(StringComparer.Ordinal)];

        public void Dispose() => _parent.Dispose();
    }
}
