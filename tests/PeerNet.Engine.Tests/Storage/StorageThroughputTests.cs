using System.Diagnostics;
using System.Security.Cryptography;
using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

/// <summary>
/// Measures, does not assert: set PEERNET_STORAGE_BENCH=1 and run in Release
/// (<c>dotnet test -c Release --project tests/PeerNet.Engine.Tests --filter-class "*StorageThroughputTests" --output Detailed</c>).
/// </summary>
public sealed class StorageThroughputTests
{
    private const int Block = 16 * 1024;
    private const int PieceLength = 1024 * 1024;
    private const int Size = 256 * 1024 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WriteAndVerify_256MiB_V1_1MiBPieces_16KiBBlocks()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("PEERNET_STORAGE_BENCH") == "1", "Set PEERNET_STORAGE_BENCH=1 to measure storage throughput.");
        ITestOutputHelper output = TestContext.Current.TestOutputHelper!;
        using var dir = new TempDirectory();
        TestTorrent t = TestTorrent.Build(TorrentVersion.V1, PieceLength,
            [.. Enumerable.Range(0, 4).Select(i => TestFile.Random($"part{i}.bin", Size / 4, i))]);
        int pieces = t.Metainfo.PieceCount;
        byte[] space = t.Space;

        // Baseline: one core hashing SHA-1 over the same bytes.
        var sw = Stopwatch.StartNew();
        for (int p = 0; p < pieces; p++)
        {
            _ = SHA1.HashData(space.AsSpan(p * PieceLength, PieceLength));
        }

        Report(output, "SHA-1, one core, from memory", sw.Elapsed);

        await using var queue = new WorkQueue();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);
        var verifier = new PieceVerifier(storage.Map, queue);
        int good = 0;
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        sw.Restart();

        // The download path: each piece's 64 blocks are written as they "arrive", then the in-memory piece is
        // verified on the hashing queue while other pieces are being written.
        await Parallel.ForEachAsync(Enumerable.Range(0, pieces), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount * 2, CancellationToken = Ct }, async (p, ct) =>
        {
            ReadOnlyMemory<byte> piece = space.AsMemory(p * PieceLength, PieceLength);
            for (int b = 0; b < PieceLength; b += Block)
            {
                await storage.WriteBlockAsync(p, b, piece.Slice(b, Block), ct);
            }

            if ((await verifier.VerifyAsync(p, piece, ct)).Verdict == PieceVerdict.Good)
            {
                Interlocked.Increment(ref good);
            }
        }).WaitAsync(Timeout, Ct);

        TimeSpan download = sw.Elapsed;
        long downloadAllocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        sw.Restart();
        await storage.FlushAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        TimeSpan flush = sw.Elapsed;
        Assert.Equal(pieces, good);
        Report(output, "write 16 KiB blocks + verify pieces from memory", download);
        output.WriteLine($"  allocated {downloadAllocated / 1024.0 / 1024:F1} MiB managed ({downloadAllocated / pieces} B/piece) over {pieces} pieces");
        Report(output, "  then fsync (FlushAsync)", flush);
        Report(output, "write + verify + fsync", download + flush);

        sw.Restart();
        CheckResult check = await verifier.CheckAsync(storage, null, Ct).WaitAsync(Timeout, Ct);
        Report(output, "full recheck from disk (page cache warm)", sw.Elapsed);
        Assert.Equal(pieces, check.Verified.SetCount);
        output.WriteLine($"cores: {Environment.ProcessorCount}, hashing workers: {queue.Concurrency}");
    }

    private static void Report(ITestOutputHelper output, string what, TimeSpan elapsed)
        => output.WriteLine($"{what}: {Size / 1e6 / elapsed.TotalSeconds:F0} MB/s ({elapsed.TotalMilliseconds:F0} ms for 256 MiB)");
}
