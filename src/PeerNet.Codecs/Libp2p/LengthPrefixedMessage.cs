using System.Buffers;

namespace PeerNet.Libp2p;

/// <summary>
/// libp2p's usual message framing (identify, Kademlia, gossipsub): an unsigned varint length, then that many bytes
/// (a protobuf message). Every reader gives a hard size cap, checked as soon as the length is read.
/// </summary>
internal static class LengthPrefixedMessage
{
    /// <summary>Appends <paramref name="message"/> with its length prefix.</summary>
    public static void Write(ReadOnlySpan<byte> message, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        UnsignedVarint.Write((ulong)message.Length, output);
        output.Write(message);
    }

    /// <summary>
    /// Reads the length prefix at the start of <paramref name="input"/>: <see cref="VarintStatus.Ok"/> with the
    /// message length and the prefix's size, <see cref="VarintStatus.NeedMore"/>, or <see cref="VarintStatus.Invalid"/>
    /// with <paramref name="error"/> (not a minimal varint, or over <paramref name="maxLength"/>).
    /// </summary>
    public static VarintStatus TryReadLength(ReadOnlySpan<byte> input, int maxLength, out int length, out int prefixLength, out string? error)
    {
        length = 0;
        prefixLength = 0;
        error = null;
        VarintStatus status = UnsignedVarint.TryRead(input, out ulong value, out int used);
        if (status == VarintStatus.NeedMore)
        {
            // Even an unfinished prefix can already be too long for the cap: refuse it without waiting.
            if (input.Length > 0 && input.Length >= UnsignedVarint.Length((ulong)maxLength) && !FitsSoFar(input, maxLength))
            {
                error = $"a message over the {maxLength}-byte limit";
                return VarintStatus.Invalid;
            }

            return VarintStatus.NeedMore;
        }

        if (status == VarintStatus.Invalid)
        {
            error = "the message length is not a minimal varint";
            return VarintStatus.Invalid;
        }

        if (value > (ulong)maxLength)
        {
            error = $"a {value}-byte message, over the {maxLength}-byte limit";
            return VarintStatus.Invalid;
        }

        length = (int)value;
        prefixLength = used;
        return VarintStatus.Ok;
    }

    /// <summary>
    /// Reads one whole message at the start of <paramref name="input"/>: Ok with <paramref name="message"/> (a slice
    /// of the input) and the bytes used, NeedMore, or Invalid with <paramref name="error"/>.
    /// </summary>
    public static VarintStatus TryRead(ReadOnlySpan<byte> input, int maxLength, out ReadOnlySpan<byte> message, out int consumed, out string? error)
    {
        message = default;
        consumed = 0;
        VarintStatus status = TryReadLength(input, maxLength, out int length, out int prefix, out error);
        if (status != VarintStatus.Ok)
        {
            return status;
        }

        if (input.Length - prefix < length)
        {
            return VarintStatus.NeedMore;
        }

        message = input.Slice(prefix, length);
        consumed = prefix + length;
        return VarintStatus.Ok;
    }

    /// <summary>Whether an unfinished varint (every byte with its high bit) could still end at or under <paramref name="maxLength"/>.</summary>
    private static bool FitsSoFar(ReadOnlySpan<byte> partial, int maxLength)
    {
        ulong low = 0;
        for (int i = 0; i < partial.Length && i < UnsignedVarint.MaxLength; i++)
        {
            low |= (ulong)(partial[i] & 0x7F) << (7 * i);
        }

        // The finished value is at least the bits so far plus a non-zero group after them.
        int bits = 7 * Math.Min(partial.Length, UnsignedVarint.MaxLength);
        return bits < 63 && low + (1UL << bits) <= (ulong)maxLength;
    }
}
