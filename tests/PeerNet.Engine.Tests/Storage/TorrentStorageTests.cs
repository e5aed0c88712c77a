using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

public sealed class TorrentStorageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const int P = 32 * 1024;
    private const int Block = 16 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    internal static TestTorrent MultiFile(TorrentVersion version = TorrentVersion.V1, bool padFiles = false) => TestTorrent.Build(version, P,
    [
        TestFile.Random("dir/a.bin", 40_000, 1),
        new TestFile("dir/empty", []),
        TestFile.Random("dir/sub/b.bin", 70_000, 2),
        TestFile.Random("c.bin", 7, 3),
        TestFile.Random("d.bin", 50_000, 4),
    ], padFiles: padFiles);

    internal static async Task WriteAllAsync(TorrentStorage storage, TestTorrent t, int seed = 7)
    {
        var blocks = new List<(int Piece, int Begin)>();
        for (int p = 0; p < t.Metainfo.PieceCount; p++)
        {
            for (int b = 0; b < storage.Map.GetPieceSize(p); b += Block)
            {
                blocks.Add((p, b));
            }
        }

        var random = new Random(seed);
        foreach ((int piece, int begin) in blocks.OrderBy(_ => random.Next()))
        {
            byte[] data = t.Piece(piece);
            await storage.WriteBlockAsync(piece, begin, data.AsMemory(begin, Math.Min(Block, data.Length - begin)), Ct).AsTask().WaitAsync(Timeout, Ct);
        }
    }

    [Theory]
    [InlineData(TorrentVersion.V1, false)]
    [InlineData(TorrentVersion.V1, true)]
    [InlineData(TorrentVersion.V2, false)]
    [InlineData(TorrentVersion.Hybrid, false)]
    public async Task WriteBlocksInRandomOrder_ThenRead_FilesHoldTheirBytes(TorrentVersion version, bool padFiles)
    {
        using var dir = new TempDirectory();
        TestTorrent t = MultiFile(version, padFiles);
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);

        await WriteAllAsync(storage, t);
        storage.CreateEmptyFiles();

        foreach ((TestFile file, _) in t.Layout)
        {
            string path = dir.Combine("test", file.Path);
            Assert.Equal(file.Content, await File.ReadAllBytesAsync(path, Ct).WaitAsync(Timeout, Ct));
        }

        for (int p = 0; p < t.Metainfo.PieceCount; p++)
        {
            byte[] read = new byte[storage.Map.GetPieceSize(p)];
            int n = await storage.ReadBlockAsync(p, 0, read, Ct).AsTask().WaitAsync(Timeout, Ct);
            Assert.Equal(read.Length, n);
            Assert.Equal(t.Piece(p), read);
        }

        Assert.DoesNotContain(Directory.EnumerateFiles(dir.Path, "*", SearchOption.AllDirectories), f => f.Contains(".pad", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReadBlock_AcrossFileBoundaries_ReturnsConcatenatedBytes()
    {
        using var dir = new TempDirectory();
        TestTorrent t = MultiFile();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);
        await WriteAllAsync(storage, t);

        // a.bin ends at 40000 inside piece 1 (32768..65536); read 39990..40020 → a's tail, then b's head.
        byte[] buffer = new byte[30];
        int n = await storage.ReadBlockAsync(1, 40_000 - P - 10, buffer, Ct).AsTask().WaitAsync(Timeout, Ct);

        Assert.Equal(30, n);
        Assert.Equal(t.Space.AsSpan(39_990, 30).ToArray(), buffer);

        // c.bin (7 bytes) sits between b and d: read a range covering all three.
        long cOffset = t.Layout.Single(l => l.File.Path == "c.bin").Offset;
        int piece = (int)((cOffset - 100) / P);
        int begin = (int)(cOffset - 100 - ((long)piece * P));
        byte[] around = new byte[Math.Min(300, storage.Map.GetPieceSize(piece) - begin)];
        await storage.ReadBlockAsync(piece, begin, around, Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal(t.Space.AsSpan((int)(cOffset - 100), around.Length).ToArray(), around);
    }

    [Fact]
    public async Task ReadBlock_PastPieceEnd_IsClippedToThePiece()
    {
        using var dir = new TempDirectory();
        TestTorrent t = MultiFile();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);
        await WriteAllAsync(storage, t);
        int last = t.Metainfo.PieceCount - 1;

        byte[] buffer = new byte[P];
        int n = await storage.ReadBlockAsync(last, 0, buffer, Ct).AsTask().WaitAsync(Timeout, Ct);

        Assert.Equal(storage.Map.GetPieceSize(last), n);
        Assert.Equal(t.Piece(last), buffer.AsSpan(0, n).ToArray());
    }

    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    public async Task ReadBlock_OverPadOrGap_ReadsZeros(TorrentVersion version)
    {
        using var dir = new TempDirectory();
        TestTorrent t = TestTorrent.Build(version, P, [TestFile.Random("a", 10_000, 1), TestFile.Random("b", 20_000, 2)], padFiles: true);
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);
        await WriteAllAsync(storage, t);

        byte[] buffer = new byte[P];
        buffer.AsSpan().Fill(0xAA);
        int n = await storage.ReadBlockAsync(0, 0, buffer, Ct).AsTask().WaitAsync(Timeout, Ct);

        Assert.Equal(P, n);
        Assert.Equal(t.Layout[0].File.Content, buffer.AsSpan(0, 10_000).ToArray());
        Assert.True(buffer.AsSpan(10_000).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(10_000, new FileInfo(dir.Combine("test", "a")).Length);
    }

    [Fact]
    public async Task FirstWrite_CreatesFileAtFullLength_Sparse()
    {
        using var dir = new TempDirectory();
        TestTorrent t = TestTorrent.Build(TorrentVersion.V1, P, [TestFile.Random("big", 8 * P, 1)], singleFile: true, name: "big");
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);

        await storage.WriteBlockAsync(3, 0, t.Piece(3).AsMemory(0, Block), Ct).AsTask().WaitAsync(Timeout, Ct);

        var info = new FileInfo(dir.Combine("big"));
        Assert.Equal(8 * P, info.Length);
        byte[] head = new byte[Block];
        await storage.ReadBlockAsync(0, 0, head, Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.True(head.AsSpan().IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public async Task ReadBlock_FileNeverWritten_FaultsWithFileMissing()
    {
        using var dir = new TempDirectory();
        TestTorrent t = MultiFile();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);

        StorageException e = await Assert.ThrowsAsync<StorageException>(() => storage.ReadBlockAsync(0, 0, new byte[100], Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.Equal(StorageErrorCode.FileMissing, e.Code);
        Assert.EndsWith("a.bin", e.FilePath, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.Combine("test", "dir", "a.bin")));
    }

    [Fact]
    public async Task ReadBlock_FileTruncatedOnDisk_FaultsWithFileTruncated()
    {
        using var dir = new TempDirectory();
        TestTorrent t = MultiFile();
        Directory.CreateDirectory(dir.Combine("test", "dir"));
        await File.WriteAllBytesAsync(dir.Combine("test", "dir", "a.bin"), new byte[100], Ct).WaitAsync(Timeout, Ct);
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);

        StorageException e = await Assert.ThrowsAsync<StorageException>(() => storage.ReadBlockAsync(0, 0, new byte[Block], Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.Equal(StorageErrorCode.FileTruncated, e.Code);
    }

    [Fact]
    public async Task ReadOnly_SeedingDataInPlace_ReadsAndRefusesWrites()
    {
        using var dir = new TempDirectory();
        TestTorrent t = MultiFile();

        // The data lives in a folder with another name than the torrent's.
        string content = dir.Combine("my videos");
        foreach ((TestFile file, _) in t.Layout)
        {
            string path = Path.Combine(content, file.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, file.Content, Ct).WaitAsync(Timeout, Ct);
        }

        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, content, new StorageOptions { ReadOnly = true, PathIsContent = true });

        Assert.Equal(Path.Combine(content, "dir", "a.bin"), storage.GetFullPath(0));
        for (int p = 0; p < t.Metainfo.PieceCount; p++)
        {
            byte[] read = new byte[storage.Map.GetPieceSize(p)];
            await storage.ReadBlockAsync(p, 0, read, Ct).AsTask().WaitAsync(Timeout, Ct);
            Assert.Equal(t.Piece(p), read);
        }

        StorageException e = await Assert.ThrowsAsync<StorageException>(() => storage.WriteBlockAsync(0, 0, new byte[10], Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(StorageErrorCode.ReadOnly, e.Code);
    }

    [Fact]
    public async Task PathIsContent_SingleFile_UsesThePathItself()
    {
        using var dir = new TempDirectory();
        TestTorrent t = TestTorrent.Build(TorrentVersion.V1, P, [TestFile.Random("x", 50_000, 9)], singleFile: true, name: "movie.mkv");
        string actual = dir.Combine("renamed.mkv");
        await File.WriteAllBytesAsync(actual, t.Layout[0].File.Content, Ct).WaitAsync(Timeout, Ct);

        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, actual, new StorageOptions { ReadOnly = true, PathIsContent = true });

        Assert.Equal(actual, storage.GetFullPath(0));
        byte[] read = new byte[P];
        await storage.ReadBlockAsync(1, 0, read, Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal(t.Piece(1), read.AsSpan(0, t.Piece(1).Length).ToArray());
    }

    [Fact]
    public async Task ConcurrentWritesToDifferentRanges_AllLand()
    {
        using var dir = new TempDirectory();
        TestTorrent t = MultiFile();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path, new StorageOptions { MaxOpenFiles = 2 });

        await Parallel.ForEachAsync(Enumerable.Range(0, t.Metainfo.PieceCount), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (p, ct) =>
        {
            byte[] data = t.Piece(p);
            for (int b = 0; b < data.Length; b += 1000)
            {
                await storage.WriteBlockAsync(p, b, data.AsMemory(b, Math.Min(1000, data.Length - b)), ct);
            }
        }).WaitAsync(Timeout, Ct);

        for (int p = 0; p < t.Metainfo.PieceCount; p++)
        {
            byte[] read = new byte[storage.Map.GetPieceSize(p)];
            await storage.ReadBlockAsync(p, 0, read, Ct).AsTask().WaitAsync(Timeout, Ct);
            Assert.Equal(t.Piece(p), read);
        }
    }

    [Fact]
    public async Task Flush_AfterWrites_Succeeds_AndReopensEvictedFiles()
    {
        using var dir = new TempDirectory();
        TestTorrent t = MultiFile();
        var fs = new FakeFileSystem();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path, new StorageOptions { MaxOpenFiles = 1, FileSystem = fs });
        await WriteAllAsync(storage, t);
        int opens = fs.TotalOpens;

        await storage.FlushAsync(Ct).AsTask().WaitAsync(Timeout, Ct);

        // Four data files were written but only one stays open: the other three are reopened to be flushed.
        Assert.Equal(opens + 3, fs.TotalOpens);
        await storage.FlushAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal(opens + 3, fs.TotalOpens);
    }

    [Fact]
    public async Task Dispose_ReleasesEveryHandle_AndLaterCallsFail()
    {
        using var dir = new TempDirectory();
        TestTorrent t = MultiFile();
        var fs = new FakeFileSystem();
        TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path, new StorageOptions { FileSystem = fs });
        await WriteAllAsync(storage, t);
        Assert.Equal(4, fs.OpenHandles);

        await storage.DisposeAsync().AsTask().WaitAsync(Timeout, Ct);

        Assert.Equal(0, fs.OpenHandles);
        Assert.Equal(0, storage.OpenHandleCount);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => storage.ReadBlockAsync(0, 0, new byte[10], Ct).AsTask().WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task WriteBlock_RangeOutsidePiece_Throws()
    {
        using var dir = new TempDirectory();
        TestTorrent t = MultiFile();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await storage.WriteBlockAsync(0, P - 10, new byte[20], Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await storage.WriteBlockAsync(t.Metainfo.PieceCount, 0, new byte[1], Ct));
    }
}
