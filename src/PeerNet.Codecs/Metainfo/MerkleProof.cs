using System.Numerics;
using PeerNet.PeerWire;

namespace PeerNet.Metainfo;

/// <summary>
/// BEP 52 hash requests over one file's merkle tree: which requests are valid, how many uncle hashes a
/// <c>hashes</c> reply carries, and how a reply is folded up to a node the asker already trusts.
/// Layers count up from the leaves (layer 0 = 16 KiB block hashes); a file of <c>n</c> blocks has a tree of
/// <see cref="MerkleTree.LeafCount"/>(<c>n</c>) leaves and <see cref="LayerCount"/> layers above them.
/// </summary>
internal static class MerkleProof
{
    /// <summary>
    /// Most hashes one request may ask for. BEP 52: "Length SHOULD NOT be greater than 512"; libtorrent accepts up
    /// to 8192 (the block hashes of one 128 MiB piece), and so do we.
    /// </summary>
    public const int MaxLength = 8192;

    /// <summary>Layers above the leaves in the tree of a file of <paramref name="fileLength"/> bytes (0 for one block).</summary>
    public static int LayerCount(long fileLength)
    {
        long blocks = Math.Max(1, (fileLength + MerkleTree.BlockSize - 1) / MerkleTree.BlockSize);
        return BitOperations.Log2((ulong)MerkleTree.LeafCount(blocks));
    }

    /// <summary>
    /// Whether <paramref name="request"/> names hashes that exist in the tree of a file of
    /// <paramref name="fileLength"/> bytes, with the shape BEP 52 requires.
    /// </summary>
    public static bool IsValid(in HashRequest request, long fileLength)
    {
        int layers = LayerCount(fileLength);
        if (request.BaseLayer < 0 || request.BaseLayer >= layers || request.Index < 0 || request.ProofLayers < 0
            || request.Length < 2 || request.Length > MaxLength || !BitOperations.IsPow2(request.Length))
        {
            // BEP 52: "Length MUST be equal-to-or-greater-than two and a power of two"; the root itself
            // (base layer = layer count) has no siblings and is never requested.
            return false;
        }

        // BEP 52: "Index MUST be a multiple of length"; the run must lie inside its (padded) layer, and the
        // proof may climb at most to the root's children.
        long layerSize = 1L << (layers - request.BaseLayer);
        return request.Index % request.Length == 0
            && (long)request.Index + request.Length <= layerSize
            && request.ProofLayers < layers - request.BaseLayer;
    }

    /// <summary>
    /// Uncle hashes in a reply to a request for <paramref name="length"/> hashes with <paramref name="proofLayers"/>
    /// proof layers. BEP 52: "the first log2(length)-1 proof layers are omitted" because the run itself covers them.
    /// </summary>
    public static int UncleCount(int length, int proofLayers) => Math.Max(0, proofLayers - BitOperations.Log2((uint)length) + 1);

    /// <summary>
    /// The layer and index of each uncle a reply to <paramref name="request"/> carries, lowest first:
    /// the siblings along the path from the run's own subtree root upwards.
    /// </summary>
    public static (int Layer, long Index) Uncle(in HashRequest request, int uncle)
    {
        int runHeight = BitOperations.Log2((uint)request.Length);
        int layer = request.BaseLayer + runHeight + uncle;
        long node = (long)request.Index >> (runHeight + uncle);
        return (layer, node ^ 1);
    }

    /// <summary>
    /// Folds a reply's run of hashes and its uncles up to the highest node they prove: returns that node's hash,
    /// with its <paramref name="layer"/> and <paramref name="index"/>. The asker compares it with a node it trusts
    /// (the file's pieces root, or a piece-layer hash). <paramref name="run"/> is used as scratch and overwritten.
    /// </summary>
    public static Sha256Hash Fold(in HashRequest request, Span<Sha256Hash> run, ReadOnlySpan<Sha256Hash> uncles, out int layer, out long index)
    {
        if (run.Length != request.Length || !BitOperations.IsPow2(run.Length))
        {
            ThrowHelper.ThrowArgument(nameof(run), "The run must hold exactly the requested power-of-two count of hashes.");
        }

        int runHeight = BitOperations.Log2((uint)run.Length);
        Sha256Hash node = MerkleTree.ComputeRoot(run, request.BaseLayer, run.Length);
        layer = request.BaseLayer + runHeight;
        index = (long)request.Index >> runHeight;
        foreach (Sha256Hash uncle in uncles)
        {
            node = (index & 1) == 0 ? Sha256Hash.Combine(node, uncle) : Sha256Hash.Combine(uncle, node);
            index >>= 1;
            layer++;
        }

        return node;
    }
}
