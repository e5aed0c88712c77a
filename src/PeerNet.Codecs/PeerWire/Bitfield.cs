using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace PeerNet.PeerWire;

/// <summary>
/// One bit per piece. Bits are kept in 64-bit words in wire order — piece 0 is the most significant bit of
/// word 0, as it is the most significant bit of byte 0 on the wire (BEP 3) — so encoding is a big-endian copy
/// and scans use <see cref="BitOperations.LeadingZeroCount(ulong)"/>. Bits past <see cref="Length"/> are
/// always zero, and the count of set bits is kept current.
/// </summary>
internal sealed class Bitfield
{
    private const ulong HighBit = 0x8000_0000_0000_0000UL;

    private readonly ulong[] _words;
    private int _setCount;

    /// <summary>Creates a bitfield of <paramref name="length"/> pieces, none set.</summary>
    public Bitfield(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _words = new ulong[(int)(((long)length + 63) >> 6)];
    }

    /// <summary>Number of pieces.</summary>
    public int Length { get; }

    /// <summary>Number of pieces set.</summary>
    public int SetCount => _setCount;

    /// <summary>True when every piece is set (a seed); true for an empty bitfield.</summary>
    public bool AllSet => _setCount == Length;

    /// <summary>True when no piece is set.</summary>
    public bool NoneSet => _setCount == 0;

    /// <summary>Size of the encoded bits: ceil(<see cref="Length"/> / 8) bytes.</summary>
    public int WireLength => GetWireLength(Length);

    /// <summary>Whether piece <paramref name="index"/> is set.</summary>
    public bool this[int index]
    {
        get
        {
            CheckIndex(index);
            return (_words[index >> 6] & Mask(index)) != 0;
        }

        set
        {
            if (value)
            {
                Set(index);
            }
            else
            {
                Clear(index);
            }
        }
    }

    /// <summary>Size of the encoded bits of <paramref name="length"/> pieces.</summary>
    public static int GetWireLength(int length) => (int)(((long)length + 7) >> 3);

    /// <summary>
    /// Decodes the bits of a bitfield message for a torrent of <paramref name="length"/> pieces. A wrong size
    /// is refused before anything is allocated.
    /// </summary>
    public static bool TryFromWire(in ReadOnlySequence<byte> bits, int length, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Bitfield? bitfield, out PeerWireError error)
    {
        bitfield = null;
        if (bits.Length != GetWireLength(length))
        {
            error = PeerWireError.BitfieldWrongLength;
            return false;
        }

        var candidate = new Bitfield(length);
        if (!candidate.TryReadWire(bits, out error))
        {
            return false;
        }

        bitfield = candidate;
        return true;
    }

    /// <summary>Sets piece <paramref name="index"/>; returns false if it was already set.</summary>
    public bool Set(int index)
    {
        CheckIndex(index);
        ref ulong word = ref _words[index >> 6];
        ulong mask = Mask(index);
        if ((word & mask) != 0)
        {
            return false;
        }

        word |= mask;
        _setCount++;
        return true;
    }

    /// <summary>Clears piece <paramref name="index"/>; returns false if it was already clear.</summary>
    public bool Clear(int index)
    {
        CheckIndex(index);
        ref ulong word = ref _words[index >> 6];
        ulong mask = Mask(index);
        if ((word & mask) == 0)
        {
            return false;
        }

        word &= ~mask;
        _setCount--;
        return true;
    }

    /// <summary>Sets every piece (BEP 6 have all).</summary>
    public void SetAll()
    {
        Array.Fill(_words, ulong.MaxValue);
        int used = Length & 63;
        if (used != 0)
        {
            _words[^1] = ulong.MaxValue << (64 - used);
        }

        _setCount = Length;
    }

    /// <summary>Clears every piece (BEP 6 have none).</summary>
    public void ClearAll()
    {
        Array.Clear(_words);
        _setCount = 0;
    }

    /// <summary>Makes this bitfield a copy of <paramref name="other"/>, which must have the same length.</summary>
    public void CopyFrom(Bitfield other)
    {
        CheckSameLength(other);
        other._words.CopyTo(_words, 0);
        _setCount = other._setCount;
    }

    /// <summary>A copy of this bitfield.</summary>
    public Bitfield Clone()
    {
        var copy = new Bitfield(Length);
        copy.CopyFrom(this);
        return copy;
    }

    /// <summary>The first set piece at or after <paramref name="start"/>, or -1.</summary>
    public int FirstSet(int start = 0)
    {
        if (!CheckStart(start))
        {
            return -1;
        }

        ulong[] words = _words;
        int w = start >> 6;
        ulong word = words[w] & (ulong.MaxValue >> (start & 63));
        while (word == 0)
        {
            if (++w == words.Length)
            {
                return -1;
            }

            word = words[w];
        }

        return Found(w, word);
    }

    /// <summary>The first clear piece at or after <paramref name="start"/>, or -1.</summary>
    public int FirstClear(int start = 0)
    {
        if (!CheckStart(start))
        {
            return -1;
        }

        ulong[] words = _words;
        int w = start >> 6;
        ulong word = ~words[w] & (ulong.MaxValue >> (start & 63));
        while (word == 0)
        {
            if (++w == words.Length)
            {
                return -1;
            }

            word = ~words[w];
        }

        return Found(w, word);
    }

    /// <summary>
    /// The first piece at or after <paramref name="start"/> that is set here and clear in
    /// <paramref name="other"/> (a piece the peer has and we lack), or -1. Walks 64 pieces per step.
    /// </summary>
    public int FirstSetExcept(Bitfield other, int start = 0)
    {
        CheckSameLength(other);
        if (!CheckStart(start))
        {
            return -1;
        }

        ulong[] a = _words;
        ulong[] b = other._words;
        int w = start >> 6;
        ulong word = a[w] & ~b[w] & (ulong.MaxValue >> (start & 63));
        while (word == 0)
        {
            if (++w == a.Length)
            {
                return -1;
            }

            word = a[w] & ~b[w];
        }

        return Found(w, word);
    }

    /// <summary>Whether any piece is set here and clear in <paramref name="other"/> (whether to be interested).</summary>
    public bool ContainsAnyExcept(Bitfield other) => FirstSetExcept(other) >= 0;

    /// <summary>
    /// Loads the bits of a bitfield message. BEP 3: "Clients should drop the connection if they receive
    /// bitfields that are not of the correct size, or if the bitfield has any of the spare bits set." Both are
    /// checked before anything is changed, so on failure this bitfield is as it was.
    /// </summary>
    public bool TryReadWire(in ReadOnlySequence<byte> bits, out PeerWireError error)
    {
        int wireLength = WireLength;
        if (bits.Length != wireLength)
        {
            error = PeerWireError.BitfieldWrongLength;
            return false;
        }

        int spare = (wireLength * 8) - Length;
        if (spare != 0)
        {
            Span<byte> one = stackalloc byte[1];
            byte last = SequenceReading.Head(bits.Slice(wireLength - 1), one)[0];
            if ((last & ((1 << spare) - 1)) != 0)
            {
                error = PeerWireError.BitfieldSpareBitsSet;
                return false;
            }
        }

        error = PeerWireError.None;
        if (bits.IsSingleSegment)
        {
            ReadWords(bits.FirstSpan);
            return true;
        }

        // Rare: the bits straddle receive segments. Words may cross segment boundaries.
        var reader = new SequenceReader<byte>(bits);
        int fullWords = wireLength >> 3;
        int count = 0;
        for (int w = 0; w < fullWords; w++)
        {
            reader.TryReadBigEndian(out long value);
            _words[w] = (ulong)value;
            count += BitOperations.PopCount((ulong)value);
        }

        int tail = wireLength & 7;
        if (tail != 0)
        {
            ulong word = 0;
            for (int k = 0; k < tail; k++)
            {
                reader.TryRead(out byte b);
                word |= (ulong)b << (56 - (8 * k));
            }

            _words[fullWords] = word;
            count += BitOperations.PopCount(word);
        }

        _setCount = count;
        return true;
    }

    /// <summary>Writes the bits in wire order (piece 0 = high bit of byte 0); returns <see cref="WireLength"/>.</summary>
    public int WriteWire(Span<byte> destination)
    {
        int wireLength = WireLength;
        if (destination.Length < wireLength)
        {
            ThrowHelper.ThrowArgument(nameof(destination), "The destination is too small for the bitfield.");
        }

        int fullWords = wireLength >> 3;
        for (int w = 0; w < fullWords; w++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination[(w * 8)..], _words[w]);
        }

        int tail = wireLength & 7;
        for (int k = 0; k < tail; k++)
        {
            destination[(fullWords * 8) + k] = (byte)(_words[fullWords] >> (56 - (8 * k)));
        }

        return wireLength;
    }

    private void ReadWords(ReadOnlySpan<byte> bits)
    {
        int fullWords = bits.Length >> 3;
        int count = 0;
        for (int w = 0; w < fullWords; w++)
        {
            ulong value = BinaryPrimitives.ReadUInt64BigEndian(bits[(w * 8)..]);
            _words[w] = value;
            count += BitOperations.PopCount(value);
        }

        int tail = bits.Length & 7;
        if (tail != 0)
        {
            ulong word = 0;
            for (int k = 0; k < tail; k++)
            {
                word |= (ulong)bits[(fullWords * 8) + k] << (56 - (8 * k));
            }

            _words[fullWords] = word;
            count += BitOperations.PopCount(word);
        }

        _setCount = count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mask(int index) => HighBit >> (index & 63);

    private int Found(int word, ulong bits)
    {
        int index = (word << 6) + BitOperations.LeadingZeroCount(bits);
        return index < Length ? index : -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Length)
        {
            ThrowIndex(index);
        }
    }

    private bool CheckStart(int start)
    {
        if ((uint)start > (uint)Length)
        {
            ThrowIndex(start);
        }

        return start < Length;
    }

    private void CheckSameLength(Bitfield other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Length != Length)
        {
            ThrowHelper.ThrowArgument(nameof(other), "The bitfields are for different piece counts.");
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowIndex(int index) => throw new ArgumentOutOfRangeException(nameof(index), index, $"Piece index must be below {Length}.");
}
