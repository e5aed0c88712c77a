using System.Net;
using System.Net.Sockets;
using PeerNet.Discovery.Dht;

namespace PeerNet.Engine.Tests.Diagnostics;

/// <summary>The doctor's advice: a table of reports (a healthy node, each changed in one way or a few) and the problems each must show.</summary>
public sealed class ConnectivityAdviceTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A node two hours up with three torrents, its port mapped by NAT-PMP, peers connecting in over TCP and uTP, both DHTs well.</summary>
    private static readonly ConnectivityReport Healthy = new()
    {
        At = Now,
        StartedAt = Now.AddHours(-2),
        ListenPort = 6881,
        TcpEndPoints = [new IPEndPoint(IPAddress.IPv6Any, 6881)],
        UdpEndPoints = [new IPEndPoint(IPAddress.Any, 6881), new IPEndPoint(IPAddress.IPv6Any, 6881)],
        UtpIncoming = true,
        PortMapping = new PortMappingStatus
        {
            Enabled = true,
            Gateway = IPAddress.Parse("192.168.1.1"),
            Protocol = PortMappingProtocol.NatPmp,
            ExternalAddress = IPAddress.Parse("203.0.113.5"),
            ExternalTcpPort = 6881,
            ExternalUdpPort = 6881,
        },
        ExternalAddresses =
        [
            new(IPAddress.Parse("203.0.113.5"), ExternalAddressSource.PortMapping, 1),
            new(IPAddress.Parse("203.0.113.5"), ExternalAddressSource.Dht, 1),
        ],
        InboundTcp = new InboundReport { IPv4 = 40, Last = Now.AddMinutes(-2), LastFromInternet = Now.AddMinutes(-2) },
        InboundUtp = new InboundReport { IPv4 = 25, Last = Now.AddMinutes(-4), LastFromInternet = Now.AddMinutes(-4) },
        Dht = new DhtHealthReport { Family = AddressFamily.InterNetwork, Nodes = 180, GoodNodes = 150, Bootstrap = DhtBootstrapState.Joined, LastLookupAnswered = Now.AddMinutes(-1) },
        Dht6 = new DhtHealthReport { Family = AddressFamily.InterNetworkV6, Nodes = 40, GoodNodes = 30, Bootstrap = DhtBootstrapState.Joined, LastLookupAnswered = Now.AddMinutes(-3) },
        Torrents = 3,
        Libp2pResources = new PeerNet.Libp2p.Libp2pResourceUsage
        {
            Limits = PeerNet.Libp2p.Libp2pResourceLimits.Default,
            System = new() { InboundConnections = 10, OutboundConnections = 5, InboundStreams = 20, OutboundStreams = 8, Memory = 28 * 256 * 1024 },
            Peers = new Dictionary<PeerNet.Libp2p.Libp2pPeerId, PeerNet.Libp2p.Libp2pScopeUsage>(),
            Protocols = new Dictionary<string, PeerNet.Libp2p.Libp2pScopeUsage>(),
            Refused = new Dictionary<string, long>(),
        },
    };

    private static readonly PortMappingStatus NoMapping = new() { Enabled = true, Gateway = IPAddress.Parse("192.168.1.1") };

    private static readonly InboundReport OnlyFromLan = new() { IPv4 = 2, Last = Now.AddMinutes(-1) };

    private static readonly Dictionary<string, (Func<ConnectivityReport, ConnectivityReport> Change, ConnectivityProblemKind[] Expected)> Cases = new()
    {
        ["healthy"] = (r => r, []),
        ["listening on loopback only"] = (r => r with { TcpEndPoints = [new IPEndPoint(IPAddress.Loopback, 6881)], PortMapping = PortMappingStatus.Off, InboundTcp = OnlyFromLan, InboundUtp = new() },
            [ConnectivityProblemKind.LoopbackOnly]),
        ["no mapping, nothing from the internet for 30 minutes"] = (r => r with { PortMapping = NoMapping, InboundTcp = OnlyFromLan, InboundUtp = new() },
            [ConnectivityProblemKind.NotReachable]),
        ["no mapping, the last inbound from the internet 40 minutes ago"] = (r => r with { PortMapping = NoMapping, InboundTcp = new() { IPv4 = 1, Last = Now.AddMinutes(-40), LastFromInternet = Now.AddMinutes(-40) }, InboundUtp = new() },
            [ConnectivityProblemKind.NotReachable]),
        ["no mapping, but peers connect in (a public address or a forwarded port)"] = (r => r with { PortMapping = NoMapping }, []),
        ["young node, mapping failed"] = (r => Young(r) with { PortMapping = NoMapping with { LastError = "NAT-PMP: no answer from 192.168.1.1" }, InboundTcp = new(), InboundUtp = new() },
            [ConnectivityProblemKind.PortMappingFailed]),
        ["old node without torrents, mapping failed"] = (r => r with { Torrents = 0, PortMapping = NoMapping with { LastError = "UPnP: no device found" }, InboundTcp = new(), InboundUtp = new() },
            [ConnectivityProblemKind.PortMappingFailed]),
        ["young node, mapping off"] = (r => Young(r) with { PortMapping = PortMappingStatus.Off, InboundTcp = new(), InboundUtp = new() },
            [ConnectivityProblemKind.PortMappingOff]),
        ["young node, mapping still being tried"] = (r => Young(r) with { PortMapping = NoMapping, InboundTcp = new(), InboundUtp = new() }, []),
        ["mapped, yet nothing came in for 30 minutes"] = (r => r with { InboundTcp = OnlyFromLan, InboundUtp = new() },
            [ConnectivityProblemKind.MappedButNoInbound]),
        ["mapped to another external port"] = (r => r with { PortMapping = r.PortMapping with { Protocol = PortMappingProtocol.Upnp, ExternalTcpPort = 6999, ExternalUdpPort = 6999 } },
            [ConnectivityProblemKind.MappedPortDiffers]),
        ["the router's external address is carrier-grade NAT"] = (r => r with { PortMapping = r.PortMapping with { ExternalAddress = IPAddress.Parse("100.64.1.2") } },
            [ConnectivityProblemKind.DoubleNat]),
        ["the router's external address is private"] = (r => r with { PortMapping = r.PortMapping with { ExternalAddress = IPAddress.Parse("192.168.0.2") } },
            [ConnectivityProblemKind.DoubleNat]),
        ["the DHT sees another address than the router"] = (r => r with { ExternalAddresses = [new(IPAddress.Parse("203.0.113.5"), ExternalAddressSource.PortMapping, 1), new(IPAddress.Parse("198.51.100.7"), ExternalAddressSource.Dht, 1)] },
            [ConnectivityProblemKind.ExternalAddressMismatch]),
        ["peers see another address than the router"] = (r => r with { ExternalAddresses = [new(IPAddress.Parse("203.0.113.5"), ExternalAddressSource.PortMapping, 1), new(IPAddress.Parse("198.51.100.7"), ExternalAddressSource.Peers, 5)] },
            [ConnectivityProblemKind.ExternalAddressMismatch]),
        ["trackers see another address than the router"] = (r => r with { ExternalAddresses = [new(IPAddress.Parse("203.0.113.5"), ExternalAddressSource.PortMapping, 1), new(IPAddress.Parse("198.51.100.7"), ExternalAddressSource.Tracker, 2)] },
            [ConnectivityProblemKind.ExternalAddressMismatch]),
        ["an IPv6 address beside the router's IPv4 one is no mismatch"] = (r => r with { ExternalAddresses = [.. r.ExternalAddresses, new(IPAddress.Parse("2001:db8::5"), ExternalAddressSource.Peers, 3)] }, []),
        ["TCP comes in, uTP never"] = (r => r with { InboundUtp = new() },
            [ConnectivityProblemKind.NoInboundUtp]),
        ["TCP comes in, uTP off"] = (r => r with { InboundUtp = new(), UtpIncoming = false }, []),
        ["DHT off"] = (r => r with { Dht = null, Dht6 = null },
            [ConnectivityProblemKind.DhtOff]),
        ["nobody answered the DHT bootstrap"] = (r => Young(r) with { Dht = r.Dht! with { Nodes = 0, GoodNodes = 0, Bootstrap = DhtBootstrapState.NobodyAnswered, LastLookupAnswered = null } },
            [ConnectivityProblemKind.DhtNoNodes]),
        ["the DHT still joining a minute after start"] = (r => Young(r) with { Dht = r.Dht! with { Nodes = 0, GoodNodes = 0, Bootstrap = DhtBootstrapState.Running, LastLookupAnswered = null } }, []),
        ["the DHT empty ten minutes after start"] = (r => r with { StartedAt = Now.AddMinutes(-10), Dht = r.Dht! with { Nodes = 0, GoodNodes = 0, Bootstrap = DhtBootstrapState.Running } },
            [ConnectivityProblemKind.DhtNoNodes]),
        ["the IPv6 DHT empty (no IPv6 route)"] = (r => r with { Dht6 = r.Dht6! with { Nodes = 0, GoodNodes = 0, Bootstrap = DhtBootstrapState.NobodyAnswered, LastLookupAnswered = null } },
            [ConnectivityProblemKind.DhtNoNodes]),
        ["no DHT lookup answered for 45 minutes"] = (r => r with { Dht = r.Dht! with { LastLookupAnswered = Now.AddMinutes(-45) } },
            [ConnectivityProblemKind.DhtNoRecentLookup]),
        ["no DHT lookup ever answered, yet nodes in the table"] = (r => r with { Dht = r.Dht! with { LastLookupAnswered = null } },
            [ConnectivityProblemKind.DhtNoRecentLookup]),
        ["libp2p holding 95% of its inbound streams"] = (r => r with { Libp2pResources = r.Libp2pResources! with { System = r.Libp2pResources.System with { InboundStreams = r.Libp2pResources.Limits.MaxInboundStreams * 95 / 100 } } },
            [ConnectivityProblemKind.Libp2pLimitNear]),
        ["libp2p holding 80% of its stream memory is fine"] = (r => r with { Libp2pResources = r.Libp2pResources! with { System = r.Libp2pResources.System with { Memory = r.Libp2pResources.Limits.MaxStreamMemory * 8 / 10 } } }, []),
        ["libp2p refused streams since start"] = (r => r with { Libp2pResources = r.Libp2pResources! with { Refused = new Dictionary<string, long> { ["MaxInboundStreamsPerPeer"] = 12, ["MaxStreamMemoryPerPeer"] = 3 } } },
            [ConnectivityProblemKind.Libp2pLimitRefused]),
        ["no libp2p"] = (r => r with { Libp2pResources = null }, []),
        ["loopback and DHT off: the error first"] = (r => r with { TcpEndPoints = [new IPEndPoint(IPAddress.Loopback, 6881)], Dht = null, Dht6 = null },
            [ConnectivityProblemKind.LoopbackOnly, ConnectivityProblemKind.DhtOff]),
        ["unreachable and no DHT node: both"] = (r => r with { PortMapping = NoMapping, InboundTcp = new(), InboundUtp = new(), Dht = r.Dht! with { Nodes = 0, Bootstrap = DhtBootstrapState.NobodyAnswered } },
            [ConnectivityProblemKind.NotReachable, ConnectivityProblemKind.DhtNoNodes]),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    private static ConnectivityReport Young(ConnectivityReport r) => r with { StartedAt = Now.AddMinutes(-1) };

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Each_case_shows_its_problems_in_order_each_a_sentence_saying_what_to_do(string name)
    {
        (Func<ConnectivityReport, ConnectivityReport> change, ConnectivityProblemKind[] expected) = Cases[name];
        IReadOnlyList<ConnectivityProblem> problems = ConnectivityAdvice.Find(change(Healthy));

        Assert.Equal(expected, problems.Select(p => p.Kind));
        Assert.Equal(problems.OrderByDescending(p => p.Severity), problems);
        Assert.All(problems, p =>
        {
            Assert.EndsWith(".", p.Message, StringComparison.Ordinal);
            Assert.Contains(": ", p.Message, StringComparison.Ordinal); // what is wrong, then what to do
        });
    }

    [Fact]
    public void Every_kind_of_problem_has_a_case()
    {
        IEnumerable<ConnectivityProblemKind> covered = Cases.Values.SelectMany(c => c.Expected);
        Assert.Empty(Enum.GetValues<ConnectivityProblemKind>().Except(covered));
    }

    [Fact]
    public void The_sentences_name_the_port_the_protocol_and_the_routers_words()
    {
        ConnectivityReport unreachable = Healthy with { ListenPort = 51413, PortMapping = NoMapping, InboundTcp = new(), InboundUtp = new() };
        Assert.Equal(
            "No inbound connection from the internet in the last 30 minutes and no port mapping: forward TCP and UDP port 51413 on your router to this machine, or enable UPnP or NAT-PMP/PCP on the router.",
            Assert.Single(ConnectivityAdvice.Find(unreachable)).Message);

        ConnectivityReport upnp = Healthy with { PortMapping = Healthy.PortMapping with { Protocol = PortMappingProtocol.Upnp }, InboundTcp = new(), InboundUtp = new() };
        Assert.Contains("mapped on the router by UPnP", Assert.Single(ConnectivityAdvice.Find(upnp)).Message, StringComparison.Ordinal);

        ConnectivityReport refused = Young(Healthy) with { PortMapping = NoMapping with { LastError = "UPnP: error 718 ConflictInMappingEntry" }, InboundTcp = new(), InboundUtp = new() };
        Assert.Contains("(UPnP: error 718 ConflictInMappingEntry)", Assert.Single(ConnectivityAdvice.Find(refused)).Message, StringComparison.Ordinal);

        ConnectivityProblem dht6 = Assert.Single(ConnectivityAdvice.Find(Healthy with { Dht6 = Healthy.Dht6! with { Nodes = 0, Bootstrap = DhtBootstrapState.NobodyAnswered } }));
        Assert.Equal(ConnectivitySeverity.Notice, dht6.Severity); // a host without IPv6 is common, not an error

        ConnectivityProblem near = Assert.Single(ConnectivityAdvice.Find(Healthy with { Libp2pResources = Healthy.Libp2pResources! with { System = new() { InboundConnections = 100, OutboundConnections = 20 } } }));
        Assert.Contains("MaxConnections (120 of 128)", near.Message, StringComparison.Ordinal);
        ConnectivityProblem refusals = Assert.Single(ConnectivityAdvice.Find(Healthy with { Libp2pResources = Healthy.Libp2pResources! with { Refused = new Dictionary<string, long> { ["MaxStreamMemoryPerPeer"] = 3, ["MaxInboundStreamsPerPeer"] = 1200 } } }));
        Assert.Contains("refused 1,203 connections or streams", refusals.Message, StringComparison.Ordinal);
        Assert.Contains("(MaxInboundStreamsPerPeer 1,200, MaxStreamMemoryPerPeer 3)", refusals.Message, StringComparison.Ordinal);
    }
}
