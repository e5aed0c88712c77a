using System.Security.Cryptography;
using System.Text;

namespace PeerNet.Libp2p;

/// <summary>
/// The Noise spec's <c>SymmetricState</c> (revision 34) with SHA-256: the chaining key, the handshake hash and the
/// cipher that MixKey keys. Used only during a handshake (its allocations are per handshake, not per frame).
/// </summary>
internal sealed class NoiseSymmetricState : IDisposable
{
    /// <summary>SHA-256's output length (HASHLEN).</summary>
    public const int HashLength = 32;

    private readonly byte[] _ck = new byte[HashLength];
    private readonly byte[] _h = new byte[HashLength];
    private readonly NoiseCipherState _cipher = new();

    /// <summary>InitializeSymmetric(<paramref name="protocolName"/>).</summary>
    public NoiseSymmetricState(string protocolName)
    {
        byte[] name = Encoding.ASCII.GetBytes(protocolName);
        if (name.Length <= HashLength)
        {
            name.CopyTo(_h, 0);
        }
        else
        {
            SHA256.HashData(name, _h);
        }

        _h.CopyTo(_ck, 0);
    }

    /// <summary>The handshake hash <c>h</c> (the channel binding once the handshake is done).</summary>
    public ReadOnlySpan<byte> HandshakeHash => _h;

    /// <summary>Whether a key has been mixed in (payloads are encrypted from then on).</summary>
    public bool HasKey => _cipher.HasKey;

    /// <summary>h = HASH(h || data).</summary>
    public void MixHash(ReadOnlySpan<byte> data)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(_h);
        hash.AppendData(data);
        hash.GetHashAndReset(_h);
    }

    /// <summary>ck, k = HKDF(ck, <paramref name="inputKeyMaterial"/>); the cipher takes k.</summary>
    public void MixKey(ReadOnlySpan<byte> inputKeyMaterial)
    {
        Span<byte> key = stackalloc byte[HashLength];
        Hkdf(_ck, inputKeyMaterial, _ck, key);
        _cipher.InitializeKey(key);
        CryptographicOperations.ZeroMemory(key);
    }

    /// <summary>Encrypts (once keyed) <paramref name="plaintext"/> into <paramref name="destination"/>, mixes the result into h; returns its length.</summary>
    public int EncryptAndHash(ReadOnlySpan<byte> plaintext, Span<byte> destination)
    {
        int written;
        if (_cipher.HasKey)
        {
            written = _cipher.Encrypt(_h, plaintext, destination);
        }
        else
        {
            plaintext.CopyTo(destination);
            written = plaintext.Length;
        }

        MixHash(destination[..written]);
        return written;
    }

    /// <summary>
    /// Decrypts (once keyed) <paramref name="ciphertext"/> into <paramref name="destination"/>, mixes the ciphertext into
    /// h; returns the plaintext's length. Throws <see cref="NoiseHandshakeException"/> when the tag does not verify.
    /// </summary>
    public int DecryptAndHash(ReadOnlySpan<byte> ciphertext, Span<byte> destination)
    {
        int written;
        if (_cipher.HasKey)
        {
            if (!_cipher.TryDecrypt(_h, ciphertext, destination, out written))
            {
                throw new NoiseHandshakeException(NoiseFailure.BadCiphertext, "a handshake message did not decrypt (tampered, or not for us)");
            }
        }
        else
        {
            ciphertext.CopyTo(destination);
            written = ciphertext.Length;
        }

        MixHash(ciphertext);
        return written;
    }

    /// <summary>The two transport ciphers: the initiator's sending one first, then the responder's.</summary>
    public (NoiseCipherState InitiatorToResponder, NoiseCipherState ResponderToInitiator) Split()
    {
        Span<byte> k1 = stackalloc byte[HashLength];
        Span<byte> k2 = stackalloc byte[HashLength];
        Hkdf(_ck, [], k1, k2);
        var c1 = new NoiseCipherState();
        var c2 = new NoiseCipherState();
        c1.InitializeKey(k1);
        c2.InitializeKey(k2);
        CryptographicOperations.ZeroMemory(k1);
        CryptographicOperations.ZeroMemory(k2);
        return (c1, c2);
    }

    /// <summary>
    /// Noise's HKDF with two outputs: temp = HMAC(ck, ikm); out1 = HMAC(temp, 0x01); out2 = HMAC(temp, out1 || 0x02).
    /// <paramref name="output1"/> may be <paramref name="chainingKey"/> itself.
    /// </summary>
    internal static void Hkdf(ReadOnlySpan<byte> chainingKey, ReadOnlySpan<byte> inputKeyMaterial, Span<byte> output1, Span<byte> output2)
    {
        Span<byte> temp = stackalloc byte[HashLength];
        Span<byte> block = stackalloc byte[HashLength + 1];
        HMACSHA256.HashData(chainingKey, inputKeyMaterial, temp);
        block[0] = 0x01;
        HMACSHA256.HashData(temp, block[..1], output1);
        output1.CopyTo(block);
        block[HashLength] = 0x02;
        HMACSHA256.HashData(temp, block, output2);
        CryptographicOperations.ZeroMemory(temp);
        CryptographicOperations.ZeroMemory(block);
    }

    /// <summary>Forgets the keys.</summary>
    public void Dispose()
    {
        _cipher.Dispose();
        CryptographicOperations.ZeroMemory(_ck);
    }
}
