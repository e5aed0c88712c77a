using System.Text;
using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>Paths through the parser: sanitizing, refusals, limits at the boundary and collisions.</summary>
public sealed class MetainfoPathTests
{
    private const int Kib16 = 16384;

    private static TorrentBuilder V1(params string[][] paths) => TorrentBuilder.V1Multi("n", Kib16, [.. paths.Select((p, i) => new TestFile(p, TestHashes.Bytes(10, i)))]);

    private static TorrentBuilder V2(params string[][] paths) => TorrentBuilder.V2Multi("n", Kib16, [.. paths.Select((p, i) => new TestFile(p, TestHashes.Bytes(10, i)))]);

    [Fact]
    public void V1_UnsafeCharactersAreRewritten()
    {
        TorrentMetainfo t = V1(["C:", "Windows", "con.txt"], ["a/b", "x\\y<z>."], [".", "", "dir", ".", "f"]).Parse();
        Assert.Equal(["n/C_/Windows/_con.txt", "n/a_b/x_y_z__", "n/dir/f"], t.Files.Select(f => f.Path));
    }

    [Fact]
    public void V2_UnsafeKeysAreRewritten()
    {
        TorrentMetainfo t = V2(["C:", "aux"], ["a|b"], ["ok "]).Parse();
        Assert.Equal(["n/C_/_aux", "n/a_b", "n/ok_"], t.Files.Select(f => f.Path));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("a", "..")]
    [InlineData("..", "etc", "passwd")]
    [InlineData("a", "..", "..", "b")]
    [InlineData("a\0b")]
    [InlineData(".")]
    [InlineData("", ".", "")]
    public void V1_UnsafePath_PointsAtThePathList(params string[] path)
    {
        TorrentBuilder b = V1(["ok"], path);
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.V1Entries[1]["path"]!);
    }

    [Fact]
    public void V1_EmptyPathList_IsUnsafe()
    {
        TorrentBuilder b = V1(["ok"], ["x"]);
        b.V1Entries[1]["path"] = BValue.List();
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.V1Entries[1]["path"]!);
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a\0")]
    public void V2_UnsafeKey_PointsAtTheKey(string key)
    {
        TorrentBuilder b = V2(["ok"], ["z"]);
        b.FileTree![key] = new BDict().With("", new BDict().With("length", BValue.Int(0)));
        byte[] data = b.Build();
        int keyOffset = data.AsSpan().IndexOf(Encoding.UTF8.GetBytes($"{Encoding.UTF8.GetByteCount(key)}:{key}d0:d6:length"));
        Assert.True(keyOffset > 0);
        Assert.Equal(keyOffset, b.Refuse(MetainfoErrorCode.UnsafePath).Offset);
    }

    [Fact]
    public void V2_UnsafeKeyInASubfolder_IsRefused()
    {
        TorrentBuilder b = V2(["dir", "ok"], ["z"]);
        ((BDict)b.FileTree!["dir"]!)[".."] = new BDict().With("", new BDict().With("length", BValue.Int(0)));
        b.Refuse(MetainfoErrorCode.UnsafePath);
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("")]
    [InlineData("a\0")]
    public void UnsafeName_PointsAtTheName(string name)
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Info["name"] = BValue.Str(name);
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.Info["name"]!);
    }

    [Fact]
    public void UnsafeNameUtf8_IsRefusedEvenWithASafeName()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Info["name.utf-8"] = BValue.Str("..");
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.Info["name.utf-8"]!);
    }

    [Fact]
    public void Name_IsSanitizedLikeASegment()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("C:/evil", Kib16, new TestFile("f", 5));
        Assert.Equal("C__evil", b.Parse().Name);
        Assert.Equal("C__evil/f", b.Parse().Files[0].Path);
    }

    [Theory]
    [InlineData("..", "etc")]
    [InlineData("a", "..", "..", "b")]
    [InlineData("..")]
    [InlineData("x\0")]
    public void Symlink_TargetThatEscapes_IsRefused(params string[] target)
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("real", 5), new TestFile("link", 0) { Attr = "l" });
        b.V1Entries[1]["symlink path"] = BValue.StrList(target);
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.V1Entries[1]["symlink path"]!);
    }

    [Fact]
    public void Symlink_WithoutATargetList_IsRefused()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("real", 5), new TestFile("link", 0) { Attr = "l" });
        b.RefuseAt(MetainfoErrorCode.MissingKey, b.V1Entries[1]);
        b.V1Entries[1]["symlink path"] = BValue.Str("real");
        b.RefuseAt(MetainfoErrorCode.MissingKey, b.V1Entries[1]);
    }

    [Fact]
    public void Symlink_TargetWithSeparatorsInASegment_IsRewrittenNotFollowed()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("real", 5), new TestFile("link", 0) { Attr = "l" });
        b.V1Entries[1]["symlink path"] = BValue.StrList("/etc/passwd");
        Assert.Equal("_etc_passwd", b.Parse().Files[1].SymlinkTarget);
    }

    [Fact]
    public void SegmentLimit_V1_255BytesKept_256Refused()
    {
        V1([new string('a', 255)], ["b"]).Parse();
        V1([string.Concat(Enumerable.Repeat("é", 127)) + "a"], ["b"]).Parse(); // 255 bytes
        TorrentBuilder b = V1(["ok"], [new string('a', 256)]);
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.V1Entries[1]["path"]!);
        b = V1(["ok"], [string.Concat(Enumerable.Repeat("é", 128))]); // 256 bytes
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.V1Entries[1]["path"]!);
    }

    [Fact]
    public void SegmentLimit_V2_255BytesKept_256Refused()
    {
        V2([new string('a', 255)], ["b"]).Parse();
        V2(["b"], [new string('a', 256)]).Refuse(MetainfoErrorCode.UnsafePath);
    }

    [Fact]
    public void SegmentLimit_Name_255BytesKept_256Refused()
    {
        Assert.Equal(255, TorrentBuilder.V1Single(new string('n', 255), 10).Parse().Name.Length);
        TorrentBuilder b = TorrentBuilder.V1Single(new string('n', 256), 10);
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.Info["name"]!);
    }

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

    [Fact]
    public void Collision_ExactDuplicate()
    {
        TorrentBuilder b = V1(["a", "f"], ["a", "f"]);
        b.RefuseAt(MetainfoErrorCode.DuplicatePath, b.Info);
    }

    [Theory]
    [InlineData("a", "A")]
    [InlineData("Readme.TXT", "readme.txt")]
    [InlineData("É", "é")]
    [InlineData("ΣΊΣΥΦΟΣ", "σίσυφος")]
    public void Collision_CaseOnly(string first, string second)
    {
        TorrentBuilder b = V1([first], [second]);
        b.RefuseAt(MetainfoErrorCode.DuplicatePath, b.Info);
    }

    [Fact]
    public void Collision_PathsWithC1AndBidiControls_MessageShowsThemReplaced()
    {
        // Both are legal in a file name, so the paths keep them; the message, shown on terminals, must not.
        TorrentBuilder b = V1(["a\u009b2J\u202e"], ["A\u009b2J\u202e"]);
        MetainfoError error = b.RefuseAt(MetainfoErrorCode.DuplicatePath, b.Info);
        Assert.Contains("'n/a\uFFFD2J\uFFFD'", error.Message, StringComparison.Ordinal);
        Assert.Equal(-1, DisplayText.IndexOfUnsafe(error.ToString()));
    }

    [Fact]
    public void Collision_DifferentLengthCaseFoldingIsNotACollision()
    {
        // Ordinal case-insensitive comparison does not fold ß to SS; neither do NTFS or APFS.
        V1(["Straße"], ["STRASSE"]).Parse();
    }

    [Fact]
    public void Collision_FileThenFolder()
    {
        TorrentBuilder b = V1(["a"], ["a", "b"]);
        b.RefuseAt(MetainfoErrorCode.DuplicatePath, b.Info);
        b = V1(["A"], ["a", "b"]);
        b.RefuseAt(MetainfoErrorCode.DuplicatePath, b.Info);
    }

    [Fact]
    public void Collision_FolderThenFile()
    {
        TorrentBuilder b = V1(["a", "b"], ["a"]);
        b.RefuseAt(MetainfoErrorCode.DuplicatePath, b.Info);
        b = V1(["x", "a", "b", "c"], ["X", "A", "b"]);
        b.RefuseAt(MetainfoErrorCode.DuplicatePath, b.Info);
    }

    [Theory]
    [InlineData("a/b", "a_b")]
    [InlineData("x.", "x_")]
    [InlineData("con", "_con")]
    public void Collision_AfterSanitizing(string first, string second)
    {
        TorrentBuilder b = V1([first], [second]);
        b.RefuseAt(MetainfoErrorCode.DuplicatePath, b.Info);
    }

    [Fact]
    public void Collision_AfterDroppingDotSegments()
    {
        TorrentBuilder b = V1(["a", "b"], ["a", ".", "b"]);
        b.RefuseAt(MetainfoErrorCode.DuplicatePath, b.Info);
    }

    [Fact]
    public void Collision_V2CaseOnlyKeys()
    {
        TorrentBuilder b = V2(["dir", "A"], ["dir", "a"]);
        b.RefuseAt(MetainfoErrorCode.DuplicatePath, b.Info);
        b = V2(["Dir", "x"], ["dir", "y"]);
        b.Parse(); // the same folder spelled twice is not a collision of files
    }

    [Fact]
    public void Collision_SharedFoldersAreFine()
    {
        TorrentMetainfo t = V1(["a", "b", "c"], ["a", "b", "d"], ["a", "e"], ["f"]).Parse();
        Assert.Equal(4, t.Files.Count);
    }

    [Fact]
    public void PadFilesWithTheSamePath_DoNotCollide()
    {
        TorrentBuilder b = TorrentBuilder.HybridMulti("n", Kib16, new TestFile("a", 100), new TestFile("b", 100), new TestFile("c", 100));
        TorrentMetainfo t = b.Parse();
        TorrentFile[] pads = [.. t.Files.Where(f => f.IsPadFile)];
        Assert.Equal(2, pads.Length);
        Assert.Equal(pads[0].Path, pads[1].Path);
    }

    [Fact]
    public void PadFileNamedLikeARealFile_DoesNotCollide()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("a", 10));
        BDict pad = TorrentBuilder.PadEntry(10);
        pad["path"] = BValue.StrList("a");
        ((BList)b.Info["files"]!).Items.Insert(0, pad);
        b.SetV1Pieces([.. new byte[10], .. b.Files[0].Data]);
        Assert.Equal(2, b.Parse().Files.Count);
    }
}
