using Google.Protobuf;
using PeerNet.Libp2p.Protos;

namespace PeerNet.Libp2p;

/// <summary>The peer-ids spec's key encodings (<c>keys.proto</c>): what a PeerId is made from and what a key file holds.</summary>
internal static class Libp2pKeys
{
    /// <summary>An Ed25519 public key's length.</summary>
    public const int Ed25519PublicKeyLength = 32;

    /// <summary>An Ed25519 private key's length in libp2p's encoding: the 32-byte seed, then the 32-byte public key.</summary>
    public const int Ed25519PrivateKeyLength = 64;

    /// <summary>Longest serialized key accepted from a peer (an RSA-4096 public key is about 550 bytes).</summary>
    public const int MaxKeyMessageLength = 1024;

    /// <summary>The protobuf <c>PublicKey{Type=Ed25519, Data=key}</c>: deterministic, 36 bytes.</summary>
    public static byte[] EncodeEd25519PublicKey(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != Ed25519PublicKeyLength)
        {
            throw new ArgumentException($"An Ed25519 public key is {Ed25519PublicKeyLength} bytes, not {publicKey.Length}.", nameof(publicKey));
        }

        return new PublicKey { Type = KeyType.Ed25519, Data = ByteString.CopyFrom(publicKey) }.ToByteArray();
    }

    /// <summary>The protobuf <c>PrivateKey{Type=Ed25519, Data=seed||public}</c> (as go- and js-libp2p store it).</summary>
    public static byte[] EncodeEd25519PrivateKey(ReadOnlySpan<byte> seed, ReadOnlySpan<byte> publicKey)
    {
        if (seed.Length != 32 || publicKey.Length != Ed25519PublicKeyLength)
        {
            throw new ArgumentException("An Ed25519 private key is a 32-byte seed and a 32-byte public key.");
        }

        byte[] data = [.. seed, .. publicKey];
        try
        {
            return new PrivateKey { Type = KeyType.Ed25519, Data = ByteString.CopyFrom(data) }.ToByteArray();
        }
        finally
        {
            Array.Clear(data);
        }
    }

    /// <summary>Reads a protobuf <c>PublicKey</c>; null with <paramref name="error"/> when it is not one, or too big.</summary>
    public static PublicKey? TryDecodePublicKey(ReadOnlySpan<byte> message, out string? error)
    {
        if (message.Length > MaxKeyMessageLength)
        {
            error = $"the public key message is {message.Length} bytes, over {MaxKeyMessageLength}";
            return null;
        }

        try
        {
            PublicKey key = PublicKey.Parser.ParseFrom(message);
            if (!key.HasType || !key.HasData)
            {
                error = "the public key message lacks its Type or Data";
                return null;
            }

            if (key.Type == KeyType.Ed25519 && key.Data.Length != Ed25519PublicKeyLength)
            {
                error = $"an Ed25519 public key is {Ed25519PublicKeyLength} bytes, not {key.Data.Length}";
                return null;
            }

            error = null;
            return key;
        }
        catch (InvalidProtocolBufferException e)
        {
            error = $"not a public key message: {e.Message}";
            return null;
        }
    }

    /// <summary>
    /// Reads an Ed25519 <c>PrivateKey</c> message into its 32-byte seed (the public half is checked by the caller,
    /// who derives it); null with <paramref name="error"/> for anything else.
    /// </summary>
    public static byte[]? TryDecodeEd25519PrivateKey(ReadOnlySpan<byte> message, out byte[]? publicKey, out string? error)
    {
        publicKey = null;
        try
        {
            PrivateKey key = PrivateKey.Parser.ParseFrom(message);
            if (!key.HasType || !key.HasData || key.Type != KeyType.Ed25519)
            {
                error = "not an Ed25519 private key message";
                return null;
            }

            if (key.Data.Length != Ed25519PrivateKeyLength)
            {
                error = $"an Ed25519 private key is {Ed25519PrivateKeyLength} bytes (seed and public key), not {key.Data.Length}";
                return null;
            }

            ReadOnlySpan<byte> data = key.Data.Span;
            publicKey = data[32..].ToArray();
            error = null;
            return data[..32].ToArray();
        }
        catch (InvalidProtocolBufferException e)
        {
            error = $"not a private key message: {e.Message}";
            return null;
        }
    }
}
