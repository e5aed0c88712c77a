using System.Text;
using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>The parser's limits at their boundary: depth, path bytes, files, pieces, piece length, trackers.</summary>
public sealed class MetainfoLimitTests
{
    private const int Kib16 = 16384;

    private static TorrentBuilder V1(params string[][] paths) => TorrentBuilder.V1Paths(paths);

    private static TorrentBuilder V2(params string[][] paths) => TorrentBuilder.V2Paths(paths);

    [Fact]
    public void DepthLimit_V1_64SegmentsKept_65Refused()
    {
        string[] deep = [.. Enumerable.Range(0, 64).Select(i => $"d{i}")];
        Assert.Equal(65, V1(deep, ["b"]).Parse().Files.Max(f => f.Path.Split('/').Length));
        TorrentBuilder b = V1(["b"], [.. deep, "x"]);
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.V1Entries[1]["path"]!);
    }

    [Fact]
    public void DepthLimit_V2_64SegmentsKept_65Refused()
    {
        string[] deep = [.. Enumerable.Range(0, 64).Select(i => $"d{i}")];
        Assert.Equal(65, V2(deep, ["b"]).Parse().Files.Max(f => f.Path.Split('/').Length));
        V2(["b"], [.. deep, "x"]).Refuse(MetainfoErrorCode.UnsafePath);
    }

    [Fact]
    public void DepthLimit_Custom()
    {
        var limits = new MetainfoLimits { MaxPathDepth = 2 };
        V1(["a", "b"]).Parse(limits);
        V2(["a", "b"], ["c"]).Parse(limits);
        V1(["a", "b", "c"]).Refuse(MetainfoErrorCode.UnsafePath, limits);
        V2(["a", "b", "c"], ["d"]).Refuse(MetainfoErrorCode.UnsafePath, limits);
    }

    /// <summary>Segments under <paramref name="name"/> so that "name/…" is exactly <paramref name="total"/> UTF-8 bytes.</summary>
    internal static string[] PathOfTotalLength(int total, string name = "n")
    {
        var segments = new List<string>();
        int remaining = total - Encoding.UTF8.GetByteCount(name);
        while (remaining > 202)
        {
            segments.Add(new string('s', 200));
            remaining -= 201;
        }

        segments.Add(new string('t', remaining - 1));
        Assert.Equal(total, Encoding.UTF8.GetByteCount(name + "/" + string.Join('/', segments)));
        return [.. segments];
    }

    [Fact]
    public void PathLimit_V2_WholePathOf4096BytesKept_4097Refused()
    {
        Assert.Equal(4096, V2(PathOfTotalLength(4096), ["b"]).Parse().Files.Max(f => Encoding.UTF8.GetByteCount(f.Path)));
        V2(PathOfTotalLength(4097), ["b"]).Refuse(MetainfoErrorCode.UnsafePath);
    }

    [Fact]
    public void PathLimit_V1_WholePathOf4096BytesKept()
    {
        Assert.Equal(4096, Encoding.UTF8.GetByteCount(V1(PathOfTotalLength(4096)).Parse().Files[0].Path));
        TorrentBuilder b = V1(["ok"], PathOfTotalLength(5000));
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.V1Entries[1]["path"]!);
    }

    [Fact]
    public void MaxFiles_V1_AtLimitKept_OverRefusedAtTheExtraEntry()
    {
        var limits = new MetainfoLimits { MaxFiles = 3 };
        V1(["a"], ["b"], ["c"]).Parse(limits);
        TorrentBuilder b = V1(["a"], ["b"], ["c"], ["d"]);
        b.RefuseAt(MetainfoErrorCode.LimitExceeded, b.V1Entries[3], limits);
    }

    [Fact]
    public void MaxFiles_V2_AtLimitKept_OverRefusedAtTheExtraFile()
    {
        var limits = new MetainfoLimits { MaxFiles = 3 };
        V2(["a"], ["b"], ["c"]).Parse(limits);
        TorrentBuilder b = V2(["a"], ["b"], ["c"], ["d"]);
        b.RefuseAt(MetainfoErrorCode.LimitExceeded, b.FileTree!["d"]!, limits);
    }

    [Fact]
    public void MaxFiles_CountsPadFiles()
    {
        TorrentBuilder b = TorrentBuilder.HybridMulti("n", Kib16, new TestFile("a", 10), new TestFile("b", 10), new TestFile("c", 10));
        Assert.Equal(5, b.V1Entries.Count);
        b.Parse(new MetainfoLimits { MaxFiles = 5 });
        b.RefuseAt(MetainfoErrorCode.LimitExceeded, b.V1Entries[4], new MetainfoLimits { MaxFiles = 4 });
    }

    [Fact]
    public void MaxFiles_BoundsPieceLayers()
    {
        TorrentBuilder b = TorrentBuilder.V2Single("f", 3 * Kib16);
        b.PieceLayers!.Set([.. Enumerable.Repeat((byte)1, 32)], BValue.Str(new byte[32]));
        b.PieceLayers.Set([.. Enumerable.Repeat((byte)2, 32)], BValue.Str(new byte[32]));
        b.Parse(new MetainfoLimits { MaxFiles = 3 });
        b.Refuse(MetainfoErrorCode.LimitExceeded, new MetainfoLimits { MaxFiles = 2 });
    }

    [Fact]
    public void MaxPieces_AtLimitKept_OverRefused()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", (2 * Kib16) + 1);
        b.Parse(new MetainfoLimits { MaxPieces = 3 });
        b.RefuseAt(MetainfoErrorCode.LimitExceeded, b.Info, new MetainfoLimits { MaxPieces = 2 });

        TorrentBuilder v2 = TorrentBuilder.V2Multi("n", Kib16, new TestFile("a", 1), new TestFile("b", 1));
        v2.Parse(new MetainfoLimits { MaxPieces = 2 }); // each file starts a piece
        v2.RefuseAt(MetainfoErrorCode.LimitExceeded, v2.Info, new MetainfoLimits { MaxPieces = 1 });
    }

    [Fact]
    public void MaxPieceLength_AtLimitKept_OverRefused()
    {
        TorrentBuilder.V2Single("f", 10, pieceLength: 32768).Parse(new MetainfoLimits { MaxPieceLength = 32768 });
        TorrentBuilder b = TorrentBuilder.V2Single("f", 10, pieceLength: 65536);
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.Info["piece length"]!, new MetainfoLimits { MaxPieceLength = 32768 });
        TorrentBuilder.V1Single("f", 10, pieceLength: 128 * 1024 * 1024).Parse();

        // libtorrent's limit, INT_MAX / 2, is the default.
        TorrentBuilder.V1Single("f", 10, pieceLength: int.MaxValue / 2).Parse();
        b = TorrentBuilder.V1Single("f", 10, pieceLength: 1 << 30);
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.Info["piece length"]!);
    }

    [Fact]
    public void MaxTotalPathBytes_V1_AtLimitKept_OverRefusedAtTheFile()
    {
        TorrentBuilder b = V1(["a"], ["bb"]); // "n/a" + "n/bb"
        b.Parse(new MetainfoLimits { MaxTotalPathBytes = 7 });
        b.RefuseAt(MetainfoErrorCode.LimitExceeded, b.V1Entries[1]["path"]!, new MetainfoLimits { MaxTotalPathBytes = 6 });
    }

    [Fact]
    public void MaxTotalPathBytes_V2_AtLimitKept_OverRefusedAtTheFile()
    {
        TorrentBuilder b = V2(["a"], ["bb"]);
        b.Parse(new MetainfoLimits { MaxTotalPathBytes = 7 });
        b.RefuseAt(MetainfoErrorCode.LimitExceeded, b.FileTree!["bb"]!, new MetainfoLimits { MaxTotalPathBytes = 6 });
    }

    [Fact]
    public void MaxTotalPathBytes_HybridPartsCountSeparately()
    {
        TorrentBuilder b = TorrentBuilder.HybridMulti("n", Kib16, new TestFile("a", 10), new TestFile("bb", 10));
        Assert.Equal(19, b.Parse().Files.Sum(f => f.Path.Length)); // "n/a" + "n/.pad/16374" + "n/bb"; v2: 7
        b.Parse(new MetainfoLimits { MaxTotalPathBytes = 19 });
        b.Refuse(MetainfoErrorCode.LimitExceeded, new MetainfoLimits { MaxTotalPathBytes = 18 });
    }

    [Fact]
    public void MaxTrackers_ExtraTrackersAndWebSeedsAreDropped()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Root["announce-list"] = BValue.List(BValue.StrList("http://1", "http://2"), BValue.StrList("http://2", "http://3", "http://4"), BValue.StrList("http://5"));
        b.Root["url-list"] = BValue.StrList("http://w1", "http://w2", "http://w3", "http://w4");
        TorrentMetainfo t = b.Parse(new MetainfoLimits { MaxTrackers = 3 });
        Assert.Equal(2, t.Trackers.Count);
        Assert.Equal(["http://1", "http://2"], t.Trackers[0]);
        Assert.Equal(["http://3"], t.Trackers[1]);
        Assert.Equal(["http://w1", "http://w2", "http://w3"], t.WebSeeds);
    }
}
