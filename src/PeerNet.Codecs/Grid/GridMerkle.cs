namespace PeerNet.Grid;

/// <summary>
/// A binary Merkle tree over 32-byte leaf hashes, filled to a power of two with <see cref="GridHashes.Padding"/>;
/// a proof is the sibling hashes from the leaf up, <see cref="Depth"/> of them.
/// </summary>
internal sealed class GridMerkle
{
    private readonly byte[][] _levels;

    /// <summary>Builds the tree over <paramref name="leaves"/> (<paramref name="count"/> hashes of 32 bytes, concatenated).</summary>
    public GridMerkle(ReadOnlySpan<byte> leaves, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (leaves.Length != count * GridHashes.Length)
        {
            throw new ArgumentException($"{count} leaves need {count * GridHashes.Length} bytes, not {leaves.Length}.", nameof(leaves));
        }

        LeafCount = count;
        int depth = Depth(count);
        _levels = new byte[depth + 1][];
        int width = 1 << depth;
        byte[] level = new byte[width * GridHashes.Length];
        leaves.CopyTo(level);
        for (int i = count; i < width; i++)
        {
            GridHashes.Padding.CopyTo(level.AsSpan(i * GridHashes.Length));
        }

        _levels[0] = level;
        for (int d = 1; d <= depth; d++)
        {
            width >>= 1;
            byte[] up = new byte[width * GridHashes.Length];
            for (int i = 0; i < width; i++)
            {
                GridHashes.Node(level.AsSpan(2 * i * GridHashes.Length, GridHashes.Length), level.AsSpan((2 * i + 1) * GridHashes.Length, GridHashes.Length), up.AsSpan(i * GridHashes.Length, GridHashes.Length));
            }

            _levels[d] = level = up;
        }
    }

    /// <summary>How many leaves the tree was built over.</summary>
    public int LeafCount { get; }

    /// <summary>The root hash.</summary>
    public byte[] Root => _levels[^1];

    /// <summary>The number of hashes in a proof for a tree of <paramref name="leafCount"/> leaves: ⌈log2⌉, 0 for one leaf.</summary>
    public static int Depth(int leafCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(leafCount, 1);
        int depth = 0;
        while ((1L << depth) < leafCount)
        {
            depth++;
        }

        return depth;
    }

    /// <summary>The proof of leaf <paramref name="index"/>: its sibling hashes from the bottom up.</summary>
    public byte[] Proof(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, LeafCount);
        byte[] proof = new byte[(_levels.Length - 1) * GridHashes.Length];
        for (int d = 0; d < _levels.Length - 1; d++)
        {
            int sibling = index ^ 1;
            _levels[d].AsSpan(sibling * GridHashes.Length, GridHashes.Length).CopyTo(proof.AsSpan(d * GridHashes.Length));
            index >>= 1;
        }

        return proof;
    }

    /// <summary>
    /// Whether <paramref name="leaf"/> is leaf <paramref name="index"/> of a <paramref name="leafCount"/>-leaf tree with
    /// root <paramref name="root"/>, by <paramref name="proof"/>; a proof of the wrong length or an index out of range is false.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> leaf, int index, int leafCount, ReadOnlySpan<byte> proof, ReadOnlySpan<byte> root)
    {
        if (leafCount < 1 || index < 0 || index >= leafCount || leaf.Length != GridHashes.Length || root.Length != GridHashes.Length
            || proof.Length != Depth(leafCount) * GridHashes.Length)
        {
            return false;
        }

        Span<byte> current = stackalloc byte[GridHashes.Length];
        leaf.CopyTo(current);
        for (int d = 0; d < proof.Length / GridHashes.Length; d++)
        {
            ReadOnlySpan<byte> sibling = proof.Slice(d * GridHashes.Length, GridHashes.Length);
            if ((index & 1) == 0)
            {
                GridHashes.Node(current, sibling, current);
            }
            else
            {
                GridHashes.Node(sibling, current, current);
            }

            index >>= 1;
        }

        return current.SequenceEqual(root);
    }
}
