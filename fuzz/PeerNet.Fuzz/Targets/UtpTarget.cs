using PeerNet.Utp;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="UtpPacket.TryParse"/> on a datagram: a refusal names a reason and <see cref="UtpPacket.Parse"/> throws
/// exactly <see cref="UtpFormatException"/> with it; an accepted packet's payload is the datagram's tail, its selective
/// ACK within the limit, and writing it back (header, selective ACK padded to 4 bytes, offer, payload) parses to the same packet.
/// </summary>
public static class UtpTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        UtpParseError error = UtpPacket.TryParse(data, out UtpPacket packet);
        if (error != UtpParseError.None)
        {
            try
            {
                UtpPacket.Parse(data);
                Check.That(false, $"Parse accepted what TryParse refused ({error})");
            }
            catch (UtpFormatException e)
            {
                Check.Equal(error, e.Error, "Parse's reason");
            }

            return;
        }

        Check.That(packet.Payload.Length <= data.Length - UtpHeader.Length, "payload longer than the datagram");
        Check.That(data.EndsWith(packet.Payload), "payload is not the datagram's tail");
        Check.That(packet.SelectiveAck.Length <= UtpPacket.MaxSelectiveAckBytes, $"selective ACK of {packet.SelectiveAck.Length} bytes");

        // Written back with the bitmask padded to a multiple of 4 bytes (as Write requires), it reads the same.
        int padded = (packet.SelectiveAck.Length + 3) & ~3;
        byte[] sack = new byte[Math.Min(padded, UtpPacket.MaxSelectiveAckBytes)];
        packet.SelectiveAck.CopyTo(sack);
        byte[] again = new byte[UtpPacket.GetLength(sack.Length, packet.MaxDatagram != 0, packet.Payload.Length)];
        UtpPacket.Write(again, packet.Header, sack, packet.MaxDatagram, packet.Payload);
        UtpPacket reread = UtpPacket.Parse(again);
        Check.Equal(packet.Header, reread.Header, "header written back");
        Check.Bytes(sack, reread.SelectiveAck.ToArray(), "selective ACK written back");
        Check.Equal(packet.MaxDatagram, reread.MaxDatagram, "offer written back");
        Check.Bytes(packet.Payload.ToArray(), reread.Payload.ToArray(), "payload written back");
    }
}
