using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using PeerNet.PeerWire;

namespace PeerNet.Dht;

/// <summary>A DHT node as the compact node info of BEP 5 and BEP 32 carries it: its ID and UDP endpoint.</summary>
internal readonly record struct DhtContact(NodeId Id, IPEndPoint EndPoint)
{
    /// <summary>Size of one IPv4 compact node: 20-byte ID, 4-byte address, 2-byte port.</summary>
    public const int V4Length = NodeId.Length + CompactPeer.V4Length;

    /// <summary>Size of one IPv6 compact node (BEP 32): 20-byte ID, 16-byte address, 2-byte port.</summary>
    public const int V6Length = NodeId.Length + CompactPeer.V6Length;

    /// <summary>Whether the contact belongs in <c>nodes</c> (IPv4) rather than <c>nodes6</c>.</summary>
    public bool IsV4 => CompactPeer.IsV4(EndPoint.Address);

    /// <summary>Reads a whole <c>nodes</c> (26-byte entries) or <c>nodes6</c> (38-byte entries) string.</summary>
    public static List<DhtContact> ReadList(ReadOnlySpan<byte> compact, int entryLength)
    {
        var list = new List<DhtContact>(compact.Length / entryLength);
        for (int i = 0; i + entryLength <= compact.Length; i += entryLength)
        {
            ReadOnlySpan<byte> entry = compact.Slice(i, entryLength);
            list.Add(new DhtContact(new NodeId(entry[..NodeId.Length]), CompactPeer.Read(entry[NodeId.Length..])));
        }

        return list;
    }

    /// <summary>Writes one compact node; returns 26 or 38.</summary>
    public int Write(Span<byte> destination)
    {
        Id.CopyTo(destination);
        return NodeId.Length + CompactPeer.Write(destination[NodeId.Length..], EndPoint);
    }

    /// <summary>The endpoint's address family as the DHT sees it (an IPv4-mapped address is IPv4).</summary>
    public static AddressFamily FamilyOf(IPEndPoint endPoint) =>
        CompactPeer.IsV4(endPoint.Address) ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;

    /// <summary>Reads a 2-byte big-endian port at the end of a compact endpoint.</summary>
    internal static int ReadPort(ReadOnlySpan<byte> compact) => BinaryPrimitives.ReadUInt16BigEndian(compact[^2..]);
}
