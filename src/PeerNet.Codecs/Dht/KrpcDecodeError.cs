namespace PeerNet.Dht;

/// <summary>Why a received KRPC packet was refused. The node answers a refused query with error 203 when it can.</summary>
internal enum KrpcDecodeError
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The packet is longer than <see cref="DhtLimits.MaxPacketLength"/>.</summary>
    PacketTooLarge,

    /// <summary>The packet is not one valid bencoded value within the limits.</summary>
    NotBencode,

    /// <summary>The packet is bencode but not a dictionary.</summary>
    NotDictionary,

    /// <summary>The transaction ID <c>t</c> is missing, not a string, or longer than the limit.</summary>
    TransactionIdInvalid,

    /// <summary>The message type <c>y</c> is missing or not <c>q</c>, <c>r</c> or <c>e</c>.</summary>
    MessageTypeInvalid,

    /// <summary>A query without a string method name <c>q</c>.</summary>
    MethodNameInvalid,

    /// <summary>A query without an arguments dictionary <c>a</c>, or a response without a dictionary <c>r</c>.</summary>
    BodyMissing,

    /// <summary>The sender's <c>id</c> is missing or not 20 bytes.</summary>
    NodeIdInvalid,

    /// <summary>A required <c>target</c> or <c>info_hash</c> is missing or not 20 bytes.</summary>
    TargetInvalid,

    /// <summary>A <c>token</c> that is not a string, is longer than the limit, or is missing where required.</summary>
    TokenInvalid,

    /// <summary>An announce <c>port</c> that is missing or outside 0–65535, or an <c>implied_port</c> that is not an integer.</summary>
    PortInvalid,

    /// <summary>A <c>nodes</c> or <c>nodes6</c> that is not a string of whole 26- or 38-byte entries.</summary>
    NodesInvalid,

    /// <summary>More compact nodes than <see cref="DhtLimits.MaxNodes"/>.</summary>
    TooManyNodes,

    /// <summary>A <c>values</c> that is not a list of 6- or 18-byte strings.</summary>
    ValuesInvalid,

    /// <summary>More peers than <see cref="DhtLimits.MaxValues"/>.</summary>
    TooManyValues,

    /// <summary>A <c>want</c> that is not a list of strings.</summary>
    WantInvalid,

    /// <summary>An <c>ip</c> that is not a 6- or 18-byte string.</summary>
    AddressInvalid,

    /// <summary>An <c>e</c> that is not a list starting with an integer code.</summary>
    ErrorInvalid,

    /// <summary>A <c>v</c> (client version) or <c>ro</c> of the wrong type.</summary>
    FieldTypeInvalid,

    /// <summary>A BEP 44 <c>v</c> missing from a put, or longer than 1000 bytes.</summary>
    ItemValueInvalid,

    /// <summary>A BEP 44 <c>k</c> that is not 32 bytes or a <c>sig</c> that is not 64 bytes.</summary>
    ItemKeyInvalid,

    /// <summary>A BEP 44 <c>salt</c> that is not a string of at most 64 bytes.</summary>
    SaltInvalid,

    /// <summary>A BEP 44 <c>seq</c> or <c>cas</c> that is not an integer (or is negative).</summary>
    SequenceInvalid,

    /// <summary>A BEP 51 <c>samples</c> that is not whole 20-byte hashes, more than the limit, or a bad <c>interval</c>/<c>num</c>.</summary>
    SamplesInvalid,
}
