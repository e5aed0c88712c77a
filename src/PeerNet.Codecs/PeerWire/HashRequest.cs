namespace PeerNet.PeerWire;

/// <summary>
/// The fields shared by the BEP 52 <c>hash request</c>, <c>hashes</c> and <c>hash reject</c> messages: which
/// file's merkle tree (its pieces root), which layer (0 = 16 KiB blocks), the first hash and how many, and how
/// many layers of uncle hashes should prove them.
/// </summary>
/// <param name="PiecesRoot">Root of the file's merkle tree.</param>
/// <param name="BaseLayer">Layer of the requested hashes, counted up from the leaves.</param>
/// <param name="Index">Offset of the first requested hash within its layer.</param>
/// <param name="Length">Number of hashes requested.</param>
/// <param name="ProofLayers">Number of ancestor layers for which uncle hashes are wanted.</param>
internal readonly record struct HashRequest(Sha256Hash PiecesRoot, int BaseLayer, int Index, int Length, int ProofLayers)
{
    /// <summary>Encoded size of the fields: 32-byte root and four 4-byte integers.</summary>
    public const int WireLength = Sha256Hash.Length + 16;
}
