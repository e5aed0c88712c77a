using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

public sealed class FileHandleCacheTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static TestTorrent FiveFiles() => TestTorrent.Build(TorrentVersion.V1, 16384,
        [.. Enumerable.Range(0, 5).Select(i => TestFile.Random($"f{i}", 16384, i))]);

    [Fact]
    public async Task LimitTwo_FiveFiles_NeverMoreThanTwoOpen_LeastRecentlyUsedClosedFirst()
    {
        using var dir = new TempDirectory();
        TestTorrent t = FiveFiles();
        var fs = new FakeFileSystem();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path, new StorageOptions { MaxOpenFiles = 2, FileSystem = fs });

        for (int p = 0; p < 5; p++)
        {
            await storage.WriteBlockAsync(p, 0, t.Piece(p), Ct).AsTask().WaitAsync(Timeout, Ct);
            Assert.True(fs.OpenHandles <= 2);
        }

        Assert.Equal(2, storage.OpenHandleCount);
        Assert.Equal(2, fs.OpenHandles);
        Assert.Equal(5, fs.TotalOpens);
        Assert.Equal(["open f0", "open f1", "open f2", "close f0", "open f3", "close f1", "open f4", "close f2"], fs.Log);

        // f3 and f4 are open: touching f3 makes f4 the least recently used, so opening f0 closes f4.
        fs.Log.Clear();
        await storage.ReadBlockAsync(3, 0, new byte[10], Ct).AsTask().WaitAsync(Timeout, Ct);
        await storage.ReadBlockAsync(0, 0, new byte[10], Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal(["open f0", "close f4"], fs.Log);

        for (int p = 0; p < 5; p++)
        {
            byte[] read = new byte[16384];
            await storage.ReadBlockAsync(p, 0, read, Ct).AsTask().WaitAsync(Timeout, Ct);
            Assert.Equal(t.Piece(p), read);
        }
    }

    [Fact]
    public void Eviction_WhileLeased_ClosesWhenTheLeaseEnds()
    {
        int closed = 0;
        var cache = new FileHandleCache(1, (i, _) => new CountingFile(() => closed++), (_, _) => { });

        FileHandleCache.Lease first = cache.Acquire(0, forWrite: false);
        using (cache.Acquire(1, forWrite: false))
        {
            // File 0 was evicted but is still in use: it stays open.
            Assert.Equal(0, closed);
            Assert.Equal(2, cache.OpenCount);
            first.Dispose();
            Assert.Equal(1, closed);
        }

        Assert.Equal(1, cache.OpenCount);
        cache.Dispose();
        Assert.Equal(2, closed);
        Assert.Throws<ObjectDisposedException>(() => cache.Acquire(0, false));
    }

    private sealed class CountingFile(Action onDispose) : IStorageFile
    {
        public long GetLength() => 0;

        public void SetLength(long length)
        {
        }

        public int Read(Span<byte> destination, long fileOffset) => 0;

        public void Write(ReadOnlySpan<byte> source, long fileOffset)
        {
        }

        public void FlushToDisk()
        {
        }

        public void Dispose() => onDispose();
    }
}
