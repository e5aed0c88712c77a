using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace PeerNet.PeerWire;

/// <summary>
/// The compact peer format of BEP 23 and BEP 7, used by ut_pex: a 4-byte IPv4 or 16-byte IPv6 address then a
/// 2-byte port, all big-endian.
/// </summary>
internal static class CompactPeer
{
    /// <summary>Size of a compact IPv4 peer.</summary>
    public const int V4Length = 6;

    /// <summary>Size of a compact IPv6 peer.</summary>
    public const int V6Length = 18;

    /// <summary>Reads one compact peer of 6 or 18 bytes.</summary>
    public static IPEndPoint Read(ReadOnlySpan<byte> source)
    {
        int addressLength = source.Length - 2;
        if (addressLength is not (4 or 16))
        {
            ThrowHelper.ThrowArgument(nameof(source), "A compact peer is 6 or 18 bytes.");
        }

        var address = new IPAddress(source[..addressLength]);
        return new IPEndPoint(address, BinaryPrimitives.ReadUInt16BigEndian(source[addressLength..]));
    }

    /// <summary>The compact size of <paramref name="endPoint"/>: 6 for IPv4 (IPv4-mapped IPv6 included), else 18.</summary>
    public static int GetLength(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        return IsV4(endPoint.Address) ? V4Length : V6Length;
    }

    /// <summary>Whether the address travels as IPv4 (an IPv4-mapped IPv6 address does).</summary>
    public static bool IsV4(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork || address.IsIPv4MappedToIPv6;

    /// <summary>Writes <paramref name="endPoint"/> in compact form; returns 6 or 18.</summary>
    public static int Write(Span<byte> destination, IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        IPAddress address = endPoint.Address;
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (!address.TryWriteBytes(destination, out int written))
        {
            ThrowHelper.ThrowArgument(nameof(destination), "The destination is too small for the compact peer.");
        }

        if (destination.Length < written + 2)
        {
            ThrowHelper.ThrowArgument(nameof(destination), "The destination is too small for the compact peer.");
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination[written..], (ushort)endPoint.Port);
        return written + 2;
    }
}
