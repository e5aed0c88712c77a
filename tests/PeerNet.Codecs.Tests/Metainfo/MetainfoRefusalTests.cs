using System.Text;
using PeerNet.Bencode;
using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>Every refusal: its code, and an offset that points at the value the parser names.</summary>
public sealed class MetainfoRefusalTests
{
    private const int Kib16 = 16384;

    private static TorrentBuilder V1Multi() => TorrentBuilder.V1Multi("n", Kib16, new TestFile("a/b", 100), new TestFile("c", 20000, seed: 2));

    private static TorrentBuilder V2Multi() => TorrentBuilder.V2Multi("n", Kib16, new TestFile("a/b", 100), new TestFile("c", 40000, seed: 2));

    private static TorrentBuilder Hybrid() => TorrentBuilder.HybridMulti("n", Kib16, new TestFile("a", 100), new TestFile("b", 40000, seed: 2), new TestFile("c", 30, seed: 3));

    private static MetainfoError Refuse(byte[] data, MetainfoErrorCode code, MetainfoLimits? limits = null)
    {
        Assert.False(TorrentMetainfo.TryParse(data, out TorrentMetainfo? torrent, out MetainfoError error, limits));
        Assert.Null(torrent);
        Assert.True(code == error.Code, $"expected {code}, got {error}");
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        return error;
    }

    /// <summary>Offset of the first occurrence of <paramref name="text"/> in the encoded torrent.</summary>
    private static int Find(byte[] data, string text)
    {
        int at = data.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text));
        Assert.True(at >= 0, $"'{text}' not in the torrent");
        return at;
    }

    [Fact]
    public void RootNotADictionary_WrongTypeAtZero()
    {
        Assert.Equal(0, Refuse("li1ee"u8.ToArray(), MetainfoErrorCode.WrongType).Offset);
        Assert.Equal(0, Refuse("4:spam"u8.ToArray(), MetainfoErrorCode.WrongType).Offset);
    }

    [Fact]
    public void MissingInfo_PointsAtTheRoot()
    {
        TorrentBuilder b = V1Multi();
        b.Build();
        b.Root["info"] = null;
        Assert.Equal(0, Refuse(BValue.Encode(b.Root), MetainfoErrorCode.MissingKey).Offset);
    }

    [Fact]
    public void InfoNotADictionary_PointsAtTheValue()
    {
        var root = new BDict().With("announce", BValue.Str("x")).With("info", BValue.StrList("a"));
        byte[] data = BValue.Encode(root);
        Assert.Equal(root["info"]!.Offset, Refuse(data, MetainfoErrorCode.WrongType).Offset);
    }

    [Theory]
    [InlineData("name")]
    [InlineData("piece length")]
    [InlineData("pieces")]
    public void V1_MissingRequiredKey_PointsAtInfo(string key)
    {
        TorrentBuilder b = V1Multi();
        b.Info[key] = null;
        b.RefuseAt(MetainfoErrorCode.MissingKey, b.Info);
    }

    [Fact]
    public void V1Single_MissingLength_PointsAtInfo()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Info["length"] = null;
        b.RefuseAt(MetainfoErrorCode.MissingKey, b.Info);
    }

    [Theory]
    [InlineData("length")]
    [InlineData("path")]
    public void V1Multi_FileMissingKey_PointsAtTheFileEntry(string key)
    {
        TorrentBuilder b = V1Multi();
        b.V1Entries[1][key] = null;
        b.RefuseAt(MetainfoErrorCode.MissingKey, b.V1Entries[1]);
    }

    [Theory]
    [InlineData("name", "i1e")]
    [InlineData("name", "le")]
    [InlineData("piece length", "5:16384")]
    [InlineData("piece length", "li1ee")]
    [InlineData("pieces", "i1e")]
    [InlineData("files", "d1:ai1ee")]
    [InlineData("files", "4:file")]
    public void WrongTypeInInfo_PointsAtTheValue(string key, string raw)
    {
        TorrentBuilder b = V1Multi();
        b.Info[key] = BValue.Raw(raw);
        b.RefuseAt(MetainfoErrorCode.WrongType, b.Info[key]!);
    }

    [Fact]
    public void V1Single_LengthWrongType_PointsAtTheValue()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Info["length"] = BValue.Str("10");
        b.RefuseAt(MetainfoErrorCode.WrongType, b.Info["length"]!);
    }

    [Theory]
    [InlineData("length", "2:10")]
    [InlineData("path", "1:a")]
    [InlineData("path", "d1:ai1ee")]
    public void V1Multi_FileValueWrongType_PointsAtTheValue(string key, string raw)
    {
        TorrentBuilder b = V1Multi();
        b.V1Entries[0][key] = BValue.Raw(raw);
        b.RefuseAt(MetainfoErrorCode.WrongType, b.V1Entries[0][key]!);
    }

    [Fact]
    public void V1Multi_FileEntryNotADictionary_PointsAtTheEntry()
    {
        TorrentBuilder b = V1Multi();
        BRaw bad = BValue.Raw("l1:ae");
        ((BList)b.Info["files"]!).Items.Insert(1, bad);
        b.RefuseAt(MetainfoErrorCode.WrongType, bad);
    }

    [Fact]
    public void V1Multi_PathSegmentNotAString_PointsAtTheSegment()
    {
        TorrentBuilder b = V1Multi();
        BInt segment = BValue.Int(4);
        b.V1Entries[0]["path"] = BValue.List(BValue.Str("a"), segment);
        b.RefuseAt(MetainfoErrorCode.WrongType, segment);
    }

    [Fact]
    public void V1Multi_EmptyFilesList_IsInvalid()
    {
        TorrentBuilder b = V1Multi();
        b.Info["files"] = BValue.List();
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.Info["files"]!);
    }

    [Fact]
    public void NegativeLength_V1Single_PointsAtTheValue()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Info["length"] = BValue.Int(-10);
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.Info["length"]!);
    }

    [Fact]
    public void NegativeLength_V1Multi_PointsAtTheValue()
    {
        TorrentBuilder b = V1Multi();
        b.V1Entries[1]["length"] = BValue.Int(-1);
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.V1Entries[1]["length"]!);
    }

    [Fact]
    public void NegativeLength_V2_PointsAtTheValue()
    {
        TorrentBuilder b = V2Multi();
        b.V2Leaves["c"]["length"] = BValue.Int(-40000);
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.V2Leaves["c"]["length"]!);
    }

    [Fact]
    public void V1Multi_SizesOverflowing64Bits_AreInvalid()
    {
        TorrentBuilder b = V1Multi();
        b.V1Entries[0]["length"] = BValue.Int(long.MaxValue);
        b.V1Entries[1]["length"] = BValue.Int(long.MaxValue);
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.V1Entries[1]["length"]!);
    }

    [Theory]
    [InlineData(19)]
    [InlineData(21)]
    [InlineData(39)]
    public void PiecesNotAMultipleOf20_PointsAtPieces(int length)
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Info["pieces"] = BValue.Str(new byte[length]);
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.Info["pieces"]!);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void PieceCountMismatch_PointsAtPieces(int hashes)
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", Kib16 + 1); // needs 2
        b.Info["pieces"] = BValue.Str(new byte[hashes * 20]);
        b.RefuseAt(MetainfoErrorCode.Inconsistent, b.Info["pieces"]!);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-16384)]
    [InlineData((long)(int.MaxValue / 2) + 1)]
    public void V1PieceLengthOutOfRange_PointsAtTheValue(long pieceLength)
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Info["piece length"] = BValue.Int(pieceLength);
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.Info["piece length"]!);
    }

    [Fact]
    public void V1PieceLength_NeedNotBeAPowerOfTwo()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 1000, pieceLength: 300);
        Assert.Equal(4, b.Parse().PieceCount);
    }

    [Theory]
    [InlineData(8192)]
    [InlineData(16383)]
    [InlineData(3 * 16384)]
    [InlineData(16385)]
    public void V2PieceLengthNotAPowerOfTwoOrUnder16Kib_PointsAtTheValue(int pieceLength)
    {
        TorrentBuilder b = V2Multi();
        b.Info["piece length"] = BValue.Int(pieceLength);
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.Info["piece length"]!);
    }

    [Fact]
    public void HybridPieceLengthNotAPowerOfTwo_IsRefusedToo()
    {
        TorrentBuilder b = Hybrid();
        b.Info["piece length"] = BValue.Int(3 * Kib16);
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.Info["piece length"]!);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(100)]
    public void MetaVersionAbove2_IsUnsupported(long version)
    {
        TorrentBuilder b = V2Multi();
        b.Info["meta version"] = BValue.Int(version);
        b.RefuseAt(MetainfoErrorCode.UnsupportedVersion, b.Info["meta version"]!);
    }

    [Theory]
    [InlineData("i1e")]
    [InlineData("i0e")]
    [InlineData("i-2e")]
    [InlineData("1:2")]
    public void MetaVersionBelow2OrNotAnInteger_IsV1_AsLibtorrent(string raw)
    {
        // libtorrent takes any 'meta version' but 2 (or more) for a v1 torrent...
        TorrentBuilder v1 = V1Multi();
        v1.Info["meta version"] = BValue.Raw(raw);
        Assert.Equal(TorrentVersion.V1, v1.Parse().Version);

        // ...and then refuses a 'file tree' it would not read.
        TorrentBuilder v2 = V2Multi();
        v2.Info["meta version"] = BValue.Raw(raw);
        v2.RefuseAt(MetainfoErrorCode.Inconsistent, v2.Info["file tree"]!);
    }

    [Fact]
    public void V2_MissingFileTree_PointsAtInfo()
    {
        TorrentBuilder b = V2Multi();
        b.Info["file tree"] = null;
        b.RefuseAt(MetainfoErrorCode.MissingKey, b.Info);
    }

    [Fact]
    public void V2_FileTreeNotADictionary_PointsAtTheValue()
    {
        TorrentBuilder b = V2Multi();
        b.Info["file tree"] = BValue.List();
        b.RefuseAt(MetainfoErrorCode.WrongType, b.Info["file tree"]!);
    }

    [Fact]
    public void V2_EmptyFileTree_IsInvalid()
    {
        TorrentBuilder b = V2Multi();
        b.Info["file tree"] = new BDict();
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.Info["file tree"]!);
    }

    [Fact]
    public void V2_FolderThatIsAlsoAFile_PointsAtItsEmptyKey()
    {
        // A node with "" and other keys is a folder (as libtorrent reads it) whose "" key is refused.
        TorrentBuilder b = V2Multi();
        var a = (BDict)b.FileTree!["a"]!;
        a[""] = new BDict().With("length", BValue.Int(0));
        b.Build();
        Assert.Equal(a.Offset + 1, b.Refuse(MetainfoErrorCode.Inconsistent).Offset);
    }

    [Fact]
    public void V2_EmptyKeyBesideNames_PointsAtTheKey()
    {
        TorrentBuilder b = V2Multi();
        b.FileTree![""] = new BDict().With("", new BDict().With("length", BValue.Int(0)));
        MetainfoError error = b.Refuse(MetainfoErrorCode.Inconsistent);
        Assert.Equal(b.FileTree!.Offset + 1, error.Offset); // "" sorts first: the key right after the tree's 'd'
    }

    [Fact]
    public void V2_EmptyFolder_IsSkipped_AsLibtorrent()
    {
        TorrentBuilder b = V2Multi();
        int files = b.Parse().Files.Count;
        b.FileTree!["e"] = new BDict().With("deeper", new BDict());
        Assert.Equal(files, b.Parse().Files.Count);
    }

    [Fact]
    public void V2_TreeEntryNotADictionary_PointsAtTheValue()
    {
        TorrentBuilder b = V2Multi();
        b.FileTree!["x"] = BValue.Int(1);
        b.RefuseAt(MetainfoErrorCode.WrongType, b.FileTree["x"]!);
    }

    [Fact]
    public void V2_LeafNotADictionary_PointsAtTheValue()
    {
        TorrentBuilder b = V2Multi();
        var node = (BDict)b.FileTree!["c"]!;
        node[""] = BValue.Str("leaf");
        b.RefuseAt(MetainfoErrorCode.WrongType, node[""]!);
    }

    [Fact]
    public void V2_LeafWithoutLength_PointsAtTheLeaf()
    {
        TorrentBuilder b = V2Multi();
        b.V2Leaves["c"]["length"] = null;
        b.RefuseAt(MetainfoErrorCode.MissingKey, b.V2Leaves["c"]);
    }

    [Fact]
    public void V2_MissingPiecesRoot_PointsAtTheLeaf()
    {
        TorrentBuilder b = V2Multi();
        b.V2Leaves["a/b"]["pieces root"] = null;
        b.RefuseAt(MetainfoErrorCode.MissingKey, b.V2Leaves["a/b"]);
    }

    [Fact]
    public void V2_EmptyFileNeedsNoPiecesRoot()
    {
        TorrentBuilder b = TorrentBuilder.V2Multi("n", Kib16, new TestFile("e", 0), new TestFile("f", 5));
        Assert.Null(b.V2Leaves["e"]["pieces root"]);
        Assert.Null(b.Parse().Files[0].PiecesRoot);
    }

    [Theory]
    [InlineData("31")]
    [InlineData("33")]
    [InlineData("int")]
    public void V2_PiecesRootNot32Bytes_PointsAtTheValue(string kind)
    {
        TorrentBuilder b = V2Multi();
        b.V2Leaves["c"]["pieces root"] = kind switch
        {
            "31" => BValue.Str(new byte[31]),
            "33" => BValue.Str(new byte[33]),
            _ => BValue.Int(32),
        };
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.V2Leaves["c"]["pieces root"]!);
    }

    [Theory]
    [InlineData(-32)]
    [InlineData(32)]
    [InlineData(-1)]
    [InlineData(1)]
    public void V2_PieceLayerOfTheWrongSize_PointsAtTheLayer(int delta)
    {
        TorrentBuilder b = V2Multi();
        byte[] layer = b.Layers["c"];
        byte[] bad = new byte[layer.Length + delta];
        layer.AsSpan(0, Math.Min(layer.Length, bad.Length)).CopyTo(bad);
        b.PieceLayers!.Set(b.Roots["c"], BValue.Str(bad));
        b.RefuseAt(MetainfoErrorCode.Inconsistent, b.PieceLayers.Get(b.Roots["c"])!);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(95)]
    public void V2_TamperedPieceLayer_DoesNotHashToTheRoot(int index)
    {
        TorrentBuilder b = V2Multi();
        byte[] layer = [.. b.Layers["c"]];
        layer[index] ^= 1;
        b.PieceLayers!.Set(b.Roots["c"], BValue.Str(layer));
        b.RefuseAt(MetainfoErrorCode.Inconsistent, b.PieceLayers.Get(b.Roots["c"])!);
    }

    [Fact]
    public void V2_PieceLayersNotADictionary_PointsAtTheValue()
    {
        TorrentBuilder b = V2Multi();
        b.Root["piece layers"] = BValue.List();
        b.RefuseAt(MetainfoErrorCode.WrongType, b.Root["piece layers"]!);
    }

    [Fact]
    public void V2_PieceLayerNotAString_PointsAtTheValue()
    {
        TorrentBuilder b = V2Multi();
        b.PieceLayers!.Set(b.Roots["c"], BValue.Int(0));
        b.RefuseAt(MetainfoErrorCode.WrongType, b.PieceLayers.Get(b.Roots["c"])!);
    }

    [Fact]
    public void V2_PieceLayersKeyNot32Bytes_PointsAtTheKey()
    {
        TorrentBuilder b = V2Multi();
        b.PieceLayers!["short-key"] = BValue.Str(new byte[32]);
        byte[] data = b.Build();
        Assert.Equal(Find(data, "9:short-key"), b.Refuse(MetainfoErrorCode.InvalidValue).Offset);
    }

    [Fact]
    public void Hybrid_DifferentFileName_IsInconsistent()
    {
        TorrentBuilder b = Hybrid();
        b.V1Entries[0]["path"] = BValue.StrList("A");
        b.RefuseAt(MetainfoErrorCode.Inconsistent, b.Info);
    }

    [Fact]
    public void Hybrid_DifferentSize_IsInconsistent()
    {
        TorrentBuilder b = Hybrid();
        b.V2Leaves["c"]["length"] = BValue.Int(31);
        b.RefuseAt(MetainfoErrorCode.Inconsistent, b.Info);
    }

    [Fact]
    public void Hybrid_DifferentOrder_IsInconsistent()
    {
        // v1 lists b before a; the v2 tree (sorted) has a first.
        TorrentBuilder b = TorrentBuilder.HybridMulti("n", Kib16, new TestFile("a", Kib16), new TestFile("b", Kib16, seed: 2));
        var files = (BList)b.Info["files"]!;
        files.Items.Reverse();
        b.SetV1Pieces([.. b.Files[1].Data, .. b.Files[0].Data]);
        b.RefuseAt(MetainfoErrorCode.Inconsistent, b.Info);
    }

    [Fact]
    public void Hybrid_MissingPadFile_LeavesAFileMisaligned()
    {
        TorrentBuilder b = Hybrid();
        var files = (BList)b.Info["files"]!;
        files.Items.RemoveAt(1); // the pad after "a"
        b.SetV1Pieces([.. b.Files[0].Data, .. b.Files[1].Data, .. new byte[(3 * Kib16) - 40000], .. b.Files[2].Data]);
        MetainfoError error = b.Refuse(MetainfoErrorCode.Inconsistent);
        Assert.Equal(b.Info.Offset, error.Offset);
        Assert.Contains("entries (pad files included)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hybrid_ExtraPadPiece_IsInconsistent()
    {
        TorrentBuilder b = Hybrid();
        var files = (BList)b.Info["files"]!;
        files.Items.Insert(1, TorrentBuilder.PadEntry(Kib16)); // a whole extra piece of padding after "a"
        b.SetV1Pieces([.. b.Files[0].Data, .. new byte[Kib16], .. b.V1Stream[100..]]);
        b.RefuseAt(MetainfoErrorCode.Inconsistent, b.Info);
    }

    [Fact]
    public void Hybrid_TrailingPadOfAWholePiece_IsInconsistent()
    {
        TorrentBuilder b = Hybrid();
        ((BList)b.Info["files"]!).Items.Add(TorrentBuilder.PadEntry(Kib16));
        b.SetV1Pieces([.. b.V1Stream, .. new byte[Kib16]]);
        MetainfoError error = b.Refuse(MetainfoErrorCode.Inconsistent);
        Assert.Contains("the v2 file tree", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hybrid_V2HasAnExtraFile_IsInconsistent()
    {
        TorrentBuilder b = Hybrid();
        b.FileTree!["d"] = new BDict().With("", new BDict().With("length", BValue.Int(0)));
        b.RefuseAt(MetainfoErrorCode.Inconsistent, b.Info);
    }

    [Fact]
    public void Hybrid_V1HasAnExtraFile_IsInconsistent()
    {
        TorrentBuilder b = Hybrid();
        ((BList)b.Info["files"]!).Items.Add(new BDict().With("length", BValue.Int(0)).With("path", BValue.StrList("z")));
        b.RefuseAt(MetainfoErrorCode.Inconsistent, b.Info);
    }

    [Fact]
    public void Hybrid_SingleV1WithMultiV2_IsInconsistent()
    {
        TorrentBuilder b = TorrentBuilder.HybridSingle("f", 100);
        b.Info["file tree"] = new BDict().With("dir", new BDict().With("f", new BDict().With("", b.V2Leaves["f"])));
        b.RefuseAt(MetainfoErrorCode.Inconsistent, b.Info);
    }

    [Fact]
    public void TotalSizeZero_V1_IsInvalid()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 0);
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.Info);
    }

    [Fact]
    public void TotalSizeZero_OnlyPadFiles_IsInvalid()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("a", 0));
        ((BList)b.Info["files"]!).Items.Add(TorrentBuilder.PadEntry(10));
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.Info);
    }

    [Fact]
    public void TotalSizeZero_V2_IsInvalid()
    {
        TorrentBuilder b = TorrentBuilder.V2Multi("n", Kib16, new TestFile("a", 0), new TestFile("b", 0));
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.Info);
    }

    [Theory]
    [InlineData("", BencodeErrorCode.UnexpectedEnd, 0)]
    [InlineData("d4:info", BencodeErrorCode.UnexpectedEnd, 7)]
    [InlineData("d4:infode", BencodeErrorCode.UnexpectedEnd, 9)]
    [InlineData("d4:infode1:ae", BencodeErrorCode.MissingValue, 12)]
    [InlineData("d4:infodei1ee", BencodeErrorCode.KeyNotString, 9)]
    [InlineData("d4:infodi01eee", BencodeErrorCode.KeyNotString, 8)]
    [InlineData("d1:ai1xe", BencodeErrorCode.UnexpectedByte, 6)]
    [InlineData("d1:ai000000000000000000001ee", BencodeErrorCode.IntegerTooLong, 4)]
    [InlineData("d1:a5:abce", BencodeErrorCode.UnexpectedEnd, 10)]
    public void InvalidBencode_PassesThroughWithItsOffset(string input, BencodeErrorCode bencode, long offset)
    {
        MetainfoError error = Refuse(Encoding.ASCII.GetBytes(input), MetainfoErrorCode.InvalidBencode);
        Assert.NotNull(error.Bencode);
        Assert.Equal(bencode, error.Bencode.Value.Code);
        Assert.Equal(offset, error.Offset);
        Assert.Equal(error.Bencode.Value.Offset, error.Offset);
    }

    [Fact]
    public void InvalidBencode_InsideAValidLookingTorrent_PointsAtTheBadByte()
    {
        TorrentBuilder b = V1Multi();
        b.V1Entries[0]["length"] = BValue.Raw("i-e");
        byte[] data = b.Build();
        MetainfoError error = Refuse(data, MetainfoErrorCode.InvalidBencode);
        Assert.Equal(b.V1Entries[0]["length"]!.Offset, error.Offset);
    }

    [Fact]
    public void TooLarge_IsRefusedBeforeParsing()
    {
        byte[] data = V1Multi().Build();
        Assert.True(TorrentMetainfo.TryParse(data, out _, out _, new MetainfoLimits { MaxTorrentSize = data.Length }));
        MetainfoError error = Refuse(data, MetainfoErrorCode.TooLarge, new MetainfoLimits { MaxTorrentSize = data.Length - 1 });
        Assert.Equal(-1, error.Offset);
    }

    [Fact]
    public void ErrorToString_NamesTheOffset()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Info["length"] = BValue.Int(-10);
        MetainfoError error = b.Refuse(MetainfoErrorCode.InvalidValue);
        Assert.Contains($"at byte {error.Offset}", error.ToString(), StringComparison.Ordinal);
    }
}
