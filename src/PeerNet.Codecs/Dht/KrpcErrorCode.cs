namespace PeerNet.Dht;

/// <summary>The error codes of a KRPC <c>e</c> message (BEP 5, and BEP 44's additions).</summary>
internal static class KrpcErrorCode
{
    /// <summary>201 Generic Error.</summary>
    public const int Generic = 201;

    /// <summary>202 Server Error.</summary>
    public const int Server = 202;

    /// <summary>203 Protocol Error, such as a malformed packet, invalid arguments, or bad token.</summary>
    public const int Protocol = 203;

    /// <summary>204 Method Unknown.</summary>
    public const int MethodUnknown = 204;

    /// <summary>BEP 44: 205 message (v field) too big.</summary>
    public const int MessageTooBig = 205;

    /// <summary>BEP 44: 206 invalid signature.</summary>
    public const int InvalidSignature = 206;

    /// <summary>BEP 44: 207 salt (salt field) too big.</summary>
    public const int SaltTooBig = 207;

    /// <summary>BEP 44: 301 the CAS hash mismatched, re-read value and try again.</summary>
    public const int CasMismatch = 301;

    /// <summary>BEP 44: 302 sequence number less than current.</summary>
    public const int SequenceLessThanCurrent = 302;
}
