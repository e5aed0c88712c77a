namespace PeerNet.PeerWire;

/// <summary>
/// Why a peer-wire input was refused. Every value is a reason to distrust the peer that sent it; whether to
/// drop the connection or only ignore the message (an extension message, say) is the connection's policy.
/// </summary>
internal enum PeerWireError
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The handshake does not start with <c>\x13BitTorrent protocol</c>.</summary>
    InvalidProtocol,

    /// <summary>A length prefix above the connection's limit, refused before its payload is buffered.</summary>
    MessageTooLong,

    /// <summary>A message whose payload length is not the one its id requires (have = 4, request = 12, …).</summary>
    InvalidMessageLength,

    /// <summary>A 32-bit index, offset or length at or above 2^31, which no valid torrent needs.</summary>
    ValueOutOfRange,

    /// <summary>A bitfield whose length is not ceil(pieces / 8) bytes.</summary>
    BitfieldWrongLength,

    /// <summary>A bitfield with one of the spare bits after the last piece set.</summary>
    BitfieldSpareBitsSet,

    /// <summary>An extension message whose payload is not valid bencode.</summary>
    ExtensionPayloadInvalid,

    /// <summary>An extension message whose payload is valid bencode but not a dictionary.</summary>
    ExtensionPayloadNotDictionary,

    /// <summary>An extension handshake with more <c>m</c> entries than the limit.</summary>
    TooManyExtensions,

    /// <summary>A ut_metadata message without an integer <c>msg_type</c>, <c>piece</c> or (for data) <c>total_size</c>.</summary>
    MetadataMessageInvalid,

    /// <summary>A ut_metadata <c>total_size</c> of zero, negative or above the metadata size limit.</summary>
    MetadataSizeOutOfRange,

    /// <summary>A ut_metadata piece index that is negative or past the end of the metadata.</summary>
    MetadataPieceOutOfRange,

    /// <summary>A ut_metadata data message whose data is not exactly the piece's length.</summary>
    MetadataPieceWrongLength,

    /// <summary>A ut_pex peer list whose length is not a multiple of 6 (IPv4) or 18 (IPv6) bytes.</summary>
    PexPeerListInvalid,

    /// <summary>A ut_pex message with more added or dropped peers than the limit.</summary>
    PexTooManyPeers,
}

/// <summary>Sentences for <see cref="PeerWireError"/>, for logs and disconnect reasons.</summary>
internal static class PeerWireErrors
{
    public static string Describe(this PeerWireError error) => error switch
    {
        PeerWireError.None => "no error",
        PeerWireError.InvalidProtocol => "handshake does not start with \\x13BitTorrent protocol",
        PeerWireError.MessageTooLong => "message length prefix is above the limit",
        PeerWireError.InvalidMessageLength => "message payload has the wrong length for its id",
        PeerWireError.ValueOutOfRange => "index, offset or length is 2^31 or more",
        PeerWireError.BitfieldWrongLength => "bitfield length does not match the piece count",
        PeerWireError.BitfieldSpareBitsSet => "bitfield has spare bits set",
        PeerWireError.ExtensionPayloadInvalid => "extension payload is not valid bencode",
        PeerWireError.ExtensionPayloadNotDictionary => "extension payload is not a dictionary",
        PeerWireError.TooManyExtensions => "extension handshake names too many extensions",
        PeerWireError.MetadataMessageInvalid => "ut_metadata message lacks msg_type, piece or total_size",
        PeerWireError.MetadataSizeOutOfRange => "ut_metadata total_size is out of range",
        PeerWireError.MetadataPieceOutOfRange => "ut_metadata piece is out of range",
        PeerWireError.MetadataPieceWrongLength => "ut_metadata data has the wrong length for its piece",
        PeerWireError.PexPeerListInvalid => "ut_pex peer list length is not a multiple of the compact peer size",
        PeerWireError.PexTooManyPeers => "ut_pex message has more peers than the limit",
        _ => error.ToString(),
    };
}
