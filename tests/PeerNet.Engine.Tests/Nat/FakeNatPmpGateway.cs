using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;

namespace PeerNet.Engine.Tests.Nat;

/// <summary>
/// A NAT-PMP server on loopback: answers the external-address request with <see cref="External"/> and each mapping with
/// the suggested port plus <see cref="PortOffset"/> (or the internal port when none is suggested) for
/// <see cref="Lifetime"/> seconds, or with <see cref="Refusal"/> when set; a PCP request gets RFC 6886's "unsupported
/// version" answer, as a NAT-PMP-only router gives. Keeps every request it got.
/// </summary>
internal sealed class FakeNatPmpGateway : FakeUdpGateway
{
    private uint _epoch = 1000;

    public IPAddress External { get; init; } = IPAddress.Parse("203.0.113.7");

    public int PortOffset { get; init; } = 1000;

    public uint Lifetime { get; init; } = 60;

    public ushort? Refusal { get; set; }

    /// <summary>How many requests of another version (PCP's) were answered "unsupported version".</summary>
    public int VersionMismatches { get; private set; }

    /// <summary>(opcode, internal port, suggested external port, lifetime) of each request, in order.</summary>
    public ConcurrentQueue<(byte Opcode, ushort Internal, ushort Suggested, uint Lifetime)> Requests { get; } = new();

    protected override async Task AnswerAsync(byte[] request, IPEndPoint from)
    {
        if (request.Length >= 2 && request[0] != 0)
        {
            // RFC 6886 section 3.5: another version (a PCP request) gets "unsupported version", header only.
            byte[] unsupported = [0, (byte)(128 + (request[1] & 0x7f)), 0, 1, 0, 0, 0, 0];
            BinaryPrimitives.WriteUInt32BigEndian(unsupported.AsSpan(4), _epoch);
            VersionMismatches++;
            await Socket.SendAsync(unsupported, from);
            return;
        }

        if (request.Length < 2)
        {
            return;
        }

        byte opcode = request[1];
        byte[] reply = new byte[opcode == 0 ? 12 : 16];
        reply[1] = (byte)(128 + opcode);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(2), Refusal ?? 0);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(4), _epoch++);
        if (opcode == 0)
        {
            Requests.Enqueue((0, 0, 0, 0));
            External.GetAddressBytes().CopyTo(reply, 8);
        }
        else if (request.Length >= 12)
        {
            ushort internalPort = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(4));
            ushort suggested = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(6));
            uint lifetime = BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(8));
            Requests.Enqueue((opcode, internalPort, suggested, lifetime));
            ushort granted = lifetime == 0 ? (ushort)0 : suggested == internalPort ? (ushort)(internalPort + PortOffset) : suggested;
            BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(8), internalPort);
            BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(10), granted);
            BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(12), lifetime == 0 ? 0 : Math.Min(lifetime, Lifetime));
        }

        await Socket.SendAsync(reply, from);
    }
}
