using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Security.Cryptography;

namespace PeerNet.PortMapping;

/// <summary>The PCP operations (RFC 6887 section 19.2) this client sends or reads.</summary>
internal enum PcpOpcode : byte
{
    /// <summary>Asks nothing: a probe from a client, or a server's unsolicited notice that it lost its mappings (section 14).</summary>
    Announce = 0,

    /// <summary>Maps an internal port to an external one (section 11).</summary>
    Map = 1,

    /// <summary>Creates or learns a mapping to one remote peer (section 12); never sent by this client.</summary>
    Peer = 2,
}

/// <summary>The result codes of RFC 6887 section 7.4.</summary>
internal enum PcpResult : byte
{
    /// <summary>Success.</summary>
    Success = 0,

    /// <summary>The server does not speak this version; its answer carries the highest it does (0 for a NAT-PMP server).</summary>
    UnsupportedVersion = 1,

    /// <summary>The request is refused: mapping is turned off, or not allowed to this host (long lifetime error).</summary>
    NotAuthorized = 2,

    /// <summary>The server could not parse the request.</summary>
    MalformedRequest = 3,

    /// <summary>The server does not know the opcode.</summary>
    UnsupportedOpcode = 4,

    /// <summary>The request has a mandatory-to-process option the server does not know.</summary>
    UnsupportedOption = 5,

    /// <summary>An option of the request is malformed.</summary>
    MalformedOption = 6,

    /// <summary>The server has a network failure, such as no external address yet (short lifetime error).</summary>
    NetworkFailure = 7,

    /// <summary>The server is out of resources for new mappings (short lifetime error).</summary>
    NoResources = 8,

    /// <summary>The server does not map this transport protocol.</summary>
    UnsupportedProtocol = 9,

    /// <summary>This host has used up its quota of mappings (short lifetime error).</summary>
    UserExceededQuota = 10,

    /// <summary>The suggested external port or address cannot be given, and PREFER_FAILURE was asked.</summary>
    CannotProvideExternal = 11,

    /// <summary>The client address in the request is not the datagram's source: a NAT between client and server.</summary>
    AddressMismatch = 12,

    /// <summary>The server cannot filter that many remote peers (FILTER option).</summary>
    ExcessiveRemotePeers = 13,
}

/// <summary>Why a datagram from the gateway was not taken as a PCP response.</summary>
internal enum PcpError
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>Shorter than the 24-byte header, or than the MAP body on success.</summary>
    TooShort,

    /// <summary>Longer than <see cref="Pcp.MaxMessageLength"/>.</summary>
    TooLong,

    /// <summary>A length that is not a multiple of 4 (section 7).</summary>
    NotMultipleOfFour,

    /// <summary>Not version 2, and not an "unsupported version" answer either.</summary>
    BadVersion,

    /// <summary>The R bit is clear: a request, not a response.</summary>
    NotAResponse,

    /// <summary>An opcode this client never sends (PEER, or one not defined).</summary>
    BadOpcode,

    /// <summary>An option runs past the end of the datagram, or has the wrong length for its code.</summary>
    MalformedOption,

    /// <summary>A mandatory-to-process option (codes 0 to 127) this client does not know: the response cannot be understood.</summary>
    UnknownMandatoryOption,

    /// <summary>A MAP response whose nonce, protocol or internal port is not those of the request: not an answer to it.</summary>
    NotOurMapping,
}

/// <summary>The 96-bit mapping nonce of a MAP request (section 11.1): chosen at random, kept for renewal and deletion.</summary>
/// <param name="High">The first 8 bytes, big-endian.</param>
/// <param name="Low">The last 4 bytes, big-endian.</param>
internal readonly record struct PcpNonce(ulong High, uint Low)
{
    /// <summary>Length on the wire: 12 bytes.</summary>
    public const int Length = 12;

    /// <summary>A fresh random nonce (cryptographic: an off-path host must not guess it, section 18.1).</summary>
    public static PcpNonce NewRandom()
    {
        Span<byte> bytes = stackalloc byte[Length];
        RandomNumberGenerator.Fill(bytes);
        return Read(bytes);
    }

    /// <summary>Reads a nonce from its 12 bytes.</summary>
    public static PcpNonce Read(ReadOnlySpan<byte> bytes)
        => new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]));

    /// <summary>Writes the nonce's 12 bytes.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Low);
    }
}

/// <summary>The opcode-specific part of a MAP response (section 11.1).</summary>
/// <param name="Nonce">The request's nonce, echoed.</param>
/// <param name="Protocol">The IANA transport protocol: 6 TCP, 17 UDP (0 all).</param>
/// <param name="InternalPort">The request's internal port, echoed.</param>
/// <param name="ExternalPort">The assigned external port (may differ from the one suggested).</param>
/// <param name="ExternalAddress">The assigned external address; IPv4-mapped addresses are given as IPv4.</param>
internal sealed record PcpMapping(PcpNonce Nonce, byte Protocol, ushort InternalPort, ushort ExternalPort, IPAddress ExternalAddress);

/// <summary>A PCP response: the common header, and the MAP body when it came.</summary>
/// <param name="Version">The server's version: 2, or the highest it speaks on <see cref="PcpResult.UnsupportedVersion"/> (0: NAT-PMP only).</param>
/// <param name="Opcode">The operation answered.</param>
/// <param name="Result">The result code; values past RFC 6887's are kept as they came.</param>
/// <param name="Lifetime">On success the mapping's lifetime in seconds (0 on a deletion); on an error, how long it is expected to last.</param>
/// <param name="Epoch">Seconds since the server's mapping state began (section 8.5); 0 on a version-0 answer.</param>
/// <param name="Map">The MAP body; null for ANNOUNCE, and for an error answered with the header alone.</param>
internal sealed record PcpResponse(byte Version, PcpOpcode Opcode, PcpResult Result, uint Lifetime, uint Epoch, PcpMapping? Map);

/// <summary>
/// Port Control Protocol (RFC 6887) messages: MAP and ANNOUNCE requests to write, responses to read, and the epoch
/// check of section 8.5. Pure: no I/O; the engine sends the requests to the gateway's port 5351 (NAT-PMP's, which a
/// server may share with PCP, telling the two apart by the version byte).
/// </summary>
internal static class Pcp
{
    /// <summary>The server's port, shared with NAT-PMP.</summary>
    public const int ServerPort = 5351;

    /// <summary>The version of RFC 6887.</summary>
    public const byte Version = 2;

    /// <summary>The common header of requests and responses: 24 bytes.</summary>
    public const int HeaderLength = 24;

    /// <summary>The MAP opcode's body: 36 bytes.</summary>
    public const int MapBodyLength = 36;

    /// <summary>A MAP request without options: 60 bytes.</summary>
    public const int MapRequestLength = HeaderLength + MapBodyLength;

    /// <summary>Longest PCP message (section 7): anything longer is refused unread.</summary>
    public const int MaxMessageLength = 1100;

    /// <summary>IANA protocol number of TCP.</summary>
    public const byte Tcp = 6;

    /// <summary>IANA protocol number of UDP.</summary>
    public const byte Udp = 17;

    /// <summary>Initial retransmission time of a request (section 8.1.1): 3 s.</summary>
    public static readonly TimeSpan InitialRetransmit = TimeSpan.FromSeconds(3);

    /// <summary>Longest retransmission time (section 8.1.1): 1024 s.</summary>
    public static readonly TimeSpan MaxRetransmit = TimeSpan.FromSeconds(1024);

    private const byte ResponseBit = 0x80;
    private const byte OptionThirdParty = 1, OptionPreferFailure = 2, OptionFilter = 3;

    /// <summary>
    /// Writes a MAP request (60 bytes, no options) into <paramref name="destination"/>; returns its length.
    /// <paramref name="clientAddress"/> is the address the request leaves from (IPv4 is written IPv4-mapped); a null
    /// <paramref name="suggestedExternalAddress"/> is the all-zeros address of the client's family ("no preference").
    /// A <paramref name="lifetime"/> of 0 deletes the mapping of this nonce, protocol and internal port (section 15).
    /// </summary>
    public static int WriteMapRequest(
        Span<byte> destination,
        PcpNonce nonce,
        byte protocol,
        ushort internalPort,
        ushort suggestedExternalPort,
        IPAddress? suggestedExternalAddress,
        uint lifetime,
        IPAddress clientAddress)
    {
        Span<byte> request = destination[..MapRequestLength];
        WriteRequestHeader(request, PcpOpcode.Map, lifetime, clientAddress);
        Span<byte> body = request[HeaderLength..];
        nonce.WriteTo(body);
        body[12] = protocol;
        body[13] = body[14] = body[15] = 0; // reserved
        BinaryPrimitives.WriteUInt16BigEndian(body[16..], internalPort);
        BinaryPrimitives.WriteUInt16BigEndian(body[18..], suggestedExternalPort);
        WriteAddress(body[20..], suggestedExternalAddress ?? (clientAddress.IsIPv4() ? IPAddress.Any : IPAddress.IPv6Any));
        return MapRequestLength;
    }

    /// <summary>Writes an ANNOUNCE request (the 24-byte header, lifetime 0); returns its length.</summary>
    public static int WriteAnnounceRequest(Span<byte> destination, IPAddress clientAddress)
    {
        WriteRequestHeader(destination[..HeaderLength], PcpOpcode.Announce, 0, clientAddress);
        return HeaderLength;
    }

    /// <summary>
    /// Reads a datagram from the server as a response. Checked in this order: at most 1,100 bytes; the version (a
    /// datagram of another version with the R bit and result 1 in the place both NAT-PMP and PCP keep it is an
    /// "unsupported version" answer: NAT-PMP's is 8 or 12 bytes); a multiple of 4 bytes, at least the header; the R bit;
    /// an opcode this client sends; for MAP, the 36-byte body (an error may come without it); then the options: each
    /// must fit, the known ones (THIRD_PARTY, PREFER_FAILURE, FILTER) with their lengths, an unknown optional one
    /// (128 to 255) is skipped, an unknown mandatory one (0 to 127) refuses the response (section 7.3).
    /// </summary>
    public static bool TryParseResponse(ReadOnlySpan<byte> datagram, [NotNullWhen(true)] out PcpResponse? response, out PcpError error)
    {
        response = null;
        if (datagram.Length > MaxMessageLength)
        {
            return Fail(PcpError.TooLong, out error);
        }

        if (datagram.Length < 4)
        {
            return Fail(PcpError.TooShort, out error);
        }

        if (datagram[0] != Version)
        {
            // Section 9: a server of another version answers UNSUPP_VERSION with its own version. NAT-PMP (RFC 6886
            // section 3.5) puts its 16-bit result where PCP has its 8-bit one, so result 1 reads the same in both.
            if (datagram[0] < Version && (datagram[1] & ResponseBit) != 0 && datagram[2] == 0 && datagram[3] == (byte)PcpResult.UnsupportedVersion)
            {
                response = new PcpResponse(datagram[0], (PcpOpcode)(datagram[1] & 0x7f), PcpResult.UnsupportedVersion, 0, 0, null);
                error = PcpError.None;
                return true;
            }

            return Fail(PcpError.BadVersion, out error);
        }

        if (datagram.Length % 4 != 0)
        {
            return Fail(PcpError.NotMultipleOfFour, out error);
        }

        if (datagram.Length < HeaderLength)
        {
            return Fail(PcpError.TooShort, out error);
        }

        if ((datagram[1] & ResponseBit) == 0)
        {
            return Fail(PcpError.NotAResponse, out error);
        }

        var opcode = (PcpOpcode)(datagram[1] & 0x7f);
        if (opcode is not (PcpOpcode.Announce or PcpOpcode.Map))
        {
            return Fail(PcpError.BadOpcode, out error);
        }

        var result = (PcpResult)datagram[3];
        uint lifetime = BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]);
        uint epoch = BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]);
        int offset = HeaderLength;
        PcpMapping? map = null;
        if (opcode == PcpOpcode.Map)
        {
            if (datagram.Length < HeaderLength + MapBodyLength)
            {
                if (result == PcpResult.Success || datagram.Length != HeaderLength)
                {
                    return Fail(PcpError.TooShort, out error);
                }
            }
            else
            {
                ReadOnlySpan<byte> body = datagram.Slice(HeaderLength, MapBodyLength);
                map = new PcpMapping(
                    PcpNonce.Read(body),
                    body[12],
                    BinaryPrimitives.ReadUInt16BigEndian(body[16..]),
                    BinaryPrimitives.ReadUInt16BigEndian(body[18..]),
                    ReadAddress(body.Slice(20, 16)));
                offset += MapBodyLength;
            }
        }

        error = CheckOptions(datagram[offset..]);
        if (error != PcpError.None)
        {
            return false;
        }

        response = new PcpResponse(Version, opcode, result, lifetime, epoch, map);
        return true;
    }

    /// <summary>
    /// Reads a datagram as the answer to one MAP request: <see cref="TryParseResponse"/>, then a MAP body (when there is
    /// one) must carry the request's nonce, protocol and internal port (section 11.4), else
    /// <see cref="PcpError.NotOurMapping"/>. An ANNOUNCE is returned as it is: the caller decides what it means.
    /// </summary>
    public static bool TryParseMapResponse(ReadOnlySpan<byte> datagram, PcpNonce nonce, byte protocol, ushort internalPort, [NotNullWhen(true)] out PcpResponse? response, out PcpError error)
    {
        if (!TryParseResponse(datagram, out response, out error))
        {
            return false;
        }

        if (response.Map is { } map && (map.Nonce != nonce || map.Protocol != protocol || map.InternalPort != internalPort))
        {
            response = null;
            return Fail(PcpError.NotOurMapping, out error);
        }

        return true;
    }

    /// <summary>
    /// Section 8.5: whether the server kept its state between two responses, from its epochs and the client's own clock.
    /// False when the epoch went back by more than one second (a small step back is reordering), or when the server's
    /// and the client's elapsed times differ by more than 2 s plus 1/16 of either: the server rebooted or lost its
    /// mappings, which must then be made again.
    /// </summary>
    public static bool EpochIsContinuous(uint previousEpoch, uint currentEpoch, TimeSpan clientElapsed)
    {
        if (currentEpoch + 1L < previousEpoch)
        {
            return false;
        }

        double client = Math.Max(0, clientElapsed.TotalSeconds);
        double server = (double)currentEpoch - previousEpoch;
        return !(client + 2 < server - (server / 16) || server + 2 < client - (client / 16));
    }

    /// <summary>
    /// The wait before the next retransmission (section 8.1.1): (1 + rand) × IRT the first time, (1 + rand) × twice the
    /// previous wait after that, and past MRT, MRT × (1 + rand); <paramref name="random"/> is in [-0.1, 0.1].
    /// </summary>
    public static TimeSpan NextRetransmit(TimeSpan? previous, TimeSpan initial, TimeSpan max, double random)
    {
        double factor = 1 + Math.Clamp(random, -0.1, 0.1);
        TimeSpan next = previous is { } p ? (2 * p) * factor : initial * factor;
        return next > max ? max * factor : next;
    }

    /// <summary>A sentence for a result code, for logs and status.</summary>
    public static string Describe(this PcpResult result) => result switch
    {
        PcpResult.Success => "success",
        PcpResult.UnsupportedVersion => "the gateway does not support PCP version 2 (UNSUPP_VERSION)",
        PcpResult.NotAuthorized => "the gateway refused: port mapping is turned off on it or not allowed to this host (NOT_AUTHORIZED)",
        PcpResult.MalformedRequest => "the gateway could not read the request (MALFORMED_REQUEST)",
        PcpResult.UnsupportedOpcode => "the gateway does not support this operation (UNSUPP_OPCODE)",
        PcpResult.UnsupportedOption => "the gateway does not support an option of the request (UNSUPP_OPTION)",
        PcpResult.MalformedOption => "the gateway found an option of the request malformed (MALFORMED_OPTION)",
        PcpResult.NetworkFailure => "the gateway has no external address (NETWORK_FAILURE)",
        PcpResult.NoResources => "the gateway cannot make more mappings (NO_RESOURCES)",
        PcpResult.UnsupportedProtocol => "the gateway does not map this transport protocol (UNSUPP_PROTOCOL)",
        PcpResult.UserExceededQuota => "this host has used up its quota of mappings on the gateway (USER_EX_QUOTA)",
        PcpResult.CannotProvideExternal => "the gateway cannot give the external port or address asked for (CANNOT_PROVIDE_EXTERNAL)",
        PcpResult.AddressMismatch => "the gateway sees another source address than the request names: another NAT in between (ADDRESS_MISMATCH)",
        PcpResult.ExcessiveRemotePeers => "the gateway cannot filter that many remote peers (EXCESSIVE_REMOTE_PEERS)",
        _ => $"unknown PCP result code {(byte)result}",
    };

    /// <summary>A sentence for a parse error, for logs.</summary>
    public static string Describe(this PcpError error) => error switch
    {
        PcpError.None => "no error",
        PcpError.TooShort => "the response is too short",
        PcpError.TooLong => "the response is longer than 1,100 bytes",
        PcpError.NotMultipleOfFour => "the response's length is not a multiple of 4",
        PcpError.BadVersion => "the response is not PCP version 2",
        PcpError.NotAResponse => "the datagram is a request, not a response",
        PcpError.BadOpcode => "the response's opcode is not one this client sends",
        PcpError.MalformedOption => "an option of the response is malformed",
        PcpError.UnknownMandatoryOption => "the response has a mandatory option this client does not know",
        PcpError.NotOurMapping => "the response is for another mapping (nonce, protocol or port)",
        _ => error.ToString(),
    };

    private static void WriteRequestHeader(Span<byte> header, PcpOpcode opcode, uint lifetime, IPAddress clientAddress)
    {
        header[0] = Version;
        header[1] = (byte)opcode; // R = 0: a request
        header[2] = header[3] = 0; // reserved
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], lifetime);
        WriteAddress(header[8..], clientAddress);
    }

    /// <summary>A 16-byte address field: IPv6 as it is, IPv4 as ::ffff:a.b.c.d (section 5).</summary>
    private static void WriteAddress(Span<byte> destination, IPAddress address)
    {
        IPAddress v6 = address.IsIPv4() ? address.MapToIPv6() : address;
        if (!v6.TryWriteBytes(destination[..16], out int written) || written != 16)
        {
            ThrowHelper.ThrowArgument(nameof(address), "an address field takes IPv4 or IPv6");
        }
    }

    private static IPAddress ReadAddress(ReadOnlySpan<byte> field)
    {
        var address = new IPAddress(field);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    private static bool IsIPv4(this IPAddress address) => address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;

    /// <summary>Walks the options after the body (section 7.3): each is code, reserved, 16-bit length, data padded to 4.</summary>
    private static PcpError CheckOptions(ReadOnlySpan<byte> options)
    {
        while (!options.IsEmpty)
        {
            if (options.Length < 4)
            {
                return PcpError.MalformedOption;
            }

            byte code = options[0];
            int length = BinaryPrimitives.ReadUInt16BigEndian(options[2..]);
            int padded = (length + 3) & ~3;
            if (padded > options.Length - 4)
            {
                return PcpError.MalformedOption;
            }

            int? expected = code switch
            {
                OptionThirdParty => 16,
                OptionPreferFailure => 0,
                OptionFilter => 20,
                _ => null,
            };
            if (expected is { } known ? known != length : code < 128)
            {
                return expected is null ? PcpError.UnknownMandatoryOption : PcpError.MalformedOption;
            }

            options = options[(4 + padded)..];
        }

        return PcpError.None;
    }

    private static bool Fail(PcpError reason, out PcpError error)
    {
        error = reason;
        return false;
    }
}
