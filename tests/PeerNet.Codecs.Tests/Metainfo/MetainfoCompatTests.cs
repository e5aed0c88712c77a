using System.Security.Cryptography;
using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>
/// Torrents that break the rules, read as libtorrent 2.0.8 reads them (each expectation read back from
/// python3-libtorrent; tests/data/compat-torrents holds the same classes as files, checked against libtorrent by the
/// interop tests), and the hybrids and v2 forms libtorrent refuses, refused.
/// </summary>
public sealed class MetainfoCompatTests
{
    private const int Kib16 = 16384;

    [Fact]
    public void V1Symlink_WithALength_TakesNoBytes_SoPieceZeroStillVerifies()
    {
        // The symlink's 7 bytes were counted: 'b' moved 7 bytes on, and piece 0's hash never matched the data.
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("a", 10), new TestFile("link", 0) { Attr = "l" }, new TestFile("b", 20, seed: 2));
        b.V1Entries[1]["length"] = BValue.Int(7);
        b.V1Entries[1]["symlink path"] = BValue.StrList("a");
        TorrentMetainfo t = b.Parse();
        Assert.Equal([(0L, 10L), (10L, 0L), (10L, 20L)], t.Files.Select(f => (f.Offset, f.Length)));
        Assert.Equal(30, t.PieceSpaceSize);
        Assert.Equal(new Sha1Hash(SHA1.HashData(b.V1Stream)), t.GetPieceHashV1(0));
    }

    [Fact]
    public void V1Symlink_WithoutALength_IsRead()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("a", 10), new TestFile("link", 0) { Attr = "l" });
        b.V1Entries[1]["length"] = null;
        b.V1Entries[1]["symlink path"] = BValue.StrList("a");
        TorrentFile link = b.Parse().Files[1];
        Assert.True(link.IsSymlink);
        Assert.Equal("a", link.SymlinkTarget);
    }

    [Fact]
    public void V1PadFile_WithoutAPath_IsDotPadSlashLength()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("n", Kib16, new TestFile("a", 10), new TestFile("b", 10, seed: 2));
        BDict pad = TorrentBuilder.PadEntry(Kib16 - 10);
        pad["path"] = null;
        ((BList)b.Info["files"]!).Items.Insert(1, pad);
        b.SetV1Pieces([.. b.Files[0].Data, .. new byte[Kib16 - 10], .. b.Files[1].Data]);
        TorrentMetainfo t = b.Parse();
        Assert.Equal(["n/a", ".pad/16374", "n/b"], t.Files.Select(f => f.Path));
        Assert.True(t.Files[1].IsPadFile);
        Assert.Equal(Kib16, t.Files[2].Offset);
    }

    [Fact]
    public void V2Symlink_IsALinkWithNoLengthAndNoRoot()
    {
        TorrentBuilder b = TorrentBuilder.V2Multi("n", Kib16, new TestFile("a", 10), new TestFile("z", 5, seed: 2));
        b.FileTree!["l"] = new BDict().With("", new BDict().With("attr", BValue.Str("l")).With("length", BValue.Int(10)).With("symlink path", BValue.StrList("a")));
        TorrentMetainfo t = b.Parse();
        TorrentFile link = t.Files[1];
        Assert.Equal(("n/l", 0L, "a"), (link.Path, link.Length, link.SymlinkTarget));
        Assert.Null(link.PiecesRoot);
        Assert.Equal(Kib16, t.Files[2].Offset);
    }

    [Fact]
    public void V2PadAttribute_IsRefused()
    {
        TorrentBuilder b = TorrentBuilder.V2Multi("n", Kib16, new TestFile("a", 10), new TestFile("b", 10, seed: 2));
        b.V2Leaves["a"]["attr"] = BValue.Str("p");
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.V2Leaves["a"]["attr"]!);
    }

    [Fact]
    public void V2AllZeroPiecesRoot_IsRefused()
    {
        TorrentBuilder b = TorrentBuilder.V2Multi("n", Kib16, new TestFile("a", 10), new TestFile("b", 10, seed: 2));
        b.V2Leaves["a"]["pieces root"] = BValue.Str(new byte[32]);
        b.RefuseAt(MetainfoErrorCode.InvalidValue, b.V2Leaves["a"]["pieces root"]!);
    }

    [Fact]
    public void V2_UnsortedKeys_AreRefused_V1_UnsortedKeys_AreRead()
    {
        TorrentBuilder v2 = TorrentBuilder.V2Multi("n", Kib16, new TestFile("a", 10), new TestFile("b", 10, seed: 2));
        v2.FileTree!.KeepOrder = true;
        v2.FileTree.Entries.Reverse();
        Assert.True(v2.Refuse(MetainfoErrorCode.InvalidBencode).Offset > v2.FileTree.Offset);

        TorrentBuilder v1 = TorrentBuilder.V1Multi("n", Kib16, new TestFile("a", 10), new TestFile("b", 10, seed: 2));
        v1.Info.KeepOrder = true;
        v1.Info.Entries.Reverse();
        Assert.Equal(TorrentVersion.V1, v1.Parse().Version);
    }

    [Theory]
    [InlineData("i010e")]
    [InlineData("010:0123456789")]
    public void V2_LeadingZeros_AreRefused_V1_LeadingZeros_AreRead(string raw)
    {
        TorrentBuilder v2 = TorrentBuilder.V2Multi("n", Kib16, new TestFile("a", 10), new TestFile("b", 10, seed: 2));
        v2.Info["x-extra"] = BValue.Raw(raw);
        v2.RefuseAt(MetainfoErrorCode.InvalidBencode, v2.Info["x-extra"]!);

        TorrentBuilder v1 = TorrentBuilder.V1Multi("n", Kib16, new TestFile("a", 10), new TestFile("b", 10, seed: 2));
        v1.Info["x-extra"] = BValue.Raw(raw);
        Assert.Equal(TorrentVersion.V1, v1.Parse().Version);
    }

    [Fact]
    public void LaxBencode_InAV1Torrent_IsRead_AndTheInfoHashIsOfTheBytesAsWritten()
    {
        TorrentBuilder b = TorrentBuilder.V1Single("f", 10);
        b.Info["length"] = BValue.Raw("i010e");
        b.Info["private"] = BValue.Raw("i-0e");
        b.Info["name"] = BValue.Raw("01:f");
        byte[] info = BValue.Encode(b.Info);
        byte[] data = [.. b.Build(), .. "trailing junk"u8];

        TorrentMetainfo t = TorrentMetainfo.Parse(data);
        Assert.Equal(10, t.TotalSize);
        Assert.False(t.IsPrivate);
        Assert.Equal(info, t.InfoBytes.ToArray());
        Assert.Equal(new Sha1Hash(SHA1.HashData(info)), t.InfoHashes.V1);

        // The same bytes fetched from peers (BEP 9) load too.
        Assert.True(TorrentMetainfo.TryParseInfoDictionary(info, out TorrentMetainfo? fetched, out MetainfoError error), error.ToString());
        Assert.Equal(t.InfoHashes, fetched.InfoHashes);
    }

    [Fact]
    public void RepeatedKey_TheFirstCounts()
    {
        byte[] data = "d4:infod6:lengthi10e6:lengthi20e4:name1:a4:name1:b12:piece lengthi16384e6:pieces20:01234567890123456789ee"u8.ToArray();
        TorrentMetainfo t = TorrentMetainfo.Parse(data);
        Assert.Equal(("a", 10L), (t.Name, t.TotalSize));
    }

    [Fact]
    public void Hybrid_SingleFileWhoseV2KeyIsNotItsName_IsRefused()
    {
        // The v2 half names the file by its key; it was read from 'name', the v1 half, whatever the key said.
        TorrentBuilder b = TorrentBuilder.HybridSingle("a.bin", 100);
        var tree = b.FileTree!;
        BValue leaf = tree["a.bin"]!;
        tree["a.bin"] = null;
        tree["other.bin"] = leaf;
        b.RefuseAt(MetainfoErrorCode.Inconsistent, b.Info);
    }

    [Fact]
    public void Hybrid_WithoutTailPadding_IsRead_AsLibtorrentBefore208WroteIt()
    {
        TorrentBuilder b = TorrentBuilder.HybridMulti("n", Kib16, new TestFile("a", 10), new TestFile("b", 20, seed: 2));
        TorrentMetainfo t = b.Parse();
        Assert.Equal(["n/a", "n/.pad/16374", "n/b"], t.Files.Select(f => f.Path));
        Assert.Equal(Kib16 + 20, t.PieceSpaceSize);
    }
}
