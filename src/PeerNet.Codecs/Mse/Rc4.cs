using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PeerNet.Mse;

/// <summary>
/// The RC4 stream cipher, as MSE uses it: keyed with a 20-byte SHA-1 digest, its first 1024 bytes of keystream thrown
/// away (<see cref="MseConstants.DiscardBytes"/>). One instance is one direction of one connection; it is not thread-safe.
/// </summary>
internal sealed class Rc4
{
    private readonly byte[] _state = new byte[256];
    private byte _i;
    private byte _j;

    /// <summary>Keys the cipher (key scheduling) and drops the first <paramref name="discard"/> bytes of keystream.</summary>
    public Rc4(ReadOnlySpan<byte> key, int discard = 0)
    {
        if (key.IsEmpty || key.Length > 256)
        {
            throw new ArgumentException("An RC4 key is 1 to 256 bytes.", nameof(key));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(discard);
        Span<byte> s = _state;
        for (int k = 0; k < 256; k++)
        {
            s[k] = (byte)k;
        }

        byte j = 0;
        for (int k = 0; k < 256; k++)
        {
            j = (byte)(j + s[k] + key[k % key.Length]);
            (s[k], s[j]) = (s[j], s[k]);
        }

        Span<byte> scratch = stackalloc byte[256];
        while (discard > 0)
        {
            int n = Math.Min(discard, scratch.Length);
            scratch[..n].Clear();
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

        // Byte-serial by nature: the state stays in locals, the table is reached without bounds checks (every index is a
        // byte, the table 256 long).
        ref byte s = ref MemoryMarshal.GetArrayDataReference(_state);
        ref byte src = ref MemoryMarshal.GetReference(source);
        ref byte dst = ref MemoryMarshal.GetReference(destination);
        nuint i = _i;
        nuint j = _j;
        nuint length = (nuint)source.Length;
        for (nuint n = 0; n < length; n++)
        {
            i = (i + 1) & 0xFF;
            byte si = Unsafe.Add(ref s, i);
            j = (j + si) & 0xFF;
            byte sj = Unsafe.Add(ref s, j);
            Unsafe.Add(ref s, i) = sj;
            Unsafe.Add(ref s, j) = si;
            Unsafe.Add(ref dst, n) = (byte)(Unsafe.Add(ref src, n) ^ Unsafe.Add(ref s, (nuint)(byte)(si + sj)));
        }

        _i = (byte)i;
        _j = (byte)j;
    }
}
