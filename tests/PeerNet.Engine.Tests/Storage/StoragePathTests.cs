using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

public sealed class StoragePathTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("../outside")]
    [InlineData("a/../../outside")]
    [InlineData("/etc/passwd")]
    [InlineData("..")]
    [InlineData("")]
    public void Resolve_PathLeavingTheRoot_IsRefused(string relative)
    {
        using var dir = new TempDirectory();

        StorageException e = Assert.Throws<StorageException>(() => StoragePaths.Resolve(dir.Path, relative));

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
    }

    [Fact]
    public void Resolve_NormalPath_StaysUnderRoot()
    {
        using var dir = new TempDirectory();

        Assert.Equal(Path.Combine(dir.Path, "a", "b.txt"), StoragePaths.Resolve(dir.Path + "/", "a/./b.txt"));
    }

    [Fact]
    public void Open_TorrentFolderIsSymlinkOutsideRoot_IsRefused()
    {
        using var dir = new TempDirectory();
        string root = dir.Combine("downloads");
        string outside = dir.Combine("elsewhere");
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(outside);

        // The torrent's paths are clean ("test/dir/a.bin"), but someone planted root/test → elsewhere.
        Directory.CreateSymbolicLink(Path.Combine(root, "test"), outside);
        TestTorrent t = TorrentStorageTests.MultiFile();

        StorageException e = Assert.Throws<StorageException>(() => TorrentStorage.Open(t.Metainfo, root));

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Contains("symbolic link", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public async Task Write_SymlinkPlantedAfterOpen_IsRefusedWithoutWritingOutside()
    {
        using var dir = new TempDirectory();
        string root = dir.Combine("downloads");
        string outside = dir.Combine("elsewhere");
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(outside);
        TestTorrent t = TorrentStorageTests.MultiFile();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, root);

        Directory.CreateDirectory(Path.Combine(root, "test"));
        Directory.CreateSymbolicLink(Path.Combine(root, "test", "dir"), outside);
        StorageException e = await Assert.ThrowsAsync<StorageException>(() => storage.WriteBlockAsync(0, 0, new byte[16], Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public async Task Write_FileIsSymlinkOutsideRoot_IsRefused()
    {
        using var dir = new TempDirectory();
        string root = dir.Combine("downloads");
        string victim = dir.Combine("victim.txt");
        await File.WriteAllTextAsync(victim, "precious", Ct).WaitAsync(Timeout, Ct);
        Directory.CreateDirectory(Path.Combine(root, "test"));
        File.CreateSymbolicLink(Path.Combine(root, "test", "c.bin"), victim);
        TestTorrent t = TorrentStorageTests.MultiFile();

        StorageException e = Assert.Throws<StorageException>(() => TorrentStorage.Open(t.Metainfo, root));

        Assert.Equal(StorageErrorCode.PathEscapesRoot, e.Code);
        Assert.Equal("precious", await File.ReadAllTextAsync(victim, Ct).WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task Open_SymlinkInsideRoot_IsAllowed()
    {
        using var dir = new TempDirectory();
        string root = dir.Combine("downloads");
        Directory.CreateDirectory(Path.Combine(root, "real"));
        Directory.CreateSymbolicLink(Path.Combine(root, "test"), Path.Combine(root, "real"));
        TestTorrent t = TorrentStorageTests.MultiFile();

        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, root);
        await storage.WriteBlockAsync(0, 0, t.Piece(0).AsMemory(0, 100), Ct).AsTask().WaitAsync(Timeout, Ct);

        Assert.True(File.Exists(Path.Combine(root, "real", "dir", "a.bin")));
    }

    [Fact]
    public async Task Open_RootItselfIsSymlink_IsAllowed()
    {
        using var dir = new TempDirectory();
        string real = dir.Combine("real-downloads");
        string link = dir.Combine("downloads");
        Directory.CreateDirectory(real);
        Directory.CreateSymbolicLink(link, real);
        TestTorrent t = TestTorrent.Build(TorrentVersion.V1, 16384, [TestFile.Random("x", 1000, 1)], singleFile: true, name: "one.bin");

        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, link);
        await storage.WriteBlockAsync(0, 0, t.Piece(0), Ct).AsTask().WaitAsync(Timeout, Ct);

        Assert.True(File.Exists(Path.Combine(real, "one.bin")));
    }
}
