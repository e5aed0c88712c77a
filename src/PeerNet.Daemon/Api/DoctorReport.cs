using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PeerNet.Daemon.Api;

/// <summary>
/// A <see cref="ConnectivityReport"/> as JSON shows it: what <c>GET /api/v1/node/doctor</c> returns and
/// <c>peernet doctor --json</c> prints (one shape for both, so the CLI can show a daemon's report too). Addresses are
/// text, times ISO 8601 (null for never), enums their names.
/// </summary>
/// <param name="At">When the report was made.</param>
/// <param name="UptimeSeconds">How long the node had been running.</param>
/// <param name="ListenPort">The port number, TCP and UDP alike.</param>
/// <param name="Tcp">The TCP listener's endpoints.</param>
/// <param name="Udp">The UDP sockets' endpoints (DHT, uTP, UDP trackers), one per family.</param>
/// <param name="UtpIncoming">Whether incoming uTP is accepted.</param>
/// <param name="PortMapping">The port mapping on the router.</param>
/// <param name="ExternalAddresses">Every external address the node was told of, and by whom.</param>
/// <param name="InboundTcp">Incoming TCP connections.</param>
/// <param name="InboundUtp">Incoming uTP connections.</param>
/// <param name="Utp">uTP's connections, half-open table and SYN counts.</param>
/// <param name="Holepunch">BEP 55 holepunching since start: rendezvous relayed for others, and this node's own asks and dials.</param>
/// <param name="Dht">The IPv4 DHT's health, or null without one.</param>
/// <param name="Dht6">The IPv6 DHT's health, or null without one.</param>
/// <param name="Libp2pListenAddresses">libp2p multiaddrs.</param>
/// <param name="Libp2pConnectedPeers">libp2p peers connected now.</param>
/// <param name="Libp2pResources">The libp2p resource manager: held against each node-wide limit, and refusals since start; null without libp2p.</param>
/// <param name="Connections">BitTorrent peer connections open now.</param>
/// <param name="Torrents">Torrents in the node.</param>
/// <param name="Problems">The problems found, most serious first, each with what to do.</param>
public sealed record DoctorReport(
    DateTimeOffset At,
    double UptimeSeconds,
    int ListenPort,
    IReadOnlyList<string> Tcp,
    IReadOnlyList<string> Udp,
    bool UtpIncoming,
    DoctorPortMapping PortMapping,
    IReadOnlyList<DoctorExternalAddress> ExternalAddresses,
    DoctorInbound InboundTcp,
    DoctorInbound InboundUtp,
    DoctorUtp Utp,
    HolepunchReport Holepunch,
    DoctorDht? Dht,
    DoctorDht? Dht6,
    IReadOnlyList<string> Libp2pListenAddresses,
    int Libp2pConnectedPeers,
    DoctorLibp2pResources? Libp2pResources,
    int Connections,
    int Torrents,
    IReadOnlyList<DoctorProblem> Problems)
{
    /// <summary>The options the report is written and read with: camelCase names, enums as names, indented.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The JSON shape of <paramref name="report"/>.</summary>
    public static DoctorReport From(ConnectivityReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        PortMappingStatus m = report.PortMapping;
        return new DoctorReport(
            report.At,
            Math.Round(report.Uptime.TotalSeconds, 1),
            report.ListenPort,
            [.. report.TcpEndPoints.Select(e => e.ToString())],
            [.. report.UdpEndPoints.Select(e => e.ToString())],
            report.UtpIncoming,
            new DoctorPortMapping(m.Enabled, m.Protocol, m.Gateway?.ToString(), m.ExternalAddress?.ToString(), m.ExternalTcpPort, m.ExternalUdpPort, m.ExpiresAt, DisplayText.Sanitize(m.LastError, 500)),
            [.. report.ExternalAddresses.Select(a => new DoctorExternalAddress(a.Address.ToString(), a.Source, a.Reports))],
            InboundOf(report.InboundTcp),
            InboundOf(report.InboundUtp),
            DoctorUtp.From(report.Utp),
            report.Holepunch,
            DhtOf(report.Dht),
            DhtOf(report.Dht6),
            report.Libp2pListenAddresses,
            report.Libp2pConnectedPeers,
            DoctorLibp2pResources.From(report.Libp2pResources),
            report.Connections,
            report.Torrents,
            [.. report.Problems.Select(p => new DoctorProblem(p.Kind, p.Severity, p.Message))]);
    }

    private static DoctorInbound InboundOf(InboundReport r) => new(r.IPv4, r.IPv6, r.Last, r.LastFromInternet);

    private static DoctorDht? DhtOf(DhtHealthReport? d) => d is null ? null
        : new(d.Family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4", d.Nodes, d.GoodNodes, d.Bootstrap, d.LastLookupAnswered, d.Lookups);
}

/// <summary>The port mapping in a <see cref="DoctorReport"/> (see <see cref="PortMappingStatus"/>).</summary>
/// <param name="Enabled">Whether the node tries to map its port.</param>
/// <param name="Protocol">The protocol holding the mapping, <c>None</c> while none.</param>
/// <param name="Gateway">The gateway asked.</param>
/// <param name="ExternalAddress">The external address the router reported.</param>
/// <param name="ExternalTcpPort">The external TCP port, 0 while none.</param>
/// <param name="ExternalUdpPort">The external UDP port, 0 while none.</param>
/// <param name="ExpiresAt">When the lease runs out unless renewed.</param>
/// <param name="LastError">The last problem met.</param>
public sealed record DoctorPortMapping(bool Enabled, PortMappingProtocol Protocol, string? Gateway, string? ExternalAddress, int ExternalTcpPort, int ExternalUdpPort, DateTimeOffset? ExpiresAt, string? LastError);

/// <summary>An external address in a <see cref="DoctorReport"/>.</summary>
/// <param name="Address">The address.</param>
/// <param name="Source">Who told the node: <c>PortMapping</c>, <c>Dht</c> or <c>Peers</c>.</param>
/// <param name="Reports">How many said so.</param>
public sealed record DoctorExternalAddress(string Address, ExternalAddressSource Source, int Reports);

/// <summary>Incoming connections on one listener in a <see cref="DoctorReport"/>.</summary>
/// <param name="IPv4">From IPv4 addresses.</param>
/// <param name="IPv6">From IPv6 addresses.</param>
/// <param name="Last">The last one, from anywhere.</param>
/// <param name="LastFromInternet">The last one from an address on the internet.</param>
public sealed record DoctorInbound([property: JsonPropertyName("ipv4")] long IPv4, [property: JsonPropertyName("ipv6")] long IPv6, DateTimeOffset? Last, DateTimeOffset? LastFromInternet);

/// <summary>uTP in a <see cref="DoctorReport"/> (see <see cref="UtpReport"/>): what strangers' SYNs cost the node, and the limits.</summary>
/// <param name="Connections">uTP connections open now.</param>
/// <param name="Accepted">Incoming connections established since start.</param>
/// <param name="HalfOpen">Half-open entries now.</param>
/// <param name="HalfOpenPeak">The most half-open entries held at once since start.</param>
/// <param name="MaxHalfOpen">The half-open table's size.</param>
/// <param name="MaxHalfOpenPerAddress">Half-open entries from one address at most.</param>
/// <param name="SynsReceived">SYNs that named no connection.</param>
/// <param name="SynsRefused">SYNs dropped unanswered: the table, or the address's share, was full.</param>
/// <param name="SynBytes">uTP bytes of those SYNs.</param>
/// <param name="SynAnswers">Answers sent to SYNs.</param>
/// <param name="SynAnswerBytes">uTP bytes of the answers (never more than <paramref name="SynBytes"/>).</param>
public sealed record DoctorUtp(int Connections, long Accepted, int HalfOpen, int HalfOpenPeak, int MaxHalfOpen, int MaxHalfOpenPerAddress,
    long SynsReceived, long SynsRefused, long SynBytes, long SynAnswers, long SynAnswerBytes)
{
    /// <summary>The JSON shape of <paramref name="u"/>.</summary>
    public static DoctorUtp From(UtpReport u)
    {
        ArgumentNullException.ThrowIfNull(u);
        return new DoctorUtp(u.Connections, u.Accepted, u.HalfOpen, u.HalfOpenPeak, u.MaxHalfOpen, u.MaxHalfOpenPerAddress, u.SynsReceived, u.SynsRefused, u.SynBytes, u.SynAnswers, u.SynAnswerBytes);
    }
}

/// <summary>One DHT node's health in a <see cref="DoctorReport"/>.</summary>
/// <param name="Family"><c>IPv4</c> or <c>IPv6</c>.</param>
/// <param name="Nodes">Nodes in the routing table.</param>
/// <param name="GoodNodes">Nodes heard from in the last 15 minutes.</param>
/// <param name="Bootstrap">Where joining stands.</param>
/// <param name="LastLookupAnswered">When some node last answered a lookup.</param>
/// <param name="Lookups">Lookups started.</param>
public sealed record DoctorDht(string Family, int Nodes, int GoodNodes, Discovery.Dht.DhtBootstrapState Bootstrap, DateTimeOffset? LastLookupAnswered, long Lookups);

/// <summary>A problem in a <see cref="DoctorReport"/>: what is wrong and what to do, in one sentence.</summary>
/// <param name="Kind">What kind of problem.</param>
/// <param name="Severity"><c>Error</c>, <c>Warning</c> or <c>Notice</c>.</param>
/// <param name="Message">The sentence.</param>
public sealed record DoctorProblem(ConnectivityProblemKind Kind, ConnectivitySeverity Severity, string Message);

/// <summary>The libp2p resource manager in a <see cref="DoctorReport"/> and <c>GET /api/v1/libp2p/resources</c>: each node-wide limit with what is held against it, and the refusals since start by limit.</summary>
/// <param name="Limits">Each node-wide limit (a <see cref="Libp2p.Libp2pResourceLimits"/> name) with what is held now.</param>
/// <param name="TransientStreams">Streams whose protocol is not agreed yet.</param>
/// <param name="Refused">Refusals since the node started, by limit.</param>
public sealed record DoctorLibp2pResources(IReadOnlyList<DoctorLimit> Limits, int TransientStreams, IReadOnlyDictionary<string, long> Refused)
{
    /// <summary>The JSON shape of <paramref name="usage"/>, or null.</summary>
    public static DoctorLibp2pResources? From(Libp2p.Libp2pResourceUsage? usage)
    {
        if (usage is null)
        {
            return null;
        }

        Libp2p.Libp2pResourceLimits l = usage.Limits;
        Libp2p.Libp2pScopeUsage s = usage.System;
        return new DoctorLibp2pResources(
            [
                new(nameof(l.MaxConnections), s.InboundConnections + s.OutboundConnections, l.MaxConnections),
                new(nameof(l.MaxInboundConnections), s.InboundConnections, l.MaxInboundConnections),
                new(nameof(l.MaxOutboundConnections), s.OutboundConnections, l.MaxOutboundConnections),
                new(nameof(l.MaxInboundStreams), s.InboundStreams, l.MaxInboundStreams),
                new(nameof(l.MaxOutboundStreams), s.OutboundStreams, l.MaxOutboundStreams),
                new(nameof(l.MaxStreamMemory), s.Memory, l.MaxStreamMemory),
            ],
            usage.TransientStreams,
            usage.Refused);
    }
}

/// <summary>One node-wide libp2p limit and what is held against it.</summary>
/// <param name="Name">The <see cref="Libp2p.Libp2pResourceLimits"/> property.</param>
/// <param name="Held">What the node holds now (connections, streams, or bytes of stream memory).</param>
/// <param name="Limit">The limit.</param>
public sealed record DoctorLimit(string Name, long Held, long Limit);
