using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace PeerNet.Libp2p;

/// <summary>
/// Which Kademlia records a node accepts, as js-libp2p's kad-dht does by default: a key is <c>/NAMESPACE/...</c> and
/// only the <c>pk</c> namespace has a validator (<c>/pk/</c> and a peer ID's multihash, the value that peer's
/// protobuf public key); keys of any other namespace are refused. Pure.
/// </summary>
internal static class KadRecords
{
    /// <summary>The public-key namespace's prefix.</summary>
    public static ReadOnlySpan<byte> PublicKeyPrefix => "/pk/"u8;

    /// <summary>The key of <paramref name="peer"/>'s public key record: <c>/pk/</c> and its multihash.</summary>
    public static byte[] PublicKeyKey(Libp2pPeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return [.. PublicKeyPrefix, .. peer.Multihash.Span];
    }

    /// <summary>Whether <paramref name="key"/> is in the <c>/pk/</c> namespace.</summary>
    public static bool IsPublicKeyKey(ReadOnlySpan<byte> key) => key.StartsWith(PublicKeyPrefix);

    /// <summary>
    /// Checks a record: its key has a namespace this node validates, and the value is valid there (for <c>/pk/</c>: a
    /// public key whose peer ID's multihash is the rest of the key). Refused with <paramref name="error"/>.
    /// </summary>
    public static bool Validate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, [NotNullWhen(false)] out string? error)
    {
        if (!TryNamespace(key, out string? ns))
        {
            error = "the record key has no namespace (/NAMESPACE/...)";
            return false;
        }

        if (ns != "pk")
        {
            error = $"no validator for the record namespace \"{DisplayText.Sanitize(ns, 64)}\" (only /pk/ is accepted)";
            return false;
        }

        Libp2pPeerId id;
        try
        {
            id = Libp2pPeerId.FromPublicKey(value);
        }
        catch (ArgumentException e)
        {
            error = $"the /pk/ record's value is not a public key: {e.Message}";
            return false;
        }

        if (!key[PublicKeyPrefix.Length..].SequenceEqual(id.Multihash.Span))
        {
            error = $"the /pk/ record's public key is peer {id}'s, not the key's";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>The namespace of <c>/NAMESPACE/REST</c> (REST may be empty, as js splits it; at least three parts).</summary>
    private static bool TryNamespace(ReadOnlySpan<byte> key, [NotNullWhen(true)] out string? ns)
    {
        ns = null;
        if (key.Length < 2 || key[0] != (byte)'/')
        {
            return false;
        }

        int end = key[1..].IndexOf((byte)'/');
        if (end < 0)
        {
            return false;
        }

        ns = Encoding.UTF8.GetString(key.Slice(1, end));
        return true;
    }
}
