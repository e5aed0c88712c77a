using System.Text;
using CsCheck;
using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>Hostile and random input: truncation, byte mutations, and random file lists round-tripping.</summary>
public sealed class MetainfoRobustnessTests
{
    private const int Kib16 = 16384;

    private static readonly byte[][] Valid =
    [
        TorrentBuilder.V1Multi("v1", Kib16, new TestFile("a/b.txt", 100), new TestFile("c", 20000, seed: 2)).Build(),
        TorrentBuilder.V1Single("single", 40000).Build(),
        TorrentBuilder.V2Multi("v2", Kib16, new TestFile("a/b.txt", 100), new TestFile("c", 50000, seed: 2), new TestFile("e", 0)).Build(),
        TorrentBuilder.HybridMulti("hy", Kib16, new TestFile("x", 100), new TestFile("y/z", 40000, seed: 2), new TestFile("w", 3)).Build(),
        Rich(),
    ];

    /// <summary>A v1 torrent using every optional field, so mutations reach their parsing too.</summary>
    private static byte[] Rich()
    {
        TorrentBuilder b = TorrentBuilder.V1Multi("rich", Kib16, new TestFile("bin/run", 10) { Attr = "x" }, new TestFile("link", 0) { Attr = "l" }, new TestFile(".h", 5) { Attr = "h" });
        b.V1Entries[1]["symlink path"] = BValue.StrList("bin", "run");
        b.V1Entries[0]["mtime"] = BValue.Int(1_600_000_000);
        b.Info["private"] = BValue.Int(1);
        b.Info["name.utf-8"] = BValue.Str("rïch");
        b.V1Entries[2]["path.utf-8"] = BValue.StrList(".ħ");
        b.Root["announce-list"] = BValue.List(BValue.StrList("http://a/1", "http://b/2"), BValue.StrList("udp://c:3"));
        b.Root["url-list"] = BValue.StrList("http://w/1/", "http://w/2/");
        b.Root["comment"] = BValue.Str("c");
        b.Root["created by"] = BValue.Str("t");
        b.Root["creation date"] = BValue.Int(1_700_000_000);
        return b.Build();
    }

    public static TheoryData<int> ValidIndexes => [.. Enumerable.Range(0, Valid.Length)];

    [Theory]
    [MemberData(nameof(ValidIndexes))]
    public void Fixtures_AreValid(int index) => Assert.True(TorrentMetainfo.TryParse(Valid[index], out _, out MetainfoError error), error.ToString());

    [Theory]
    [MemberData(nameof(ValidIndexes))]
    public void EveryProperPrefix_FailsWithAnError(int index)
    {
        byte[] data = Valid[index];
        for (int length = 0; length < data.Length; length++)
        {
            bool ok = TorrentMetainfo.TryParse(data.AsMemory(0, length), out TorrentMetainfo? torrent, out MetainfoError error);
            Assert.False(ok, $"prefix of {length} bytes parsed");
            Assert.Null(torrent);
            Assert.NotEqual(MetainfoErrorCode.None, error.Code);
            Assert.InRange(error.Offset, -1, length);
        }
    }

    [Theory]
    [MemberData(nameof(ValidIndexes))]
    public void EveryProperPrefixOfTheInfoDictionary_FailsWithAnError(int index)
    {
        Assert.True(TorrentMetainfo.TryParse(Valid[index], out TorrentMetainfo? full, out _));
        byte[] info = full.InfoBytes.ToArray();
        Assert.True(TorrentMetainfo.TryParseInfoDictionary(info, out _, out MetainfoError error), error.ToString());
        for (int length = 0; length < info.Length; length++)
        {
            Assert.False(TorrentMetainfo.TryParseInfoDictionary(info.AsMemory(0, length), out _, out error), $"prefix of {length} bytes parsed");
            Assert.NotEqual(MetainfoErrorCode.None, error.Code);
        }
    }

    private enum MutationKind
    {
        Flip,
        Set,
        Insert,
        Delete,
        Digit,
    }

    private static readonly Gen<(MutationKind Kind, int Position, byte Value)> GenMutation =
        Gen.Select(Gen.OneOf(MutationKind.Flip, MutationKind.Set, MutationKind.Insert, MutationKind.Delete, MutationKind.Digit), Gen.Int[0, int.MaxValue], Gen.Byte);

    private static byte[] Mutate(byte[] data, (MutationKind Kind, int Position, byte Value)[] mutations)
    {
        var bytes = new List<byte>(data);
        foreach ((MutationKind kind, int position, byte value) in mutations)
        {
            if (bytes.Count == 0)
            {
                break;
            }

            int at = position % bytes.Count;
            switch (kind)
            {
                case MutationKind.Flip:
                    bytes[at] ^= (byte)(1 << (value % 8));
                    break;
                case MutationKind.Set:
                    bytes[at] = value;
                    break;
                case MutationKind.Insert:
                    bytes.Insert(at, value);
                    break;
                case MutationKind.Delete:
                    bytes.RemoveAt(at);
                    break;
                case MutationKind.Digit:
                    // Digits keep the bencode structure more often than random bytes: reach deeper checks.
                    int digit = bytes.FindIndex(at, b => b is >= (byte)'0' and <= (byte)'9');
                    if (digit >= 0)
                    {
                        bytes[digit] = (byte)('0' + (value % 10));
                    }

                    break;
            }
        }

        return [.. bytes];
    }

    [Fact]
    public void RandomMutations_NeverThrow()
    {
        Gen.Select(Gen.Int[0, Valid.Length - 1], GenMutation.Array[1, 6])
            .Sample(
                (index, mutations) => CheckParsesOrRefuses(Mutate(Valid[index], mutations)),
                iter: 20000,
                threads: 1);
    }

    [Fact]
    public void RandomMutationsOfInfoDictionaries_NeverThrow()
    {
        byte[][] infos = [.. Valid.Select(v => TorrentMetainfo.Parse(v).InfoBytes.ToArray())];
        Gen.Select(Gen.Int[0, infos.Length - 1], GenMutation.Array[1, 6])
            .Sample(
                (index, mutations) =>
                {
                    byte[] info = Mutate(infos[index], mutations);
                    if (TorrentMetainfo.TryParseInfoDictionary(info, out TorrentMetainfo? torrent, out MetainfoError error))
                    {
                        AssertInvariants(torrent);
                        Assert.Equal(info, torrent.InfoBytes.ToArray());
                    }
                    else
                    {
                        Assert.NotEqual(MetainfoErrorCode.None, error.Code);
                        Assert.InRange(error.Offset, -1, info.Length);
                    }
                },
                iter: 20000,
                threads: 1);
    }

    private static void CheckParsesOrRefuses(byte[] data)
    {
        if (TorrentMetainfo.TryParse(data, out TorrentMetainfo? torrent, out MetainfoError error))
        {
            AssertInvariants(torrent);
        }
        else
        {
            Assert.NotEqual(MetainfoErrorCode.None, error.Code);
            Assert.InRange(error.Offset, -1, data.Length);
        }
    }

    /// <summary>What every accepted torrent guarantees, however odd its input.</summary>
    internal static void AssertInvariants(TorrentMetainfo t)
    {
        Assert.NotEmpty(t.Files);
        Assert.True(t.TotalSize > 0);
        Assert.InRange(t.PieceLength, 1, MetainfoLimits.Default.MaxPieceLength);
        Assert.True(t.PieceSpaceSize >= t.TotalSize);
        Assert.Equal((t.PieceSpaceSize + t.PieceLength - 1) / t.PieceLength, t.PieceCount);
        Assert.InRange(t.PieceCount, 1, MetainfoLimits.Default.MaxPieces);
        if (t.Version != TorrentVersion.V2)
        {
            Assert.Equal(t.PieceCount * 20, t.PieceHashesV1.Length);
        }

        foreach (TorrentFile f in t.Files)
        {
            Assert.False(string.IsNullOrEmpty(f.Path));
            Assert.DoesNotContain("\0", f.Path, StringComparison.Ordinal);
            Assert.DoesNotContain('\\', f.Path);
            Assert.All(f.Path.Split('/'), s => Assert.True(s.Length > 0 && s != "." && s != "..", f.Path));
            Assert.True(Encoding.UTF8.GetByteCount(f.Path) <= MetainfoLimits.Default.MaxPathBytes + MetainfoLimits.Default.MaxSegmentBytes + 1);
            Assert.True(f.Offset >= 0 && f.Length >= 0 && f.Offset + f.Length <= t.PieceSpaceSize);
            if (f.Length > 0)
            {
                Assert.InRange(f.FirstPiece, 0, t.PieceCount - 1);
                Assert.InRange(f.LastPiece, f.FirstPiece, t.PieceCount - 1);
            }

            if (f.PiecesRoot is { } root && t.PieceLayers.TryGetValue(root, out ReadOnlyMemory<byte> layer))
            {
                Assert.Equal((f.Length + t.PieceLength - 1) / t.PieceLength * 32, layer.Length);
            }
        }
    }

    // Names that come through unchanged. The bidi controls libtorrent removes (U+202E, …) are not among them:
    // PathSanitizerTests covers those.
    private static readonly string[] OddFragments =
    [
        "a", "Z", "0", "-", "_", " ", ".", "é", "e\u0301", "ß", "Σ", "ς", "日本", "한", "😀", "👩‍👩‍👧", "\u200D", "\u200B",
        "ﬁ", "Ω", "\uFEFF", "ä", "Ä", "~", "#", "%", "&", "(", ")", "[", "]", "'", "`", "!", "@", "$", "+", ",", ";", "=",
    ];

    private static readonly Gen<string> GenName =
        Gen.OneOf(OddFragments).Array[1, 6].Select(parts => string.Concat(parts))
            .Where(s => !s.EndsWith('.') && !s.EndsWith(' ') && s.Trim('.').Length > 0);

    private static readonly Gen<string[]> GenFolder = Gen.OneOf<string[]>([], ["d"], ["Ünï"], ["日本", "x"], ["d", "Ünï"]);

    private static readonly Gen<(string[] Folder, string Name, int Size)> GenFileSpec =
        Gen.Select(GenFolder, GenName, Gen.Frequency((3, Gen.Int[0, 100_000]), (1, Gen.OneOf(0, 1, Kib16 - 1, Kib16, Kib16 + 1, 2 * Kib16))));

    private static readonly Gen<(int PieceLength, (string[] Folder, string Name, int Size)[] Files)> GenTorrent =
        Gen.Select(Gen.OneOf(Kib16, 2 * Kib16, 4 * Kib16), GenFileSpec.Array[1, 6]);

    private static TestFile[] ToFiles((string[] Folder, string Name, int Size)[] specs)
    {
        // A "-i" suffix keeps every file unique (ignoring case too) and never equal to a folder name.
        var files = specs.Select((s, i) => new TestFile([.. s.Folder, $"{s.Name}-{i}"], TestHashes.Bytes(s.Size, i))).ToArray();
        if (files.All(f => f.Length == 0))
        {
            files[0] = files[0] with { Data = [42] };
        }

        return files;
    }

    [Fact]
    public void RandomFileLists_RoundTrip_V1()
    {
        GenTorrent.Sample(
            (pieceLength, specs) =>
            {
                TestFile[] files = ToFiles(specs);
                AssertRoundTrip(TorrentBuilder.V1Multi("root", pieceLength, files));
            },
            iter: 100,
            threads: 1);
    }

    [Fact]
    public void RandomFileLists_RoundTrip_V2()
    {
        GenTorrent.Sample(
            (pieceLength, specs) =>
            {
                TestFile[] files = ToFiles(specs);
                AssertRoundTrip(files.Length == 1 && files[0].Path.Length == 1
                    ? TorrentBuilder.V2Single(files[0].Path[0], files[0].Length, pieceLength, seed: 0)
                    : TorrentBuilder.V2Multi("root", pieceLength, files));
            },
            iter: 100,
            threads: 1);
    }

    [Fact]
    public void RandomFileLists_RoundTrip_Hybrid()
    {
        GenTorrent.Sample(
            (pieceLength, specs) => AssertRoundTrip(TorrentBuilder.HybridMulti("root", pieceLength, ToFiles(specs))),
            iter: 100,
            threads: 1);
    }

    private static void AssertRoundTrip(TorrentBuilder b)
    {
        TorrentMetainfo t = b.Parse();
        AssertInvariants(t);
        TorrentFile[] real = [.. t.Files.Where(f => !f.IsPadFile)];
        Assert.Equal(b.Files.Select(b.ExpectedPath), real.Select(f => f.Path));
        Assert.Equal(b.Files.Select(f => (long)f.Length), real.Select(f => f.Length));
        Assert.Equal(b.Files.Sum(f => (long)f.Length), t.TotalSize);
        foreach ((TestFile expected, TorrentFile actual) in b.Files.Zip(real))
        {
            if (t.Version != TorrentVersion.V1 && expected.Length > 0)
            {
                Assert.Equal(new Sha256Hash(b.Roots[expected.JoinedPath]), actual.PiecesRoot);
            }

            if (actual.Length > 0 && t.Version != TorrentVersion.V1)
            {
                Assert.Equal(0, actual.Offset % t.PieceLength);
            }
        }

        if (t.Version != TorrentVersion.V2)
        {
            // Every v1 piece hash covers exactly the bytes the file list puts there.
            for (int i = 0; i < t.PieceCount; i++)
            {
                int start = i * b.PieceLength;
                byte[] piece = b.V1Stream[start..Math.Min(start + b.PieceLength, b.V1Stream.Length)];
                Assert.Equal(new Sha1Hash(System.Security.Cryptography.SHA1.HashData(piece)), t.GetPieceHashV1(i));
            }
        }
    }
}
