using PeerNet.Engine.Tests.Storage;
using PeerNet.Metainfo;
using PeerNet.Storage;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Swarm;

public sealed class PieceWriterTests
{
    private const int PieceLength = 32 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static TestTorrent Torrent(TorrentVersion version = TorrentVersion.V1)
        => TestTorrent.Build(version, PieceLength, [TestFile.Random("a", (3 * PieceLength) + 1000, 11)]);

    /// <summary>A writer over a real storage in a temp folder and real work queues; hash results land in a channel.</summary>
    private sealed class Kit : IAsyncDisposable
    {
        private readonly TempDirectory _dir = new();
        private readonly CancellationTokenSource _stopping = new();

        public Kit(TestTorrent torrent, long budget = 64 * PieceLength)
        {
            Torrent = torrent;
            var map = new PieceMap(torrent.Metainfo);
            Storage = TorrentStorage.Open(map, _dir.Path);
            Writer = new PieceWriter(Storage, new PieceVerifier(map, Hashing), Hashing, Writes, budget, (piece, hashed) => Results.Writer.TryWrite((piece, hashed)), _stopping.Token);
        }

        public TestTorrent Torrent { get; }

        public TorrentStorage Storage { get; }

        public WorkQueue Hashing { get; } = new(concurrency: 1);

        public WorkQueue Writes { get; } = new(concurrency: 1);

        public PieceWriter Writer { get; }

        public System.Threading.Channels.Channel<(int Piece, HashedPiece? Hashed)> Results { get; } = System.Threading.Channels.Channel.CreateUnbounded<(int, HashedPiece?)>();

        /// <summary>Fills piece <paramref name="piece"/>'s buffer with <paramref name="data"/> as reader loops would.</summary>
        public PieceBuffer Receive(int piece, byte[] data)
        {
            Assert.True(Writer.EnsureBuffer(piece));
            Assert.True(Writer.TryGetBuffer(piece, out PieceBuffer? buffer));
            data.CopyTo(buffer.Data.Span);
            return buffer;
        }

        public async Task<(int Piece, HashedPiece? Hashed)> NextAsync()
            => await Results.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(Timeout, TestContext.Current.CancellationToken);

        public async ValueTask DisposeAsync()
        {
            await _stopping.CancelAsync();
            await Writer.WhenIdleAsync();
            Writer.DisposeBuffers();
            await Storage.DisposeAsync();
            await Hashing.DisposeAsync();
            await Writes.DisposeAsync();
            _stopping.Dispose();
            _dir.Dispose();
        }
    }

    [Fact]
    public async Task TryHash_GoodPiece_IsWrittenAndReportedOnce()
    {
        await using var kit = new Kit(Torrent());
        PieceBuffer buffer = kit.Receive(1, kit.Torrent.Piece(1));

        Assert.True(kit.Writer.TryHash(buffer));
        Assert.False(kit.Writer.TryHash(buffer)); // already being hashed
        (int piece, HashedPiece? hashed) = await kit.NextAsync();
        kit.Writer.OnHashed(piece);
        kit.Writer.ReleaseBuffer(piece);
        await kit.Writer.WhenIdleAsync();

        Assert.Equal(1, piece);
        Assert.NotNull(hashed);
        Assert.Equal(PieceVerdict.Good, hashed.Result.Verdict);
        Assert.True(hashed.Written);
        Assert.Null(hashed.WriteError);
        Assert.Equal(0, kit.Writer.BufferCount);
        Assert.Equal(0, kit.Writer.HashingCount);
        byte[] stored = new byte[PieceLength];
        kit.Storage.Read(PieceLength, stored);
        Assert.Equal(kit.Torrent.Piece(1), stored);
    }

    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    public async Task TryHash_CorruptPiece_FailsAndIsNotWritten(TorrentVersion version)
    {
        await using var kit = new Kit(Torrent(version));
        byte[] data = kit.Torrent.Piece(0);
        data[100] ^= 0xFF;
        PieceBuffer buffer = kit.Receive(0, data);

        Assert.True(kit.Writer.TryHash(buffer));
        (int piece, HashedPiece? hashed) = await kit.NextAsync();
        kit.Writer.OnHashed(piece);

        Assert.NotNull(hashed);
        Assert.NotEqual(PieceVerdict.Good, hashed.Result.Verdict);
        Assert.False(hashed.Written);
        Assert.True(kit.Writer.TryGetBuffer(0, out _)); // kept, to be downloaded again
        Assert.True(kit.Writer.TryHash(buffer)); // and may be hashed again
        await kit.NextAsync();
        kit.Writer.OnHashed(0);
    }

    [Fact]
    public async Task EnsureBuffer_OverBudget_RefusesAnotherPiece()
    {
        await using var kit = new Kit(Torrent(), budget: 2L * PieceLength);

        Assert.True(kit.Writer.EnsureBuffer(0));
        Assert.True(kit.Writer.EnsureBuffer(1));
        Assert.True(kit.Writer.EnsureBuffer(1)); // has one already
        Assert.False(kit.Writer.EnsureBuffer(2));
        Assert.Equal(2, kit.Writer.BufferCount);

        kit.Writer.ReleaseBuffer(0);
        Assert.True(kit.Writer.EnsureBuffer(2));
    }

    [Fact]
    public async Task EnsureBuffer_FirstPieceOverBudget_IsStillAllowed()
    {
        await using var kit = new Kit(Torrent(), budget: 1);

        Assert.True(kit.Writer.EnsureBuffer(3)); // progress is never blocked: one piece always fits
        Assert.False(kit.Writer.EnsureBuffer(0));
    }

    [Fact]
    public async Task EnsureBuffer_V2GapAfterAFile_IsZeroedEvenInADirtyPooledBuffer()
    {
        // v2: file a ends 1,000 bytes into piece 1, whose rest is the zero gap before b; only one block is requested.
        TestTorrent torrent = TestTorrent.Build(TorrentVersion.V2, PieceLength, [TestFile.Random("a", PieceLength + 1000, 1), TestFile.Random("b", 5000, 2)]);
        await using var kit = new Kit(torrent);
        int requestable = new PieceMap(torrent.Metainfo).GetRequestableLength(1);
        Assert.True(requestable < PieceLength);

        Assert.True(kit.Writer.EnsureBuffer(1));
        Assert.True(kit.Writer.TryGetBuffer(1, out PieceBuffer? dirty));
        dirty.Data.Span.Fill(0xAB);
        kit.Writer.ReleaseBuffer(1); // back to the pool, dirty
        Assert.True(kit.Writer.EnsureBuffer(1));
        Assert.True(kit.Writer.TryGetBuffer(1, out PieceBuffer? buffer));

        Assert.True(buffer.Data.Span[requestable..buffer.Length].IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public async Task Stopping_WorkDropped_ReportsNull()
    {
        var torrent = Torrent();
        var kit = new Kit(torrent);
        PieceBuffer buffer = kit.Receive(0, torrent.Piece(0));
        await kit.Hashing.DisposeAsync(); // the session's queue closed: the item cannot run

        Assert.True(kit.Writer.TryHash(buffer));
        (int piece, HashedPiece? hashed) = await kit.NextAsync();

        Assert.Equal(0, piece);
        Assert.Null(hashed);
        await kit.DisposeAsync();
    }
}
