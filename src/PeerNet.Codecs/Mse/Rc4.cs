using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PeerNet.Mse;

/// <summary>
/// The RC4 stream cipher, as MSE uses it: keyed with a 20-byte SHA-1 digest, its first 1024 bytes of keystream thrown
/// away (<see cref="MseConstants.DiscardBytes"/>). One instance is one direction of one connection; it is not thread-safe.
/// </summary>
internal sealed class Rc4
{
    // The state as 32-bit words, not bytes: loads and stores of whole words are cheaper than byte ones (OpenSSL's
    // RC4_INT does the same on x86-64); every value still fits a byte.
    private readonly uint[] _state = new uint[256];
    private uint _i;
    private uint _j;

    /// <summary>Keys the cipher (key scheduling) and drops the first <paramref name="discard"/> bytes of keystream.</summary>
    public Rc4(ReadOnlySpan<byte> key, int discard = 0)
    {
        if (key.IsEmpty || key.Length > 256)
        {
            throw new ArgumentException("An RC4 key is 1 to 256 bytes.", nameof(key));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(discard);
        Span<uint> s = _state;
        for (int k = 0; k < 256; k++)
        {
            s[k] = (uint)k;
        }

        uint j = 0;
        for (int k = 0; k < 256; k++)
        {
            j = (j + s[k] + key[k % key.Length]) & 0xFF;
            (s[k], s[(int)j]) = (s[(int)j], s[k]);
        }

        Span<byte> scratch = stackalloc byte[256];
        while (discard > 0)
        {
            int n = Math.Min(discard, scratch.Length);
            Transform(scratch[..n], scratch[..n]);
            discard -= n;
        }
    }

    /// <summary>Encrypts (or decrypts: it is the same) <paramref name="data"/> where it lies.</summary>
    public void Transform(Span<byte> data) => Transform(data, data);

    /// <summary>
    /// Writes <paramref name="source"/> xor the next keystream bytes to <paramref name="destination"/> (at least as long;
    /// the two may be the same span, not otherwise overlapping).
    /// </summary>
    public void Transform(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("The destination is shorter than the source.", nameof(destination));
        }

        // Byte-serial by nature: the state stays in locals, the table is reached without bounds checks (every index is
        // masked to a byte, the table is 256 long), and eight keystream bytes are xored as one word.
        ref uint s = ref MemoryMarshal.GetArrayDataReference(_state);
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        nuint i = _i;
        nuint j = _j;
        nuint length = (nuint)source.Length;
        nuint n = 0;
        for (; n + 8 <= length; n += 8)
        {
            ulong k = Next(ref s, ref i, ref j);
            k |= Next(ref s, ref i, ref j) << 8;
            k |= Next(ref s, ref i, ref j) << 16;
            k |= Next(ref s, ref i, ref j) << 24;
            k |= Next(ref s, ref i, ref j) << 32;
            k |= Next(ref s, ref i, ref j) << 40;
            k |= Next(ref s, ref i, ref j) << 48;
            k |= Next(ref s, ref i, ref j) << 56;
            if (!BitConverter.IsLittleEndian)
            {
                k = BinaryPrimitives.ReverseEndianness(k);
            }

            Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, n), Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, n)) ^ k);
        }

        for (; n < length; n++)
        {
            Unsafe.Add(ref dst, n) = (byte)(Unsafe.Add(ref src, n) ^ Next(ref s, ref i, ref j));
        }

        _i = (uint)i;
        _j = (uint)j;
    }

    /// <summary>One step of the keystream generator: the next keystream byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Next(ref uint s, ref nuint i, ref nuint j)
    {
        i = (i + 1) & 0xFF;
        uint si = Unsafe.Add(ref s, i);
        j = (j + si) & 0xFF;
        uint sj = Unsafe.Add(ref s, j);
        Unsafe.Add(ref s, i) = sj;
        Unsafe.Add(ref s, j) = si;
        return Unsafe.Add(ref s, (nuint)((si + sj) & 0xFF));
    }
}
