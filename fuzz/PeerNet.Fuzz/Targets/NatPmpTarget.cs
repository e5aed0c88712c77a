using System.Buffers.Binary;
using PeerNet.PortMapping;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="NatPmp.TryParseResponse"/> (RFC 6886 responses from the gateway): a refusal names an error and gives no
/// response; an accepted one is within the length limit, answers an opcode this client sends, carries an external
/// address exactly when it is a successful address response, and written back in the RFC layout parses to the same
/// response. The first bytes also drive <see cref="NatPmp.WriteMappingRequest"/>, whose output must be the RFC layout.
/// </summary>
public static class NatPmpTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 8)
        {
            var opcode = (data[0] & 1) == 0 ? NatPmpOpcode.MapUdp : NatPmpOpcode.MapTcp;
            ushort internalPort = BinaryPrimitives.ReadUInt16BigEndian(data[1..]);
            ushort external = BinaryPrimitives.ReadUInt16BigEndian(data[3..]);
            uint lifetime = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
            byte[] request = new byte[NatPmp.MappingRequestLength];
            Check.Equal(12, NatPmp.WriteMappingRequest(request, opcode, internalPort, external, lifetime), "request length");
            Check.That(request[0] == 0 && request[1] == (byte)opcode && request[2] == 0 && request[3] == 0, "request header");
            Check.Equal(internalPort, BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(4)), "internal port");
            Check.Equal(lifetime == 0 ? (ushort)0 : external, BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(6)), "suggested port");
            Check.Equal(lifetime, BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(8)), "lifetime");
        }

        if (!NatPmp.TryParseResponse(data, out NatPmpResponse? response, out NatPmpError error))
        {
            Check.That(error != NatPmpError.None, "refused with no error");
            Check.That(response is null, "refused with a response");
            return;
        }

        Check.That(data.Length is >= 8 and <= NatPmp.MaxResponseLength, $"accepted {data.Length} bytes");
        Check.That(Enum.IsDefined(response.Opcode), $"opcode {response.Opcode}");
        bool isAddress = response.Opcode == NatPmpOpcode.ExternalAddress && response.Result == NatPmpResult.Success;
        Check.That(isAddress == response.ExternalAddress is not null, "external address present exactly on a successful address response");

        byte[] again = Write(response);
        Check.That(NatPmp.TryParseResponse(again, out NatPmpResponse? reparsed, out NatPmpError againError), $"its own layout is refused: {againError}");
        Check.Equal(response, reparsed, "response after a write and parse");
    }

    /// <summary>The response in RFC 6886's layout, the body always written.</summary>
    private static byte[] Write(NatPmpResponse response)
    {
        byte[] bytes = new byte[response.Opcode == NatPmpOpcode.ExternalAddress ? 12 : 16];
        bytes[1] = (byte)(128 + (byte)response.Opcode);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)response.Result);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), response.Epoch);
        if (response.ExternalAddress is { } address)
        {
            address.GetAddressBytes().CopyTo(bytes, 8);
        }
        else if (response.Opcode != NatPmpOpcode.ExternalAddress)
        {
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(8), response.InternalPort);
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(10), response.ExternalPort);
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(12), response.Lifetime);
        }

        return bytes;
    }
}
