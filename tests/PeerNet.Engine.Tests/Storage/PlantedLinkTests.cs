using PeerNet.Metainfo;
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
        using var f = new PlantedLinks();
        Directory.CreateDirectory(Path.Combine(f.Outside, "y"));
        f.Link("x", f.Outside);

        // The text of root/test's target is root/x/y, inside the root; root/x is what leads out.
        f.Link("test", Path.Combine(f.Root, "x", "y"));

        StorageException e = await f.AssertStoreRefusedAsync();

        Assert.Contains(Path.Combine(f.Root, "test"), e.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine("outside", "y"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Store_ChainOfLinksOut_IsRefused()
    {
        using var f = new PlantedLinks();
        f.Link("test", Path.Combine(f.Root, "d1"));
        f.Link("d1", "d2");
        f.Link("d2", f.Outside);

        StorageException e = await f.AssertStoreRefusedAsync();

        Assert.Empty(f.SnapshotOutside());
        Assert.Contains($"'{Path.Combine(f.Root, "d2")}' → '{f.Outside}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Store_ChainEndingInsideALinkedFolder_IsRefused()
    {
        using var f = new PlantedLinks();
        Directory.CreateDirectory(Path.Combine(f.Outside, "inner"));
        f.Link("test", "d1");
        f.Link("d1", "d2/inner");
        f.Link("d2", "../outside");

        await f.AssertStoreRefusedAsync();
    }

    [Fact]
    public async Task Store_FileLinkWhoseTargetPassesThroughALinkedFolder_IsRefusedAndTargetUntouched()
    {
        using var f = new PlantedLinks();
        string victim = f.Victim();
        f.Link("x", f.Outside);
        Directory.CreateDirectory(Path.Combine(f.Root, "test"));
        f.Link("test/c.bin", Path.Combine(f.Root, "x", "victim.txt"));

        StorageException e = await f.AssertStoreRefusedAsync();

        Assert.Contains(Path.Combine(f.Root, "test", "c.bin"), e.Message, StringComparison.Ordinal);
        Assert.Equal("precious", await File.ReadAllTextAsync(victim, Ct).WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task Store_RelativeDotDotLinkTakenFromALinkedFolder_IsRefused()
    {
        using var f = new PlantedLinks();
        Directory.CreateDirectory(Path.Combine(f.Outside, "deep", "er", "y"));
        f.Link("x", Path.Combine(f.Outside, "deep", "er"));

        // Read as text, x/y/../.. is the root itself; the kernel takes each '..' from where x really is.
        f.Link("test", "x/y/../..");

        await f.AssertStoreRefusedAsync();
    }

    [Fact]
    public void Open_LinkLoop_IsRefusedAsAnEscape()
    {
        using var f = new PlantedLinks();
        f.Link("test", "loop");
        f.Link("loop", "test");

        StorageException e = Assert.Throws<StorageException>(() => TorrentStorage.Open(TorrentStorageTests.MultiFile().Metainfo, f.Root));

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Contains("40", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateEmptyFiles_FolderLinkedOutThroughALinkedFolder_IsRefusedAndCreatesNothingOutside()
    {
        using var f = new PlantedLinks();
        Directory.CreateDirectory(Path.Combine(f.Outside, "y"));
        Directory.CreateDirectory(Path.Combine(f.Root, "test"));
        f.Link("x", f.Outside);
        f.Link("test/e", Path.Combine(f.Root, "x", "y"));

        // Only the empty file lives under test/e, so opening and writing pass; creating it must not.
        await f.AssertStoreRefusedAsync(TestTorrent.Build(TorrentVersion.V1, 16384, [TestFile.Random("data.bin", 1000, 1), new TestFile("e/empty", [])]));
    }

    [Theory]
    [InlineData(RealPaths.MaxLinks, true)]
    [InlineData(RealPaths.MaxLinks + 1, false)]
    public async Task Store_ChainOfLinksInside_IsFollowedUpToTheKernelsLimit(int links, bool accepted)
    {
        using var f = new PlantedLinks();
        Directory.CreateDirectory(Path.Combine(f.Root, "real"));
        for (int i = 0; i < links; i++)
        {
            f.Link(i == 0 ? "test" : $"l{i}", i == links - 1 ? "real" : $"l{i + 1}");
        }

        if (accepted)
        {
            await PlantedLinks.StoreAsync(TorrentStorageTests.MultiFile(), f.Root);
            Assert.True(File.Exists(Path.Combine(f.Root, "real", "dir", "a.bin")));
        }
        else
        {
            await f.AssertStoreRefusedAsync();
            Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(f.Root, "real")));
        }
    }

    [Fact]
    public async Task Store_LinksThatStayInside_AreFollowed()
    {
        using var f = new PlantedLinks();
        Directory.CreateDirectory(Path.Combine(f.Root, "real", "sub"));
        Directory.CreateDirectory(Path.Combine(f.Root, "elsewhere"));
        f.Link("test", "d1");
        f.Link("d1", "real/sub/..");
        f.Link("real/c.bin", "../elsewhere/c-real.bin");
        TestTorrent t = TorrentStorageTests.MultiFile();

        await PlantedLinks.StoreAsync(t, f.Root);

        Assert.Equal(Content(t, "dir/a.bin"), await File.ReadAllBytesAsync(Path.Combine(f.Root, "real", "dir", "a.bin"), Ct).WaitAsync(Timeout, Ct));
        Assert.Equal(Content(t, "c.bin"), await File.ReadAllBytesAsync(Path.Combine(f.Root, "elsewhere", "c-real.bin"), Ct).WaitAsync(Timeout, Ct));
        Assert.NotNull(new FileInfo(Path.Combine(f.Root, "real", "c.bin")).LinkTarget);
        Assert.True(File.Exists(Path.Combine(f.Root, "real", "dir", "empty")));
        Assert.Empty(f.SnapshotOutside());
    }

    [Fact]
    public async Task Store_SaveFolderReachedThroughALinkedParent_AcceptsLinksToItsRealPath()
    {
        using var f = new PlantedLinks();
        string realParent = Path.Combine(f.Parent, "real-parent");
        Directory.CreateDirectory(Path.Combine(realParent, "downloads", "real"));
        File.CreateSymbolicLink(Path.Combine(f.Parent, "alias"), realParent);
        string root = Path.Combine(f.Parent, "alias", "downloads");

        // Written by someone who knows the folder by its real name: inside, although not under 'alias'.
        File.CreateSymbolicLink(Path.Combine(root, "test"), Path.Combine(realParent, "downloads", "real"));
        TestTorrent t = TorrentStorageTests.MultiFile();

        await PlantedLinks.StoreAsync(t, root);

        Assert.Equal(Content(t, "dir/a.bin"), await File.ReadAllBytesAsync(Path.Combine(realParent, "downloads", "real", "dir", "a.bin"), Ct).WaitAsync(Timeout, Ct));
    }

    private static byte[] Content(TestTorrent t, string path) => t.Layout.Single(l => l.File.Path == path).File.Content;
}
