using System.Net;

namespace PeerNet;

/// <summary>
/// How the node asks the home router to forward its port (TCP and UDP, the same number) and learns its external address,
/// as libtorrent's <c>enable_natpmp</c> (which speaks PCP first since libtorrent 2) and <c>enable_upnp</c>. All on by
/// default; a node listening only on a loopback address never maps.
/// </summary>
public sealed record PortMappingOptions
{
    /// <summary>Port mapping turned off: no PCP, no NAT-PMP and no UPnP.</summary>
    public static PortMappingOptions None { get; } = new() { Pcp = false, NatPmp = false, Upnp = false };

    /// <summary>
    /// Ask the gateway by PCP (RFC 6887, UDP port 5351) first; when it answers in NAT-PMP's version, NAT-PMP is used
    /// instead (if <see cref="NatPmp"/> is on). Default: on.
    /// </summary>
    public bool Pcp { get; init; } = true;

    /// <summary>
    /// Ask the gateway by NAT-PMP (RFC 6886, UDP port 5351): after PCP when <see cref="Pcp"/> is on and the gateway
    /// speaks only NAT-PMP, or alone when PCP is off. Default: on.
    /// </summary>
    public bool NatPmp { get; init; } = true;

    /// <summary>Ask an Internet gateway device found by SSDP by UPnP (WANIPConnection / WANPPPConnection). Default: on.</summary>
    public bool Upnp { get; init; } = true;

    /// <summary>
    /// The gateway to ask by PCP or NAT-PMP and to search for devices on; null for the default route's (read from
    /// <c>/proc/net/route</c> on Linux, from the network interfaces elsewhere).
    /// </summary>
    public IPAddress? Gateway { get; init; }

    /// <summary>
    /// The lease asked of a UPnP mapping, in seconds (renewed at half of it); a router that only takes permanent
    /// mappings (error 725) gets a permanent one, removed when the node stops. Default 3600, as libtorrent.
    /// </summary>
    public int UpnpLeaseSeconds { get; init; } = 3600;

    /// <summary>
    /// The lifetime asked of a PCP or NAT-PMP mapping, in seconds (renewed at half of what the gateway grants). Default
    /// 7200, as RFC 6886 recommends.
    /// </summary>
    public int NatPmpLifetimeSeconds { get; init; } = 7200;

    /// <summary>Whether any protocol is on.</summary>
    public bool Enabled => Pcp || NatPmp || Upnp;
}

/// <summary>Which protocol holds the node's port mapping.</summary>
public enum PortMappingProtocol
{
    /// <summary>No mapping is in place (yet, or at all).</summary>
    None,

    /// <summary>NAT-PMP (RFC 6886).</summary>
    NatPmp,

    /// <summary>UPnP Internet gateway device (WANIPConnection or WANPPPConnection).</summary>
    Upnp,

    /// <summary>PCP, the Port Control Protocol (RFC 6887).</summary>
    Pcp,
}

/// <summary>The protocol's name as the log and the advice write it.</summary>
internal static class PortMappingProtocolNames
{
    public static string Name(this PortMappingProtocol protocol) => protocol switch
    {
        PortMappingProtocol.Pcp => "PCP",
        PortMappingProtocol.NatPmp => "NAT-PMP",
        _ => "UPnP",
    };
}

/// <summary>
/// The node's port mapping at one moment: which protocol holds it, the external address the router reported and the
/// external ports peers reach the node on, and the last problem met.
/// </summary>
public sealed record PortMappingStatus
{
    /// <summary>No mapping, nothing tried.</summary>
    public static PortMappingStatus Off { get; } = new();

    /// <summary>Whether the node tries to map its port (options on, and a listen address that is not loopback).</summary>
    public bool Enabled { get; init; }

    /// <summary>The gateway asked, when one was found.</summary>
    public IPAddress? Gateway { get; init; }

    /// <summary>The protocol holding the mapping; <see cref="PortMappingProtocol.None"/> while none is in place.</summary>
    public PortMappingProtocol Protocol { get; init; }

    /// <summary>The external (public) address the router reported, or null while unknown.</summary>
    public IPAddress? ExternalAddress { get; init; }

    /// <summary>The external TCP port mapped to the node's port; 0 while none.</summary>
    public int ExternalTcpPort { get; init; }

    /// <summary>The external UDP port mapped to the node's port; 0 while none.</summary>
    public int ExternalUdpPort { get; init; }

    /// <summary>When the mapping's lease runs out unless renewed (the node renews it before); null for a permanent one or none.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The last problem met by any protocol, in words (for example "PCP: no PCP answer from the gateway 192.168.1.1"), or null.</summary>
    public string? LastError { get; init; }
}
