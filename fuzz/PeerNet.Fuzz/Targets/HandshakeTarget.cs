using System.Buffers;
using PeerNet.PeerWire;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="Handshake.TryRead"/>: Done exactly when 68 bytes starting with the protocol string are there, and
/// then the handshake writes back to those 68 bytes; InvalidData exactly when an arrived byte of the protocol
/// string differs; the buffer is advanced only on Done; and segmentation changes nothing.
/// </summary>
public static class HandshakeTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        byte[] input = data.ToArray();
        int available = Math.Min(input.Length, Handshake.ProtocolLength);
        bool prefixMatches = input.AsSpan(0, available).SequenceEqual(Handshake.Protocol[..available]);
        string? first = null;
        foreach (ReadOnlySequence<byte> shape in Sequences.Shapes(input))
        {
            ReadOnlySequence<byte> buffer = shape;
            OperationStatus status = Handshake.TryRead(ref buffer, out Handshake handshake, out PeerWireError error);
            string summary;
            switch (status)
            {
                case OperationStatus.Done:
                    Check.That(prefixMatches && input.Length >= Handshake.Length, "Done without a whole handshake");
                    Check.Equal(shape.Length - Handshake.Length, buffer.Length, "bytes left after the handshake");
                    byte[] written = new byte[Handshake.Length];
                    Check.Equal(Handshake.Length, handshake.WriteTo(written), "handshake written length");
                    Check.Bytes(input.AsSpan(0, Handshake.Length), written, "handshake written back");
                    summary = Convert.ToHexString(written);
                    break;
                case OperationStatus.NeedMoreData:
                    Check.That(prefixMatches && input.Length < Handshake.Length, "NeedMoreData with a wrong prefix or a whole handshake");
                    Check.Equal(shape.Length, buffer.Length, "buffer advanced on NeedMoreData");
                    summary = "more";
                    break;
                case OperationStatus.InvalidData:
                    Check.That(!prefixMatches && error == PeerWireError.InvalidProtocol, $"InvalidData ({error}) with a matching prefix");
                    Check.Equal(shape.Length, buffer.Length, "buffer advanced on InvalidData");
                    summary = "invalid";
                    break;
                default:
                    throw new FuzzInvariantException($"status {status}");
            }

            first ??= summary;
            Check.Equal(first, summary, "result with the input in segments");
        }
    }
}
