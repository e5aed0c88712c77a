using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace PeerNet.Swarm;

/// <summary>
/// BEP 6 allowed-fast sets: the pieces a choked peer may still request, derived from its IPv4 address and the
/// info-hash so that every client computes the same set for the same peer (and a peer cannot widen its set by
/// reconnecting from another port).
/// </summary>
internal static class AllowedFastSet
{
    /// <summary>Pieces granted to each peer (libtorrent's default allowed_fast_set_size is 5).</summary>
    public const int Size = 5;

    /// <summary>
    /// The canonical set of up to <paramref name="count"/> pieces for <paramref name="address"/>, or empty for an
    /// IPv6 address (BEP 6 defines the set for IPv4 only).
    /// </summary>
    public static int[] Compute(IPAddress address, ReadOnlySpan<byte> infoHash, int pieceCount, int count = Size)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetwork || pieceCount <= 0)
        {
            return [];
        }

        count = Math.Min(count, pieceCount);
        var set = new List<int>(count);

        // BEP 6: x = 0xFFFFFF00 & ip (the /24, so peers behind one NAT share a set), followed by the info-hash;
        // x = SHA1(x) repeatedly, each digest giving five 32-bit piece candidates modulo the piece count.
        Span<byte> x = stackalloc byte[4 + infoHash.Length];
        address.TryWriteBytes(x, out _);
        x[3] = 0;
        infoHash.CopyTo(x[4..]);
        Span<byte> digest = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(x, digest);
        while (true)
        {
            for (int i = 0; i < 5 && set.Count < count; i++)
            {
                int piece = (int)(BinaryPrimitives.ReadUInt32BigEndian(digest[(4 * i)..]) % (uint)pieceCount);
                if (!set.Contains(piece))
                {
                    set.Add(piece);
                }
            }

            if (set.Count == count)
            {
                return [.. set];
            }

            SHA1.HashData(digest, digest);
        }
    }
}
