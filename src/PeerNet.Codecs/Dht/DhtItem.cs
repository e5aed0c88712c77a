using System.Buffers;

using System.Security.Cryptography;
using PeerNet.Bencode;

namespace PeerNet.Dht;

/// <summary>BEP 44 arithmetic: item targets and the bytes a mutable item's signature covers.</summary>
internal static class DhtItem
{
    /// <summary>BEP 44: an immutable item's target is "the SHA-1 hash of the bencoded v".</summary>
    public static NodeId ImmutableTarget(ReadOnlySpan<byte> bencodedValue)
    {
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(bencodedValue, hash);
        return new NodeId(hash);
    }

    /// <summary>BEP 44: a mutable item's target is "the SHA-1 hash of the public key concatenated with the salt".</summary>
    public static NodeId MutableTarget(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> salt)
    {
        byte[] input = [.. publicKey, .. salt];
        return new NodeId(SHA1.HashData(input));
    }

    /// <summary>
    /// BEP 44: the signature covers the bencoded <c>salt</c> (only when there is one), <c>seq</c> and <c>v</c>
    /// entries, "as if they were part of a dictionary, without the surrounding d and e":
    /// <c>4:salt6:foobar3:seqi4e1:v12:Hello World!</c>.
    /// </summary>
    public static byte[] SignedBytes(ReadOnlySpan<byte> salt, long sequence, ReadOnlySpan<byte> bencodedValue)
    {
        var output = new ArrayBufferWriter<byte>(bencodedValue.Length + salt.Length + 40);
        var w = new BencodeWriter(output);
        if (!salt.IsEmpty)
        {
            w.WriteString("salt"u8);
            w.WriteString(salt);
        }

        w.WriteString("seq"u8);
        w.WriteInteger(sequence);
        w.WriteString("v"u8);
        w.WriteRaw(bencodedValue);
        return output.WrittenSpan.ToArray();
    }

}
