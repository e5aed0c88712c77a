using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace PeerNet.Libp2p;

/// <summary>The addresses a node listening on one address can be dialled at, as identify announces them.</summary>
internal static class Libp2pAddresses
{
    /// <summary>
    /// <paramref name="listen"/> itself, or for a wildcard the addresses of the interfaces that are up (IPv4 first,
    /// loopback included; IPv6 link-local ones left out, as they mean nothing without their interface; IPv6 ones only
    /// for the IPv6 wildcard).
    /// </summary>
    public static IReadOnlyList<IPAddress> Of(IPAddress listen, int port)
    {
        ArgumentNullException.ThrowIfNull(listen);
        if (port == 0)
        {
            return [];
        }

        if (!listen.Equals(IPAddress.Any) && !listen.Equals(IPAddress.IPv6Any))
        {
            return [listen.IsIPv4MappedToIPv6 ? listen.MapToIPv4() : listen];
        }

        bool v6 = listen.Equals(IPAddress.IPv6Any);
        var addresses = new List<IPAddress>();
        try
        {
            foreach (NetworkInterface nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up && nic.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                {
                    continue;
                }

                foreach (UnicastIPAddressInformation unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    IPAddress address = unicast.Address;
                    bool usable = address.AddressFamily == AddressFamily.InterNetwork
                        || (v6 && address.AddressFamily == AddressFamily.InterNetworkV6 && !address.IsIPv6LinkLocal);
                    if (usable && !addresses.Contains(address))
                    {
                        addresses.Add(address);
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
            // No interface list here: identify announces none, and peers use the address they dialled.
        }

        return [.. addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1)];
    }
}
