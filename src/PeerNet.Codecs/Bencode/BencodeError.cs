namespace PeerNet.Bencode;

/// <summary>What is wrong with a bencoded input.</summary>
public enum BencodeErrorCode
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The input ended inside a value.</summary>
    UnexpectedEnd,

    /// <summary>A byte that cannot start or continue a value here.</summary>
    UnexpectedByte,

    /// <summary>An integer with no digits (<c>ie</c>, <c>i-e</c>).</summary>
    IntegerEmpty,

    /// <summary>An integer with a leading zero or <c>-0</c>, which BEP 3 forbids.</summary>
    IntegerNotCanonical,

    /// <summary>An integer with more than 19 digits.</summary>
    IntegerTooLong,

    /// <summary>An integer outside the signed 64-bit range.</summary>
    IntegerOverflow,

    /// <summary>A string length with a leading zero.</summary>
    StringLengthNotCanonical,

    /// <summary>A string longer than <see cref="BencodeLimits.MaxStringLength"/>.</summary>
    StringTooLong,

    /// <summary>Nesting deeper than <see cref="BencodeLimits.MaxDepth"/>.</summary>
    DepthExceeded,

    /// <summary>More values than <see cref="BencodeLimits.MaxTokens"/>.</summary>
    TooManyTokens,

    /// <summary>A dictionary key that is not a string.</summary>
    KeyNotString,

    /// <summary>A dictionary key with no value before the dictionary's end.</summary>
    MissingValue,

    /// <summary>The same key twice in one dictionary: an ambiguity different clients resolve differently.</summary>
    DuplicateKey,

    /// <summary>Bytes after the end of the root value.</summary>
    TrailingData,
}

/// <summary>A parse failure: what is wrong and the byte offset where it was found.</summary>
public readonly record struct BencodeError(BencodeErrorCode Code, long Offset)
{
    /// <summary>A sentence naming the problem and its offset.</summary>
    public string Message => Code switch
    {
        BencodeErrorCode.None => "no error",
        BencodeErrorCode.UnexpectedEnd => $"input ends inside a value at byte {Offset}",
        BencodeErrorCode.UnexpectedByte => $"unexpected byte at byte {Offset}",
        BencodeErrorCode.IntegerEmpty => $"integer has no digits at byte {Offset}",
        BencodeErrorCode.IntegerNotCanonical => $"integer has a leading zero or is -0 at byte {Offset}",
        BencodeErrorCode.IntegerTooLong => $"integer has more than {BencodeLimits.MaxIntegerDigits} digits at byte {Offset}",
        BencodeErrorCode.IntegerOverflow => $"integer does not fit in 64 bits at byte {Offset}",
        BencodeErrorCode.StringLengthNotCanonical => $"string length has a leading zero at byte {Offset}",
        BencodeErrorCode.StringTooLong => $"string is longer than the limit at byte {Offset}",
        BencodeErrorCode.DepthExceeded => $"nesting is deeper than the limit at byte {Offset}",
        BencodeErrorCode.TooManyTokens => $"more values than the limit at byte {Offset}",
        BencodeErrorCode.KeyNotString => $"dictionary key is not a string at byte {Offset}",
        BencodeErrorCode.MissingValue => $"dictionary key has no value at byte {Offset}",
        BencodeErrorCode.DuplicateKey => $"duplicate dictionary key at byte {Offset}",
        BencodeErrorCode.TrailingData => $"trailing data after the root value at byte {Offset}",
        _ => $"{Code} at byte {Offset}",
    };

    /// <inheritdoc />
    public override string ToString() => "bencode: " + Message;
}

/// <summary>Thrown by the throwing parse methods; carries the <see cref="BencodeError"/>.</summary>
public sealed class BencodeException : FormatException
{
    /// <summary>Creates the exception for an error.</summary>
    public BencodeException(BencodeError error)
        : base(error.ToString()) => Error = error;

    /// <summary>Creates an exception with a message of its own (for type errors when reading a document).</summary>
    public BencodeException(string message)
        : base(message) => Error = new BencodeError(BencodeErrorCode.UnexpectedByte, -1);

    /// <summary>Creates an empty exception.</summary>
    public BencodeException()
        : this(new BencodeError(BencodeErrorCode.None, 0))
    {
    }

    /// <summary>Creates an exception with a message and inner exception.</summary>
    public BencodeException(string message, Exception innerException)
        : base(message, innerException) => Error = new BencodeError(BencodeErrorCode.UnexpectedByte, -1);

    /// <summary>What went wrong, and where.</summary>
    public BencodeError Error { get; }
}
