using System.Security.Cryptography;

namespace PeerNet.Mse;

/// <summary>The crypto methods of MSE's <c>crypto_provide</c> and <c>crypto_select</c> bit fields.</summary>
[Flags]
internal enum MseCryptoMethods : uint
{
    /// <summary>None: never valid on the wire.</summary>
    None = 0,

    /// <summary>After the handshake, the stream goes in the clear (only the handshake itself is encrypted).</summary>
    Plaintext = 0x01,

    /// <summary>After the handshake, the stream stays RC4-encrypted.</summary>
    Rc4 = 0x02,

    /// <summary>Either.</summary>
    Both = Plaintext | Rc4,
}

/// <summary>The fixed sizes and limits of Message Stream Encryption (the Vuze/Azureus MSE specification).</summary>
internal static class MseConstants
{
    /// <summary>Bytes of a Diffie-Hellman public key or shared secret on the wire (768 bits, big-endian).</summary>
    public const int KeyLength = 96;

    /// <summary>Longest pad (PadA, PadB, PadC, PadD) the spec allows.</summary>
    public const int MaxPadLength = 512;

    /// <summary>Keystream bytes dropped after keying RC4.</summary>
    public const int DiscardBytes = 1024;

    /// <summary>The verification constant's length: 8 zero bytes.</summary>
    public const int VcLength = 8;

    /// <summary>
    /// Longest initial payload (IA) accepted: a BitTorrent handshake is 68 bytes; clients send at most that and its
    /// extension handshake, so 1 KiB leaves room without letting a peer make us buffer 64 KiB.
    /// </summary>
    public const int MaxInitialPayloadLength = 1024;

    /// <summary>Bits of a private Diffie-Hellman key (libtorrent's choice; the spec asks for at least 128).</summary>
    public const int PrivateKeyBits = 160;

    /// <summary>SHA-1 of the ASCII tag then the parts: the spec's <c>HASH('tag', a, b)</c>.</summary>
    public static Sha1Hash Hash(ReadOnlySpan<byte> tag, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second = default)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha.AppendData(tag);
        sha.AppendData(first);
        sha.AppendData(second);
        Span<byte> digest = stackalloc byte[Sha1Hash.Length];
        sha.GetHashAndReset(digest);
        return new Sha1Hash(digest);
    }

    /// <summary><c>HASH('req1', S)</c>: the initiator's sync marker the responder searches for.</summary>
    public static Sha1Hash Req1(ReadOnlySpan<byte> secret) => Hash("req1"u8, secret);

    /// <summary><c>HASH('req2', SKEY)</c>: what the responder matches its torrents against (once unmasked).</summary>
    public static Sha1Hash Req2(ReadOnlySpan<byte> skey) => Hash("req2"u8, skey);

    /// <summary><c>HASH('req3', S)</c>: the mask over <see cref="Req2"/>.</summary>
    public static Sha1Hash Req3(ReadOnlySpan<byte> secret) => Hash("req3"u8, secret);

    /// <summary>The key of what the initiator (A) sends: <c>HASH('keyA', S, SKEY)</c>.</summary>
    public static Sha1Hash KeyA(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> skey) => Hash("keyA"u8, secret, skey);

    /// <summary>The key of what the responder (B) sends: <c>HASH('keyB', S, SKEY)</c>.</summary>
    public static Sha1Hash KeyB(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> skey) => Hash("keyB"u8, secret, skey);

    /// <summary>An RC4 cipher keyed with <paramref name="key"/>, its first 1024 bytes discarded, as MSE uses it.</summary>
    public static Rc4 Cipher(Sha1Hash key)
    {
        Span<byte> bytes = stackalloc byte[Sha1Hash.Length];
        key.CopyTo(bytes);
        return new Rc4(bytes, DiscardBytes);
    }

    /// <summary>A hash's 20 bytes, for the derivations above (SKEY, a sync marker).</summary>
    public static byte[] Bytes(Sha1Hash hash)
    {
        byte[] bytes = new byte[Sha1Hash.Length];
        hash.CopyTo(bytes);
        return bytes;
    }

    /// <summary><paramref name="a"/> xor <paramref name="b"/>.</summary>
    public static Sha1Hash Xor(Sha1Hash a, Sha1Hash b)
    {
        Span<byte> x = stackalloc byte[Sha1Hash.Length];
        Span<byte> y = stackalloc byte[Sha1Hash.Length];
        a.CopyTo(x);
        b.CopyTo(y);
        for (int k = 0; k < x.Length; k++)
        {
            x[k] ^= y[k];
        }

        return new Sha1Hash(x);
    }
}
