using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using PeerNet.PeerWire;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="Bitfield.TryFromWire"/>. The first byte picks the piece count: with its high bit set, the next
/// three bytes give it outright; otherwise it is what the remaining bits need, less (byte &amp; 7) spare bits.
/// A refusal names the real fault (wrong length, or a spare bit set); a decoded bitfield writes back to the
/// exact bits, counts what is set, finds set and clear pieces consistently, and decodes the same from
/// one-byte segments.
/// </summary>
public static class BitfieldTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        int length;
        byte[] bits;
        if ((data[0] & 0x80) != 0)
        {
            if (data.Length < 4)
            {
                return;
            }

            length = (int)(BinaryPrimitives.ReadUInt32BigEndian(data) & 0x00FF_FFFF);
            bits = data[4..].ToArray();
        }
        else
        {
            bits = data[1..].ToArray();
            length = Math.Max(0, (bits.Length * 8) - (data[0] & 7));
        }

        int wireLength = Bitfield.GetWireLength(length);
        string? first = null;
        foreach (ReadOnlySequence<byte> shape in Sequences.Shapes(bits))
        {
            string summary;
            if (!Bitfield.TryFromWire(shape, length, out Bitfield? bitfield, out PeerWireError error))
            {
                if (bits.Length != wireLength)
                {
                    Check.Equal(PeerWireError.BitfieldWrongLength, error, "error for a wrong length");
                }
                else
                {
                    int spare = (wireLength * 8) - length;
                    Check.That(spare > 0 && (bits[^1] & ((1 << spare) - 1)) != 0, $"refused ({error}) with no spare bit set");
                    Check.Equal(PeerWireError.BitfieldSpareBitsSet, error, "error for a spare bit");
                }

                summary = error.ToString();
            }
            else
            {
                Check.Equal(wireLength, bits.Length, "accepted length");
                Check.Equal(length, bitfield.Length, "Length");
                byte[] written = new byte[wireLength];
                Check.Equal(wireLength, bitfield.WriteWire(written), "WriteWire length");
                Check.Bytes(bits, written, "WriteWire");
                int popCount = 0;
                foreach (byte b in bits)
                {
                    popCount += BitOperations.PopCount(b);
                }

                Check.Equal(popCount, bitfield.SetCount, "SetCount");
                Check.Equal(popCount == length, bitfield.AllSet, "AllSet");
                Check.Equal(popCount == 0, bitfield.NoneSet, "NoneSet");
                int set = 0;
                for (int i = bitfield.FirstSet(); i >= 0; i = i + 1 < length ? bitfield.FirstSet(i + 1) : -1)
                {
                    Check.That(bitfield[i], $"FirstSet found clear piece {i}");
                    set++;
                }

                Check.Equal(popCount, set, "pieces found by FirstSet");
                int clear = bitfield.FirstClear();
                Check.That(clear == -1 ? popCount == length : !bitfield[clear], $"FirstClear returned {clear}");
                summary = Convert.ToHexString(written);
            }

            first ??= summary;
            Check.Equal(first, summary, "result with the bits in segments");
        }
    }
}
