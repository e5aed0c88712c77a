using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace PeerNet.Grid;

/// <summary>
/// The hashes of the storage grid, each domain-separated by a tag so that no hash of one kind can stand for another:
/// SHA-256(tag || 0x00 || data). Merkle trees hash leaves and inner nodes under different tags (as RFC 6962 does), so a
/// node cannot be passed off as a leaf.
/// </summary>
internal static class GridHashes
{
    public const int Length = 32;

    private static readonly byte[] LeafTag = Tag("peernet-grid-leaf");
    private static readonly byte[] NodeTag = Tag("peernet-grid-node");
    private static readonly byte[] PadTag = Tag("peernet-grid-pad");
    private static readonly byte[] StorageIndexTag = Tag("peernet-grid-storage-index");
    private static readonly byte[] ExtensionTag = Tag("peernet-grid-extension-block");
    private static readonly byte[] ConvergentTag = Tag("peernet-grid-convergent-key");

    /// <summary>The hash that fills a Merkle tree up to a power of two leaves.</summary>
    public static readonly byte[] Padding = Tagged(PadTag, []);

    private static byte[] Tag(string name) => [.. Encoding.ASCII.GetBytes(name), 0];

    private static byte[] Tagged(byte[] tag, ReadOnlySpan<byte> data)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(tag);
        hash.AppendData(data);
        return hash.GetHashAndReset();
    }

    /// <summary>The hash of a Merkle leaf (a block, or a share root in the tree of share roots).</summary>
    public static byte[] Leaf(ReadOnlySpan<byte> data) => Tagged(LeafTag, data);

    /// <summary>The hash of an inner Merkle node from its two children.</summary>
    public static void Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[NodeTag.Length + 2 * Length];
        NodeTag.CopyTo(input);
        left.CopyTo(input[NodeTag.Length..]);
        right.CopyTo(input[(NodeTag.Length + Length)..]);
        SHA256.HashData(input, destination);
    }

    /// <summary>The storage index of a file: a hash of its key, from which the key cannot be derived.</summary>
    public static byte[] StorageIndex(ReadOnlySpan<byte> key) => Tagged(StorageIndexTag, key);

    /// <summary>The hash of an extension block: the root a capability holds.</summary>
    public static byte[] Extension(ReadOnlySpan<byte> block) => Tagged(ExtensionTag, block);

    /// <summary>
    /// A convergent key: the same plaintext, parameters and secret give the same key (and so the same shares), which
    /// deduplicates but lets anyone holding a guess confirm it (see docs/storage.md).
    /// </summary>
    public static byte[] ConvergentKey(ReadOnlySpan<byte> plaintextHash, int k, int n, int segmentSize, ReadOnlySpan<byte> secret)
    {
        byte[] input = new byte[12 + Length + secret.Length];
        BinaryPrimitives.WriteInt32BigEndian(input, k);
        BinaryPrimitives.WriteInt32BigEndian(input.AsSpan(4), n);
        BinaryPrimitives.WriteInt32BigEndian(input.AsSpan(8), segmentSize);
        plaintextHash.CopyTo(input.AsSpan(12));
        secret.CopyTo(input.AsSpan(12 + Length));
        return Tagged(ConvergentTag, input);
    }
}
