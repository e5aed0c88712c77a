using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>
/// How far an address reaches, narrowest first: the host itself, its link, private networks, the internet. The dial
/// policy rests on it: an address is only as local as whoever named it (see <see cref="NetworkScopes.MayName(NetworkScope, IPAddress)"/>).
/// </summary>
internal enum NetworkScope
{
    /// <summary>Never a peer: unspecified, multicast, broadcast, "this network" (0.0.0.0/8) and reserved (240.0.0.0/4).</summary>
    Unroutable,

    /// <summary>127.0.0.0/8 and ::1.</summary>
    Loopback,

    /// <summary>169.254.0.0/16 and fe80::/10.</summary>
    LinkLocal,

    /// <summary>10/8, 172.16/12, 192.168/16, the shared 100.64/10 (carrier-grade NAT), and fc00::/7 (unique local).</summary>
    Private,

    /// <summary>Everything else.</summary>
    Global,
}

/// <summary>Classifies addresses into <see cref="NetworkScope"/>s.</summary>
internal static class NetworkScopes
{
    /// <summary>The scope of <paramref name="address"/> (an IPv4-mapped IPv6 address is classified as its IPv4 address).</summary>
    public static NetworkScope Of(IPAddress address)
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
            return b[0] switch
            {
                0 => NetworkScope.Unroutable,
                >= 224 => NetworkScope.Unroutable, // multicast, reserved, broadcast
                127 => NetworkScope.Loopback,
                10 => NetworkScope.Private,
                169 when b[1] == 254 => NetworkScope.LinkLocal,
                172 when (b[1] & 0xF0) == 16 => NetworkScope.Private,
                192 when b[1] == 168 => NetworkScope.Private,
                100 when (b[1] & 0xC0) == 64 => NetworkScope.Private,
                _ => NetworkScope.Global,
            };
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6 || address.Equals(IPAddress.IPv6Any) || address.IsIPv6Multicast)
        {
            return NetworkScope.Unroutable;
        }

        if (address.Equals(IPAddress.IPv6Loopback))
        {
            return NetworkScope.Loopback;
        }

        Span<byte> v6 = stackalloc byte[16];
        address.TryWriteBytes(v6, out _);
        return address.IsIPv6LinkLocal ? NetworkScope.LinkLocal
            : (v6[0] & 0xFE) == 0xFC ? NetworkScope.Private
            : NetworkScope.Global;
    }

    /// <summary>
    /// Whether a peer found at <paramref name="informer"/> (a PEX peer, a tracker, a DHT node) may point us at
    /// <paramref name="target"/>: never at an unroutable address, and never at one narrower than its own. A peer on the
    /// internet cannot send us to our loopback or private network (the node as a reflector into the networks behind
    /// it); a peer, tracker or DHT node on loopback or a private network can name peers there, as on a LAN or in tests.
    /// </summary>
    public static bool MayName(IPAddress informer, IPAddress target) => MayName(Of(informer), target);

    /// <summary>Whether an informer in <paramref name="informer"/> scope may point us at <paramref name="target"/> (see the other overload).</summary>
    public static bool MayName(NetworkScope informer, IPAddress target)
    {
        NetworkScope to = Of(target);
        return to != NetworkScope.Unroutable && to >= informer;
    }

    /// <summary>
    /// The scope of a host reached at any of <paramref name="addresses"/>: the widest of theirs (a name that resolves
    /// to a loopback and a public address counts as public, the stricter reading). Unroutable ones are left out.
    /// </summary>
    public static NetworkScope OfHost(IEnumerable<IPAddress> addresses)
    {
        NetworkScope widest = NetworkScope.Unroutable;
        foreach (IPAddress address in addresses)
        {
            NetworkScope scope = Of(address);
            widest = scope > widest ? scope : widest;
        }

        return widest;
    }
}
