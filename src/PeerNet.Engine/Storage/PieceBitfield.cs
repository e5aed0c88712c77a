using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace PeerNet.Storage;

/// <summary>
/// A minimal set of piece indices for storage (verified pieces, pieces to recheck). Setting bits is atomic, so
/// parallel checkers can share one. Storage keeps its own type until <c>PeerNet.PeerWire.Bitfield</c> lands;
/// <see cref="ToBytes"/> and <see cref="TryFromBytes"/> use the wire layout (BEP 3: piece 0 is the high bit of
/// byte 0; spare bits are zero) so converting is a copy.
/// </summary>
internal sealed class PieceBitfield
{
    private readonly ulong[] _words;

    /// <summary>Creates an empty set over <paramref name="count"/> pieces.</summary>
    public PieceBitfield(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Count = count;
        _words = new ulong[(count + 63) / 64];
    }

    /// <summary>Number of pieces the set ranges over.</summary>
    public int Count { get; }

    /// <summary>Number of pieces in the set.</summary>
    public int SetCount
    {
        get
        {
            int n = 0;
            foreach (ulong w in _words)
            {
                n += BitOperations.PopCount(w);
            }

            return n;
        }
    }

    /// <summary>Whether every piece is in the set.</summary>
    public bool IsComplete => SetCount == Count;

    /// <summary>Whether piece <paramref name="index"/> is in the set.</summary>
    public bool this[int index]
    {
        get
        {
            CheckIndex(index);
            return (Volatile.Read(ref _words[index >> 6]) & (1UL << (index & 63))) != 0;
        }
    }

    /// <summary>Adds piece <paramref name="index"/> (atomically).</summary>
    public void Set(int index)
    {
        CheckIndex(index);
        Interlocked.Or(ref _words[index >> 6], 1UL << (index & 63));
    }

    /// <summary>Removes piece <paramref name="index"/> (atomically).</summary>
    public void Clear(int index)
    {
        CheckIndex(index);
        Interlocked.And(ref _words[index >> 6], ~(1UL << (index & 63)));
    }

    /// <summary>The set as one bool per piece.</summary>
    public bool[] ToBoolArray()
    {
        var result = new bool[Count];
        for (int i = 0; i < Count; i++)
        {
            result[i] = this[i];
        }

        return result;
    }

    /// <summary>The wire encoding: <c>ceil(Count/8)</c> bytes, piece 0 in the high bit of byte 0.</summary>
    public byte[] ToBytes()
    {
        byte[] bytes = new byte[(Count + 7) / 8];
        for (int i = 0; i < Count; i++)
        {
            if (this[i])
            {
                bytes[i >> 3] |= (byte)(0x80 >> (i & 7));
            }
        }

        return bytes;
    }

    /// <summary>
    /// Decodes the wire encoding of <paramref name="count"/> pieces; false when the length is wrong or a spare bit
    /// past the last piece is set (BEP 3: "Spare bits at the end are set to zero").
    /// </summary>
    public static bool TryFromBytes(ReadOnlySpan<byte> bytes, int count, [NotNullWhen(true)] out PieceBitfield? bitfield)
    {
        bitfield = null;
        if (count < 0 || bytes.Length != (count + 7) / 8)
        {
            return false;
        }

        int spare = (bytes.Length * 8) - count;
        if (spare > 0 && (bytes[^1] & ((1 << spare) - 1)) != 0)
        {
            return false;
        }

        var result = new PieceBitfield(count);
        for (int i = 0; i < count; i++)
        {
            if ((bytes[i >> 3] & (0x80 >> (i & 7))) != 0)
            {
                result._words[i >> 6] |= 1UL << (i & 63);
            }
        }

        bitfield = result;
        return true;
    }

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The set ranges over {Count} pieces.");
        }
    }
}
