namespace PeerNet.Bencode;

/// <summary>
/// Hard limits checked by <see cref="BencodeDocument"/> before it buffers anything. Every limit has a default
/// that no legitimate torrent, KRPC message or extension message comes near.
/// </summary>
public sealed record BencodeLimits
{
    /// <summary>Default nesting depth: 100 containers.</summary>
    public const int DefaultMaxDepth = 100;

    /// <summary>Default number of values in one document (keys count): 2,000,000.</summary>
    public const int DefaultMaxTokens = 2_000_000;

    /// <summary>Default length of one string: 64 MiB.</summary>
    public const int DefaultMaxStringLength = 64 * 1024 * 1024;

    /// <summary>
    /// Integers are signed 64-bit: at most 19 digits after an optional '-'. Wider integers are refused as
    /// <see cref="BencodeErrorCode.IntegerTooLong"/>; 19-digit values outside the 64-bit range as
    /// <see cref="BencodeErrorCode.IntegerOverflow"/>.
    /// </summary>
    public const int MaxIntegerDigits = 19;

    /// <summary>The limits used when none are given.</summary>
    public static BencodeLimits Default { get; } = new();

    /// <summary>Deepest nesting of lists and dictionaries allowed (1 to 4096).</summary>
    public int MaxDepth
    {
        get;
        init => field = value is >= 1 and <= 4096 ? value : throw new ArgumentOutOfRangeException(nameof(MaxDepth), value, "Depth must be 1 to 4096.");
    } = DefaultMaxDepth;

    /// <summary>Most values (integers, strings, lists, dictionaries, keys included) in one document.</summary>
    public int MaxTokens
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxTokens), value, "At least one token.");
    } = DefaultMaxTokens;

    /// <summary>Longest string allowed, in bytes.</summary>
    public int MaxStringLength
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxStringLength), value, "Must not be negative.");
    } = DefaultMaxStringLength;
}
