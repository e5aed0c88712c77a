namespace PeerNet.PeerWire;

/// <summary>The fields of a BEP 3 <c>request</c> or <c>cancel</c>, or a BEP 6 <c>reject request</c>.</summary>
/// <param name="PieceIndex">Zero-based piece index.</param>
/// <param name="Begin">Byte offset of the block within the piece.</param>
/// <param name="Length">Length of the block in bytes.</param>
internal readonly record struct BlockRequest(int PieceIndex, int Begin, int Length);
