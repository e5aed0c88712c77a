using System.Buffers;
using PeerNet.PeerWire;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="MetadataMessage.TryParse"/>: a data message's piece lies inside the metadata and carries exactly
/// that piece's bytes; every parsed request, reject or data message writes back to one that parses the same;
/// one-byte segments parse the same.
/// </summary>
public static class MetadataTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        byte[] input = data.ToArray();
        string? first = null;
        foreach (ReadOnlySequence<byte> shape in Sequences.Shapes(input))
        {
            bool parsed = MetadataMessage.TryParse(shape, out MetadataMessage message, out PeerWireError error);
            string summary = parsed ? Describe(message) : error.ToString();
            first ??= summary;
            Check.Equal(first, summary, "result with the input in segments");
            if (!parsed)
            {
                Check.That(error != PeerWireError.None, "refused with no error");
                continue;
            }

            var output = new ArrayBufferWriter<byte>();
            switch (message.Type)
            {
                case MetadataMessageType.Unknown:
                    continue;
                case MetadataMessageType.Request:
                    MetadataMessage.WriteRequest(output, 3, message.Piece);
                    break;
                case MetadataMessageType.Reject:
                    MetadataMessage.WriteReject(output, 3, message.Piece);
                    break;
                case MetadataMessageType.Data:
                    Check.That(message.TotalSize is >= 1 and <= ExtensionHandshake.MaxMetadataSize, $"total size {message.TotalSize}");
                    Check.That(message.Piece >= 0 && message.Piece < MetadataMessage.GetPieceCount(message.TotalSize), $"piece {message.Piece} of {message.TotalSize} bytes");
                    Check.Equal((long)MetadataMessage.GetPieceLength(message.TotalSize, message.Piece), message.Data.Length, "data length");
                    MetadataMessage.WriteData(output, 3, message.Piece, message.TotalSize, message.Data.ToArray());
                    break;
                default:
                    throw new FuzzInvariantException($"type {message.Type}");
            }

            // Skip the 4-byte length, id 20 and the extended id: what is left is the payload TryParse reads.
            ReadOnlyMemory<byte> payload = output.WrittenMemory[PeerMessageWriter.ExtendedHeaderLength..];
            Check.That(MetadataMessage.TryParse(new ReadOnlySequence<byte>(payload), out MetadataMessage again, out PeerWireError againError), $"its own message is refused: {againError}");
            Check.Equal(summary, Describe(again), "message after a write and parse");
        }
    }

    private static string Describe(in MetadataMessage m) => $"{m.Type} piece={m.Piece} total={m.TotalSize} data={Convert.ToHexString(m.Data.ToArray())}";
}
