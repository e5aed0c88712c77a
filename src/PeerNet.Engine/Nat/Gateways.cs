using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace PeerNet.Nat;

/// <summary>Finds the IPv4 default gateway: the router NAT-PMP is asked of.</summary>
internal static class Gateways
{
    private const string ProcNetRoute = "/proc/net/route";

    /// <summary>The default route's gateway, or null when the host has none.</summary>
    public static IPAddress? FindDefault()
    {
        try
        {
            if (File.Exists(ProcNetRoute))
            {
                return ParseProcNetRoute(File.ReadAllText(ProcNetRoute));
            }

            return NetworkInterface.GetAllNetworkInterfaces()
                .Where(i => i.OperationalStatus == OperationalStatus.Up)
                .SelectMany(i => i.GetIPProperties().GatewayAddresses)
                .Select(g => g.Address)
                .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !a.Equals(IPAddress.Any));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NetworkInformationException or PlatformNotSupportedException)
        {
            return null;
        }
    }

    /// <summary>
    /// The gateway of the first default route (destination and mask 0, flags up and gateway) in the text of Linux's
    /// <c>/proc/net/route</c>, whose addresses are hexadecimal in the host's (little-endian) byte order; the route with
    /// the lowest metric wins. Null when there is none.
    /// </summary>
    public static IPAddress? ParseProcNetRoute(string text)
    {
        const int RouteUp = 0x1, RouteGateway = 0x2;
        IPAddress? best = null;
        Span<byte> bytes = stackalloc byte[4];
        int bestMetric = int.MaxValue;
        foreach (string line in text.Split('\n').Skip(1))
        {
            string[] fields = line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 8
                || !uint.TryParse(fields[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint destination)
                || !uint.TryParse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint gateway)
                || !int.TryParse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int flags)
                || !int.TryParse(fields[6], NumberStyles.Integer, CultureInfo.InvariantCulture, out int metric)
                || !uint.TryParse(fields[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint mask))
            {
                continue;
            }

            if (destination == 0 && mask == 0 && gateway != 0 && (flags & (RouteUp | RouteGateway)) == (RouteUp | RouteGateway) && metric < bestMetric)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes, gateway);
                best = new IPAddress(bytes);
                bestMetric = metric;
            }
        }

        return best;
    }

    /// <summary>The local address this host reaches <paramref name="gateway"/> from (no packet is sent), or null.</summary>
    public static IPAddress? LocalAddressTowards(IPAddress gateway)
    {
        try
        {
            using var probe = new Socket(gateway.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            probe.Connect(new IPEndPoint(gateway, 9));
            return (probe.LocalEndPoint as IPEndPoint)?.Address;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
