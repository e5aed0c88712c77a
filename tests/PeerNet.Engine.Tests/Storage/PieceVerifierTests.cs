using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

public sealed class PieceVerifierTests
{
    private const int P = 64 * 1024;
    private const int Block = 16 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // big: 150000 bytes = 10 blocks (last one partial) over 3 pieces, the last piece 1 full + 1 partial block;
    // three: 3 blocks in one piece (tree of 4 leaves); tiny: one short block.
    private static TestTorrent Build(TorrentVersion version, bool withLayers = true) => TestTorrent.Build(version, P,
    [
        TestFile.Random("big", 150_000, 1),
        TestFile.Random("three", 40_000, 2),
        TestFile.Random("tiny", 100, 3),
        new TestFile("zero", []),
    ], withLayers: withLayers);

    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public void Verify_CorrectPieces_AreGood(TorrentVersion version)
    {
        TestTorrent t = Build(version);
        var verifier = new PieceVerifier(new PieceMap(t.Metainfo));

        for (int p = 0; p < t.Metainfo.PieceCount; p++)
        {
            PieceCheckResult r = verifier.Verify(p, t.Piece(p));

            Assert.Equal(PieceVerdict.Good, r.Verdict);
            Assert.Equal(version != TorrentVersion.V2 ? true : null, r.V1Match);
            Assert.Equal(version != TorrentVersion.V1 ? true : null, r.V2Match);
            Assert.Null(r.BlockHashes);
        }
    }

    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public void Verify_OneFlippedByte_IsBad(TorrentVersion version)
    {
        TestTorrent t = Build(version);
        var map = new PieceMap(t.Metainfo);
        var verifier = new PieceVerifier(map);

        for (int p = 0; p < t.Metainfo.PieceCount; p++)
        {
            // Flip a byte of file data (not of a pad or gap, which v2 does not cover).
            byte[] data = t.Piece(p);
            data[(version == TorrentVersion.V1 ? data.Length : map.GetV2DataLength(p)) / 3] ^= 1;
            PieceCheckResult r = verifier.Verify(p, data);

            Assert.Equal(PieceVerdict.Bad, r.Verdict);
            Assert.False(r.HashesDisagree);
        }
    }

    [Fact]
    public void Verify_V2OnlyPieceGivenWithoutItsGap_IsGood()
    {
        TestTorrent t = Build(TorrentVersion.V2);
        var map = new PieceMap(t.Metainfo);
        var verifier = new PieceVerifier(map);
        int last = map.GetPieceRange(0).Last;

        byte[] dataOnly = t.Piece(last).AsSpan(0, map.GetV2DataLength(last)).ToArray();

        Assert.Equal(150_000 - (2 * P), dataOnly.Length);
        Assert.Equal(PieceVerdict.Good, verifier.Verify(last, dataOnly).Verdict);
        Assert.Throws<ArgumentException>(() => verifier.Verify(last, dataOnly.AsSpan(1)));
    }

    [Fact]
    public void Verify_HybridPadBytesNotZero_FailsV1ButNotV2_AndIsBad()
    {
        TestTorrent t = Build(TorrentVersion.Hybrid);
        var map = new PieceMap(t.Metainfo);
        var verifier = new PieceVerifier(map);
        int last = map.GetPieceRange(0).Last;
        byte[] data = t.Piece(last);
        Assert.True(map.GetV2DataLength(last) < data.Length);

        data[^1] = 0xFF;   // inside the pad file after "big"
        PieceCheckResult r = verifier.Verify(last, data);

        Assert.Equal(PieceVerdict.Bad, r.Verdict);
        Assert.False(r.V1Match);
        Assert.True(r.V2Match);
        Assert.True(r.HashesDisagree);
    }

    [Fact]
    public void Verify_V2LayerMissing_IsUnknown_ButSmallFilesStillVerify()
    {
        TestTorrent t = Build(TorrentVersion.V2, withLayers: false);
        var map = new PieceMap(t.Metainfo);
        var verifier = new PieceVerifier(map);
        Assert.Empty(t.Metainfo.PieceLayers);

        PieceCheckResult big = verifier.Verify(0, t.Piece(0));
        PieceCheckResult three = verifier.Verify(map.GetPieceRange(1).First, t.Piece(map.GetPieceRange(1).First));

        Assert.Equal(PieceVerdict.Unknown, big.Verdict);
        Assert.Null(big.V2Match);
        Assert.Equal(PieceVerdict.Good, three.Verdict);
    }

    [Fact]
    public void Verify_HybridLayerMissing_TrustsV1()
    {
        TestTorrent t = Build(TorrentVersion.Hybrid, withLayers: false);
        var verifier = new PieceVerifier(new PieceMap(t.Metainfo));

        PieceCheckResult r = verifier.Verify(0, t.Piece(0));

        Assert.Equal(PieceVerdict.Good, r.Verdict);
        Assert.True(r.V1Match);
        Assert.Null(r.V2Match);
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(2, 1)]   // last piece of "big": the short final block
    public void Verify_BadV2Block_WithProvenBlockHashes_IsIdentified(int piece, int badBlock)
    {
        TestTorrent t = Build(TorrentVersion.V2);
        var verifier = new PieceVerifier(new PieceMap(t.Metainfo));
        byte[] data = t.Piece(piece);
        data[(badBlock * Block) + 5] ^= 0x40;
        Sha256Hash[] expected = t.ExpectedBlockHashes(piece);

        PieceCheckResult r = verifier.Verify(piece, data, expected);

        Assert.Equal(PieceVerdict.Bad, r.Verdict);
        Assert.Equal([badBlock], r.BadBlocks);
        Assert.False(r.BlockHashesRejected);
        Assert.NotNull(r.BlockHashes);
        Assert.Equal([badBlock], PieceVerifier.FindBadBlocks(r.BlockHashes, expected));
    }

    [Fact]
    public void Verify_BadV2Block_ForgedBlockHashes_AreRejected()
    {
        TestTorrent t = Build(TorrentVersion.V2);
        var verifier = new PieceVerifier(new PieceMap(t.Metainfo));
        byte[] data = t.Piece(0);
        data[5] ^= 0x40;

        // A lying peer sends hashes that blame block 3 (it hashes the corrupted data for block 0).
        Sha256Hash[] forged = t.ExpectedBlockHashes(0);
        forged[0] = Sha256Hash.Compute(data.AsSpan(0, Block));
        PieceCheckResult r = verifier.Verify(0, data, forged);

        Assert.Equal(PieceVerdict.Bad, r.Verdict);
        Assert.True(r.BlockHashesRejected);
        Assert.Empty(r.BadBlocks);
    }

    [Fact]
    public void Verify_SmallFileTree_BlockHashesProvenAgainstPiecesRoot()
    {
        TestTorrent t = Build(TorrentVersion.V2);
        var map = new PieceMap(t.Metainfo);
        var verifier = new PieceVerifier(map);
        int piece = map.GetPieceRange(1).First;   // "three": 3 blocks in a tree of 4 leaves
        byte[] data = t.Piece(piece);
        data[(2 * Block) + 1] ^= 1;

        PieceCheckResult r = verifier.Verify(piece, data, t.ExpectedBlockHashes(piece));

        Assert.Equal([2], r.BadBlocks);
    }

    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task VerifyStored_MatchesVerifyFromMemory(TorrentVersion version)
    {
        using var dir = new TempDirectory();
        TestTorrent t = Build(version);
        await using var queue = new WorkQueue();
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);
        var verifier = new PieceVerifier(storage.Map, queue);
        await TorrentStorageTests.WriteAllAsync(storage, t);

        for (int p = 0; p < t.Metainfo.PieceCount; p++)
        {
            PieceCheckResult stored = await verifier.VerifyStoredAsync(p, storage, Ct).WaitAsync(Timeout, Ct);
            PieceCheckResult memory = await verifier.VerifyAsync(p, t.Piece(p), Ct).WaitAsync(Timeout, Ct);
            Assert.Equal(PieceVerdict.Good, stored.Verdict);
            Assert.Equal(PieceVerdict.Good, memory.Verdict);
        }
    }

    [Fact]
    public async Task VerifyStored_BigPieceReadInChunks_IsGood()
    {
        // 4 MiB pieces are read in 1 MiB chunks.
        using var dir = new TempDirectory();
        const int big = 4 * 1024 * 1024;
        TestTorrent t = TestTorrent.Build(TorrentVersion.Hybrid, big, [TestFile.Random("a", big + 123_456, 1), TestFile.Random("b", 3_000_000, 2)]);
        await using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);
        await TorrentStorageTests.WriteAllAsync(storage, t);
        var verifier = new PieceVerifier(storage.Map);

        for (int p = 0; p < t.Metainfo.PieceCount; p++)
        {
            Assert.Equal(PieceVerdict.Good, verifier.VerifyStored(p, storage).Verdict);
        }
    }

    [Fact]
    public void VerifyStored_FileMissing_IsMissingNotAnError()
    {
        using var dir = new TempDirectory();
        TestTorrent t = Build(TorrentVersion.V1);
        using TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path);
        var verifier = new PieceVerifier(storage.Map);

        PieceCheckResult r = verifier.VerifyStored(0, storage);

        Assert.Equal(PieceVerdict.Missing, r.Verdict);
        Assert.Contains("big", r.MissingReason, StringComparison.Ordinal);
    }
}
