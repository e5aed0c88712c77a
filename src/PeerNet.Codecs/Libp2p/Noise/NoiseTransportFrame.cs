using System.Buffers;
using System.Buffers.Binary;

namespace PeerNet.Libp2p;

/// <summary>
/// noise-libp2p's transport frames: a 2-byte big-endian length, then a ChaChaPoly ciphertext of at most 65535 bytes
/// (its 16-byte tag included), so at most 65519 bytes of plaintext each. Pure: the connection does the I/O.
/// </summary>
internal static class NoiseTransportFrame
{
    /// <summary>A frame's length prefix.</summary>
    public const int LengthPrefix = 2;

    /// <summary>The longest ciphertext (tag included).</summary>
    public const int MaxCiphertext = 65535;

    /// <summary>The most plaintext one frame carries.</summary>
    public const int MaxPlaintext = MaxCiphertext - NoiseCipherState.TagLength;

    /// <summary>The most bytes one frame takes on the wire.</summary>
    public const int MaxFrame = LengthPrefix + MaxCiphertext;

    /// <summary>
    /// Writes one frame carrying <paramref name="plaintext"/> (at most <see cref="MaxPlaintext"/> bytes) into
    /// <paramref name="destination"/>, which may hold the plaintext itself at offset 2 (encrypted in place); returns the
    /// frame's length.
    /// </summary>
    public static int Seal(NoiseCipherState cipher, ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(cipher);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(plaintext.Length, MaxPlaintext);
        int length = cipher.Encrypt(ReadOnlySpan<byte>.Empty, plaintext, destination[LengthPrefix..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)length);
        return LengthPrefix + length;
    }

    /// <summary>
    /// The ciphertext length of the frame at the start of <paramref name="input"/>, or -1 while its prefix has not come.
    /// Throws <see cref="NoiseTransportException"/> for a length too short to hold the tag.
    /// </summary>
    public static int PeekLength(in ReadOnlySequence<byte> input)
    {
        if (input.Length < LengthPrefix)
        {
            return -1;
        }

        Span<byte> prefix = stackalloc byte[LengthPrefix];
        input.Slice(0, LengthPrefix).CopyTo(prefix);
        int length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
        if (length < NoiseCipherState.TagLength)
        {
            throw new NoiseTransportException(NoiseFailure.BadLength, $"a {length}-byte frame is too short to hold its 16-byte tag");
        }

        return length;
    }

    /// <summary>
    /// Decrypts one frame's <paramref name="ciphertext"/> into <paramref name="plaintext"/> (which may be the same
    /// memory); returns the plaintext's length. Throws <see cref="NoiseTransportException"/> when the tag does not verify.
    /// </summary>
    public static int Open(NoiseCipherState cipher, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        ArgumentNullException.ThrowIfNull(cipher);
        if (!cipher.TryDecrypt(ReadOnlySpan<byte>.Empty, ciphertext, plaintext, out int written))
        {
            throw new NoiseTransportException(NoiseFailure.BadCiphertext, "a frame did not decrypt (tampered, reordered, or not for us)");
        }

        return written;
    }
}
