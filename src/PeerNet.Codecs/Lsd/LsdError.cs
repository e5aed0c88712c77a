namespace PeerNet.Lsd;

/// <summary>Why a datagram on the LSD port was refused as a BEP 14 announce.</summary>
internal enum LsdError
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>A datagram longer than <see cref="LsdLimits.MaxMessageLength"/>, refused before it is read.</summary>
    MessageTooLong,

    /// <summary>A line longer than <see cref="LsdLimits.MaxLineLength"/>.</summary>
    LineTooLong,

    /// <summary>The datagram ends before the empty line that closes the headers.</summary>
    Incomplete,

    /// <summary>The first line is not <c>BT-SEARCH * HTTP/1.1</c>.</summary>
    NotBtSearch,

    /// <summary>More header lines than <see cref="LsdLimits.MaxHeaders"/>.</summary>
    TooManyHeaders,

    /// <summary>A header line without a name and a colon, or a Host or cookie value with characters outside visible ASCII.</summary>
    MalformedHeader,

    /// <summary>A second <c>Host</c>, <c>Port</c> or <c>cookie</c> header.</summary>
    DuplicateHeader,

    /// <summary>No <c>Port</c> header.</summary>
    MissingPort,

    /// <summary>A <c>Port</c> that is not a decimal number from 1 to 65535.</summary>
    BadPort,

    /// <summary>No <c>Infohash</c> header.</summary>
    MissingInfoHash,

    /// <summary>An <c>Infohash</c> that is not 40 hexadecimal digits.</summary>
    BadInfoHash,

    /// <summary>More distinct <c>Infohash</c> headers than <see cref="LsdLimits.MaxInfoHashes"/>.</summary>
    TooManyInfoHashes,

    /// <summary>A <c>cookie</c> longer than <see cref="LsdLimits.MaxCookieLength"/>.</summary>
    CookieTooLong,
}

/// <summary>Sentences for <see cref="LsdError"/>, for logs.</summary>
internal static class LsdErrors
{
    public static string Describe(this LsdError error) => error switch
    {
        LsdError.None => "no error",
        LsdError.MessageTooLong => "datagram is longer than the limit",
        LsdError.LineTooLong => "a line is longer than the limit",
        LsdError.Incomplete => "the headers do not end with an empty line",
        LsdError.NotBtSearch => "not a BT-SEARCH * HTTP/1.1 request",
        LsdError.TooManyHeaders => "more header lines than the limit",
        LsdError.MalformedHeader => "a header line is malformed",
        LsdError.DuplicateHeader => "a Host, Port or cookie header is repeated",
        LsdError.MissingPort => "no Port header",
        LsdError.BadPort => "Port is not a number from 1 to 65535",
        LsdError.MissingInfoHash => "no Infohash header",
        LsdError.BadInfoHash => "an Infohash is not 40 hexadecimal digits",
        LsdError.TooManyInfoHashes => "more Infohash headers than the limit",
        LsdError.CookieTooLong => "cookie is longer than the limit",
        _ => error.ToString(),
    };
}
