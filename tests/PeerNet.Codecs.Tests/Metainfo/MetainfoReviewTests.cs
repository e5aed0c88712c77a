using PeerNet.Bencode;
using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>Regression tests for the defects found reviewing the parser; each failed before its fix.</summary>
public sealed class MetainfoReviewTests
{
    private const int Kib16 = 16384;

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(long.MaxValue - Kib16 + 2)]
    public void V2_HugeFile_IsOverThePieceLimit_NotWrappedToAFewPieces(long length)
    {
        // (size + pieceLength - 1) overflowed: a v2 file of 2^63-1 bytes parsed as a 1-piece torrent whose file
        // ended in piece -1.
        TorrentBuilder b = TorrentBuilder.V2Single("huge", 10);
        b.V2Leaves["huge"]["length"] = BValue.Int(length);
        b.RefuseAt(MetainfoErrorCode.LimitExceeded, b.Info);
    }

    [Fact]
    public void V1_HugeFile_IsOverThePieceLimit()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("huge", 10);
        b.Info["length"] = BValue.Int(long.MaxValue);
        b.RefuseAt(MetainfoErrorCode.LimitExceeded, b.Info);
    }

    [Theory]
    [InlineData("n")]
    [InlineData("a-name-of-64-bytes-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void V1_PathLimitCountsTheWholePathUnderTheDownloadFolder_AsV2Does(string name)
    {
        // v1 counted only the segments below the name, plus one byte: "name/" + 4095 bytes passed where the
        // same file list as v2 was refused, and TorrentFile.Path could exceed MaxPathBytes by the name's length.
        TorrentMetainfo t = TorrentBuilder.V1Multi(name, Kib16, new TestFile(MetainfoLimitTests.PathOfTotalLength(4096, name), [1])).Parse();
        Assert.Equal(4096, System.Text.Encoding.UTF8.GetByteCount(t.Files[0].Path));

        TorrentBuilder b = TorrentBuilder.V1Multi(name, Kib16, new TestFile(MetainfoLimitTests.PathOfTotalLength(4097, name), [1]));
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.V1Entries[0]["path"]!);

        TorrentBuilder.V2Multi(name, Kib16, new TestFile(MetainfoLimitTests.PathOfTotalLength(4096, name), [1]), new TestFile("x", 1)).Parse();
        TorrentBuilder.V2Multi(name, Kib16, new TestFile(MetainfoLimitTests.PathOfTotalLength(4097, name), [1]), new TestFile("x", 1)).Refuse(MetainfoErrorCode.UnsafePath);
    }

    [Fact]
    public void SymlinkTarget_MayUseTheWholePathLimit()
    {
        // Targets are relative to the root folder: MaxPathBytes applies to the joined target, not one byte less.
        // (This one names nothing in the torrent, so the link is then made to point to itself, as libtorrent does.)
        string[] target = MetainfoLimitTests.PathOfTotalLength(4098); // "n/" + 4096 bytes
        Assert.Equal(4096, System.Text.Encoding.UTF8.GetByteCount(string.Join('/', target)));
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("real", 5), new TestFile("link", 0) { Attr = "l" });
        b.V1Entries[1]["symlink path"] = BValue.StrList(target);
        Assert.Equal("link", b.Parse().Files[1].SymlinkTarget);

        target[0] += "x";
        b.V1Entries[1]["symlink path"] = BValue.StrList(target);
        b.RefuseAt(MetainfoErrorCode.UnsafePath, b.V1Entries[1]["symlink path"]!);
    }

    [Fact]
    public void V2_FilesSharingAPiecesRootButNotALength_AreInconsistent()
    {
        // The layer was checked against the first file only; a longer file naming the same root was skipped as
        // "already verified", leaving PieceLayers[its root] with 3 hashes for a 5-piece file.
        TorrentBuilder b = TorrentBuilder.V2Multi("n", Kib16, new TestFile("a", 3 * Kib16), new TestFile("b", 5 * Kib16, seed: 2));
        b.V2Leaves["b"]["pieces root"] = BValue.Str(b.Roots["a"]);
        b.PieceLayers!.Set(b.Roots["b"], null);
        b.RefuseAt(MetainfoErrorCode.Inconsistent, b.PieceLayers.Get(b.Roots["a"])!);
    }

    [Fact]
    public void V2_IdenticalFilesSharingAPiecesRoot_AreFine()
    {
        byte[] data = TestHashes.Bytes(3 * Kib16);
        TorrentMetainfo t = TorrentBuilder.V2Multi("n", Kib16, new TestFile(["a"], data), new TestFile(["b"], data)).Parse();
        Assert.Equal(t.Files[0].PiecesRoot, t.Files[1].PiecesRoot);
        Assert.Equal(3 * 32, Assert.Single(t.PieceLayers).Value.Length);
    }

    [Fact]
    public void V2_SingleFileNodeWithOtherEntries_IsRefusedLikeAnyFileThatIsAlsoAFolder()
    {
        // BEP 52: a node with a "" leaf is a file, "which means it must not have any sibling entries". When such a
        // node was the tree's only entry, the single-file shortcut read the leaf and silently ignored the rest; the
        // same node anywhere else in a tree was refused.
        // Such a node is now read as libtorrent reads it, a folder, whose "" key is refused.
        TorrentBuilder b = TorrentBuilder.V2Single("f", 100);
        var node = (BDict)b.FileTree!["f"]!;
        node["hidden"] = new BDict().With("", new BDict().With("length", BValue.Int(0)));
        b.Build();
        Assert.Equal(node.Offset + 1, b.Refuse(MetainfoErrorCode.Inconsistent).Offset);
    }

    [Fact]
    public void Hybrid_FolderHoldingOneFile_IsMultiFileInBothParts()
    {
        // A folder holding one file is a v1 'files' list of one entry and a v2 tree with a single root entry
        // (libtorrent writes it so, and reads the tree as multi-file whenever 'files' is present). The tree's shape
        // alone made it single-file here, so every such hybrid was refused as a v1/v2 disagreement.
        TorrentBuilder b = TorrentBuilder.HybridMulti("folder", Kib16, new TestFile("only.bin", 40000));
        Assert.NotNull(b.Info["files"]);
        Assert.Single(b.FileTree!.Entries);

        TorrentMetainfo t = b.Parse();

        Assert.True(t.IsMultiFile);
        TorrentFile f = Assert.Single(t.Files);
        Assert.Equal("folder/only.bin", f.Path);
        Assert.Equal(new Sha256Hash(b.Roots["only.bin"]), f.PiecesRoot);
    }

    [Fact]
    public void V2Only_TreeWithOneRootFile_IsStillSingleFile_NamedByItsKey()
    {
        // libtorrent names a single-file v2 torrent, and its file, by the tree's key, not by 'name'.
        TorrentMetainfo t = TorrentBuilder.V2Multi("folder", Kib16, new TestFile("only.bin", 100)).Parse();
        Assert.False(t.IsMultiFile);
        Assert.Equal("only.bin", t.Name);
        Assert.Equal("only.bin", Assert.Single(t.Files).Path);
    }

    [Theory]
    [InlineData("8:url-list14:http://evil/x/")]
    [InlineData("8:announce17:http://evil/track")]
    [InlineData("12:piece layersde")]
    [InlineData("i1e")]
    [InlineData("de")]
    public void TryParseInfoDictionary_RefusesBytesAfterTheDictionary(string trailing)
    {
        // The bytes were wrapped as "d4:info" + bytes + "e", so whatever followed the dictionary became keys of the
        // outer dictionary: metadata from a peer could bring its own trackers, web seeds or piece layers, and the
        // torrent's InfoBytes and info-hashes no longer covered all that was received.
        byte[] info = BValue.Encode(TorrentBuilder.V1Single("f", 10).Info);
        byte[] hostile = [.. info, .. System.Text.Encoding.ASCII.GetBytes(trailing)];

        Assert.False(TorrentMetainfo.TryParseInfoDictionary(hostile, out TorrentMetainfo? torrent, out MetainfoError error));

        Assert.Null(torrent);
        Assert.Equal(MetainfoErrorCode.InvalidBencode, error.Code);
        Assert.Equal(BencodeErrorCode.TrailingData, error.Bencode?.Code);
        Assert.Equal(info.Length, error.Offset);
    }

    [Theory]
    [InlineData("d4:name", BencodeErrorCode.UnexpectedEnd, 7)]
    [InlineData("", BencodeErrorCode.UnexpectedEnd, 0)]
    [InlineData("d4:namei1xe", BencodeErrorCode.UnexpectedByte, 9)]
    public void TryParseInfoDictionary_BencodeErrorsPointIntoTheGivenBytes(string info, BencodeErrorCode code, long offset)
    {
        Assert.False(TorrentMetainfo.TryParseInfoDictionary(System.Text.Encoding.ASCII.GetBytes(info), out _, out MetainfoError error));
        Assert.Equal(MetainfoErrorCode.InvalidBencode, error.Code);
        Assert.Equal(code, error.Bencode?.Code);
        Assert.Equal(offset, error.Offset);
    }

    [Fact]
    public void TryParseInfoDictionary_ErrorOffsetsPointIntoTheGivenBytes()
    {
        // Offsets were reported in the internal "d4:info…e" wrapper: 7 bytes past the value they named.
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("a", 10), new TestFile("b", 10));
        b.V1Entries[1]["length"] = BValue.Int(-5);
        byte[] info = BValue.Encode(b.Info);

        Assert.False(TorrentMetainfo.TryParseInfoDictionary(info, out _, out MetainfoError error));

        Assert.Equal(MetainfoErrorCode.InvalidValue, error.Code);
        Assert.Equal(b.V1Entries[1]["length"]!.Offset, error.Offset);
        Assert.StartsWith("i-5e", System.Text.Encoding.ASCII.GetString(info, (int)error.Offset, 4), StringComparison.Ordinal);
    }

    [Fact]
    public void TryParseInfoDictionary_NotADictionary_PointsAtByteZero()
    {
        Assert.False(TorrentMetainfo.TryParseInfoDictionary("li1ee"u8.ToArray(), out _, out MetainfoError error));
        Assert.Equal(MetainfoErrorCode.WrongType, error.Code);
        Assert.Equal(0, error.Offset);
    }

    /// <summary>
    /// A v2 tree 63 folders deep (a 4 KiB path) holding <paramref name="files"/> files: a few bytes of input per
    /// file, each with a 4 KiB path.
    /// </summary>
    internal static byte[] DeepTree(int files, int depth = 63, int segment = 63)
    {
        var bottom = new BDict();
        byte[] data = [1];
        bottom["data"] = new BDict().With("", new BDict().With("length", BValue.Int(1)).With("pieces root", BValue.Str(TestHashes.MerkleRoot(data, Kib16, out _))));
        for (int i = 0; i < files; i++)
        {
            bottom[i.ToString("x", System.Globalization.CultureInfo.InvariantCulture)] = new BDict().With("", new BDict().With("length", BValue.Int(0)));
        }

        BDict node = bottom;
        for (int level = depth - 1; level >= 0; level--)
        {
            node = new BDict().With(new string((char)('a' + (level % 26)), segment), node);
        }

        var info = new BDict()
            .With("file tree", node)
            .With("meta version", BValue.Int(2))
            .With("name", BValue.Str("n"))
            .With("piece length", BValue.Int(Kib16));
        return BValue.Encode(new BDict().With("info", info));
    }

    [Fact]
    public void DeepTree_CollisionCheckCostIsLinearInThePaths_NotInDepthTimesLength()
    {
        // The collision check allocated and hashed every folder prefix of every file: ~63 substrings averaging
        // 2 KiB for each file of a deep v2 tree, where a file costs a few bytes of input. 4,000 files took half a
        // gigabyte of allocations; now a file costs about its own path.
        const int Files = 4000;
        byte[] data = DeepTree(Files);
        Assert.True(TorrentMetainfo.TryParse(data, out _, out MetainfoError warmup), warmup.ToString());

        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.True(TorrentMetainfo.TryParse(data, out TorrentMetainfo? t, out _));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(Files + 1, t.Files.Count);
        long pathBytes = t.Files.Sum(f => (long)f.Path.Length * sizeof(char));
        Assert.True(allocated < 6 * pathBytes, $"allocated {allocated / 1024 / 1024} MiB for {pathBytes / 1024 / 1024} MiB of paths");
    }

    [Fact]
    public void ManyWebSeeds_AreDeduplicatedKeepingFirstOccurrenceOrder()
    {
        // Deduplication used List.Contains (quadratic: 22 s for 100,000 URLs); it now uses a set. Speed is not
        // asserted here (no timed tests); this pins the behaviour the set-based version must keep.
        const int Urls = 20_000;
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Root["url-list"] = BValue.List([.. Enumerable.Range(0, 2 * Urls).Select(i => BValue.Str($"http://seed.example/{(i < Urls ? i : 2 * Urls - 1 - i):D6}"))]);
        byte[] data = b.Build();
        var limits = new MetainfoLimits { MaxTrackers = 4 * Urls };

        Assert.True(TorrentMetainfo.TryParse(data, out TorrentMetainfo? t, out MetainfoError error, limits), error.ToString());

        Assert.Equal(Urls, t.WebSeeds.Count);
        Assert.Equal(Enumerable.Range(0, Urls).Select(i => $"http://seed.example/{i:D6}"), t.WebSeeds);
    }

    [Fact]
    public void DeepTree_PathsHandedOutAreBoundedByDefault()
    {
        // Every file's Path is its own string. In a v2 tree a file costs ~20 bytes of input but can have a 4 KiB
        // path, so an 8 MB torrent (or BEP 9 metadata) of 333,000 such files made 2.7 GB of path strings.
        const int Files = 17_000; // ~4 KiB paths: over 64 MiB in all
        byte[] data = DeepTree(Files);
        Assert.True(data.Length < 1024 * 1024);
        Assert.False(TorrentMetainfo.TryParse(data, out _, out MetainfoError error));
        Assert.Equal(MetainfoErrorCode.LimitExceeded, error.Code);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(-1)]
    [InlineData(long.MaxValue)]
    public void Private_AnyNonZeroIntegerKeepsTheTorrentOffDhtAndPex(long value)
    {
        // Only exactly 1 counted, so a private tracker's torrent written with another non-zero value would be
        // announced to the DHT and shared over PEX. libtorrent reads any non-zero value as private.
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Info["private"] = BValue.Int(value);
        Assert.True(b.Parse().IsPrivate);
    }
}
