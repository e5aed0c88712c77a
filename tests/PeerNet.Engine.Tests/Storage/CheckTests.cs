using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

public sealed class CheckTests
{
    private const int P = 32 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task Check_PartiallyPresentData_VerifiesExactlyTheIntactPieces(TorrentVersion version)
    {
        using var dir = new TempDirectory();
        TestTorrent t = TestTorrent.Build(version, P,
        [
            TestFile.Random("a", 100_000, 1),   // intact
            TestFile.Random("b", 80_000, 2),    // deleted
            TestFile.Random("c", 90_000, 3),    // truncated to 40000
            TestFile.Random("d", 70_000, 4),    // one byte corrupted at 35000 (its second piece)
            TestFile.Random("e", 5_000, 5),     // intact
        ]);
        await using var queue = new WorkQueue();
        await using (TorrentStorage writer = TorrentStorage.Open(t.Metainfo, dir.Path))
        {
            await TorrentStorageTests.WriteAllAsync(writer, t);
        }

        File.Delete(dir.Combine("test", "b"));
        using (FileStream c = File.Open(dir.Combine("test", "c"), FileMode.Open))
        {
            c.SetLength(40_000);
        }

        using (FileStream d = File.Open(dir.Combine("test", "d"), FileMode.Open))
        {
            d.Position = 35_000;
            d.WriteByte((byte)(t.Layout[3].File.Content[35_000] ^ 0xFF));
        }

        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);
        var verifier = new PieceVerifier(storage.Map, queue);
        var reports = new List<CheckProgress>();
        var progress = new SyncProgress<CheckProgress>(reports.Add);

        CheckResult result = await verifier.CheckAsync(storage, progress, Ct).WaitAsync(Timeout, Ct);

        var expected = new bool[t.Metainfo.PieceCount];
        for (int p = 0; p < expected.Length; p++)
        {
            long start = (long)p * P;
            long end = start + storage.Map.GetPieceSize(p);
            bool touchesB = Overlaps(t, "b", start, end);
            bool touchesCTail = Overlaps(t, "c", start, end, from: 40_000);
            bool touchesDCorrupt = Overlaps(t, "d", start, end, from: 35_000, to: 35_001);
            expected[p] = !touchesB && !touchesCTail && !touchesDCorrupt;
        }

        Assert.Equal(expected, result.Verified.ToBoolArray());
        Assert.Equal(1, result.Failed);
        Assert.True(result.Missing > 0);
        Assert.Equal(t.Metainfo.PieceCount, result.Verified.SetCount + result.Failed + result.Missing);
        Assert.Equal(new CheckProgress(t.Metainfo.PieceCount, t.Metainfo.PieceCount, result.Verified.SetCount), reports[^1]);
    }

    [Fact]
    public async Task Check_NothingOnDisk_AllMissing_NothingRead()
    {
        using var dir = new TempDirectory();
        TestTorrent t = TorrentStorageTests.MultiFile();
        var fs = new FakeFileSystem();
        await using var queue = new WorkQueue();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path, new StorageOptions { FileSystem = fs });

        CheckResult result = await new PieceVerifier(storage.Map, queue).CheckAsync(storage, null, Ct).WaitAsync(Timeout, Ct);

        Assert.Equal(0, result.Verified.SetCount);
        Assert.Equal(t.Metainfo.PieceCount, result.Missing);
        Assert.Equal(0, fs.TotalOpens);
    }

    [Fact]
    public async Task Check_V2WithoutPieceLayers_ReportsUnknownPieces()
    {
        using var dir = new TempDirectory();
        TestTorrent t = TestTorrent.Build(TorrentVersion.V2, P, [TestFile.Random("big", 100_000, 1), TestFile.Random("small", 1000, 2)], withLayers: false);
        await using var queue = new WorkQueue();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);
        await TorrentStorageTests.WriteAllAsync(storage, t);

        CheckResult result = await new PieceVerifier(storage.Map, queue).CheckAsync(storage, null, Ct).WaitAsync(Timeout, Ct);

        Assert.Equal(4, result.Unknown.SetCount);     // big's 4 pieces
        Assert.Equal(1, result.Verified.SetCount);    // small verifies against its pieces root
        Assert.True(result.Verified[4]);
    }

    [Fact]
    public async Task Check_OnlySelectedPieces_ChecksThoseAlone()
    {
        using var dir = new TempDirectory();
        TestTorrent t = TorrentStorageTests.MultiFile();
        await using var queue = new WorkQueue();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);
        await TorrentStorageTests.WriteAllAsync(storage, t);
        var only = new PieceBitfield(t.Metainfo.PieceCount);
        only.Set(1);
        only.Set(3);

        CheckResult result = await new PieceVerifier(storage.Map, queue).CheckAsync(storage, only, null, Ct).WaitAsync(Timeout, Ct);

        Assert.Equal([1, 3], Enumerable.Range(0, t.Metainfo.PieceCount).Where(p => result.Verified[p]));
    }

    private static bool Overlaps(TestTorrent t, string path, long start, long end, long from = 0, long to = long.MaxValue)
    {
        (TestFile file, long offset) = t.Layout.Single(l => l.File.Path == path);
        long s = offset + from;
        long e = offset + Math.Min(to, file.Content.Length);
        return s < end && e > start;
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the pool, racing the assertions).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value)
        {
            lock (this)
            {
                report(value);
            }
        }
    }
}
