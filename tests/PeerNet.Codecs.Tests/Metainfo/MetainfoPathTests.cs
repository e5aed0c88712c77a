using System.Text;
using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>
/// Paths through the parser: sanitized as libtorrent 2.0.8 names them (expectations read back from
/// python3-libtorrent), PeerNet's Windows rules on top, and the limits at their boundary. Renaming of colliding
/// paths is in <see cref="MetainfoRenameTests"/>.
/// </summary>
public sealed class MetainfoPathTests
{
    private const int Kib16 = 16384;

    private static TorrentBuilder V1(params string[][] paths) => TorrentBuilder.V1Paths(paths);

    private static TorrentBuilder V2(params string[][] paths) => TorrentBuilder.V2Paths(paths);

    [Fact]
    public void V1_UnsafeCharactersAreRewritten()
    {
        TorrentMetainfo t = V1(["C:", "Windows", "con.txt"], ["a/b", "x\\y<z>."], [".", "", "dir", ".", "f"]).Parse();
        Assert.Equal(["n/C_/Windows/_con.txt", "n/ab/xy_z__", "n/_/dir/f"], t.Files.Select(f => f.Path));
    }

    [Fact]
    public void V2_UnsafeKeysAreRewritten()
    {
        TorrentMetainfo t = V2(["C:", "aux"], ["a|b"], ["ok "]).Parse();
        Assert.Equal(["n/C_/_aux", "n/a_b", "n/ok_"], t.Files.Select(f => f.Path));
    }

    [Theory]
    [InlineData("n/_", "..")]
    [InlineData("n/a", "a", "..")]
    [InlineData("n/etc/passwd", "..", "etc", "passwd")]
    [InlineData("n/a/b", "a", "..", "..", "b")]
    [InlineData("n/ab", "a\0b")]
    [InlineData("n/_", ".")]
    [InlineData("n/_/_", "", ".", "")]
    [InlineData("n/etcpasswd", "/etc/passwd")]
    [InlineData("n/x", "..\0\u202E/", "..\u200F", "x")] // still '..' once NUL, bidi controls and '/' are gone
    [InlineData("n/..a/...x", "..a", "...x")] // more than two dots is a name
    public void V1_TraversalDotsAndSeparators_AreDroppedOrRemoved_AsLibtorrent(string expected, params string[] path)
        => Assert.Equal(["n/ok", expected], V1(["ok"], path).Parse().Files.Select(f => f.Path));

    [Fact]
    public void V1_EmptyPathList_IsUnsafe()
    {
        TorrentBuilder b = V1(["ok"], ["x"]);
        b.V1Entries[1]["path"] = BValue.List();
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.V1Entries[1]["path"]!);
    }

    [Fact]
    public void V2_KeyThatStaysTooLong_PointsAtTheKey()
    {
        // 256 control characters are 256 '_': libtorrent's cut only follows a valid character.
        string key = new('\u0001', 256);
        TorrentBuilder b = V2(["ok"], ["z"]);
        b.FileTree![key] = new BDict().With("", new BDict().With("length", BValue.Int(0)));
        byte[] data = b.Build();
        int keyOffset = data.AsSpan().IndexOf(Encoding.UTF8.GetBytes($"256:{key}d0:d6:length"));
        Assert.True(keyOffset > 0);
        Assert.Equal(keyOffset, b.Refuse(MetainfoErrorCode.UnsafePath).Offset);
    }

    [Theory]
    [InlineData("a\0", "n/a")]
    [InlineData("/x", "n/x")]
    [InlineData("/", "n/_")] // libtorrent strips a key's leading '/' first, so nothing is left but an empty element
    [InlineData("..", "n.1")] // dropped: the file takes its folder's path, which is taken
    [InlineData(".", "n.1")]
    public void V2_Keys_AreSanitizedAsLibtorrent(string key, string expected)
    {
        TorrentBuilder b = V2(["ok"], ["z"]);
        b.FileTree![key] = new BDict().With("", new BDict().With("length", BValue.Int(0)));
        Assert.Contains(expected, b.Parse().Files.Select(f => f.Path));
    }

    [Fact]
    public void V2_DroppedFolderKeys_MergeIntoTheParent()
    {
        TorrentBuilder b = V2(["dir", "ok"], ["z"]);
        ((BDict)b.FileTree!["dir"]!)[".."] = new BDict().With("x", new BDict().With("", new BDict().With("length", BValue.Int(0))));
        ((BDict)b.FileTree!["dir"]!)["."] = new BDict().With("", new BDict().With("length", BValue.Int(0)));
        Assert.Equal(["n/dir.1", "n/dir/x", "n/dir/ok", "n/z"], b.Parse().Files.Select(f => f.Path));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("")]
    [InlineData("/")]
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
        Assert.Equal("C_evil", b.Parse().Name);
        Assert.Equal("C_evil/f", b.Parse().Files[0].Path);
        Assert.Equal("ab", TorrentBuilder.V1Single("a\0b", 10).Parse().Name);
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("/")]
    public void MultiFileName_WithNothingLeft_IsTheInfoHash_AsLibtorrent(string name)
    {
        TorrentMetainfo t = TorrentBuilder.V1Multi(name, Kib16, new TestFile("f", 5)).Parse();
        Assert.Equal(t.InfoHashes.V1!.Value.ToString(), t.Name);
        Assert.Equal(t.Name + "/f", t.Files[0].Path);
        Assert.Equal("_", TorrentBuilder.V1Multi("", Kib16, new TestFile("f", 5)).Parse().Name);
    }

    [Theory]
    [InlineData("..", "etc")]
    [InlineData("a", "..", "..", "b")]
    [InlineData("x\0")]
    [InlineData("/etc/passwd")]
    [InlineData("nowhere")]
    public void Symlink_TargetOutsideTheTorrent_PointsToItself_AsLibtorrent(params string[] target)
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("real", 5), new TestFile("link", 0) { Attr = "l" });
        b.V1Entries[1]["symlink path"] = BValue.StrList(target);
        TorrentFile link = b.Parse().Files[1];
        Assert.True(link.IsSymlink);
        Assert.Equal("link", link.SymlinkTarget);
    }

    [Theory]
    [InlineData("real", "real")]
    [InlineData("dir", "dir")]
    [InlineData("dir/inner", "dir/inner")]
    [InlineData("inner", "dir/inner", "dir")] // relative to the link's folder, rewritten from the name folder
    [InlineData("to-dir/inner", "to-dir/inner")] // through another link of the torrent: kept as written
    public void Symlink_TargetInsideTheTorrent_IsKept_AsLibtorrent(string target, string expected, string linkFolder = "")
    {
        string[] linkPath = linkFolder.Length == 0 ? ["link"] : [linkFolder, "link"];
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("real", 5), new TestFile(["dir", "inner"], TestHashes.Bytes(5, 2)), new TestFile(["to-dir"], []) { Attr = "l" }, new TestFile(linkPath, []) { Attr = "l" });
        b.V1Entries[2]["symlink path"] = BValue.StrList("dir");
        b.V1Entries[3]["symlink path"] = BValue.StrList(target.Split('/'));
        Assert.Equal(expected, b.Parse().Files[3].SymlinkTarget);
    }

    [Theory]
    [InlineData(false, null)]
    [InlineData(true, "..")]
    [InlineData(true, "")]
    public void Symlink_WithNoTargetLeft_IsAnEmptyFile_AsLibtorrent(bool hasList, string? only)
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("real", 5), new TestFile("link", 0) { Attr = "l" });
        if (hasList)
        {
            b.V1Entries[1]["symlink path"] = only is null ? BValue.List() : BValue.StrList(only == "" ? [] : [only]);
        }

        b.V1Entries[1]["length"] = BValue.Int(7); // ignored: an 'l' entry never has bytes
        TorrentFile entry = b.Parse().Files[1];
        Assert.False(entry.IsSymlink);
        Assert.Equal(0, entry.Length);
    }

    [Fact]
    public void Symlink_TargetWithSeparatorsInASegment_IsRewrittenNotFollowed()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("real", 5), new TestFile("link", 0) { Attr = "l" });
        b.V1Entries[1]["symlink path"] = BValue.StrList("re/al");
        Assert.Equal("real", b.Parse().Files[1].SymlinkTarget);
    }

    [Fact]
    public void SegmentLimit_V1_LongNamesAreCutAt240_RunsOfUnderscoresOver255Refused()
    {
        Assert.Equal("n/" + new string('a', 240), V1([new string('a', 300)], ["b"]).Parse().Files[0].Path);
        Assert.Equal("n/" + new string('a', 240) + ".txt", V1([new string('a', 300) + ".txt"], ["b"]).Parse().Files[0].Path);
        V1([new string('\u0001', 255)], ["b"]).Parse();
        TorrentBuilder b = V1(["ok"], [new string('\u0001', 256)]);
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.V1Entries[1]["path"]!);
    }

    [Fact]
    public void SegmentLimit_V2_LongKeysAreCutAt240()
        => Assert.Equal("n/" + new string('a', 240) + ".mkv", V2([new string('a', 256) + ".mkv"], ["b"]).Parse().Files[0].Path);

    [Fact]
    public void SegmentLimit_Name_IsCutAt240()
    {
        Assert.Equal(new string('n', 240) + ".iso", TorrentBuilder.V1Single(new string('n', 300) + ".iso", 10).Parse().Name);
        TorrentBuilder b = TorrentBuilder.V1Single(new string('\u0001', 256), 10);
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.Info["name"]!);
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
    public void PadFileNamedLikeARealFile_TakesThePathFirst_AsLibtorrent()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("a", 10));
        BDict pad = TorrentBuilder.PadEntry(10);
        pad["path"] = BValue.StrList("a");
        ((BList)b.Info["files"]!).Items.Insert(0, pad);
        b.SetV1Pieces([.. new byte[10], .. b.Files[0].Data]);
        Assert.Equal(["n/a", "n/a.1"], b.Parse().Files.Select(f => f.Path));
    }
}
