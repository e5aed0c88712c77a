using System.Security.Cryptography;
using System.Text;
using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>A file to put in a test torrent: its path below the torrent's name, and its bytes.</summary>
internal sealed record TestFile(string[] Path, byte[] Data)
{
    public TestFile(string path, int length, int seed = 1)
        : this(path.Split('/'), TestHashes.Bytes(length, seed))
    {
    }

    /// <summary>BEP 47 attributes written to the v1 entry (and the v2 leaf).</summary>
    public string? Attr { get; init; }

    public int Length => Data.Length;

    public string JoinedPath => string.Join('/', Path);
}

/// <summary>
/// Writes .torrent files for tests: v1, v2 and hybrid, single- and multi-file, with piece hashes, pieces roots
/// and piece layers computed here (independently of the parser) per BEP 3 and BEP 52. Every part is an
/// editable <see cref="BValue"/> so a test can inject a hostile variation before <see cref="Build"/>.
/// </summary>
internal sealed class TorrentBuilder
{
    public const string Tracker = "http://tracker.example/announce";

    private TorrentBuilder(string name, int pieceLength, bool singleFile, IReadOnlyList<TestFile> files)
    {
        Name = name;
        PieceLength = pieceLength;
        IsSingleFile = singleFile;
        Files = files;
        Root["announce"] = BValue.Str(Tracker);
        Info["name"] = BValue.Str(name);
        Info["piece length"] = BValue.Int(pieceLength);
    }

    public BDict Root { get; } = new();

    public BDict Info { get; } = new();

    public string Name { get; }

    public int PieceLength { get; }

    public bool IsSingleFile { get; }

    /// <summary>The real files in the order the parser reports them (tree order for v2 and hybrid).</summary>
    public IReadOnlyList<TestFile> Files { get; }

    /// <summary>The v1 <c>files</c> entries in order, pad files included.</summary>
    public List<BDict> V1Entries { get; } = [];

    /// <summary>The v1 piece space: file data with pad files as zeros.</summary>
    public byte[] V1Stream { get; private set; } = [];

    /// <summary>Each v2 file's leaf (the dictionary under the <c>""</c> key), by joined path.</summary>
    public Dictionary<string, BDict> V2Leaves { get; } = [];

    /// <summary>Each v2 file's pieces root, by joined path.</summary>
    public Dictionary<string, byte[]> Roots { get; } = [];

    /// <summary>Each v2 file's piece layer (empty when the file fits in one piece), by joined path.</summary>
    public Dictionary<string, byte[]> Layers { get; } = [];

    public BDict? FileTree { get; private set; }

    public BDict? PieceLayers { get; private set; }

    public static TorrentBuilder V1Single(string name, int length, int pieceLength = 16384, int seed = 1)
    {
        var file = new TestFile([name], TestHashes.Bytes(length, seed));
        var b = new TorrentBuilder(name, pieceLength, singleFile: true, [file]);
        b.AddV1Single(file);
        return b;
    }

    public static TorrentBuilder V1Multi(string name, int pieceLength, params TestFile[] files)
    {
        var b = new TorrentBuilder(name, pieceLength, singleFile: false, files);
        b.AddV1Multi(files, pad: false);
        return b;
    }

    public static TorrentBuilder V2Single(string name, int length, int pieceLength = 16384, int seed = 1)
    {
        var file = new TestFile([name], TestHashes.Bytes(length, seed));
        var b = new TorrentBuilder(name, pieceLength, singleFile: true, [file]);
        b.AddV2([file]);
        return b;
    }

    public static TorrentBuilder V2Multi(string name, int pieceLength, params TestFile[] files)
    {
        TestFile[] ordered = TreeOrder(files);
        var b = new TorrentBuilder(name, pieceLength, singleFile: false, ordered);
        b.AddV2(ordered);
        return b;
    }

    public static TorrentBuilder HybridSingle(string name, int length, int pieceLength = 16384, int seed = 1)
    {
        var file = new TestFile([name], TestHashes.Bytes(length, seed));
        var b = new TorrentBuilder(name, pieceLength, singleFile: true, [file]);
        b.AddV1Single(file);
        b.AddV2([file]);
        return b;
    }

    /// <summary>A hybrid: v1 files in v2 tree order, with a BEP 47 pad file after each unaligned file that has data after it.</summary>
    public static TorrentBuilder HybridMulti(string name, int pieceLength, params TestFile[] files)
    {
        TestFile[] ordered = TreeOrder(files);
        var b = new TorrentBuilder(name, pieceLength, singleFile: false, ordered);
        b.AddV1Multi(ordered, pad: true);
        b.AddV2(ordered);
        return b;
    }

    /// <summary>A v1 multi-file torrent "n" of 16 KiB pieces holding one 10-byte file at each of <paramref name="paths"/>.</summary>
    public static TorrentBuilder V1Paths(params string[][] paths) => V1Multi("n", 16384, TenBytesAt(paths));

    /// <summary>A v2 multi-file torrent "n" of 16 KiB pieces holding one 10-byte file at each of <paramref name="paths"/>.</summary>
    public static TorrentBuilder V2Paths(params string[][] paths) => V2Multi("n", 16384, TenBytesAt(paths));

    /// <summary>The path the parser should report for <paramref name="file"/>.</summary>
    public string ExpectedPath(TestFile file) => IsSingleFile ? Name : Name + "/" + file.JoinedPath;

    public byte[] Build()
    {
        Root["info"] = Info;
        return BValue.Encode(Root);
    }

    public TorrentMetainfo Parse(MetainfoLimits? limits = null)
    {
        byte[] data = Build();
        Assert.True(TorrentMetainfo.TryParse(data, out TorrentMetainfo? torrent, out MetainfoError error, limits), error.ToString());
        return torrent;
    }

    /// <summary>Builds, parses, asserts a refusal with <paramref name="code"/> and returns the error.</summary>
    public MetainfoError Refuse(MetainfoErrorCode code, MetainfoLimits? limits = null)
    {
        byte[] data = Build();
        bool ok = TorrentMetainfo.TryParse(data, out TorrentMetainfo? torrent, out MetainfoError error, limits);
        Assert.False(ok, $"expected {code}, but the torrent parsed");
        Assert.Null(torrent);
        Assert.True(code == error.Code, $"expected {code}, got {error}");
        return error;
    }

    /// <summary>Like <see cref="Refuse"/>, and asserts the error's offset is where <paramref name="at"/> was written.</summary>
    public MetainfoError RefuseAt(MetainfoErrorCode code, BValue at, MetainfoLimits? limits = null)
    {
        MetainfoError error = Refuse(code, limits);
        Assert.True(at.Offset >= 0, "the value was not written");
        Assert.True(at.Offset == error.Offset, $"expected the error at byte {at.Offset}, got {error}");
        return error;
    }

    private static TestFile[] TenBytesAt(string[][] paths) => [.. paths.Select((p, i) => new TestFile(p, TestHashes.Bytes(10, i)))];

    /// <summary>Files in BEP 52 tree order: path segments compared as raw UTF-8, segment by segment.</summary>
    public static TestFile[] TreeOrder(IEnumerable<TestFile> files) => [.. files.Order(Comparer<TestFile>.Create(static (a, b) => ComparePaths(a.Path, b.Path)))];

    private static int ComparePaths(string[] a, string[] b)
    {
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            int c = ByteComparer.Instance.Compare(Encoding.UTF8.GetBytes(a[i]), Encoding.UTF8.GetBytes(b[i]));
            if (c != 0)
            {
                return c;
            }
        }

        return a.Length.CompareTo(b.Length);
    }

    private void AddV1Single(TestFile file)
    {
        Info["length"] = BValue.Int(file.Length);
        V1Stream = file.Data;
        Info["pieces"] = BValue.Str(TestHashes.PiecesV1(V1Stream, PieceLength));
    }

    private void AddV1Multi(TestFile[] files, bool pad)
    {
        var list = new BList();
        var stream = new MemoryStream();
        for (int i = 0; i < files.Length; i++)
        {
            TestFile file = files[i];
            BDict entry = new BDict().With("length", BValue.Int(file.Length)).With("path", BValue.StrList(file.Path));
            if (file.Attr is not null)
            {
                entry["attr"] = BValue.Str(file.Attr);
            }

            list.Items.Add(entry);
            V1Entries.Add(entry);
            stream.Write(file.Data);
            bool dataFollows = files.Skip(i + 1).Any(f => f.Length > 0);
            if (pad && file.Length % PieceLength != 0 && dataFollows)
            {
                int padLength = PieceLength - (file.Length % PieceLength);
                BDict padEntry = PadEntry(padLength);
                list.Items.Add(padEntry);
                V1Entries.Add(padEntry);
                stream.Write(new byte[padLength]);
            }
        }

        Info["files"] = list;
        V1Stream = stream.ToArray();
        Info["pieces"] = BValue.Str(TestHashes.PiecesV1(V1Stream, PieceLength));
    }

    /// <summary>A BEP 47 pad file entry as libtorrent writes it: <c>.pad/N</c> with attribute <c>p</c>.</summary>
    public static BDict PadEntry(long length) => new BDict()
        .With("attr", BValue.Str("p"))
        .With("length", BValue.Int(length))
        .With("path", BValue.StrList(".pad", length.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Recomputes the v1 <c>pieces</c> over <paramref name="stream"/> (after a test edits the file list).</summary>
    public void SetV1Pieces(byte[] stream)
    {
        V1Stream = stream;
        Info["pieces"] = BValue.Str(TestHashes.PiecesV1(stream, PieceLength));
    }

    private void AddV2(TestFile[] files)
    {
        var tree = new BDict();
        var layers = new BDict();
        if (IsSingleFile)
        {
            tree[Name] = new BDict().With("", Leaf(files[0], layers));
        }
        else
        {
            foreach (TestFile file in files)
            {
                BDict folder = tree;
                foreach (string segment in file.Path[..^1])
                {
                    if (folder[segment] is not BDict child)
                    {
                        child = new BDict();
                        folder[segment] = child;
                    }

                    folder = child;
                }

                folder[file.Path[^1]] = new BDict().With("", Leaf(file, layers));
            }
        }

        Info["meta version"] = BValue.Int(2);
        Info["file tree"] = tree;
        Root["piece layers"] = layers;
        FileTree = tree;
        PieceLayers = layers;
    }

    private BDict Leaf(TestFile file, BDict layers)
    {
        var leaf = new BDict().With("length", BValue.Int(file.Length));
        if (file.Attr is not null)
        {
            leaf["attr"] = BValue.Str(file.Attr);
        }

        if (file.Length > 0)
        {
            byte[] root = TestHashes.MerkleRoot(file.Data, PieceLength, out byte[] layer);
            leaf["pieces root"] = BValue.Str(root);
            Roots[file.JoinedPath] = root;
            Layers[file.JoinedPath] = layer;
            if (file.Length > PieceLength)
            {
                layers.Set(root, BValue.Str(layer));
            }
        }

        V2Leaves[file.JoinedPath] = leaf;
        return leaf;
    }
}

/// <summary>Hashes computed the plain way, to check the parser against.</summary>
internal static class TestHashes
{
    public const int BlockSize = 16 * 1024;

    /// <summary>Deterministic non-zero-looking bytes.</summary>
    public static byte[] Bytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>BEP 3 <c>pieces</c>: SHA-1 of each piece, concatenated.</summary>
    public static byte[] PiecesV1(byte[] stream, int pieceLength)
    {
        var pieces = new MemoryStream();
        for (int start = 0; start < stream.Length; start += pieceLength)
        {
            pieces.Write(SHA1.HashData(stream.AsSpan(start, Math.Min(pieceLength, stream.Length - start))));
        }

        return pieces.ToArray();
    }

    /// <summary>
    /// BEP 52: SHA-256 over 16 KiB blocks (the last one short), zero leaves up to a power of two, pairs hashed
    /// up to the root. <paramref name="layer"/> is the level where one node covers a piece, cut to the pieces
    /// the file has (empty when the file fits in one piece).
    /// </summary>
    public static byte[] MerkleRoot(byte[] data, int pieceLength, out byte[] layer)
    {
        int blocks = (data.Length + BlockSize - 1) / BlockSize;
        int leaves = 1;
        while (leaves < blocks)
        {
            leaves *= 2;
        }

        var level = new List<byte[]>();
        for (int i = 0; i < leaves; i++)
        {
            level.Add(i < blocks ? SHA256.HashData(data.AsSpan(i * BlockSize, Math.Min(BlockSize, data.Length - (i * BlockSize)))) : new byte[32]);
        }

        int blocksPerPiece = pieceLength / BlockSize;
        int pieces = (data.Length + pieceLength - 1) / pieceLength;
        layer = [];
        int covered = 1;
        while (true)
        {
            if (covered == blocksPerPiece && data.Length > pieceLength)
            {
                layer = [.. level.Take(pieces).SelectMany(h => h)];
            }

            if (level.Count == 1)
            {
                return level[0];
            }

            var up = new List<byte[]>();
            for (int i = 0; i < level.Count; i += 2)
            {
                up.Add(SHA256.HashData([.. level[i], .. level[i + 1]]));
            }

            level = up;
            covered *= 2;
        }
    }
}
