namespace PeerNet.Dht;

/// <summary>
/// Limits a received KRPC message must keep, checked before anything is copied out of the packet. The defaults
/// fit every message libtorrent, Transmission and uTorrent send, and refuse the rest.
/// </summary>
internal sealed record DhtLimits
{
    /// <summary>Default largest packet: 1500 bytes, one Ethernet MTU, the size DHT implementations send within.</summary>
    public const int DefaultMaxPacketLength = 1500;

    /// <summary>Default longest transaction ID: 16 bytes (clients use 2 to 4).</summary>
    public const int DefaultMaxTransactionIdLength = 16;

    /// <summary>Default longest write token: 64 bytes (libtorrent sends 4, others 8 or 20).</summary>
    public const int DefaultMaxTokenLength = 64;

    /// <summary>Default most compact nodes in one <c>nodes</c> or <c>nodes6</c> string: 16 (clients send k = 8).</summary>
    public const int DefaultMaxNodes = 16;

    /// <summary>Default most peers in one <c>values</c> list: 128 (libtorrent sends at most 100).</summary>
    public const int DefaultMaxValues = 128;

    /// <summary>Default most info-hashes in a BEP 51 <c>samples</c> string: 64 (1280 bytes).</summary>
    public const int DefaultMaxSamples = 64;

    /// <summary>Default deepest nesting: 16, room for a BEP 44 value holding nested containers.</summary>
    public const int DefaultMaxDepth = 16;

    /// <summary>Default most bencode values in one packet: 512.</summary>
    public const int DefaultMaxTokens = 512;

    /// <summary>
    /// BEP 44: "the bencoded form of v must be less than 1000 bytes" (we accept up to and including 1000, as
    /// libtorrent does).
    /// </summary>
    public const int MaxItemValueLength = 1000;

    /// <summary>BEP 44: the salt "must not exceed 64 bytes".</summary>
    public const int MaxSaltLength = 64;

    /// <summary>The limits used when none are given.</summary>
    public static DhtLimits Default { get; } = new();

    /// <summary>Largest packet accepted, in bytes.</summary>
    public int MaxPacketLength { get; init; } = DefaultMaxPacketLength;

    /// <summary>Longest transaction ID accepted, in bytes.</summary>
    public int MaxTransactionIdLength { get; init; } = DefaultMaxTransactionIdLength;

    /// <summary>Longest token accepted, in bytes.</summary>
    public int MaxTokenLength { get; init; } = DefaultMaxTokenLength;

    /// <summary>Most nodes accepted in one <c>nodes</c> or <c>nodes6</c> string.</summary>
    public int MaxNodes { get; init; } = DefaultMaxNodes;

    /// <summary>Most peers accepted in one <c>values</c> list.</summary>
    public int MaxValues { get; init; } = DefaultMaxValues;

    /// <summary>Most info-hashes accepted in a <c>samples</c> string.</summary>
    public int MaxSamples { get; init; } = DefaultMaxSamples;

    /// <summary>Deepest nesting accepted.</summary>
    public int MaxDepth { get; init; } = DefaultMaxDepth;

    /// <summary>Most bencode values accepted in one packet.</summary>
    public int MaxTokens { get; init; } = DefaultMaxTokens;
}
