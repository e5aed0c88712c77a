namespace PeerNet.PeerWire;

/// <summary>The one-byte ids of peer-wire messages, after the length prefix.</summary>
/// <remarks>
/// Which ids a peer may send depends on what the handshake negotiated (BEP 6 messages only with the fast
/// extension, BEP 52 messages only with v2, …); the codec parses every id it knows and leaves that check to
/// the connection.
/// </remarks>
internal enum PeerMessageId : byte
{
    /// <summary>BEP 3 <c>choke</c>: no payload.</summary>
    Choke = 0,

    /// <summary>BEP 3 <c>unchoke</c>: no payload.</summary>
    Unchoke = 1,

    /// <summary>BEP 3 <c>interested</c>: no payload.</summary>
    Interested = 2,

    /// <summary>BEP 3 <c>not interested</c>: no payload.</summary>
    NotInterested = 3,

    /// <summary>BEP 3 <c>have</c>: piece index.</summary>
    Have = 4,

    /// <summary>BEP 3 <c>bitfield</c>: one bit per piece, high bit first.</summary>
    Bitfield = 5,

    /// <summary>BEP 3 <c>request</c>: index, begin, length.</summary>
    Request = 6,

    /// <summary>BEP 3 <c>piece</c>: index, begin, then the block.</summary>
    Piece = 7,

    /// <summary>BEP 3 <c>cancel</c>: index, begin, length.</summary>
    Cancel = 8,

    /// <summary>BEP 5 <c>port</c>: the peer's DHT port.</summary>
    Port = 9,

    /// <summary>BEP 6 <c>suggest piece</c>: piece index.</summary>
    Suggest = 0x0D,

    /// <summary>BEP 6 <c>have all</c>: no payload.</summary>
    HaveAll = 0x0E,

    /// <summary>BEP 6 <c>have none</c>: no payload.</summary>
    HaveNone = 0x0F,

    /// <summary>BEP 6 <c>reject request</c>: index, begin, length.</summary>
    Reject = 0x10,

    /// <summary>BEP 6 <c>allowed fast</c>: piece index.</summary>
    AllowedFast = 0x11,

    /// <summary>BEP 10 <c>extended</c>: extended message id, then its payload.</summary>
    Extended = 20,

    /// <summary>BEP 52 <c>hash request</c>: pieces root, base layer, index, length, proof layers.</summary>
    HashRequest = 21,

    /// <summary>BEP 52 <c>hashes</c>: the hash request's fields, then the hashes.</summary>
    Hashes = 22,

    /// <summary>BEP 52 <c>hash reject</c>: the rejected hash request's fields.</summary>
    HashReject = 23,
}
