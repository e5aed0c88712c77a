using System.Buffers;
using PeerNet.PeerWire;

namespace PeerNet.Swarm;

/// <summary>BEP 9 ut_metadata: serving the info dictionary to peers that joined from a magnet link.</summary>
internal sealed partial class TorrentSwarm
{
    /// <summary>The name peers use for BEP 9 in the extension handshake.</summary>
    public const string MetadataExtensionName = "ut_metadata";

    /// <summary>
    /// Metadata pieces served to one peer over its connection's life, beyond which its requests are rejected:
    /// enough to fetch the metadata several times over, not enough to turn us into a bandwidth amplifier.
    /// </summary>
    private int MaxMetadataPiecesPerPeer => (4 * MetadataMessage.GetPieceCount(Metainfo.InfoBytes.Length)) + 8;

    /// <summary>
    /// A peer asked for metadata piece <paramref name="piece"/> (the reader parsed the message; only the number reaches
    /// the loop). The reply is queued as a piece number and encoded by the writer straight from the info dictionary,
    /// so a queued reply or reject costs a queue entry, not a 16 KiB buffer. Past its allowance a peer is rejected
    /// (BEP 9: "a peer that does not have the requested piece (or will not send it) answers with a reject"), and its
    /// rejects count towards <see cref="PeerLimits.MaxRefusedRequests"/>.
    /// </summary>
    private void OnMetadataRequest(PeerConnection peer, int piece)
    {
        byte remoteId = peer.Extensions?.GetMessageId(MetadataExtensionName) ?? 0;
        if (remoteId == 0)
        {
            return; // it never said how to answer
        }

        if (piece >= MetadataMessage.GetPieceCount(Metainfo.InfoBytes.Length) || ++peer.MetadataPiecesServed > MaxMetadataPiecesPerPeer)
        {
            Refuse(peer, $"ut_metadata piece {piece}");
            peer.SendMetadataReject(remoteId, piece);
            return;
        }

        peer.SendMetadataPiece(remoteId, piece);
    }

    /// <summary>Writes a BEP 9 data message for <paramref name="piece"/> of the info dictionary (called by writer loops).</summary>
    public void WriteMetadataPiece(IBufferWriter<byte> output, byte remoteId, int piece)
    {
        int total = Metainfo.InfoBytes.Length;
        int start = piece * MetadataMessage.PieceLength;
        MetadataMessage.WriteData(output, remoteId, piece, total, Metainfo.InfoBytes.Span.Slice(start, MetadataMessage.GetPieceLength(total, piece)));
    }
}
