using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;

namespace PeerNet.Engine.Tests.Nat;

/// <summary>
/// A PCP server (RFC 6887) on loopback: answers each MAP request with the suggested port plus <see cref="PortOffset"/>
/// when the node's own port is suggested (else the suggested port), <see cref="External"/> as the external address
/// (IPv4-mapped), at most <see cref="Lifetime"/> seconds, with its <see cref="Epoch"/>; or with <see cref="Refusal"/>
/// when set. With <see cref="ForeignFirst"/>, each answer is preceded by one for another nonce and a malformed one,
/// which the client must ignore. Keeps every request it got.
/// </summary>
internal sealed class FakePcpGateway : FakeUdpGateway
{
    public IPAddress External { get; init; } = IPAddress.Parse("203.0.113.9");

    public int PortOffset { get; init; } = 1000;

    public uint Lifetime { get; init; } = 60;

    /// <summary>The epoch the next answer carries; it advances by one per answer (set it lower to play a reboot).</summary>
    public uint Epoch { get; set; } = 5000;

    public byte? Refusal { get; set; }

    public bool ForeignFirst { get; init; }

    /// <summary>Each MAP request: its client address field, nonce (hex), protocol, internal and suggested port, lifetime.</summary>
    public ConcurrentQueue<(IPAddress Client, string Nonce, byte Protocol, ushort Internal, ushort Suggested, uint Lifetime)> Requests { get; } = new();

    protected override async Task AnswerAsync(byte[] request, IPEndPoint from)
    {
        if (request.Length != 60 || request[0] != 2 || request[1] != 1)
        {
            return;
        }

        uint lifetime = BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(4));
        byte protocol = request[36];
        ushort internalPort = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(40));
        ushort suggested = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(42));
        Requests.Enqueue((new IPAddress(request.AsSpan(8, 16)), Convert.ToHexString(request, 24, 12), protocol, internalPort, suggested, lifetime));

        byte[] reply = new byte[60];
        reply[0] = 2;
        reply[1] = 0x81;
        reply[3] = Refusal ?? 0;
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(4), lifetime == 0 ? 0 : Math.Min(lifetime, Lifetime));
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(8), Epoch++);
        request.AsSpan(24, 36).CopyTo(reply.AsSpan(24)); // nonce, protocol, ports, address: echoed, then filled in
        ushort granted = lifetime == 0 ? (ushort)0 : suggested == internalPort ? (ushort)(internalPort + PortOffset) : suggested;
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(42), granted);
        External.MapToIPv6().GetAddressBytes().CopyTo(reply, 44);
        if (ForeignFirst)
        {
            byte[] foreign = (byte[])reply.Clone();
            foreign[24] ^= 0xff; // another mapping's nonce
            await Socket.SendAsync(foreign, from);
            await Socket.SendAsync(reply.AsMemory(0, 30), from); // not a multiple of 4
        }

        await Socket.SendAsync(reply, from);
    }
}
