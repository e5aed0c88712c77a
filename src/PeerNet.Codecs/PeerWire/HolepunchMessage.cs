using System.Buffers;
using System.Buffers.Binary;
using System.Net;

namespace PeerNet.PeerWire;

/// <summary>The BEP 55 ut_holepunch <c>msg_type</c> values.</summary>
internal enum HolepunchMessageType : byte
{
    /// <summary>0: to a relay, "connect me to the peer at this endpoint".</summary>
    Rendezvous = 0,

    /// <summary>1: from a relay, "connect to the peer at this endpoint now" (it is told the same about you).</summary>
    Connect = 1,

    /// <summary>2: from a relay, the rendezvous for this endpoint failed; <see cref="HolepunchMessage.Error"/> says why.</summary>
    Error = 2,
}

/// <summary>The BEP 55 <c>err_code</c> values of an error message.</summary>
internal enum HolepunchError : uint
{
    /// <summary>0: not an error (rendezvous and connect messages).</summary>
    None = 0,

    /// <summary>1: the relay knows no peer at the endpoint.</summary>
    NoSuchPeer = 1,

    /// <summary>2: the relay knows the peer but is not connected to it.</summary>
    NotConnected = 2,

    /// <summary>3: the target did not advertise ut_holepunch.</summary>
    NoSupport = 3,

    /// <summary>4: the endpoint is the sender's own.</summary>
    NoSelf = 4,
}

/// <summary>
/// A BEP 55 ut_holepunch message: not bencoded but binary, <c>msg_type</c> (1 byte), <c>addr_type</c> (1 byte: 0 IPv4,
/// 1 IPv6), the address (4 or 16 bytes), the port (2 bytes, big-endian), and for an error <c>err_code</c> (4 bytes,
/// big-endian). Written as libtorrent writes it: <c>err_code</c> only in error messages. Read strictly: an unknown type
/// or address type, a length other than the one those imply, port 0, and an error message whose code is 0 or unknown
/// are refused. A rendezvous or connect carrying a zero <c>err_code</c> (BEP 55's table lists the field in every
/// message) is accepted.
/// </summary>
internal readonly record struct HolepunchMessage(HolepunchMessageType Type, IPEndPoint EndPoint, HolepunchError Error = HolepunchError.None)
{
    /// <summary>The name peers use for BEP 55 in the extension handshake.</summary>
    public const string ExtensionName = "ut_holepunch";

    /// <summary>Longest payload: an IPv6 error message, 1 + 1 + 16 + 2 + 4 bytes.</summary>
    public const int MaxLength = 24;

    private const int ErrorCodeLength = 4;

    /// <summary>Bytes <see cref="Write"/> writes for this message.</summary>
    public int Length => 2 + CompactPeer.GetLength(EndPoint) + (Type == HolepunchMessageType.Error ? ErrorCodeLength : 0);

    /// <summary>Parses the payload of a ut_holepunch extended message (after the extended id byte).</summary>
    public static bool TryParse(in ReadOnlySequence<byte> payload, out HolepunchMessage message, out HolepunchParseError error)
    {
        message = default;
        if (payload.Length > MaxLength)
        {
            error = HolepunchParseError.WrongLength;
            return false;
        }

        Span<byte> bytes = stackalloc byte[MaxLength];
        bytes = bytes[..(int)payload.Length];
        payload.CopyTo(bytes);
        return TryParse(bytes, out message, out error);
    }

    /// <summary>Parses a contiguous ut_holepunch payload.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out HolepunchMessage message, out HolepunchParseError error)
    {
        message = default;
        if (payload.Length < 2)
        {
            error = HolepunchParseError.WrongLength;
            return false;
        }

        if (payload[0] > (byte)HolepunchMessageType.Error)
        {
            error = HolepunchParseError.UnknownType;
            return false;
        }

        var type = (HolepunchMessageType)payload[0];
        int addressLength = payload[1] switch
        {
            0 => 4,
            1 => 16,
            _ => -1,
        };
        if (addressLength < 0)
        {
            error = HolepunchParseError.UnknownAddressType;
            return false;
        }

        int endpointEnd = 2 + addressLength + 2;
        bool lengthOk = type == HolepunchMessageType.Error
            ? payload.Length == endpointEnd + ErrorCodeLength
            : payload.Length == endpointEnd || payload.Length == endpointEnd + ErrorCodeLength;
        if (!lengthOk)
        {
            error = HolepunchParseError.WrongLength;
            return false;
        }

        IPEndPoint endpoint = CompactPeer.Read(payload[2..endpointEnd]);
        if (endpoint.Address.IsIPv4MappedToIPv6)
        {
            // An IPv4 peer written as IPv6 (::ffff:a.b.c.d) is the IPv4 peer: taken, and written back, as IPv4.
            endpoint = new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port);
        }

        if (endpoint.Port == 0)
        {
            error = HolepunchParseError.PortZero;
            return false;
        }

        uint code = payload.Length > endpointEnd ? BinaryPrimitives.ReadUInt32BigEndian(payload[endpointEnd..]) : 0;
        if (type == HolepunchMessageType.Error ? code is 0 or > (uint)HolepunchError.NoSelf : code != 0)
        {
            error = HolepunchParseError.BadErrorCode;
            return false;
        }

        message = new HolepunchMessage(type, endpoint, (HolepunchError)code);
        error = HolepunchParseError.None;
        return true;
    }

    /// <summary>Writes the payload (after the extended id) into <paramref name="destination"/>; returns <see cref="Length"/>.</summary>
    public int Write(Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(EndPoint);
        if ((Type == HolepunchMessageType.Error) != (Error != HolepunchError.None))
        {
            ThrowHelper.ThrowInvalidOperation("An error message carries an error code, and only an error message does.");
        }

        int length = Length;
        if (destination.Length < length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), "The destination is too small for the ut_holepunch message.");
        }

        destination[0] = (byte)Type;
        destination[1] = CompactPeer.IsV4(EndPoint.Address) ? (byte)0 : (byte)1;
        int written = 2 + CompactPeer.Write(destination[2..], EndPoint);
        if (Type == HolepunchMessageType.Error)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[written..], (uint)Error);
        }

        return length;
    }

    /// <summary>Writes the whole peer-wire message: length prefix, id 20, <paramref name="extendedId"/>, payload.</summary>
    public void WriteMessage(IBufferWriter<byte> output, byte extendedId)
    {
        Span<byte> payload = stackalloc byte[MaxLength];
        int length = Write(payload);
        PeerMessageWriter.WriteExtended(output, extendedId, payload[..length]);
    }
}

/// <summary>Why a ut_holepunch payload was refused.</summary>
internal enum HolepunchParseError
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The length is not the one the message and address types imply.</summary>
    WrongLength,

    /// <summary><c>msg_type</c> is not 0, 1 or 2.</summary>
    UnknownType,

    /// <summary><c>addr_type</c> is not 0 (IPv4) or 1 (IPv6).</summary>
    UnknownAddressType,

    /// <summary>The port is 0, which no peer listens on.</summary>
    PortZero,

    /// <summary>An error message whose code is 0 or not one of BEP 55's four, or another message with a non-zero code.</summary>
    BadErrorCode,
}

/// <summary>Sentences for <see cref="HolepunchParseError"/> and <see cref="HolepunchError"/>, for logs and disconnect reasons.</summary>
internal static class HolepunchErrors
{
    public static string Describe(this HolepunchParseError error) => error switch
    {
        HolepunchParseError.None => "no error",
        HolepunchParseError.WrongLength => "ut_holepunch message has the wrong length for its types",
        HolepunchParseError.UnknownType => "ut_holepunch msg_type is not rendezvous, connect or error",
        HolepunchParseError.UnknownAddressType => "ut_holepunch addr_type is not IPv4 or IPv6",
        HolepunchParseError.PortZero => "ut_holepunch port is 0",
        HolepunchParseError.BadErrorCode => "ut_holepunch err_code is not valid for its msg_type",
        _ => error.ToString(),
    };

    public static string Describe(this HolepunchError error) => error switch
    {
        HolepunchError.None => "no error",
        HolepunchError.NoSuchPeer => "no such peer",
        HolepunchError.NotConnected => "not connected",
        HolepunchError.NoSupport => "no support",
        HolepunchError.NoSelf => "no self",
        _ => error.ToString(),
    };

    /// <summary>A short name for metrics tags: no_such_peer, not_connected, no_support, no_self.</summary>
    public static string Tag(this HolepunchError error) => error switch
    {
        HolepunchError.NoSuchPeer => "no_such_peer",
        HolepunchError.NotConnected => "not_connected",
        HolepunchError.NoSupport => "no_support",
        HolepunchError.NoSelf => "no_self",
        _ => "none",
    };
}
