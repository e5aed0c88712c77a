using System.Security.Cryptography;
using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

public sealed class MetainfoParseTests
{
    private const int Kib16 = 16384;

    [Fact]
    public void V1Single_ParsesNameSizePiecesAndHash()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("movie.mkv", (2 * Kib16) + 100);
        byte[] data = b.Build();

        TorrentMetainfo t = TorrentMetainfo.Parse(data);

        Assert.Equal(TorrentVersion.V1, t.Version);
        Assert.Equal("movie.mkv", t.Name);
        Assert.False(t.IsMultiFile);
        Assert.Equal(Kib16, t.PieceLength);
        Assert.Equal(3, t.PieceCount);
        Assert.Equal((2 * Kib16) + 100, t.TotalSize);
        Assert.Equal(t.TotalSize, t.PieceSpaceSize);
        TorrentFile f = Assert.Single(t.Files);
        Assert.Equal("movie.mkv", f.Path);
        Assert.Equal(0, f.Offset);
        Assert.Equal((0, 2), (f.FirstPiece, f.LastPiece));
        Assert.False(f.IsPadFile);
        Assert.Null(f.PiecesRoot);
        Assert.Equal(100, t.GetPieceSize(2));
        Assert.Equal(Kib16, t.GetPieceSize(0));
        Assert.Equal(new Sha1Hash(SHA1.HashData(BValue.Encode(b.Info))), t.InfoHashes.V1);
        Assert.Null(t.InfoHashes.V2);
        Assert.Empty(t.PieceLayers);
    }

    [Fact]
    public void V1Multi_PathsIncludeTheNameFolder_OffsetsAreCumulative()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi(
            "album",
            Kib16,
            new TestFile("cd1/01.flac", 20000),
            new TestFile("cd1/02.flac", 0),
            new TestFile("cover.jpg", 13000, seed: 2),
            new TestFile("cd2/deep/x.txt", 1));

        TorrentMetainfo t = b.Parse();

        Assert.True(t.IsMultiFile);
        Assert.Equal(["album/cd1/01.flac", "album/cd1/02.flac", "album/cover.jpg", "album/cd2/deep/x.txt"], t.Files.Select(f => f.Path));
        Assert.Equal([20000L, 0, 13000, 1], t.Files.Select(f => f.Length));
        Assert.Equal([0L, 20000, 20000, 33000], t.Files.Select(f => f.Offset));
        Assert.Equal([(0, 1), (1, 1), (1, 2), (2, 2)], t.Files.Select(f => (f.FirstPiece, f.LastPiece)));
        Assert.Equal(33001, t.TotalSize);
        Assert.Equal(33001, t.PieceSpaceSize);
        Assert.Equal(3, t.PieceCount);
    }

    [Fact]
    public void GetPieceHashV1_ReturnsTheHashOfEachPiece()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("a", 20000), new TestFile("b", 30000, seed: 5));
        TorrentMetainfo t = b.Parse();

        for (int i = 0; i < t.PieceCount; i++)
        {
            int start = i * Kib16;
            byte[] piece = b.V1Stream[start..Math.Min(start + Kib16, b.V1Stream.Length)];
            Assert.Equal(new Sha1Hash(SHA1.HashData(piece)), t.GetPieceHashV1(i));
        }

        Assert.Equal(t.PieceCount * 20, t.PieceHashesV1.Length);
    }

    [Fact]
    public void V2Single_HasRootLayerAndV2HashOnly()
    {
        TorrentBuilder b = TorrentBuilder.V2Single("disk.img", (3 * Kib16) + 7);
        TorrentMetainfo t = b.Parse();

        Assert.Equal(TorrentVersion.V2, t.Version);
        Assert.False(t.IsMultiFile);
        Assert.Null(t.InfoHashes.V1);
        Assert.Equal(new Sha256Hash(SHA256.HashData(BValue.Encode(b.Info))), t.InfoHashes.V2);
        TorrentFile f = Assert.Single(t.Files);
        Assert.Equal("disk.img", f.Path);
        var root = new Sha256Hash(b.Roots["disk.img"]);
        Assert.Equal(root, f.PiecesRoot);
        Assert.Equal(4, t.PieceCount);
        Assert.Equal(b.Layers["disk.img"], t.PieceLayers[root].ToArray());
        Assert.True(t.PieceHashesV1.IsEmpty);
    }

    [Fact]
    public void V2Multi_FilesAreInTreeOrderAndPieceAligned()
    {
        TorrentBuilder b = TorrentBuilder.V2Multi(
            "set",
            Kib16,
            new TestFile("z.bin", 40000),
            new TestFile("a/small.txt", 10, seed: 2),
            new TestFile("a/empty", 0),
            new TestFile("a.txt", Kib16, seed: 3));

        TorrentMetainfo t = b.Parse();

        // Tree order: "a" < "a.txt" < "z.bin" as raw bytes, and within "a": "empty" < "small.txt".
        Assert.Equal(["set/a/empty", "set/a/small.txt", "set/a.txt", "set/z.bin"], t.Files.Select(f => f.Path));
        Assert.Equal([0L, 0, Kib16, 2 * Kib16], t.Files.Select(f => f.Offset));
        Assert.Equal([(0, 0), (0, 0), (1, 1), (2, 4)], t.Files.Select(f => (f.FirstPiece, f.LastPiece)));
        Assert.Equal(40000 + 10 + Kib16, t.TotalSize);
        Assert.Equal((2 * Kib16) + 40000, t.PieceSpaceSize);
        Assert.Equal(5, t.PieceCount);
        Assert.Null(t.Files[0].PiecesRoot);
        Assert.Equal(new Sha256Hash(b.Roots["a/small.txt"]), t.Files[1].PiecesRoot);

        // Only the file longer than a piece has a layer.
        KeyValuePair<Sha256Hash, ReadOnlyMemory<byte>> layer = Assert.Single(t.PieceLayers);
        Assert.Equal(new Sha256Hash(b.Roots["z.bin"]), layer.Key);
        Assert.Equal(b.Layers["z.bin"], layer.Value.ToArray());
    }

    [Theory]
    [InlineData(16384)]
    [InlineData(32768)]
    [InlineData(65536)]
    [InlineData(262144)]
    public void V2_PieceLayersAtEveryPieceLength_VerifyAgainstTheRoot(int pieceLength)
    {
        TorrentBuilder b = TorrentBuilder.V2Multi("n", pieceLength, new TestFile("big", (5 * pieceLength) + 3), new TestFile("exact", 2 * pieceLength, seed: 9));
        TorrentMetainfo t = b.Parse();
        Assert.Equal(2, t.PieceLayers.Count);
        Assert.Equal(6 * 32, t.PieceLayers[new Sha256Hash(b.Roots["big"])].Length);
        Assert.Equal(2 * 32, t.PieceLayers[new Sha256Hash(b.Roots["exact"])].Length);
    }

    [Fact]
    public void V2_MissingPieceLayer_IsAllowed()
    {
        TorrentBuilder b = TorrentBuilder.V2Single("f", 3 * Kib16);
        b.Root["piece layers"] = null;
        TorrentMetainfo t = b.Parse();
        Assert.Empty(t.PieceLayers);
        Assert.NotNull(t.Files[0].PiecesRoot);
    }

    [Fact]
    public void V2_LayerForAnUnknownRoot_IsIgnored()
    {
        TorrentBuilder b = TorrentBuilder.V2Single("f", 3 * Kib16);
        b.PieceLayers!.Set(new byte[32], BValue.Str(new byte[64]));
        Assert.Single(b.Parse().PieceLayers);
    }

    [Fact]
    public void HybridMulti_HasBothHashesPadFilesAndRoots()
    {
        TorrentBuilder b = TorrentBuilder.HybridMulti(
            "h",
            Kib16,
            new TestFile("b.bin", 20000),
            new TestFile("a.bin", 100, seed: 2),
            new TestFile("c/d.bin", 5000, seed: 3));
        byte[] info = BValue.Encode(b.Info);

        TorrentMetainfo t = b.Parse();

        Assert.Equal(TorrentVersion.Hybrid, t.Version);
        Assert.True(t.InfoHashes.IsHybrid);
        Assert.Equal(new Sha1Hash(SHA1.HashData(info)), t.InfoHashes.V1);
        Assert.Equal(new Sha256Hash(SHA256.HashData(info)), t.InfoHashes.V2);
        Assert.Equal(
            ["h/a.bin", "h/.pad/16284", "h/b.bin", "h/.pad/12768", "h/c/d.bin"],
            t.Files.Select(f => f.Path));
        Assert.Equal([false, true, false, true, false], t.Files.Select(f => f.IsPadFile));
        Assert.Equal([0L, 100, Kib16, 20000 + Kib16, 3 * Kib16], t.Files.Select(f => f.Offset));
        Assert.Equal(25100, t.TotalSize);
        Assert.Equal((3 * Kib16) + 5000, t.PieceSpaceSize);
        Assert.Equal(4, t.PieceCount);
        Assert.Equal(new Sha256Hash(b.Roots["b.bin"]), t.Files[2].PiecesRoot);
        Assert.Null(t.Files[1].PiecesRoot);
        Assert.Single(t.PieceLayers);
    }

    [Fact]
    public void HybridSingle_Parses()
    {
        TorrentMetainfo t = TorrentBuilder.HybridSingle("one.iso", (4 * Kib16) + 1).Parse();
        Assert.Equal(TorrentVersion.Hybrid, t.Version);
        Assert.False(t.IsMultiFile);
        Assert.Equal("one.iso", Assert.Single(t.Files).Path);
        Assert.Equal(5, t.PieceCount);
        Assert.Single(t.PieceLayers);
    }

    [Fact]
    public void Hybrid_TrailingPadFileInsideTheLastPiece_IsAccepted()
    {
        TorrentBuilder b = TorrentBuilder.HybridMulti("h", Kib16, new TestFile("a", 100), new TestFile("b", 100, seed: 2));
        var files = (BList)b.Info["files"]!;
        files.Items.Add(TorrentBuilder.PadEntry(Kib16 - 100));
        b.SetV1Pieces([.. b.V1Stream, .. new byte[Kib16 - 100]]);

        TorrentMetainfo t = b.Parse();

        Assert.Equal(200, t.TotalSize);
        Assert.Equal(2 * Kib16, t.PieceSpaceSize);
        Assert.Equal(2, t.PieceCount);
    }

    [Fact]
    public void InfoBytes_AreTheExactSourceSlice()
    {
        TorrentBuilder b = TorrentBuilder.HybridMulti("h", Kib16, new TestFile("a", 100), new TestFile("b", 40000));
        b.Root["comment"] = BValue.Str("zzz after info");
        byte[] data = b.Build();

        TorrentMetainfo t = TorrentMetainfo.Parse(data);

        Assert.Equal(data.AsSpan(b.Info.Offset, BValue.Encode(b.Info).Length).ToArray(), t.InfoBytes.ToArray());
    }

    [Fact]
    public void InfoHashes_AreOverTheBytesAsWritten_EvenWhenInfoKeysAreUnsorted()
    {
        // v1 only: libtorrent refuses unsorted keys in a v2 or hybrid info dictionary (MetainfoCompatTests).
        TorrentBuilder b = TorrentBuilder.V1Multi("h", Kib16, new TestFile("a", 100), new TestFile("b", 40000));
        b.Info.KeepOrder = true;
        b.Info.Entries.Reverse();
        byte[] data = b.Build();
        byte[] info = BValue.Encode(b.Info);
        Assert.NotEqual(BValue.Encode(SortedCopy(b.Info)), info);

        TorrentMetainfo t = TorrentMetainfo.Parse(data);

        Assert.Equal(info, t.InfoBytes.ToArray());
        Assert.Equal(new Sha1Hash(SHA1.HashData(info)), t.InfoHashes.V1);
        Assert.Null(t.InfoHashes.V2);
    }

    [Fact]
    public void TryParseInfoDictionary_ParsesTheInfoAlone()
    {
        TorrentBuilder b = TorrentBuilder.HybridMulti("h", Kib16, new TestFile("a", 100), new TestFile("b", 40000));
        b.Root["announce-list"] = BValue.List(BValue.StrList("http://x/a"));
        TorrentMetainfo full = b.Parse();
        byte[] info = BValue.Encode(b.Info);

        Assert.True(TorrentMetainfo.TryParseInfoDictionary(info, out TorrentMetainfo? t, out MetainfoError error), error.ToString());

        Assert.Equal(full.InfoHashes, t.InfoHashes);
        Assert.Equal(info, t.InfoBytes.ToArray());
        Assert.Equal(full.Files.Select(f => (f.Path, f.Offset, f.Length)), t.Files.Select(f => (f.Path, f.Offset, f.Length)));
        Assert.Empty(t.Trackers);
        Assert.Empty(t.WebSeeds);
        Assert.Empty(t.PieceLayers);
        Assert.NotEmpty(full.PieceLayers);
    }

    [Fact]
    public void TryParseInfoDictionary_RefusesBadInfo()
    {
        Assert.False(TorrentMetainfo.TryParseInfoDictionary("d4:name1:ae"u8.ToArray(), out _, out MetainfoError error));
        Assert.Equal(MetainfoErrorCode.MissingKey, error.Code);
        Assert.False(TorrentMetainfo.TryParseInfoDictionary("i1e"u8.ToArray(), out _, out error));
        Assert.Equal(MetainfoErrorCode.WrongType, error.Code);
        Assert.False(TorrentMetainfo.TryParseInfoDictionary("d4:name"u8.ToArray(), out _, out error));
        Assert.Equal(MetainfoErrorCode.InvalidBencode, error.Code);
    }

    [Fact]
    public void TryParseInfoDictionary_TooLarge_IsRefusedBeforeParsing()
    {
        byte[] info = BValue.Encode(TorrentBuilder.V1Single("f", 10).Info);
        Assert.False(TorrentMetainfo.TryParseInfoDictionary(info, out _, out MetainfoError error, new MetainfoLimits { MaxTorrentSize = info.Length - 1 }));
        Assert.Equal(MetainfoErrorCode.TooLarge, error.Code);
        Assert.Equal(-1, error.Offset);
    }

    [Fact]
    public void Parse_ThrowsMetainfoExceptionCarryingTheError()
    {
        MetainfoException e = Assert.Throws<MetainfoException>(() => TorrentMetainfo.Parse("de"u8.ToArray()));
        Assert.Equal(MetainfoErrorCode.MissingKey, e.Error.Code);
        Assert.Contains("info", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Private_OnlyTheInteger1Counts()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        Assert.False(b.Parse().IsPrivate);
        b.Info["private"] = BValue.Int(1);
        Assert.True(b.Parse().IsPrivate);
        b.Info["private"] = BValue.Int(0);
        Assert.False(b.Parse().IsPrivate);
        b.Info["private"] = BValue.Str("1");
        Assert.False(b.Parse().IsPrivate);
    }

    [Fact]
    public void Trackers_AnnounceAloneIsOneTier()
    {
        TorrentMetainfo t = TorrentBuilder.V1Single("f", 10).Parse();
        Assert.Equal([TorrentBuilder.Tracker], Assert.Single(t.Trackers));
    }

    [Fact]
    public void Trackers_AnnounceListTiersWinAndAreDeduplicatedAndTrimmed()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Root["announce-list"] = BValue.List(
            BValue.StrList("http://a/1", "udp://b:80", " http://a/1 "),
            BValue.StrList(),
            BValue.List(BValue.Int(5), BValue.Str(""), BValue.Str("   ")),
            BValue.StrList("udp://b:80", "http://c/3"),
            BValue.Str("not a tier"));

        TorrentMetainfo t = b.Parse();

        Assert.Equal(2, t.Trackers.Count);
        Assert.Equal(["http://a/1", "udp://b:80"], t.Trackers[0]);
        Assert.Equal(["http://c/3"], t.Trackers[1]);
        Assert.DoesNotContain(t.Trackers.SelectMany(x => x), u => u == TorrentBuilder.Tracker);
    }

    [Fact]
    public void Trackers_EmptyOrUselessAnnounceList_FallsBackToAnnounce()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Root["announce-list"] = BValue.List(BValue.StrList(), BValue.List(BValue.Int(1)));
        Assert.Equal([TorrentBuilder.Tracker], Assert.Single(b.Parse().Trackers));

        b.Root["announce-list"] = BValue.Str("http://wrong/type");
        Assert.Equal([TorrentBuilder.Tracker], Assert.Single(b.Parse().Trackers));
    }

    [Fact]
    public void Trackers_NoneAtAll_IsEmpty()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Root["announce"] = null;
        Assert.Empty(b.Parse().Trackers);
        b.Root["announce"] = BValue.Int(3);
        Assert.Empty(b.Parse().Trackers);
    }

    [Fact]
    public void WebSeeds_UrlListAsStringOrList()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        Assert.Empty(b.Parse().WebSeeds);

        b.Root["url-list"] = BValue.Str("http://seed/f");
        Assert.Equal(["http://seed/f"], b.Parse().WebSeeds);

        b.Root["url-list"] = BValue.List(BValue.Str("http://s1/"), BValue.Int(7), BValue.Str(""), BValue.Str("http://s2/"), BValue.Str(" http://s1/ "));
        Assert.Equal(["http://s1/", "http://s2/"], b.Parse().WebSeeds);

        b.Root["url-list"] = BValue.Str("");
        Assert.Empty(b.Parse().WebSeeds);
    }

    [Fact]
    public void OptionalFields_CommentCreatedByCreationDate()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        TorrentMetainfo t = b.Parse();
        Assert.Null(t.Comment);
        Assert.Null(t.CreatedBy);
        Assert.Null(t.CreationDate);

        b.Root["comment"] = BValue.Str("plain");
        b.Root["created by"] = BValue.Str("mktorrent 1.1");
        b.Root["creation date"] = BValue.Int(1_700_000_000);
        t = b.Parse();
        Assert.Equal("plain", t.Comment);
        Assert.Equal("mktorrent 1.1", t.CreatedBy);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), t.CreationDate);

        b.Root["comment.utf-8"] = BValue.Str("ünïcödé");
        b.Root["creation date"] = BValue.Int(-1);
        t = b.Parse();
        Assert.Equal("ünïcödé", t.Comment);
        Assert.Null(t.CreationDate);

        b.Root["creation date"] = BValue.Int(long.MaxValue);
        b.Root["created by"] = BValue.Int(1);
        t = b.Parse();
        Assert.Null(t.CreationDate);
        Assert.Null(t.CreatedBy);
    }

    [Fact]
    public void Attributes_ExecutableHiddenMtime()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("run.sh", 5) { Attr = "x" }, new TestFile(".hidden", 5) { Attr = "hx" }, new TestFile("plain", 5));
        b.V1Entries[2]["mtime"] = BValue.Int(1234);
        TorrentMetainfo t = b.Parse();
        Assert.Equal([true, true, false], t.Files.Select(f => f.IsExecutable));
        Assert.Equal([false, true, false], t.Files.Select(f => f.IsHidden));
        Assert.Equal([null, null, 1234L], t.Files.Select(f => f.ModificationTime));
        Assert.All(t.Files, f => Assert.False(f.IsSymlink));
    }

    [Fact]
    public void Attributes_SingleFileExecutable()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("tool", 10);
        b.Info["attr"] = BValue.Str("x");
        Assert.True(b.Parse().Files[0].IsExecutable);
    }

    [Fact]
    public void Attributes_V2LeafExecutable()
    {
        TorrentMetainfo t = TorrentBuilder.V2Multi("n", Kib16, new TestFile("run", 5) { Attr = "x" }, new TestFile("doc", 5)).Parse();
        Assert.Equal([false, true], t.Files.Select(f => f.IsExecutable));
    }

    [Fact]
    public void Symlink_TargetIsSanitizedRelativeToTheRoot()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("real/file", 5), new TestFile("link", 0) { Attr = "l" });
        b.V1Entries[1]["symlink path"] = BValue.StrList("real", ".", "file");
        TorrentMetainfo t = b.Parse();
        Assert.True(t.Files[1].IsSymlink);
        Assert.Equal("real/file", t.Files[1].SymlinkTarget);
        Assert.Null(t.Files[0].SymlinkTarget);
    }

    [Fact]
    public void LegacyBitCometPadFile_IsAPadFile()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("a", 100), new TestFile("_____padding_file_0_if you see this file, please update to BitComet 0.85 or above____", Kib16 - 100), new TestFile("b", 10));
        TorrentMetainfo t = b.Parse();
        Assert.Equal([false, true, false], t.Files.Select(f => f.IsPadFile));
        Assert.Equal(110, t.TotalSize);
        Assert.Equal(Kib16 + 10, t.PieceSpaceSize);
    }

    [Fact]
    public void NameUtf8_IsPreferredOverName()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Info["name"] = BValue.Str([0xC4, 0xE3]); // GBK bytes, not UTF-8
        b.Info["name.utf-8"] = BValue.Str("你");
        Assert.Equal("你", b.Parse().Name);

        b.Info["name.utf-8"] = BValue.Int(1);
        Assert.Equal("_", b.Parse().Name); // one '_' per invalid sequence (C4 E3), as libtorrent
    }

    [Fact]
    public void PathUtf8_IsPreferredOverPath()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("x", 10));
        b.V1Entries[0]["path"] = BValue.List(BValue.Str([0xC4, 0xE3]));
        b.V1Entries[0]["path.utf-8"] = BValue.StrList("dir", "你");
        Assert.Equal("n/dir/你", b.Parse().Files[0].Path);

        b.V1Entries[0]["path.utf-8"] = BValue.Str("not a list");
        Assert.Equal("n/_", b.Parse().Files[0].Path);
    }

    [Fact]
    public void UnknownKeys_AreIgnored()
    {
        TorrentBuilder b = TorrentBuilder.HybridMulti("h", Kib16, new TestFile("a", 100), new TestFile("b", 40000));
        b.Root["x-unknown"] = BValue.List(BValue.Int(1));
        b.Info["source"] = BValue.Str("tracker-tag");
        b.V2Leaves["a"]["x-extra"] = BValue.Int(5);
        Assert.Equal(TorrentVersion.Hybrid, b.Parse().Version);
    }

    private static BDict SortedCopy(BDict d)
    {
        var copy = new BDict();
        foreach (KeyValuePair<byte[], BValue> e in d.Entries)
        {
            copy.Set(e.Key, e.Value);
        }

        return copy;
    }
}
