using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using PeerNet.Libp2p.Protos;

namespace PeerNet.Libp2p;

/// <summary>
/// A libp2p peer ID: the multihash of a peer's protobuf-encoded public key, the identity multihash (the key itself) when
/// that is at most 42 bytes, as an Ed25519 key's 36 are, else its SHA-256. Its text is the base58btc multihash
/// (<c>12D3KooW...</c> for Ed25519, <c>Qm...</c> for SHA-256 ones); parsing also takes the CIDv1 form (<c>bafz...</c>).
/// Not the BitTorrent peer ID (<see cref="PeerWire.PeerId"/>).
/// </summary>
public sealed class Libp2pPeerId : IEquatable<Libp2pPeerId>
{
    /// <summary>Serialized keys up to this length are inlined (identity multihash); longer ones are hashed with SHA-256.</summary>
    public const int MaxInlineKeyLength = 42;

    private const byte IdentityCode = 0x00;
    private const byte Sha256Code = 0x12;
    private const byte LibP2pKeyCodec = 0x72;

    private readonly byte[] _multihash;
    private readonly string _text;

    private Libp2pPeerId(byte[] multihash)
    {
        _multihash = multihash;
        _text = Base58.Encode(multihash);
    }

    /// <summary>The peer ID's bytes: a multihash (what the <c>/p2p</c> multiaddr component and protocol messages carry).</summary>
    public ReadOnlyMemory<byte> Multihash => _multihash;

    /// <summary>The peer's Ed25519 public key when the ID inlines one (every <c>12D3KooW...</c> ID); null otherwise.</summary>
    public byte[]? Ed25519PublicKey =>
        _multihash[0] == IdentityCode && Libp2pKeys.TryDecodePublicKey(_multihash.AsSpan(2), out _) is { Type: KeyType.Ed25519 } key
            ? key.Data.ToByteArray()
            : null;

    /// <summary>The peer ID of an Ed25519 public key (32 bytes).</summary>
    public static Libp2pPeerId FromEd25519PublicKey(ReadOnlySpan<byte> publicKey) => FromPublicKey(Libp2pKeys.EncodeEd25519PublicKey(publicKey));

    /// <summary>The peer ID of a serialized protobuf <c>PublicKey</c> (any key type), inlined or hashed by its length.</summary>
    public static Libp2pPeerId FromPublicKey(ReadOnlySpan<byte> serializedPublicKey)
    {
        if (Libp2pKeys.TryDecodePublicKey(serializedPublicKey, out string? error) is null)
        {
            throw new ArgumentException($"Not a libp2p public key: {error}.", nameof(serializedPublicKey));
        }

        byte[] multihash;
        if (serializedPublicKey.Length <= MaxInlineKeyLength)
        {
            multihash = new byte[2 + serializedPublicKey.Length];
            multihash[0] = IdentityCode;
            multihash[1] = (byte)serializedPublicKey.Length;
            serializedPublicKey.CopyTo(multihash.AsSpan(2));
        }
        else
        {
            multihash = new byte[2 + SHA256.HashSizeInBytes];
            multihash[0] = Sha256Code;
            multihash[1] = SHA256.HashSizeInBytes;
            SHA256.HashData(serializedPublicKey, multihash.AsSpan(2));
        }

        return new Libp2pPeerId(multihash);
    }

    /// <summary>The peer ID whose multihash is <paramref name="multihash"/>; throws <see cref="FormatException"/> when it is not a peer ID's.</summary>
    public static Libp2pPeerId FromMultihash(ReadOnlySpan<byte> multihash) =>
        TryFromMultihash(multihash, out Libp2pPeerId? id, out string? error) ? id : throw new FormatException($"Not a libp2p peer ID: {error}.");

    /// <summary>
    /// Reads a peer ID's multihash: an identity multihash of a public key message of at most 42 bytes, or a SHA-256
    /// multihash; anything else (other hashes, wrong lengths, trailing bytes) is refused with <paramref name="error"/>.
    /// </summary>
    public static bool TryFromMultihash(ReadOnlySpan<byte> multihash, [NotNullWhen(true)] out Libp2pPeerId? id, [NotNullWhen(false)] out string? error)
    {
        id = null;
        if (UnsignedVarint.TryRead(multihash, out ulong code, out int codeLength) != VarintStatus.Ok)
        {
            error = "the multihash has no valid hash code";
            return false;
        }

        if (UnsignedVarint.TryRead(multihash[codeLength..], out ulong length, out int lengthLength) != VarintStatus.Ok)
        {
            error = "the multihash has no valid digest length";
            return false;
        }

        ReadOnlySpan<byte> digest = multihash[(codeLength + lengthLength)..];
        if ((ulong)digest.Length != length)
        {
            error = $"the multihash says its digest is {length} bytes but {digest.Length} follow";
            return false;
        }

        switch (code)
        {
            case IdentityCode:
                if (digest.Length > MaxInlineKeyLength)
                {
                    error = $"an inlined key is at most {MaxInlineKeyLength} bytes, not {digest.Length}";
                    return false;
                }

                if (Libp2pKeys.TryDecodePublicKey(digest, out string? keyError) is null)
                {
                    error = $"the inlined key is not valid: {keyError}";
                    return false;
                }

                break;
            case Sha256Code:
                if (digest.Length != SHA256.HashSizeInBytes)
                {
                    error = $"a SHA-256 digest is 32 bytes, not {digest.Length}";
                    return false;
                }

                break;
            default:
                error = $"hash code 0x{code:x} is neither identity (0x00) nor sha2-256 (0x12)";
                return false;
        }

        error = null;
        id = new Libp2pPeerId(multihash.ToArray());
        return true;
    }

    /// <summary>Parses a peer ID's text; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static Libp2pPeerId Parse(string text) =>
        TryParse(text, out Libp2pPeerId? id, out string? error) ? id : throw new FormatException($"Not a libp2p peer ID: {error}.");

    /// <summary>
    /// Parses a peer ID's text: a base58btc multihash (<c>12D3KooW...</c>, <c>Qm...</c>, starting with <c>1</c> or
    /// <c>Qm</c>), or a CIDv1 of the <c>libp2p-key</c> codec in base32 (<c>b...</c>) or base58btc (<c>z...</c>).
    /// </summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out Libp2pPeerId? id, [NotNullWhen(false)] out string? error)
    {
        id = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "it is empty";
            return false;
        }

        if (text.Length > 2 * Base58.MaxBytes)
        {
            error = $"it is {text.Length} characters long";
            return false;
        }

        byte[]? bytes;
        bool cid = false;
        if (text[0] == '1' || text.StartsWith("Qm", StringComparison.Ordinal))
        {
            bytes = Base58.TryDecode(text, out error);
        }
        else if (text[0] == 'z')
        {
            bytes = Base58.TryDecode(text.AsSpan(1), out error);
            cid = true;
        }
        else if (text[0] == 'b')
        {
            bytes = TryDecodeBase32(text.AsSpan(1), out error);
            cid = true;
        }
        else
        {
            error = "it starts with neither '1' nor 'Qm' (a base58btc multihash) nor 'b' or 'z' (a CID)";
            return false;
        }

        if (bytes is null)
        {
            error ??= "it does not decode";
            return false;
        }

        ReadOnlySpan<byte> multihash = bytes;
        if (cid)
        {
            // <version 1><codec libp2p-key 0x72><multihash>: both one-byte varints.
            if (bytes.Length < 2 || bytes[0] != 0x01 || bytes[1] != LibP2pKeyCodec)
            {
                error = "the CID is not a version 1 CID of the libp2p-key codec";
                return false;
            }

            multihash = multihash[2..];
        }

        return TryFromMultihash(multihash, out id, out error);
    }

    private static byte[]? TryDecodeBase32(ReadOnlySpan<char> text, out string? error)
    {
        // Multibase 'b' is lower-case RFC 4648 base32 without padding.
        foreach (char c in text)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '2' and <= '7')))
            {
                error = $"'{(char.IsControl(c) ? '?' : c)}' is not a lower-case base32 character";
                return null;
            }
        }

        var bytes = new byte[text.Length * 5 / 8];
        if (!Base32.TryDecode(text, bytes, out int written))
        {
            error = "the base32 text does not decode";
            return null;
        }

        error = null;
        return bytes[..written];
    }

    /// <summary>The base58btc text (<c>12D3KooW...</c>).</summary>
    public override string ToString() => _text;

    /// <inheritdoc/>
    public bool Equals(Libp2pPeerId? other) => other is not null && _multihash.AsSpan().SequenceEqual(other._multihash);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Libp2pPeerId);

    /// <inheritdoc/>
    public override int GetHashCode() => _text.GetHashCode(StringComparison.Ordinal);
}
