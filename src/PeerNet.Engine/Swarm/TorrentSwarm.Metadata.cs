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

    private void OnMetadataMessage(PeerConnection peer, byte[] payload)
    {
        if (!MetadataMessage.TryParse(new ReadOnlySequence<byte>(payload), out MetadataMessage message, out PeerWireError error))
        {
            peer.Close("bad ut_metadata message: " + error.Describe());
            return;
        }

        byte remoteId = peer.Extensions?.GetMessageId(MetadataExtensionName) ?? 0;
        if (message.Type != MetadataMessageType.Request || remoteId == 0)
        {
            return; // data and rejects answer requests we never send (the torrent is complete); unknown types are ignored (BEP 9)
        }

        int total = Metainfo.InfoBytes.Length;
        var output = new ArrayBufferWriter<byte>(MetadataMessage.MaxHeaderLength + MetadataMessage.PieceLength);
        if (message.Piece >= MetadataMessage.GetPieceCount(total) || ++peer.MetadataPiecesServed > MaxMetadataPiecesPerPeer)
        {
            // BEP 9: a peer that does not have the requested piece (or will not send it) answers with a reject.
            MetadataMessage.WriteReject(output, remoteId, message.Piece);
        }
        else
        {
            int start = message.Piece * MetadataMessage.PieceLength;
            MetadataMessage.WriteData(output, remoteId, message.Piece, total, Metainfo.InfoBytes.Span.Slice(start, MetadataMessage.GetPieceLength(total, message.Piece)));
        }

        peer.SendRaw(output.WrittenMemory);
    }
}
