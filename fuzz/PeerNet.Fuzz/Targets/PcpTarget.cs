using System.Buffers.Binary;
using System.Net;
using PeerNet.PortMapping;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="Pcp.TryParseResponse"/> and <see cref="Pcp.TryParseMapResponse"/> (RFC 6887 responses from the gateway):
/// a refusal names an error and gives no response; an accepted one is within 1,100 bytes, a multiple of 4 (unless it is
/// the short "unsupported version" answer of an older version), answers MAP or ANNOUNCE, has a MAP body only on MAP, a
/// success on MAP always with its body, and written back in the RFC layout (options dropped) parses to the same response;
/// the MAP reading agrees with the plain one and refuses exactly a body of another nonce, protocol or port. The first
/// bytes also drive <see cref="Pcp.WriteMapRequest"/>, whose output must read back as the same fields.
/// </summary>
public static class PcpTarget
{
    private static readonly PcpNonce Ours = new(0x0102030405060708, 0x090a0b0c);

    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 12)
        {
            CheckRequest(data);
        }

        bool parsed = Pcp.TryParseResponse(data, out PcpResponse? response, out PcpError error);
        bool mapParsed = Pcp.TryParseMapResponse(data, Ours, Pcp.Tcp, 6881, out PcpResponse? mapResponse, out PcpError mapError);
        if (!parsed || response is null)
        {
            Check.That(!parsed, "accepted with no response");
            Check.That(error != PcpError.None, "refused with no error");
            Check.That(!mapParsed && mapError == error, "the MAP reading accepted what the plain one refused");
            return;
        }

        bool ours = response.Map is not { } m || (m.Nonce == Ours && m.Protocol == Pcp.Tcp && m.InternalPort == 6881);
        Check.That(mapParsed == ours, $"MAP reading {mapParsed} for a body that is ours: {ours}");
        Check.That(mapParsed ? Equals(mapResponse, response) : mapError == PcpError.NotOurMapping && mapResponse is null, "MAP reading differs");

        Check.That(data.Length <= Pcp.MaxMessageLength, $"accepted {data.Length} bytes");
        if (response.Version != Pcp.Version)
        {
            Check.That(response.Result == PcpResult.UnsupportedVersion && response.Version < Pcp.Version && response.Map is null, "another version accepted as more than an UNSUPP_VERSION answer");
            return;
        }

        Check.That(data.Length >= Pcp.HeaderLength && data.Length % 4 == 0, $"accepted a length of {data.Length}");
        Check.That(response.Opcode is PcpOpcode.Map or PcpOpcode.Announce, $"opcode {response.Opcode}");
        Check.That(response.Opcode == PcpOpcode.Map || response.Map is null, "a body on ANNOUNCE");
        Check.That(response.Opcode != PcpOpcode.Map || response.Result != PcpResult.Success || response.Map is not null, "a MAP success without its body");
        if (response.Map is { } map)
        {
            Check.That(!map.ExternalAddress.IsIPv4MappedToIPv6, "an IPv4-mapped external address left mapped");
        }

        byte[] again = Write(response);
        Check.That(Pcp.TryParseResponse(again, out PcpResponse? reparsed, out PcpError againError), $"its own layout is refused: {againError}");
        Check.Equal(response, reparsed, "response after a write and parse");
    }

    private static void CheckRequest(ReadOnlySpan<byte> data)
    {
        var nonce = PcpNonce.Read(data);
        byte protocol = data[0];
        ushort internalPort = BinaryPrimitives.ReadUInt16BigEndian(data[1..]);
        ushort suggested = BinaryPrimitives.ReadUInt16BigEndian(data[3..]);
        uint lifetime = BinaryPrimitives.ReadUInt32BigEndian(data[5..]);
        IPAddress client = (data[9] & 1) == 0 ? new IPAddress(data.Slice(8, 4)) : new IPAddress([.. data[..12], .. data[..4]]);
        byte[] request = new byte[Pcp.MapRequestLength];
        Check.Equal(60, Pcp.WriteMapRequest(request, nonce, protocol, internalPort, suggested, null, lifetime, client), "request length");
        Check.That(request[0] == 2 && request[1] == 1 && request[2] == 0 && request[3] == 0, "request header");
        Check.Equal(lifetime, BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(4)), "lifetime");
        IPAddress written = new(request.AsSpan(8, 16));
        Check.Equal(client.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? client.MapToIPv6() : client, written, "client address");
        Check.Equal(nonce, PcpNonce.Read(request.AsSpan(24)), "nonce");
        Check.That(request[36] == protocol && request[37] == 0 && request[38] == 0 && request[39] == 0, "protocol and reserved");
        Check.Equal(internalPort, BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(40)), "internal port");
        Check.Equal(suggested, BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(42)), "suggested port");
        Check.That(Pcp.TryParseResponse(request, out _, out PcpError error) == false && error == PcpError.NotAResponse, "a request read as a response");
    }

    /// <summary>The response in RFC 6887's layout, without options.</summary>
    private static byte[] Write(PcpResponse response)
    {
        byte[] bytes = new byte[Pcp.HeaderLength + (response.Map is null ? 0 : Pcp.MapBodyLength)];
        bytes[0] = response.Version;
        bytes[1] = (byte)(0x80 | (byte)response.Opcode);
        bytes[3] = (byte)response.Result;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), response.Lifetime);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), response.Epoch);
        if (response.Map is { } map)
        {
            map.Nonce.WriteTo(bytes.AsSpan(24));
            bytes[36] = map.Protocol;
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(40), map.InternalPort);
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(42), map.ExternalPort);
            IPAddress external = map.ExternalAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? map.ExternalAddress.MapToIPv6() : map.ExternalAddress;
            external.GetAddressBytes().CopyTo(bytes, 44);
        }

        return bytes;
    }
}
