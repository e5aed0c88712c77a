using System.Security.Cryptography;
using System.Text;
using PeerNet.Bencode;
using PeerNet.Creation;
using PeerNet.Metainfo;

namespace PeerNet.Engine.Tests.Creation;

/// <summary>A temporary folder of files to make torrents from; deleted on dispose.</summary>
internal sealed class TempTree : IDisposable
{
    public TempTree()
    {
        Root = Path.Combine(Path.GetTempPath(), "peernet-create-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    /// <summary>The temporary folder itself (holds the content folder <see cref="Content"/> and stray files).</summary>
    public string Root { get; }

    /// <summary>A folder named "content" inside the root: what multi-file tests turn into torrents.</summary>
    public string Content => Path.Combine(Root, "content");

    /// <summary>Writes <paramref name="length"/> pseudo-random bytes at <paramref name="relative"/> under <see cref="Content"/>.</summary>
    public byte[] Write(string relative, int length, int seed = 1) => WriteAt(Path.Combine(Content, relative), length, seed);

    public static byte[] WriteAt(string path, int length, int seed = 1)
    {
        byte[] data = CreationTestKit.RandomBytes(length, seed);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
        return data;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Helpers to make torrents and look inside them, and independent reference hashing.</summary>
internal static class CreationTestKit
{
    public const int Block = 16 * 1024;

    public static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    public static TorrentCreationOptions Options(string source, TorrentVersion version, long pieceLength = Block) => new()
    {
        SourcePath = source,
        Version = version,
        PieceLength = pieceLength,
        CreatedBy = null,
        CreationDate = null,
    };

    public static async Task<BencodeDocument> CreateAsync(TorrentCreationOptions options)
    {
        byte[] torrent = await TorrentCreator.CreateAsync(options, cancellationToken: TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        return BencodeDocument.Parse(torrent);
    }

    public static List<string> Keys(BencodeNode dictionary)
    {
        var keys = new List<string>();
        foreach (KeyValuePair<BencodeNode, BencodeNode> entry in dictionary.Entries)
        {
            keys.Add(entry.Key.GetString()!);
        }

        return keys;
    }

    public static string Str(BencodeNode node) => node.GetString() ?? throw new InvalidOperationException("not a string");

    public static long Int(BencodeNode node) => node.TryGetInt64(out long v) ? v : throw new InvalidOperationException("not an integer");

    public static List<string> FilePath(BencodeNode fileEntry)
    {
        var segments = new List<string>();
        foreach (BencodeNode s in fileEntry["path"u8].Items)
        {
            segments.Add(s.GetString()!);
        }

        return segments;
    }

    /// <summary>Every dictionary in the document has strictly increasing raw keys (BEP 3).</summary>
    public static void AssertCanonical(BencodeNode node)
    {
        if (node.IsDictionary)
        {
            byte[]? previous = null;
            foreach (KeyValuePair<BencodeNode, BencodeNode> entry in node.Entries)
            {
                byte[] key = entry.Key.StringSpan.ToArray();
                if (previous is not null)
                {
                    Assert.True(previous.AsSpan().SequenceCompareTo(key) < 0, $"key '{Encoding.UTF8.GetString(key)}' out of order");
                }

                previous = key;
                AssertCanonical(entry.Value);
            }
        }
        else if (node.IsList)
        {
            foreach (BencodeNode item in node.Items)
            {
                AssertCanonical(item);
            }
        }
    }

    /// <summary>SHA-1 of each <paramref name="pieceLength"/> slice of <paramref name="stream"/>, concatenated.</summary>
    public static byte[] ReferenceV1Pieces(byte[] stream, int pieceLength)
    {
        using var output = new MemoryStream();
        for (int offset = 0; offset < stream.Length; offset += pieceLength)
        {
            output.Write(SHA1.HashData(stream.AsSpan(offset, Math.Min(pieceLength, stream.Length - offset))));
        }

        return output.ToArray();
    }

    /// <summary>
    /// BEP 52 straight from the text: SHA-256 of each 16 KiB block, zero leaves up to a power of two, pairs
    /// hashed up to the root. Deliberately naive (byte arrays, no MerkleTree helpers).
    /// </summary>
    public static byte[] ReferenceRoot(ReadOnlySpan<byte> data, int leafCount = 0)
    {
        var leaves = new List<byte[]>();
        for (int offset = 0; offset < data.Length; offset += Block)
        {
            leaves.Add(SHA256.HashData(data.Slice(offset, Math.Min(Block, data.Length - offset))));
        }

        int width = 1;
        while (width < Math.Max(leaves.Count, leafCount))
        {
            width *= 2;
        }

        while (leaves.Count < width)
        {
            leaves.Add(new byte[32]);
        }

        while (leaves.Count > 1)
        {
            var parents = new List<byte[]>();
            for (int i = 0; i < leaves.Count; i += 2)
            {
                parents.Add(SHA256.HashData([.. leaves[i], .. leaves[i + 1]]));
            }

            leaves = parents;
        }

        return leaves[0];
    }

    /// <summary>BEP 52 piece layer: the root of each piece's blocks, padded with zero leaves to a whole piece.</summary>
    public static byte[] ReferencePieceLayer(byte[] data, int pieceLength)
    {
        using var output = new MemoryStream();
        for (int offset = 0; offset < data.Length; offset += pieceLength)
        {
            output.Write(ReferenceRoot(data.AsSpan(offset, Math.Min(pieceLength, data.Length - offset)), pieceLength / Block));
        }

        return output.ToArray();
    }

    /// <summary>The leaf dictionary of a file in a v2 <c>file tree</c>.</summary>
    public static BencodeNode Leaf(BencodeNode info, params string[] path)
    {
        BencodeNode node = info["file tree"u8];
        foreach (string segment in path)
        {
            node = node[Encoding.UTF8.GetBytes(segment)];
        }

        return node[""u8];
    }
}
