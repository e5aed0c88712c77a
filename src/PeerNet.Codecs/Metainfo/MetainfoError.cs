using PeerNet.Bencode;

namespace PeerNet.Metainfo;

/// <summary>Why a torrent was refused.</summary>
public enum MetainfoErrorCode
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The file is not valid bencode (see <see cref="MetainfoError.Bencode"/>).</summary>
    InvalidBencode,

    /// <summary>The file is larger than <see cref="MetainfoLimits.MaxTorrentSize"/>.</summary>
    TooLarge,

    /// <summary>A required key is missing.</summary>
    MissingKey,

    /// <summary>A key holds the wrong type of value.</summary>
    WrongType,

    /// <summary>A value is out of its allowed range (negative length, piece length not a power of two, …).</summary>
    InvalidValue,

    /// <summary>The pieces, piece layers or file sizes do not agree with each other.</summary>
    Inconsistent,

    /// <summary>
    /// A path that could not be made safe: a path too deep or too long, an element still too long once cut, a
    /// single file's name with nothing left. (Traversal, separators, NUL and drive letters are repaired, as
    /// libtorrent repairs them, not refused.)
    /// </summary>
    UnsafePath,

    /// <summary>
    /// Two files would still share a path once those libtorrent renames are renamed: paths equal only ignoring
    /// non-ASCII case, which libtorrent keeps apart and Windows and macOS do not.
    /// </summary>
    DuplicatePath,

    /// <summary>More files, pieces or nesting than the limits allow.</summary>
    LimitExceeded,

    /// <summary>An unknown <c>meta version</c>.</summary>
    UnsupportedVersion,
}

/// <summary>A refusal: what is wrong, where (byte offset in the .torrent, or -1), and a sentence for people.</summary>
public readonly record struct MetainfoError(MetainfoErrorCode Code, long Offset, string Message)
{
    /// <summary>The underlying bencode error when <see cref="Code"/> is <see cref="MetainfoErrorCode.InvalidBencode"/>.</summary>
    public BencodeError? Bencode { get; init; }

    /// <inheritdoc />
    public override string ToString() => Offset >= 0 && Code != MetainfoErrorCode.InvalidBencode ? $"invalid torrent: {Message} (at byte {Offset})" : $"invalid torrent: {Message}";
}

/// <summary>Thrown when a torrent is refused; carries the <see cref="MetainfoError"/>.</summary>
public sealed class MetainfoException : FormatException
{
    /// <summary>Creates the exception for a refusal.</summary>
    public MetainfoException(MetainfoError error)
        : base(error.ToString()) => Error = error;

    /// <summary>Creates an exception with a message.</summary>
    public MetainfoException(string message)
        : base(message) => Error = new MetainfoError(MetainfoErrorCode.InvalidValue, -1, message);

    /// <summary>Creates an empty exception.</summary>
    public MetainfoException()
        : this("invalid torrent")
    {
    }

    /// <summary>Creates an exception with a message and inner exception.</summary>
    public MetainfoException(string message, Exception innerException)
        : base(message, innerException) => Error = new MetainfoError(MetainfoErrorCode.InvalidValue, -1, message);

    /// <summary>What was wrong.</summary>
    public MetainfoError Error { get; }
}
