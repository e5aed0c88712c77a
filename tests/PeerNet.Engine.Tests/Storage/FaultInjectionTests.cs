using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

public sealed class FaultInjectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Write_DiskFull_FaultsWithStorageFullExceptionNamingTheFile()
    {
        using var dir = new TempDirectory();
        TestTorrent t = TorrentStorageTests.MultiFile();
        var fs = new FakeFileSystem { WriteFault = FakeFileSystem.DiskFull, WritesBeforeFault = 1 };
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path, new StorageOptions { FileSystem = fs });

        await storage.WriteBlockAsync(0, 0, t.Piece(0).AsMemory(0, 100), Ct).AsTask().WaitAsync(Timeout, Ct);
        StorageFullException e = await Assert.ThrowsAsync<StorageFullException>(() => storage.WriteBlockAsync(0, 100, t.Piece(0).AsMemory(100, 100), Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.Equal(StorageErrorCode.DiskFull, e.Code);
        Assert.Equal(storage.GetFullPath(0), e.FilePath);
        Assert.Contains("No space left", e.Message, StringComparison.Ordinal);
        Assert.IsType<IOException>(e.InnerException);
    }

    [Theory]
    [InlineData(28, "No space left on device")]
    [InlineData(28, "something else")]
    [InlineData(122, "Disk quota exceeded")]
    [InlineData(5, "No space left on device")]
    public void IsDiskFull_RecognisesEnospcAndQuota(int errno, string message)
        => Assert.True(StorageErrors.IsDiskFull(new IOException(message, errno)));

    [Fact]
    public void IsDiskFull_OtherErrors_AreNot()
        => Assert.False(StorageErrors.IsDiskFull(new IOException("Input/output error", 5)));

    [Fact]
    public async Task Read_DeviceError_FaultsWithStorageExceptionNamingTheFile()
    {
        using var dir = new TempDirectory();
        TestTorrent t = TorrentStorageTests.MultiFile();
        var fs = new FakeFileSystem();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path, new StorageOptions { FileSystem = fs });
        await storage.WriteBlockAsync(0, 0, t.Piece(0), Ct).AsTask().WaitAsync(Timeout, Ct);

        fs.ReadFault = path => new IOException("Input/output error", 5);
        StorageException e = await Assert.ThrowsAsync<StorageException>(() => storage.ReadBlockAsync(0, 0, new byte[10], Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.IsNotType<StorageFullException>(e);
        Assert.Equal(StorageErrorCode.IOError, e.Code);
        Assert.Equal(storage.GetFullPath(0), e.FilePath);
        Assert.Contains("a.bin", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_AccessDenied_IsReportedAsSuch()
    {
        using var dir = new TempDirectory();
        TestTorrent t = TorrentStorageTests.MultiFile();
        var fs = new FakeFileSystem();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path, new StorageOptions { FileSystem = fs });
        await storage.WriteBlockAsync(0, 0, t.Piece(0), Ct).AsTask().WaitAsync(Timeout, Ct);

        fs.ReadFault = path => new UnauthorizedAccessException("denied");
        StorageException e = await Assert.ThrowsAsync<StorageException>(() => storage.ReadBlockAsync(0, 0, new byte[10], Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.Equal(StorageErrorCode.AccessDenied, e.Code);
    }

    [Fact]
    public void CheckedVerification_DeviceErrorDuringRead_Throws_NotMissing()
    {
        using var dir = new TempDirectory();
        TestTorrent t = TestTorrent.Build(TorrentVersion.V1, 16384, [TestFile.Random("x", 20_000, 1)], singleFile: true, name: "x");
        File.WriteAllBytes(dir.Combine("x"), t.Layout[0].File.Content);
        var fs = new FakeFileSystem { ReadFault = path => new IOException("Input/output error", 5) };
        using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path, new StorageOptions { FileSystem = fs });
        var verifier = new PieceVerifier(storage.Map);

        Assert.Throws<StorageException>(() => verifier.VerifyStored(0, storage));
    }
}
