namespace PeerNet.PeerWire;

/// <summary>The BEP 9 ut_metadata <c>msg_type</c> values.</summary>
internal enum MetadataMessageType
{
    /// <summary>A msg_type this codec does not know; BEP 9: "an unrecognized message ID MUST be ignored".</summary>
    Unknown = -1,

    /// <summary>0: asks for one 16 KiB piece of the info dictionary.</summary>
    Request = 0,

    /// <summary>1: carries one piece; its bytes follow the dictionary.</summary>
    Data = 1,

    /// <summary>2: the sender will not send that piece.</summary>
    Reject = 2,
}
