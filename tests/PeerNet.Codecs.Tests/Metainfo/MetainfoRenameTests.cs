using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>
/// Paths that collide are renamed as libtorrent 2.0.8 renames them (each expectation read back from
/// python3-libtorrent), so a download moved between the clients finds the same files; only collisions libtorrent
/// does not see (non-ASCII case) are still refused.
/// </summary>
public sealed class MetainfoRenameTests
{
    private const int Kib16 = 16384;

    private static TorrentBuilder V1(params string[][] paths) => TorrentBuilder.V1Paths(paths);

    private static TorrentBuilder V2(params string[][] paths) => TorrentBuilder.V2Paths(paths);

    private static string[] Paths(TorrentBuilder b) => [.. b.Parse().Files.Select(f => f.Path)];

    [Fact]
    public void SamePath_TheLaterFileIsRenamed()
    {
        Assert.Equal(["n/a/f", "n/a/f.1"], Paths(V1(["a", "f"], ["a", "f"])));
        Assert.Equal(["n/bar.txt", "n/bar.1.txt", "n/bar.2.txt", "n/bar.1.1.txt"], Paths(V1(["bar.txt"], ["bar.txt"], ["bar.txt"], ["bar.1.txt"])));
        Assert.Equal(["n/x", "n/x.1", "n/x.1.1"], Paths(V1(["x"], ["x"], ["x.1"])));
    }

    [Fact]
    public void SamePath_ExtensionIsAfterTheLastDotOfTheLastElement()
    {
        Assert.Equal(["n/.bashrc", "n/.1.bashrc"], Paths(V1([".bashrc"], [".bashrc"])));
        Assert.Equal(["n/d.x/f", "n/d.x/f.1"], Paths(V1(["d.x", "f"], ["d.x", "f"])));
        Assert.Equal(["n/a.tar.gz", "n/a.tar.1.gz"], Paths(V1(["a.tar.gz"], ["a.tar.gz"])));
    }

    [Theory]
    [InlineData("a", "A", "n/A.1")]
    [InlineData("Readme.TXT", "readme.txt", "n/readme.1.txt")]
    public void AsciiCaseOnly_IsRenamed(string first, string second, string renamed)
        => Assert.Equal(["n/" + first, renamed], Paths(V1([first], [second])));

    [Theory]
    [InlineData("É", "é")]
    [InlineData("ΣΊΣΥΦΟΣ", "σίσυφος")]
    public void NonAsciiCaseOnly_IsStillRefused(string first, string second)
    {
        // libtorrent compares ASCII case only and keeps both; on Windows and macOS they are one file.
        TorrentBuilder b = V1([first], [second]);
        b.RefuseAt(MetainfoErrorCode.DuplicatePath, b.Info);
    }

    [Fact]
    public void StillRefused_MessageShowsC1AndBidiControlsReplaced()
    {
        // C1 controls are legal in a file name, so the paths keep them; the message, shown on terminals, must not.
        TorrentBuilder b = V1(["é\u009b2J"], ["É\u009b2J"]);
        MetainfoError error = b.RefuseAt(MetainfoErrorCode.DuplicatePath, b.Info);
        Assert.Contains("'n/É\uFFFD2J'", error.Message, StringComparison.Ordinal);
        Assert.Equal(-1, DisplayText.IndexOfUnsafe(error.ToString()));
    }

    [Theory]
    [InlineData("a/b", "ab", "n/ab.1")]
    [InlineData("a\u202Eb", "ab", "n/ab.1")]
    [InlineData("x.", "x_", "n/x_.1")]
    [InlineData("con", "_con", "n/_con.1")]
    public void CollisionAfterSanitizing_IsRenamed(string first, string second, string renamed)
        => Assert.Equal(renamed, Paths(V1([first], [second]))[1]);

    [Fact]
    public void CollisionAfterDroppingDots_IsRenamed()
        => Assert.Equal(["n/a/b", "n/a/b.1"], Paths(V1(["a", "b"], ["a", ".", "b"])));

    [Fact]
    public void FileWhereAFolderIs_IsRenamed_WhicheverComesFirst()
    {
        Assert.Equal(["n/a.1", "n/a/b"], Paths(V1(["a"], ["a", "b"])));
        Assert.Equal(["n/A.1", "n/a/b"], Paths(V1(["A"], ["a", "b"])));
        Assert.Equal(["n/a/b", "n/a.1"], Paths(V1(["a", "b"], ["a"])));
        Assert.Equal(["n/x/a/b/c", "n/X/A/b.1"], Paths(V1(["x", "a", "b", "c"], ["X", "A", "b"])));
    }

    [Fact]
    public void V2_CaseOnlyKeys_AreRenamed_FoldersSpelledTwiceAreFine()
    {
        Assert.Equal(["n/dir/A", "n/dir/a.1"], Paths(V2(["dir", "A"], ["dir", "a"])));
        Assert.Equal(["n/Dir/x", "n/dir/y"], Paths(V2(["Dir", "x"], ["dir", "y"])));
    }

    [Fact]
    public void SharedFolders_AreNoCollision()
        => Assert.Equal(4, Paths(V1(["a", "b", "c"], ["a", "b", "d"], ["a", "e"], ["f"])).Length);

    [Fact]
    public void PadFiles_ShareAPathOnlyWhenOfTheSameLength()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("a", 10), new TestFile("b", 10), new TestFile("c", 10));
        var files = (BList)b.Info["files"]!;
        files.Items.Insert(1, TorrentBuilder.PadEntry(Kib16 - 10));
        files.Items.Insert(3, TorrentBuilder.PadEntry(Kib16 - 10));
        BDict shorter = TorrentBuilder.PadEntry(5);
        shorter["path"] = BValue.StrList(".pad", (Kib16 - 10).ToString(System.Globalization.CultureInfo.InvariantCulture));
        files.Items.Add(shorter);
        byte[] gap = new byte[Kib16 - 10];
        b.SetV1Pieces([.. b.Files[0].Data, .. gap, .. b.Files[1].Data, .. gap, .. b.Files[2].Data, .. new byte[5]]);
        Assert.Equal(["n/a", "n/.pad/16374", "n/b", "n/.pad/16374", "n/c", "n/.pad/16374.1"], Paths(b));
    }

    [Fact]
    public void Hybrid_HalvesAreComparedBeforeRenaming()
    {
        TorrentBuilder b = TorrentBuilder.HybridMulti("n", Kib16, new TestFile(["a/b"], TestHashes.Bytes(10, 1)), new TestFile(["ab"], TestHashes.Bytes(10, 2)));
        Assert.Equal(["n/ab", "n/.pad/16374", "n/ab.1"], Paths(b));
    }

    [Fact]
    public void FreeNameThatWouldBeTooLong_IsRefused()
    {
        // 255 '_' (controls are replaced, never cut): 'name.1' is 257 bytes.
        string full = new('\u0001', 255);
        TorrentBuilder b = V1([full], [full]);
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.Info);
    }

    [Fact]
    public void ManyFilesOfOneName_AreRenamedInLinearTime()
    {
        string[][] same = [.. Enumerable.Repeat<string[]>(["a"], 20_000)];
        string[] paths = Paths(V1(same));
        Assert.Equal("n/a", paths[0]);
        Assert.Equal("n/a.19999", paths[^1]);
        Assert.Equal(paths.Length, paths.Distinct(StringComparer.Ordinal).Count());
    }
}
