using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace PeerNet.PortMapping;

/// <summary>The NAT-PMP operations (RFC 6886 section 3): a response carries the request's opcode plus 128.</summary>
internal enum NatPmpOpcode : byte
{
    /// <summary>Asks the gateway for its external IPv4 address (section 3.2).</summary>
    ExternalAddress = 0,

    /// <summary>Maps a UDP port (section 3.3).</summary>
    MapUdp = 1,

    /// <summary>Maps a TCP port (section 3.3).</summary>
    MapTcp = 2,
}

/// <summary>The result codes of RFC 6886 section 3.5.</summary>
internal enum NatPmpResult : ushort
{
    /// <summary>Success.</summary>
    Success = 0,

    /// <summary>The gateway does not speak version 0 (a PCP-only server answers so).</summary>
    UnsupportedVersion = 1,

    /// <summary>Not authorized or refused: the box supports mapping but the user turned it off.</summary>
    NotAuthorized = 2,

    /// <summary>Network failure: the gateway has no external address (no DHCP lease yet, for one).</summary>
    NetworkFailure = 3,

    /// <summary>Out of resources: the gateway cannot make more mappings.</summary>
    OutOfResources = 4,

    /// <summary>The gateway does not know the opcode.</summary>
    UnsupportedOpcode = 5,
}

/// <summary>Why a datagram from the gateway was not taken as a NAT-PMP response.</summary>
internal enum NatPmpError
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>Shorter than the 8-byte header, or than the body of its opcode on success.</summary>
    TooShort,

    /// <summary>Longer than <see cref="NatPmp.MaxResponseLength"/>.</summary>
    TooLong,

    /// <summary>A version other than 0.</summary>
    BadVersion,

    /// <summary>An opcode without the response bit (128), or one this client never sends.</summary>
    BadOpcode,
}

/// <summary>A NAT-PMP response: the header, and the body of its opcode when <see cref="Result"/> is success.</summary>
/// <param name="Opcode">The operation answered (the response's opcode less 128).</param>
/// <param name="Result">The gateway's result code; values past those of RFC 6886 are kept as they came.</param>
/// <param name="Epoch">Seconds since the gateway's mapping table started: a smaller value than before means it lost its mappings.</param>
/// <param name="ExternalAddress">The external IPv4 address (<see cref="NatPmpOpcode.ExternalAddress"/> on success), else null.</param>
/// <param name="InternalPort">The private port of a mapping response.</param>
/// <param name="ExternalPort">The mapped public port of a mapping response (it may differ from the one asked for).</param>
/// <param name="Lifetime">The mapping's lifetime in seconds (0 on a removal).</param>
internal sealed record NatPmpResponse(NatPmpOpcode Opcode, NatPmpResult Result, uint Epoch, IPAddress? ExternalAddress, ushort InternalPort, ushort ExternalPort, uint Lifetime);

/// <summary>
/// NAT-PMP (RFC 6886) messages: requests to write, responses to read. Pure: no I/O; the engine sends the requests to the
/// gateway's port 5351 and retransmits them as section 3.1 says.
/// </summary>
internal static class NatPmp
{
    /// <summary>The gateway's NAT-PMP port.</summary>
    public const int ServerPort = 5351;

    /// <summary>The only version this protocol has.</summary>
    public const byte Version = 0;

    /// <summary>An external-address request: 2 bytes.</summary>
    public const int ExternalAddressRequestLength = 2;

    /// <summary>A mapping request: 12 bytes.</summary>
    public const int MappingRequestLength = 12;

    /// <summary>
    /// Longest datagram read as a response. Responses are 12 or 16 bytes; RFC 6886 asks clients to ignore what follows
    /// (a PCP server's longer answers among it), so a little slack is allowed, and anything past that is refused unread.
    /// </summary>
    public const int MaxResponseLength = 1100;

    /// <summary>The lifetime RFC 6886 recommends for a mapping: 7200 seconds.</summary>
    public const uint RecommendedLifetime = 7200;

    /// <summary>Writes the 2-byte external-address request into <paramref name="destination"/>; returns its length.</summary>
    public static int WriteExternalAddressRequest(Span<byte> destination)
    {
        destination[1] = (byte)NatPmpOpcode.ExternalAddress;
        destination[0] = Version;
        return ExternalAddressRequestLength;
    }

    /// <summary>
    /// Writes the 12-byte request mapping <paramref name="internalPort"/> (UDP or TCP as <paramref name="opcode"/> says),
    /// suggesting <paramref name="suggestedExternalPort"/>, for <paramref name="lifetime"/> seconds (0 removes the
    /// mapping; then the suggested port must be 0 too, section 3.4); returns its length.
    /// </summary>
    public static int WriteMappingRequest(Span<byte> destination, NatPmpOpcode opcode, ushort internalPort, ushort suggestedExternalPort, uint lifetime)
    {
        if (opcode is not (NatPmpOpcode.MapUdp or NatPmpOpcode.MapTcp))
        {
            ThrowHelper.ThrowArgument(nameof(opcode), "a mapping request is for UDP or TCP");
        }

        Span<byte> request = destination[..MappingRequestLength];
        request[0] = Version;
        request[1] = (byte)opcode;
        request[2] = 0; // reserved
        request[3] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(request[4..], internalPort);
        BinaryPrimitives.WriteUInt16BigEndian(request[6..], lifetime == 0 ? (ushort)0 : suggestedExternalPort);
        BinaryPrimitives.WriteUInt32BigEndian(request[8..], lifetime);
        return MappingRequestLength;
    }

    /// <summary>
    /// Reads a datagram from the gateway as a response. An error result may come with the 8-byte header only (RFC 6886
    /// section 3.5 lets a server that does not know the version or opcode send no more); a success needs its whole body.
    /// Bytes past the body are ignored, up to <see cref="MaxResponseLength"/>.
    /// </summary>
    public static bool TryParseResponse(ReadOnlySpan<byte> datagram, [NotNullWhen(true)] out NatPmpResponse? response, out NatPmpError error)
    {
        response = null;
        if (datagram.Length > MaxResponseLength)
        {
            error = NatPmpError.TooLong;
            return false;
        }

        if (datagram.Length < 8)
        {
            error = NatPmpError.TooShort;
            return false;
        }

        if (datagram[0] != Version)
        {
            error = NatPmpError.BadVersion;
            return false;
        }

        byte op = datagram[1];
        if (op < 128 || (op - 128) > (byte)NatPmpOpcode.MapTcp)
        {
            error = NatPmpError.BadOpcode;
            return false;
        }

        var opcode = (NatPmpOpcode)(op - 128);
        var result = (NatPmpResult)BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        uint epoch = BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]);
        int bodyLength = opcode == NatPmpOpcode.ExternalAddress ? 4 : 8;
        if (datagram.Length < 8 + bodyLength)
        {
            if (result == NatPmpResult.Success)
            {
                error = NatPmpError.TooShort;
                return false;
            }

            response = new NatPmpResponse(opcode, result, epoch, null, 0, 0, 0);
            error = NatPmpError.None;
            return true;
        }

        ReadOnlySpan<byte> body = datagram.Slice(8, bodyLength);
        response = opcode == NatPmpOpcode.ExternalAddress
            ? new NatPmpResponse(opcode, result, epoch, result == NatPmpResult.Success ? new IPAddress(body) : null, 0, 0, 0)
            : new NatPmpResponse(
                opcode,
                result,
                epoch,
                null,
                BinaryPrimitives.ReadUInt16BigEndian(body),
                BinaryPrimitives.ReadUInt16BigEndian(body[2..]),
                BinaryPrimitives.ReadUInt32BigEndian(body[4..]));
        error = NatPmpError.None;
        return true;
    }

    /// <summary>A sentence for a result code, for logs and status.</summary>
    public static string Describe(this NatPmpResult result) => result switch
    {
        NatPmpResult.Success => "success",
        NatPmpResult.UnsupportedVersion => "the gateway does not support NAT-PMP version 0",
        NatPmpResult.NotAuthorized => "the gateway refused: port mapping is turned off on it",
        NatPmpResult.NetworkFailure => "the gateway has no external address (network failure)",
        NatPmpResult.OutOfResources => "the gateway cannot make more mappings (out of resources)",
        NatPmpResult.UnsupportedOpcode => "the gateway does not support this operation",
        _ => $"unknown NAT-PMP result code {(ushort)result}",
    };

    /// <summary>A sentence for a parse error, for logs.</summary>
    public static string Describe(this NatPmpError error) => error switch
    {
        NatPmpError.None => "no error",
        NatPmpError.TooShort => "the response is too short",
        NatPmpError.TooLong => "the response is longer than the limit",
        NatPmpError.BadVersion => "the response is not NAT-PMP version 0",
        NatPmpError.BadOpcode => "the response's opcode is not one answering a request of ours",
        _ => error.ToString(),
    };
}
