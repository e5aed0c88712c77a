using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

public sealed class PieceMapTests
{
    private const int P = 16 * 1024;

    private static TestTorrent MixedV1() => TestTorrent.Build(TorrentVersion.V1, P,
    [
        TestFile.Random("a", 10_000, 1),
        new TestFile("empty", []),
        TestFile.Random("b", 30_000, 2),
        TestFile.Random("c", 5, 3),
        TestFile.Random("d", 20_000, 4),
    ]);

    [Fact]
    public void Map_RangeSpanningThreeFiles_ReturnsSlicesInOrder()
    {
        var map = new PieceMap(MixedV1().Metainfo);

        // Piece 2 starts at 32768: the tail of b (10000..40000), all of c, the head of d.
        List<FileSlice> slices = map.Map(2, 0, P);

        Assert.Equal(
        [
            new FileSlice(2, 22_768, 7_232, 0),
            new FileSlice(3, 0, 5, 7_232),
            new FileSlice(4, 0, 9_147, 7_237),
        ], slices);
    }

    [Fact]
    public void Map_EmptyFileBetweenFiles_IsSkipped()
    {
        var map = new PieceMap(MixedV1().Metainfo);

        List<FileSlice> slices = map.Map(0, 9_000, 2_000);

        Assert.Equal([new FileSlice(0, 9_000, 1_000, 0), new FileSlice(2, 0, 1_000, 1_000)], slices);
        Assert.False(map.IsStored(1));
        Assert.Equal(0, map.GetPieceRange(1).Count);
    }

    [Fact]
    public void Map_PadFile_IsSkippedAndLeavesAHole()
    {
        TestTorrent t = TestTorrent.Build(TorrentVersion.V1, P, [TestFile.Random("a", 10_000, 1), TestFile.Random("b", 20_000, 2)], padFiles: true);
        var map = new PieceMap(t.Metainfo);
        Assert.True(t.Metainfo.Files[1].IsPadFile);

        Assert.Equal([new FileSlice(0, 8_000, 2_000, 0)], map.Map(0, 8_000, P - 8_000));
        Assert.Equal([new FileSlice(0, 0, 10_000, 0)], map.Map(0, 0, P));
        Assert.Equal([new FileSlice(2, 0, P, 0)], map.Map(1, 0, P));
        Assert.Equal(-1, map.FindFile(12_000));
    }

    [Fact]
    public void Map_V2_FilesStartOnPieceBoundariesWithGaps()
    {
        TestTorrent t = TestTorrent.Build(TorrentVersion.V2, P, [TestFile.Random("a", 10_000, 1), TestFile.Random("b", 20_000, 2)]);
        var map = new PieceMap(t.Metainfo);

        Assert.Equal(P + 20_000, map.SpaceSize);
        Assert.Equal([new FileSlice(0, 0, 10_000, 0)], map.Map(0, 0, P));
        Assert.Equal(10_000, map.GetV2DataLength(0));
        Assert.Equal(P, map.GetV2DataLength(1));
        Assert.Equal(20_000 - P, map.GetV2DataLength(2));
        Assert.Equal(1, map.GetV2File(2));
        Assert.Equal(new PieceRange(1, 2), map.GetPieceRange(1));
    }

    [Fact]
    public void GetPieceRange_FileSpanningPieces_CoversFirstToLast()
    {
        var map = new PieceMap(MixedV1().Metainfo);

        Assert.Equal(new PieceRange(0, 1), map.GetPieceRange(0));
        Assert.Equal(new PieceRange(0, 3), map.GetPieceRange(2));   // 10000..40000
        Assert.Equal(new PieceRange(2, 1), map.GetPieceRange(3));   // 40000..40005
        Assert.Equal(new PieceRange(2, 2), map.GetPieceRange(4));   // 40005..60005
        Assert.Equal(60_005 - (3 * P), map.GetPieceSize(3));
    }

    [Fact]
    public void GetSlices_RangeOutsidePiece_Throws()
    {
        var map = new PieceMap(MixedV1().Metainfo);

        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetSlices(3, 0, P));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetSlices(4, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.GetSlices(0, -1, 1));
    }

    [Fact]
    public void GetSlices_RandomRangesOverManyFiles_MatchLinearScan()
    {
        var random = new Random(42);
        var files = new List<TestFile>();
        for (int i = 0; i < 300; i++)
        {
            int length = random.Next(4) == 0 ? 0 : random.Next(1, 40_000);
            files.Add(new TestFile($"f{i:D3}", new byte[length]));
        }

        TestTorrent t = TestTorrent.Build(TorrentVersion.V1, P, files, padFiles: true);
        var map = new PieceMap(t.Metainfo);
        for (int n = 0; n < 2_000; n++)
        {
            long offset = random.NextInt64(map.SpaceSize);
            int length = (int)Math.Min(random.Next(0, 3 * P), map.SpaceSize - offset);
            var actual = new List<FileSlice>();
            foreach (FileSlice s in map.GetSlices(offset, length))
            {
                actual.Add(s);
            }

            Assert.Equal(Linear(t.Metainfo, offset, length), actual);
        }
    }

    private static List<FileSlice> Linear(TorrentMetainfo m, long offset, int length)
    {
        var result = new List<FileSlice>();
        for (int i = 0; i < m.Files.Count; i++)
        {
            TorrentFile f = m.Files[i];
            if (f.IsPadFile || f.Length == 0)
            {
                continue;
            }

            long s = Math.Max(f.Offset, offset);
            long e = Math.Min(f.Offset + f.Length, offset + length);
            if (e > s)
            {
                result.Add(new FileSlice(i, s - f.Offset, (int)(e - s), (int)(s - offset)));
            }
        }

        return result;
    }
}
