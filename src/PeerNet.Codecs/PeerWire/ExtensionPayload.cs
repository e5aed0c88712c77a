using System.Diagnostics.CodeAnalysis;
using PeerNet.Bencode;

namespace PeerNet.PeerWire;

/// <summary>Shared parsing of the bencoded dictionary that starts every BEP 10 extension payload.</summary>
internal static class ExtensionPayload
{
    /// <summary>
    /// Bencode limits for extension payloads: the frame limit already bounds their size, these bound the work
    /// and memory a hostile payload can cause. Real handshakes and PEX messages use a few dozen values.
    /// </summary>
    public static readonly BencodeLimits Limits = new()
    {
        MaxDepth = 32,
        MaxTokens = 4096,
        MaxStringLength = PeerWireLimits.BaseMaxMessageLength,
    };

    /// <summary>
    /// Parses the dictionary at the start of <paramref name="data"/>; bytes after it are left to the caller
    /// (BEP 9 data) or ignored, as libtorrent does. The caller disposes <paramref name="document"/>.
    /// </summary>
    public static bool TryParseDictionary(ReadOnlyMemory<byte> data, [NotNullWhen(true)] out BencodeDocument? document, out int consumed, out PeerWireError error)
    {
        if (!BencodeDocument.TryParsePrefix(data, out document, out consumed, out _, Limits))
        {
            error = PeerWireError.ExtensionPayloadInvalid;
            return false;
        }

        if (!document.Root.IsDictionary)
        {
            document.Dispose();
            document = null;
            error = PeerWireError.ExtensionPayloadNotDictionary;
            return false;
        }

        error = PeerWireError.None;
        return true;
    }

    /// <summary>An integer value in [<paramref name="min"/>, <paramref name="max"/>], or null when absent, of another type or out of range.</summary>
    public static long? GetInteger(BencodeNode node, long min, long max) =>
        node.TryGetInt64(out long value) && value >= min && value <= max ? value : null;
}
