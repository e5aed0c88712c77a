using PeerNet.Creation;
using PeerNet.Metainfo;
using static PeerNet.Engine.Tests.Creation.CreationTestKit;

namespace PeerNet.Engine.Tests.Creation;

/// <summary>Piece-size choice, refusals with clear messages, progress and cancellation.</summary>
public sealed class TorrentCreatorValidationTests
{
    private const long KiB = 1024;
    private const long MiB = 1024 * KiB;

    [Theory]
    [InlineData(0L, 16 * KiB)]
    [InlineData(1L, 16 * KiB)]
    [InlineData(32 * MiB, 16 * KiB)]
    [InlineData((32 * MiB) + 1, 32 * KiB)]
    [InlineData(64 * MiB, 32 * KiB)]
    [InlineData((64 * MiB) + 1, 64 * KiB)]
    [InlineData(1024 * MiB, 512 * KiB)]
    [InlineData(8192 * MiB, 4 * MiB)]
    [InlineData((8192 * MiB) + 1, 4 * MiB)]
    [InlineData(1L << 50, 4 * MiB)]
    public void AutoPieceLength_IsSmallestPowerOfTwoCoveringTotalOver2048_Clamped(long total, long expected)
    {
        Assert.Equal(expected, TorrentCreator.AutoPieceLength(total));
    }

    [Fact]
    public void AutoPieceLength_Negative_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TorrentCreator.AutoPieceLength(-1));
    }

    [Fact]
    public async Task PieceLengthZero_PicksAutomatically()
    {
        using var tree = new TempTree();
        tree.Write("a", 100, 1);
        TorrentCreationResult result = await TorrentCreator.CreateWithDetailsAsync(Options(tree.Content, TorrentVersion.V1, 0), cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(16 * KiB, result.PieceLength);
    }

    [Theory]
    [InlineData(TorrentVersion.V1, 1000L, "power of two")]
    [InlineData(TorrentVersion.V1, -16384L, "power of two")]
    [InlineData(TorrentVersion.V1, 8192L, "at least 16 KiB")]
    [InlineData(TorrentVersion.V2, 8192L, "v2")]
    [InlineData(TorrentVersion.Hybrid, 49152L, "power of two")]
    [InlineData(TorrentVersion.Hybrid, 1L << 31, "too large")]
    public async Task BadPieceLength_ThrowsArgumentException(TorrentVersion version, long pieceLength, string message)
    {
        using var tree = new TempTree();
        tree.Write("a", 100, 1);
        ArgumentException ex = await Assert.ThrowsAsync<ArgumentException>(() => TorrentCreator.CreateAsync(Options(tree.Content, version, pieceLength), cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingSource_ThrowsIOException_NamingThePath()
    {
        using var tree = new TempTree();
        string missing = Path.Combine(tree.Root, "nope");
        IOException ex = await Assert.ThrowsAnyAsync<IOException>(() => TorrentCreator.CreateAsync(Options(missing, TorrentVersion.V1), cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FolderWithoutFiles_ThrowsArgumentException_NamingThePath()
    {
        using var tree = new TempTree();
        Directory.CreateDirectory(Path.Combine(tree.Content, "sub"));
        ArgumentException ex = await Assert.ThrowsAsync<ArgumentException>(() => TorrentCreator.CreateAsync(Options(tree.Content, TorrentVersion.Hybrid), cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains(tree.Content, ex.Message, StringComparison.Ordinal);
        Assert.Contains("no files", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnlyEmptyFiles_ThrowsArgumentException()
    {
        using var tree = new TempTree();
        tree.Write("a", 0);
        ArgumentException ex = await Assert.ThrowsAsync<ArgumentException>(() => TorrentCreator.CreateAsync(Options(tree.Content, TorrentVersion.V1), cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancelledBeforeStart_ThrowsOperationCanceled()
    {
        using var tree = new TempTree();
        tree.Write("a", 100, 1);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TorrentCreator.CreateAsync(Options(tree.Content, TorrentVersion.Hybrid), cancellationToken: cts.Token));
    }

    [Fact]
    public async Task CancelledWhileHashing_StopsAndThrowsOperationCanceled()
    {
        using var tree = new TempTree();
        tree.Write("a", 8 * 1024 * 1024, 1);
        using var cts = new CancellationTokenSource();

        // The first report comes as hashing starts; cancelling there stops the workers before they finish.
        var progress = new SyncProgress(p => cts.Cancel());
        Task<byte[]> create = TorrentCreator.CreateAsync(Options(tree.Content, TorrentVersion.Hybrid) with { Parallelism = 1 }, progress, cts.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => create.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.True(progress.Reports[^1].BytesHashed < 8 * 1024 * 1024);
    }

    [Fact]
    public async Task Progress_StartsAtZero_EndsAtTotal()
    {
        using var tree = new TempTree();
        tree.Write("a", 300_000, 1);
        tree.Write("b", 0);
        tree.Write("c", 5, 2);
        var progress = new SyncProgress(_ => { });
        await TorrentCreator.CreateAsync(Options(tree.Content, TorrentVersion.Hybrid), progress, TestContext.Current.CancellationToken);
        Assert.Equal(new CreationProgress(0, 300_005), progress.Reports[0]);
        Assert.Equal(new CreationProgress(300_005, 300_005), progress.Reports[^1]);
        Assert.All(progress.Reports, r => Assert.InRange(r.BytesHashed, 0, r.TotalBytes));
    }

    /// <summary>Records reports on the reporting thread (unlike <see cref="Progress{T}"/>, which posts them).</summary>
    private sealed class SyncProgress(Action<CreationProgress> onReport) : IProgress<CreationProgress>
    {
        private readonly Lock _lock = new();

        public List<CreationProgress> Reports { get; } = [];

        public void Report(CreationProgress value)
        {
            lock (_lock)
            {
                Reports.Add(value);
            }

            onReport(value);
        }
    }
}
