using System.Buffers;
using PeerNet.PeerWire;

namespace PeerNet.Codecs.Tests.PeerWire;

/// <summary>A canonical text form of parsed messages, so results from differently segmented inputs compare.</summary>
internal static class MessageText
{
    public static string Describe(in PeerMessage m)
    {
        if (m.IsKeepAlive)
        {
            return "KeepAlive";
        }

        if (m.IsUnknown)
        {
            return $"Unknown {(byte)m.Id} {Hex(m.Payload)}";
        }

        return m.Id switch
        {
            PeerMessageId.Have or PeerMessageId.Suggest or PeerMessageId.AllowedFast => $"{m.Id} {m.PieceIndex}",
            PeerMessageId.Request or PeerMessageId.Cancel or PeerMessageId.Reject => $"{m.Id} {m.PieceIndex} {m.Begin} {m.Length}",
            PeerMessageId.Piece => $"Piece {m.PieceIndex} {m.Begin} {m.Length} {Hex(m.Payload)}",
            PeerMessageId.Bitfield => $"Bitfield {Hex(m.Payload)}",
            PeerMessageId.Port => $"Port {m.Port}",
            PeerMessageId.Extended => $"Extended {m.ExtendedId} {Hex(m.Payload)}",
            PeerMessageId.HashRequest or PeerMessageId.HashReject => $"{m.Id} {Hash(m.HashRequest)}",
            PeerMessageId.Hashes => $"Hashes {Hash(m.HashRequest)} {m.HashCount} {Hex(m.Payload)}",
            _ => m.Id.ToString(),
        };
    }

    public static string Hex(in ReadOnlySequence<byte> bytes) => Convert.ToHexStringLower(bytes.ToArray());

    public static string Hash(HashRequest r) => $"{r.PiecesRoot} {r.BaseLayer} {r.Index} {r.Length} {r.ProofLayers}";
}
