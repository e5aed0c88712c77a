using System.Buffers.Binary;
using NSec.Cryptography;
using AuthenticationTagMismatchException = System.Security.Cryptography.AuthenticationTagMismatchException;
using FrameworkChaCha20Poly1305 = System.Security.Cryptography.ChaCha20Poly1305;

namespace PeerNet.Libp2p;

/// <summary>
/// The Noise spec's <c>CipherState</c> for ChaChaPoly: a key and a 64-bit nonce counting up, the nonce laid out as
/// 32 zero bits then the counter little-endian. Encrypts and decrypts in place (destination and source at the same
/// address) or between buffers, without allocating. Nonce 2^64 - 1 is reserved: reaching it ends the stream.
/// <para>The AEAD is the framework's <see cref="FrameworkChaCha20Poly1305"/> (OpenSSL on Linux) where the platform has it, NSec's
/// otherwise: measured on the development machine (bench/libp2p.sh, docs/performance.md), setting a key costs 1.6 µs
/// there against 37 µs for an NSec <see cref="Key"/> (guarded secure memory: a handshake sets ten keys across both
/// sides), and a 64 KiB frame 36 µs against 54 µs.</para>
/// </summary>
internal sealed class NoiseCipherState : IDisposable
{
    /// <summary>The AEAD's tag length.</summary>
    public const int TagLength = 16;

    /// <summary>The key length.</summary>
    public const int KeyLength = 32;

    private static readonly AeadAlgorithm ChaCha = AeadAlgorithm.ChaCha20Poly1305;
    private FrameworkChaCha20Poly1305? _framework;
    private Key? _key;

    /// <summary>Whether a key is set (before the first MixKey of a handshake, it is not: messages pass in clear).</summary>
    public bool HasKey => _framework is not null || _key is not null;

    /// <summary>Whether the framework's ChaCha20-Poly1305 is used (else NSec's, the same AEAD).</summary>
    private static readonly bool UseFramework = FrameworkChaCha20Poly1305.IsSupported;

    /// <summary>The next message's nonce (settable by tests, to reach the end of the nonce space).</summary>
    public ulong Nonce { get; internal set; }

    /// <summary>Sets the key <paramref name="key"/> (32 bytes) and resets the nonce.</summary>
    public void InitializeKey(ReadOnlySpan<byte> key)
    {
        Dispose();
        if (UseFramework)
        {
            _framework = new FrameworkChaCha20Poly1305(key);
        }
        else
        {
            _key = Key.Import(ChaCha, key, KeyBlobFormat.RawSymmetricKey);
        }

        Nonce = 0;
    }

    /// <summary>
    /// Encrypts <paramref name="plaintext"/> with <paramref name="associatedData"/> into the first
    /// <c>plaintext.Length + 16</c> bytes of <paramref name="ciphertext"/> (which may start at the plaintext's address).
    /// Returns the bytes written.
    /// </summary>
    public int Encrypt(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        ThrowIfNoKey();
        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
        int length = plaintext.Length + TagLength;
        if (_framework is not null)
        {
            _framework.Encrypt(nonce, plaintext, ciphertext[..plaintext.Length], ciphertext[plaintext.Length..length], associatedData);
        }
        else
        {
            ChaCha.Encrypt(_key!, nonce, associatedData, plaintext, ciphertext[..length]);
        }

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
        ThrowIfNoKey();
        written = 0;
        if (ciphertext.Length < TagLength)
        {
            return false;
        }

        Span<byte> nonce = stackalloc byte[12];
        NextNonce(nonce);
        int length = ciphertext.Length - TagLength;
        if (_framework is not null)
        {
            try
            {
                _framework.Decrypt(nonce, ciphertext[..length], ciphertext[length..], plaintext[..length], associatedData);
            }
            catch (AuthenticationTagMismatchException)
            {
                return false;
            }
        }
        else if (!ChaCha.Decrypt(_key!, nonce, associatedData, ciphertext, plaintext[..length]))
        {
            return false;
        }

        Nonce++;
        written = length;
        return true;
    }

    private void ThrowIfNoKey()
    {
        if (!HasKey)
        {
            throw new InvalidOperationException("The cipher has no key.");
        }
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
        _framework?.Dispose();
        _framework = null;
        _key?.Dispose();
        _key = null;
    }
}
