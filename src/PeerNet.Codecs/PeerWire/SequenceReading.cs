using System.Buffers;
using System.Runtime.CompilerServices;

namespace PeerNet.PeerWire;

/// <summary>Small helpers for reading fixed-size fields out of a possibly segmented sequence.</summary>
internal static class SequenceReading
{
    /// <summary>
    /// The first <c>scratch.Length</c> bytes of <paramref name="sequence"/> (which must hold that many): a view
    /// of the first segment when it is long enough, which is almost always; otherwise a copy into
    /// <paramref name="scratch"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> Head(in ReadOnlySequence<byte> sequence, Span<byte> scratch)
    {
        ReadOnlySpan<byte> first = sequence.FirstSpan;
        if (first.Length >= scratch.Length)
        {
            return first[..scratch.Length];
        }

        sequence.Slice(0, scratch.Length).CopyTo(scratch);
        return scratch;
    }

    /// <summary>
    /// The sequence as one block of memory: its only segment when it has one, else a copy into an array rented
    /// from the shared pool (returned in <paramref name="rented"/>; give it back with <see cref="Return"/>).
    /// </summary>
    public static ReadOnlyMemory<byte> Contiguous(in ReadOnlySequence<byte> sequence, out byte[]? rented)
    {
        if (sequence.IsSingleSegment)
        {
            rented = null;
            return sequence.First;
        }

        int length = checked((int)sequence.Length);
        rented = ArrayPool<byte>.Shared.Rent(length);
        sequence.CopyTo(rented);
        return rented.AsMemory(0, length);
    }

    /// <summary>Returns an array from <see cref="Contiguous"/> to the pool, if one was rented.</summary>
    public static void Return(byte[]? rented)
    {
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
