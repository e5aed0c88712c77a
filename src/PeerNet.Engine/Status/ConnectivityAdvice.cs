using System.Net;
using System.Net.Sockets;
using PeerNet.Discovery.Dht;
using PeerNet.Transport;

namespace PeerNet;

/// <summary>
/// The problems a <see cref="ConnectivityReport"/>'s facts show, each as one sentence saying what is wrong and what to do,
/// as Syncthing and qBittorrent word their connectivity warnings. A pure function of the facts (the report's own
/// <see cref="ConnectivityReport.Problems"/> are ignored), so every case can be tested.
/// </summary>
internal static class ConnectivityAdvice
{
    /// <summary>How long without an incoming connection (or an answered DHT lookup) before it is a problem.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(30);

    /// <summary>How long a DHT node may take to join before an empty table is a problem (bootstrap gives up earlier when nobody answers).</summary>
    public static readonly TimeSpan DhtJoinGrace = TimeSpan.FromMinutes(5);

    public static IReadOnlyList<ConnectivityProblem> Find(ConnectivityReport r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var problems = new List<ConnectivityProblem>();
        int port = r.ListenPort;
        if (r.TcpEndPoints.Count > 0 && r.TcpEndPoints.All(e => IPAddress.IsLoopback(e.Address)))
        {
            problems.Add(new(ConnectivityProblemKind.LoopbackOnly, ConnectivitySeverity.Error,
                $"The node listens on {r.TcpEndPoints[0].Address} only, so no other machine can reach it: listen on every address (leave out --bind) to take part in swarms."));
        }
        else
        {
            Reachability(r, port, problems);
        }

        Dht(r, port, problems);
        Libp2pLimits(r, problems);
        return [.. problems.OrderByDescending(p => p.Severity)];
    }

    private static void Reachability(ConnectivityReport r, int port, List<ConnectivityProblem> problems)
    {
        PortMappingStatus mapping = r.PortMapping;
        bool mapped = mapping.Protocol != PortMappingProtocol.None;
        bool longEnough = r.Uptime >= Window;
        bool expectsInbound = longEnough && r.Torrents > 0; // without a torrent announced, nobody has a reason to connect
        bool tcpIn = Recent(r, r.InboundTcp.LastFromInternet);
        bool utpIn = Recent(r, r.InboundUtp.LastFromInternet);
        string minutes = $"{Window.TotalMinutes:0} minutes";
        string protocol = mapping.Protocol.Name();

        if (!mapped && !tcpIn && !utpIn)
        {
            if (expectsInbound)
            {
                problems.Add(new(ConnectivityProblemKind.NotReachable, ConnectivitySeverity.Error,
                    $"No inbound connection from the internet in the last {minutes} and no port mapping: forward TCP and UDP port {port} on your router to this machine, or enable UPnP or NAT-PMP/PCP on the router."));
            }
            else if (mapping.Enabled && mapping.LastError is { } error)
            {
                problems.Add(new(ConnectivityProblemKind.PortMappingFailed, ConnectivitySeverity.Warning,
                    $"The router did not map port {port} ({error}): enable UPnP or NAT-PMP/PCP on the router, or forward TCP and UDP port {port} to this machine by hand."));
            }
            else if (!mapping.Enabled)
            {
                problems.Add(new(ConnectivityProblemKind.PortMappingOff, ConnectivitySeverity.Notice,
                    $"Port mapping is off and no peer from the internet has connected in yet: unless this machine has a public address, forward TCP and UDP port {port} on your router to it."));
            }
        }
        else if (mapped && expectsInbound && !tcpIn && !utpIn)
        {
            problems.Add(new(ConnectivityProblemKind.MappedButNoInbound, ConnectivitySeverity.Warning,
                $"Port {port} is mapped on the router by {protocol}, yet no peer from the internet connected in during the last {minutes}: a firewall on this machine or a second router may block it; allow TCP and UDP port {port} in the firewall."));
        }

        if (mapped && mapping.ExternalTcpPort != 0 && mapping.ExternalTcpPort != port)
        {
            problems.Add(new(ConnectivityProblemKind.MappedPortDiffers, ConnectivitySeverity.Warning,
                $"The router forwards external port {mapping.ExternalTcpPort}, not {port}, and peers are told {port}: free port {port} on the router (another device may hold it) or choose another port with --port."));
        }

        if (mapping.ExternalAddress is { } routerSays && NetworkScopes.Of(routerSays) != NetworkScope.Global)
        {
            problems.Add(new(ConnectivityProblemKind.DoubleNat, ConnectivitySeverity.Warning,
                $"The router's external address {routerSays} is not a public one: it sits behind another router or your provider's NAT, so its mapping does not reach the internet; forward port {port} on the outer router too, or ask your provider for a public address."));
        }
        else if (mapping.ExternalAddress is { } external
            && r.ExternalAddresses.FirstOrDefault(a => a.Source != ExternalAddressSource.PortMapping && a.Address.AddressFamily == external.AddressFamily) is { } seen
            && !seen.Address.Equals(external))
        {
            string by = seen.Source switch { ExternalAddressSource.Dht => "DHT nodes", ExternalAddressSource.Tracker => "trackers", _ => "peers" };
            problems.Add(new(ConnectivityProblemKind.ExternalAddressMismatch, ConnectivitySeverity.Warning,
                $"The router says the external address is {external}, but {by} see {seen.Address}: traffic leaves through another route (a VPN, or a second router), so the mapping may not be the way in; forward port {port} where that address is."));
        }

        if (r.UtpIncoming && expectsInbound && tcpIn && !utpIn && r.InboundUtp.LastFromInternet is null)
        {
            problems.Add(new(ConnectivityProblemKind.NoInboundUtp, ConnectivitySeverity.Notice,
                $"Peers connect in over TCP but never over uTP: UDP port {port} looks blocked or not forwarded; forward and allow UDP port {port} as well as TCP."));
        }
    }

    /// <summary>A node-wide libp2p limit held at 90% or more, and refusals since start (the three largest named).</summary>
    private static void Libp2pLimits(ConnectivityReport r, List<ConnectivityProblem> problems)
    {
        if (r.Libp2pResources is not { } usage)
        {
            return;
        }

        Libp2p.Libp2pResourceLimits limits = usage.Limits;
        Libp2p.Libp2pScopeUsage held = usage.System;
        (string Name, long Held, long Limit)[] scopes =
        [
            (nameof(limits.MaxConnections), held.InboundConnections + held.OutboundConnections, limits.MaxConnections),
            (nameof(limits.MaxInboundConnections), held.InboundConnections, limits.MaxInboundConnections),
            (nameof(limits.MaxOutboundConnections), held.OutboundConnections, limits.MaxOutboundConnections),
            (nameof(limits.MaxInboundStreams), held.InboundStreams, limits.MaxInboundStreams),
            (nameof(limits.MaxOutboundStreams), held.OutboundStreams, limits.MaxOutboundStreams),
            (nameof(limits.MaxStreamMemory), held.Memory, limits.MaxStreamMemory),
        ];
        string[] near = [.. scopes.Where(s => s.Limit > 0 && s.Held * 10 >= s.Limit * 9).Select(s => $"{s.Name} ({s.Held:N0} of {s.Limit:N0})")];
        if (near.Length > 0)
        {
            problems.Add(new(ConnectivityProblemKind.Libp2pLimitNear, ConnectivitySeverity.Warning,
                $"libp2p is at 90% or more of its limits ({string.Join(", ", near)}): new peers and streams will be refused; raise Libp2pLimits in the node's options (the daemon's Node:Libp2pLimits) if this load is expected."));
        }

        long refused = usage.Refused.Values.Sum();
        if (refused > 0)
        {
            string top = string.Join(", ", usage.Refused.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(3).Select(p => $"{p.Key} {p.Value:N0}"));
            problems.Add(new(ConnectivityProblemKind.Libp2pLimitRefused, ConnectivitySeverity.Notice,
                $"libp2p refused {refused:N0} connection{(refused == 1 ? "" : "s")} or stream{(refused == 1 ? "" : "s")} over its limits since start ({top}): a peer opened more than allowed; if they are your own peers, raise those limits (Libp2pLimits)."));
        }
    }

    private static void Dht(ConnectivityReport r, int port, List<ConnectivityProblem> problems)
    {
        if (r.Dht is null && r.Dht6 is null)
        {
            problems.Add(new(ConnectivityProblemKind.DhtOff, ConnectivitySeverity.Notice,
                "The DHT is off: magnet links and torrents without a working tracker find no peers; turn it on (leave out --no-dht)."));
            return;
        }

        foreach (DhtHealthReport? dht in new[] { r.Dht, r.Dht6 })
        {
            if (dht is null)
            {
                continue;
            }

            bool v6 = dht.Family == AddressFamily.InterNetworkV6;
            string name = v6 ? "The IPv6 DHT" : "The DHT";
            if (dht.Nodes == 0 && (dht.Bootstrap == DhtBootstrapState.NobodyAnswered || r.Uptime >= DhtJoinGrace))
            {
                problems.Add(v6
                    ? new(ConnectivityProblemKind.DhtNoNodes, ConnectivitySeverity.Notice,
                        $"{name} has no nodes: this machine may have no IPv6 route to the internet; nothing to do unless it should have one (then allow UDP port {port} over IPv6).")
                    : new(ConnectivityProblemKind.DhtNoNodes, ConnectivitySeverity.Error,
                        $"{name} has no nodes: no bootstrap node answered; check that this machine is online and that a firewall lets UDP port {port} out and its answers back in."));
            }
            else if (dht.Nodes > 0 && r.Uptime >= Window && !Recent(r, dht.LastLookupAnswered))
            {
                problems.Add(new(ConnectivityProblemKind.DhtNoRecentLookup, v6 ? ConnectivitySeverity.Notice : ConnectivitySeverity.Warning,
                    $"{name} has {dht.Nodes} nodes but none answered a lookup in the last {Window.TotalMinutes:0} minutes: the network may have gone away, or a firewall now drops UDP on port {port}; check the connection."));
            }
        }
    }

    private static bool Recent(ConnectivityReport r, DateTimeOffset? at) => at is { } t && r.At - t <= Window;
}
