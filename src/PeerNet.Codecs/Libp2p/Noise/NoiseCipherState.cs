using System.Buffers.Binary;
using NSec.Cryptography;

namespace PeerNet.Libp2p;

/// <summary>
/// The Noise spec's <c>CipherState</c> for ChaChaPoly: a key and a 64-bit nonce counting up, the nonce laid out as
/// 32 zero bits then the counter little-endian. Encrypts and decrypts in place (destination and source at the same
/// address) or between buffers, without allocating. Nonce 2^64 - 1 is reserved: reaching it ends the stream.
/// </summary>
internal sealed class NoiseCipherState : IDisposable
{
    /// <summary>The AEAD's tag length.</summary>
    public const int TagLength = 16;

    /// <summary>The key length.</summary>
    public const int KeyLength = 32;

    private static readonly AeadAlgorithm ChaCha = AeadAlgorithm.ChaCha20Poly1305;
    private Key? _key;

    /// <summary>Whether a key is set (before the first MixKey of a handshake, it is not: messages pass in clear).</summary>
    public bool HasKey => _key is not null;

    /// <summary>The next message's nonce (settable by tests, to reach the end of the nonce space).</summary>
    public ulong Nonce { get; internal set; }

    /// <summary>Sets the key <paramref name="key"/> (32 bytes) and resets the nonce.</summary>
    public void InitializeKey(ReadOnlySpan<byte> key)
    {
        _key?.Dispose();
        _key = Key.Import(ChaCha, key, KeyBlobFormat.RawSymmetricKey);
        Nonce = 0;
    }

    /// <summary>
    /// Encrypts <paramref name="plaintext"/> with <paramref name="associatedData"/> into the first
    /// <c>plaintext.Length + 16</c> bytes of <paramref name="ciphertext"/> (which may start at the plaintext's address).
    /// Returns the bytes written.
    /// </summary>
    public int Encrypt(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        Key key = _key ?? throw new InvalidOperationException("The cipher has no key.");
        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
        int length = plaintext.Length + TagLength;
        ChaCha.Encrypt(key, nonce, associatedData, plaintext, ciphertext[..length]);
        Nonce++;
        return length;
    }

    /// <summary>
    /// Decrypts <paramref name="ciphertext"/> into the first <c>ciphertext.Length - 16</c> bytes of
    /// <paramref name="plaintext"/> (which may start at the ciphertext's address); false when the tag does not verify
    /// (the nonce is then not used up, but the stream is to be closed).
    /// </summary>
    public bool TryDecrypt(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext, out int written)
    {
        Key key = _key ?? throw new InvalidOperationException("The cipher has no key.");
        written = 0;
        if (ciphertext.Length < TagLength)
        {
            return false;
        }

        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
        int length = ciphertext.Length - TagLength;
        if (!ChaCha.Decrypt(key, nonce, associatedData, ciphertext, plaintext[..length]))
        {
            return false;
        }

        Nonce++;
        written = length;
        return true;
    }

    private void NextNonce(Span<byte> nonce)
    {
        if (Nonce == ulong.MaxValue)
        {
            throw new NoiseTransportException(NoiseFailure.NonceExhausted, "2^64 - 1 messages were sent one way; the connection must end");
        }

        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], Nonce);
    }

    /// <summary>Forgets the key.</summary>
    public void Dispose()
    {
        _key?.Dispose();
        _key = null;
    }
}
