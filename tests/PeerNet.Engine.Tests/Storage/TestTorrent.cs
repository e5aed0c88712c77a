using System.Buffers;
using System.Security.Cryptography;
using PeerNet.Bencode;
using PeerNet.Metainfo;

namespace PeerNet.Engine.Tests.Storage;

/// <summary>A file of a test torrent: its path under the torrent's name ('/'-separated) and its bytes.</summary>
internal sealed record TestFile(string Path, byte[] Content)
{
    public static TestFile Random(string path, int length, int seed)
    {
        byte[] content = new byte[length];
        new Random(seed).NextBytes(content);
        return new TestFile(path, content);
    }
}

/// <summary>
/// Builds small v1, v2 and hybrid torrents in memory with hashes computed here, independently of the code under
/// test (its own SHA-256 merkle tree), and keeps the expected piece-space bytes.
/// </summary>
internal sealed class TestTorrent
{
    private const int Block = 16 * 1024;

    private TestTorrent(TorrentMetainfo metainfo, byte[] encoded, byte[] space, List<(TestFile File, long Offset)> layout, Dictionary<string, List<byte[]>> leaves)
    {
        Metainfo = metainfo;
        Encoded = encoded;
        Space = space;
        Layout = layout;
        _leaves = leaves;
    }

    private readonly Dictionary<string, List<byte[]>> _leaves;

    public TorrentMetainfo Metainfo { get; }

    public byte[] Encoded { get; }

    /// <summary>The whole piece space: file bytes at their offsets, zeros in pads and gaps.</summary>
    public byte[] Space { get; }

    /// <summary>Real files with their piece-space offsets, in torrent order.</summary>
    public List<(TestFile File, long Offset)> Layout { get; }

    public int PieceLength => (int)Metainfo.PieceLength;

    public byte[] Piece(int index)
    {
        long start = (long)index * PieceLength;
        int size = (int)Math.Min(PieceLength, Space.Length - start);
        return Space.AsSpan((int)start, size).ToArray();
    }

    /// <summary>The expected leaf hashes of the blocks of a v2 piece (as a peer's hash response would carry).</summary>
    public Sha256Hash[] ExpectedBlockHashes(int piece)
    {
        long start = (long)piece * PieceLength;
        foreach ((TestFile file, long offset) in Layout)
        {
            if (file.Content.Length > 0 && start >= offset && start < offset + file.Content.Length)
            {
                int first = (int)((start - offset) / Block);
                int count = (int)Math.Min(PieceLength / Block, _leaves[file.Path].Count - first);
                return _leaves[file.Path].Skip(first).Take(count).Select(h => new Sha256Hash(h)).ToArray();
            }
        }

        throw new ArgumentException("no file at that piece");
    }

    public static TestTorrent Build(TorrentVersion version, int pieceLength, IReadOnlyList<TestFile> files, string name = "test", bool singleFile = false, bool padFiles = false, bool withLayers = true)
    {
        bool v1 = version != TorrentVersion.V2;
        bool v2 = version != TorrentVersion.V1;
        padFiles |= version == TorrentVersion.Hybrid;
        List<TestFile> ordered = v2 ? [.. files.OrderBy(f => f.Path.Split('/'), SegmentComparer.Instance)] : [.. files];

        // Lay out the piece space: v1 concatenates (with optional BEP 47 pads), v2 aligns each non-empty file.
        var layout = new List<(TestFile File, long Offset)>();
        var v1Entries = new List<(string[] Path, long Length, bool Pad)>();
        long offset = 0;
        for (int i = 0; i < ordered.Count; i++)
        {
            TestFile f = ordered[i];
            if (!v1 && f.Content.Length > 0)
            {
                offset = AlignUp(offset, pieceLength);
            }

            layout.Add((f, offset));
            v1Entries.Add((f.Path.Split('/'), f.Content.Length, false));
            offset += f.Content.Length;
            long pad = AlignUp(offset, pieceLength) - offset;
            if (v1 && padFiles && pad > 0 && i < ordered.Count - 1 && f.Content.Length > 0)
            {
                v1Entries.Add(([".pad", pad.ToString()], pad, true));
                offset += pad;
            }
        }

        byte[] space = new byte[offset];
        foreach ((TestFile f, long o) in layout)
        {
            f.Content.CopyTo(space, o);
        }

        var leaves = new Dictionary<string, List<byte[]>>();
        var roots = new Dictionary<string, byte[]>();
        var layers = new List<(byte[] Root, byte[] Layer)>();
        if (v2)
        {
            foreach (TestFile f in ordered.Where(f => f.Content.Length > 0))
            {
                List<byte[]> l = Leaves(f.Content);
                leaves[f.Path] = l;
                byte[] root = Root(l, NextPow2(l.Count));
                roots[f.Path] = root;
                if (f.Content.Length > pieceLength)
                {
                    int bpp = pieceLength / Block;
                    var layer = new List<byte>();
                    for (int k = 0; k * bpp < l.Count; k++)
                    {
                        layer.AddRange(Root(l.Skip(k * bpp).Take(bpp).ToList(), bpp));
                    }

                    layers.Add((root, [.. layer]));
                }
            }
        }

        var buffer = new ArrayBufferWriter<byte>();
        var w = new BencodeWriter(buffer);
        w.WriteDictionaryStart();
        w.WriteString("info");
        w.WriteDictionaryStart();
        if (v2)
        {
            w.WriteString("file tree");
            WriteTree(w, ordered, roots, singleFile, name);
        }

        if (v1)
        {
            if (singleFile)
            {
                w.WriteString("length");
                w.WriteInteger(ordered[0].Content.Length);
            }
            else
            {
                w.WriteString("files");
                w.WriteListStart();
                foreach ((string[] path, long length, bool pad) in v1Entries)
                {
                    w.WriteDictionaryStart();
                    if (pad)
                    {
                        w.WriteString("attr");
                        w.WriteString("p");
                    }

                    w.WriteString("length");
                    w.WriteInteger(length);
                    w.WriteString("path");
                    w.WriteListStart();
                    foreach (string s in path)
                    {
                        w.WriteString(s);
                    }

                    w.WriteEnd();
                    w.WriteEnd();
                }

                w.WriteEnd();
            }
        }

        if (v2)
        {
            w.WriteString("meta version");
            w.WriteInteger(2);
        }

        w.WriteString("name");
        w.WriteString(name);
        w.WriteString("piece length");
        w.WriteInteger(pieceLength);
        if (v1)
        {
            w.WriteString("pieces");
            int count = (int)((space.Length + pieceLength - 1) / pieceLength);
            byte[] hashes = new byte[count * 20];
            for (int i = 0; i < count; i++)
            {
                int start = i * pieceLength;
                SHA1.HashData(space.AsSpan(start, Math.Min(pieceLength, space.Length - start)), hashes.AsSpan(i * 20));
            }

            w.WriteString(hashes);
        }

        w.WriteEnd();
        if (v2 && withLayers && layers.Count > 0)
        {
            w.WriteString("piece layers");
            w.WriteDictionaryStart();
            foreach ((byte[] root, byte[] layer) in layers.OrderBy(x => x.Root, ByteComparer.Instance))
            {
                w.WriteString(root);
                w.WriteString(layer);
            }

            w.WriteEnd();
        }

        w.WriteEnd();
        byte[] encoded = buffer.WrittenSpan.ToArray();
        TorrentMetainfo metainfo = TorrentMetainfo.Parse(encoded);
        return new TestTorrent(metainfo, encoded, space, layout, leaves);
    }

    private static void WriteTree(BencodeWriter w, List<TestFile> files, Dictionary<string, byte[]> roots, bool singleFile, string name)
    {
        if (singleFile)
        {
            w.WriteDictionaryStart();
            w.WriteString(name);
            WriteLeaf(w, files[0], roots);
            w.WriteEnd();
            return;
        }

        WriteFolder(w, files.Select(f => (f.Path.Split('/'), f)).ToList(), 0, roots);
    }

    private static void WriteFolder(BencodeWriter w, List<(string[] Segments, TestFile File)> entries, int depth, Dictionary<string, byte[]> roots)
    {
        w.WriteDictionaryStart();
        foreach (IGrouping<string, (string[] Segments, TestFile File)> group in entries.GroupBy(e => e.Segments[depth]).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            w.WriteString(group.Key);
            var list = group.ToList();
            if (list.Count == 1 && list[0].Segments.Length == depth + 1)
            {
                WriteLeaf(w, list[0].File, roots);
            }
            else
            {
                WriteFolder(w, list, depth + 1, roots);
            }
        }

        w.WriteEnd();
    }

    private static void WriteLeaf(BencodeWriter w, TestFile f, Dictionary<string, byte[]> roots)
    {
        w.WriteDictionaryStart();
        w.WriteString("");
        w.WriteDictionaryStart();
        w.WriteString("length");
        w.WriteInteger(f.Content.Length);
        if (f.Content.Length > 0)
        {
            w.WriteString("pieces root");
            w.WriteString(roots[f.Path]);
        }

        w.WriteEnd();
        w.WriteEnd();
    }

    private static List<byte[]> Leaves(byte[] content)
    {
        var list = new List<byte[]>();
        for (int i = 0; i < content.Length; i += Block)
        {
            list.Add(SHA256.HashData(content.AsSpan(i, Math.Min(Block, content.Length - i))));
        }

        return list;
    }

    /// <summary>Merkle root over <paramref name="nodes"/> padded with zero hashes to <paramref name="width"/> leaves.</summary>
    public static byte[] Root(List<byte[]> nodes, int width)
    {
        var level = new List<byte[]>(nodes);
        while (level.Count < width)
        {
            level.Add(new byte[32]);
        }

        while (level.Count > 1)
        {
            var next = new List<byte[]>();
            for (int i = 0; i < level.Count; i += 2)
            {
                next.Add(SHA256.HashData([.. level[i], .. level[i + 1]]));
            }

            level = next;
        }

        return level[0];
    }

    private static int NextPow2(int n)
    {
        int p = 1;
        while (p < n)
        {
            p *= 2;
        }

        return p;
    }

    private static long AlignUp(long offset, long pieceLength) => (offset + pieceLength - 1) / pieceLength * pieceLength;

    private sealed class SegmentComparer : IComparer<string[]>
    {
        public static readonly SegmentComparer Instance = new();

        public int Compare(string[]? x, string[]? y)
        {
            for (int i = 0; i < Math.Min(x!.Length, y!.Length); i++)
            {
                int c = string.CompareOrdinal(x[i], y[i]);
                if (c != 0)
                {
                    return c;
                }
            }

            return x.Length.CompareTo(y.Length);
        }
    }

    private sealed class ByteComparer : IComparer<byte[]>
    {
        public static readonly ByteComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}

/// <summary>A temporary folder removed when disposed.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "peernet-storage-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
