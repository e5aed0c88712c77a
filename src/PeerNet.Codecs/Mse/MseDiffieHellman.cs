using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;

namespace PeerNet.Mse;

/// <summary>
/// MSE's Diffie-Hellman exchange over the 768-bit prime P of the spec with generator 2: a private key of
/// <see cref="MseConstants.PrivateKeyBits"/> random bits, the public key <c>Y = 2^X mod P</c> and the shared secret
/// <c>S = Yremote^X mod P</c>, each 96 bytes big-endian on the wire.
/// </summary>
internal sealed class MseDiffieHellman
{
    /// <summary>The spec's prime (the 768-bit MODP group of RFC 2409, group 1).</summary>
    public static readonly BigInteger Prime = BigInteger.Parse(
        "0FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563",
        NumberStyles.HexNumber,
        CultureInfo.InvariantCulture);

    /// <summary>The generator.</summary>
    public static readonly BigInteger Generator = 2;

    private readonly BigInteger _private;

    /// <summary>A fresh key pair (the private key from the system's random generator).</summary>
    public MseDiffieHellman()
        : this(RandomPrivateKey())
    {
    }

    /// <summary>The key pair of a given private key (big-endian, 1 to 96 bytes; tests give known ones).</summary>
    public MseDiffieHellman(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.IsEmpty || privateKey.Length > MseConstants.KeyLength)
        {
            throw new ArgumentException("A private key is 1 to 96 bytes.", nameof(privateKey));
        }

        _private = new BigInteger(privateKey, isUnsigned: true, isBigEndian: true);
        if (_private.IsZero)
        {
            throw new ArgumentException("A private key cannot be zero.", nameof(privateKey));
        }

        PublicKey = ToBytes(BigInteger.ModPow(Generator, _private, Prime));
    }

    /// <summary>Our public key Y, 96 bytes big-endian.</summary>
    public byte[] PublicKey { get; }

    /// <summary>
    /// The shared secret S from the peer's public key (96 bytes); false for a key outside 2..P-2, which would make the
    /// secret guessable (1, P-1 and their like are what a hostile or broken peer sends).
    /// </summary>
    public bool TryComputeSecret(ReadOnlySpan<byte> remotePublicKey, Span<byte> secret)
    {
        if (remotePublicKey.Length != MseConstants.KeyLength || secret.Length < MseConstants.KeyLength)
        {
            return false;
        }

        var y = new BigInteger(remotePublicKey, isUnsigned: true, isBigEndian: true);
        if (y <= BigInteger.One || y >= Prime - BigInteger.One)
        {
            return false;
        }

        WriteBytes(BigInteger.ModPow(y, _private, Prime), secret[..MseConstants.KeyLength]);
        return true;
    }

    private static byte[] RandomPrivateKey() => RandomNumberGenerator.GetBytes(MseConstants.PrivateKeyBits / 8);

    private static byte[] ToBytes(BigInteger value)
    {
        byte[] bytes = new byte[MseConstants.KeyLength];
        WriteBytes(value, bytes);
        return bytes;
    }

    /// <summary>Writes <paramref name="value"/> big-endian, left-padded with zeros to the destination's 96 bytes.</summary>
    private static void WriteBytes(BigInteger value, Span<byte> destination)
    {
        int length = value.GetByteCount(isUnsigned: true);
        destination[..^length].Clear();
        value.TryWriteBytes(destination[^length..], out _, isUnsigned: true, isBigEndian: true);
    }
}
