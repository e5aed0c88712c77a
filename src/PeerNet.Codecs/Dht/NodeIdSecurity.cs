using System.Net;
using System.Net.Sockets;
using System.Numerics;

namespace PeerNet.Dht;

/// <summary>
/// BEP 42 DHT security extension: a node ID's first 21 bits are tied to the node's external IP by CRC32-C, so
/// one machine cannot pick IDs near a target at will.
/// </summary>
internal static class NodeIdSecurity
{
    private static ReadOnlySpan<byte> V4Mask => [0x03, 0x0f, 0x3f, 0xff];

    private static ReadOnlySpan<byte> V6Mask => [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

    /// <summary>Generates an ID for <paramref name="externalAddress"/>, with random bits from <paramref name="random"/>.</summary>
    public static NodeId Generate(IPAddress externalAddress, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Span<byte> id = stackalloc byte[NodeId.Length];
        random.NextBytes(id);
        byte r = (byte)(id[19] & 0x7);
        uint crc = Crc(externalAddress, r);

        // BEP 42: "only take the top 21 bits from crc"; the rest random, the last byte carries r.
        id[0] = (byte)(crc >> 24);
        id[1] = (byte)(crc >> 16);
        id[2] = (byte)(((crc >> 8) & 0xf8) | (uint)(id[2] & 0x7));
        return new NodeId(id);
    }

    /// <summary>Generates an ID for <paramref name="externalAddress"/> with a given last byte (the BEP's test vectors).</summary>
    internal static uint Prefix(IPAddress externalAddress, byte lastByte) => Crc(externalAddress, (byte)(lastByte & 0x7)) & 0xfffff800;

    /// <summary>
    /// Whether <paramref name="id"/> is valid for <paramref name="address"/>. BEP 42: "IPs in the local network are
    /// exempt" (10/8, 172.16/12, 192.168/16, 169.254/16, 127/8, and the IPv6 loopback, link-local and unique-local).
    /// </summary>
    public static bool IsValid(NodeId id, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (IsExempt(address))
        {
            return true;
        }

        Span<byte> bytes = stackalloc byte[NodeId.Length];
        id.CopyTo(bytes);
        uint expected = Prefix(address, bytes[19]);
        uint actual = ((uint)bytes[0] << 24) | ((uint)bytes[1] << 16) | ((uint)bytes[2] << 8);
        return (actual & 0xfffff800) == expected;
    }

    /// <summary>Whether BEP 42 exempts <paramref name="address"/> from ID verification.</summary>
    public static bool IsExempt(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] == 10 || b[0] == 127 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
        }

        return IPAddress.IsLoopback(address) || address.IsIPv6LinkLocal || address.IsIPv6UniqueLocal || address.IsIPv6SiteLocal;
    }

    private static uint Crc(IPAddress address, byte r)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> ip = stackalloc byte[16];
        address.TryWriteBytes(ip, out int length);
        bool v4 = length == 4;
        ReadOnlySpan<byte> mask = v4 ? V4Mask : V6Mask;
        ip = ip[..mask.Length];
        for (int i = 0; i < mask.Length; i++)
        {
            ip[i] &= mask[i];
        }

        ip[0] |= (byte)(r << 5);
        uint crc = uint.MaxValue;
        foreach (byte b in ip)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
