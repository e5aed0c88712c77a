using System.Buffers;

namespace PeerNet.Libp2p;

/// <summary>What reading an unsigned varint found.</summary>
internal enum VarintStatus
{
    /// <summary>A complete, minimally encoded varint.</summary>
    Ok,

    /// <summary>The input ends inside the varint: more bytes are needed.</summary>
    NeedMore,

    /// <summary>Longer than 9 bytes (63 bits), or not minimally encoded (a trailing zero group).</summary>
    Invalid,
}

/// <summary>
/// The multiformats unsigned varint: 7 bits a byte, least significant group first, the high bit set on every byte but
/// the last; at most 9 bytes, and minimally encoded (the spec requires both, so one value has one encoding).
/// </summary>
internal static class UnsignedVarint
{
    /// <summary>The longest varint the spec allows.</summary>
    public const int MaxLength = 9;

    /// <summary>How many bytes <paramref name="value"/> takes.</summary>
    public static int Length(ulong value)
    {
        int length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }

        return length;
    }

    /// <summary>Writes <paramref name="value"/> (below 2^63) into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Write(ulong value, Span<byte> destination)
    {
        if (value >= 1UL << 63)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "A multiformats varint holds at most 63 bits.");
        }

        int i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Appends <paramref name="value"/> to <paramref name="output"/>.</summary>
    public static void Write(ulong value, IBufferWriter<byte> output)
    {
        Span<byte> span = output.GetSpan(MaxLength);
        output.Advance(Write(value, span));
    }

    /// <summary>Reads a varint at the start of <paramref name="input"/>.</summary>
    public static VarintStatus TryRead(ReadOnlySpan<byte> input, out ulong value, out int length)
    {
        value = 0;
        length = 0;
        for (int i = 0; i < MaxLength; i++)
        {
            if (i == input.Length)
            {
                return VarintStatus.NeedMore;
            }

            byte b = input[i];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                if (b == 0 && i > 0)
                {
                    value = 0;
                    return VarintStatus.Invalid; // a zero last group: the same value fits in fewer bytes
                }

                length = i + 1;
                return VarintStatus.Ok;
            }
        }

        value = 0;
        return VarintStatus.Invalid;
    }
}
