using System.Numerics;

namespace PeerNet.Metainfo;

/// <summary>
/// BEP 52 merkle trees: SHA-256 over 16 KiB blocks, padded with zero leaves to a power of two.
/// </summary>
public static class MerkleTree
{
    /// <summary>Size of a leaf block (BEP 52: "16KiB blocks").</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>Longest padding chain cached: 2^40 blocks is far beyond any file.</summary>
    private const int MaxLevels = 64;

    private static readonly Sha256Hash[] PadHashes = BuildPadHashes();

    /// <summary>
    /// The root of a subtree of all-zero leaves whose height is <paramref name="level"/> (0 is a zero leaf):
    /// what stands in for the part of the tree beyond the end of a file.
    /// </summary>
    public static Sha256Hash PadHash(int level) => PadHashes[level];

    /// <summary>Number of leaves in the padded tree over <paramref name="count"/> real leaves.</summary>
    public static long LeafCount(long count) => count <= 1 ? 1 : (long)BitOperations.RoundUpToPowerOf2((ulong)count);

    /// <summary>
    /// Computes the root over <paramref name="nodes"/> at tree level <paramref name="level"/>, padding with
    /// <see cref="PadHash"/>(<paramref name="level"/>) to <paramref name="width"/> nodes (a power of two, at least
    /// the count of nodes). The span is used as scratch space and overwritten.
    /// </summary>
    public static Sha256Hash ComputeRoot(Span<Sha256Hash> nodes, int level, long width)
    {
        if (width < nodes.Length || !BitOperations.IsPow2(width))
        {
            ThrowHelper.ThrowArgument(nameof(width), "Width must be a power of two covering every node.");
        }

        int count = nodes.Length;
        if (count == 0)
        {
            return PadHash(level + BitOperations.Log2((ulong)width));
        }

        while (width > 1)
        {
            int parents = (count + 1) / 2;
            for (int i = 0; i < parents; i++)
            {
                Sha256Hash right = (2 * i) + 1 < count ? nodes[(2 * i) + 1] : PadHash(level);
                nodes[i] = Sha256Hash.Combine(nodes[2 * i], right);
            }

            count = parents;
            width /= 2;
            level++;
        }

        return nodes[0];
    }

    /// <summary>
    /// The root of a file's tree given its piece layer (BEP 52 "piece layers": the hashes of each
    /// piece-sized subtree), for a file of <paramref name="fileLength"/> bytes and pieces of
    /// <paramref name="pieceLength"/> bytes.
    /// </summary>
    public static Sha256Hash RootFromPieceLayer(ReadOnlySpan<Sha256Hash> layer, long fileLength, long pieceLength)
    {
        int pieceLevel = BitOperations.Log2((ulong)(pieceLength / BlockSize));
        long blocks = (fileLength + BlockSize - 1) / BlockSize;
        long leafWidth = LeafCount(blocks);
        long layerWidth = Math.Max(1, leafWidth >> pieceLevel);
        Sha256Hash[] scratch = layer.ToArray();
        return ComputeRoot(scratch, pieceLevel, layerWidth);
    }

    private static Sha256Hash[] BuildPadHashes()
    {
        var pads = new Sha256Hash[MaxLevels];
        pads[0] = default;
        for (int i = 1; i < MaxLevels; i++)
        {
            pads[i] = Sha256Hash.Combine(pads[i - 1], pads[i - 1]);
        }

        return pads;
    }
}
