using System.Net;
using System.Net.Sockets;
using PeerNet.Diagnostics;
using PeerNet.Discovery.Dht;
using PeerNet.Transport;

namespace PeerNet;

public sealed partial class PeerNetNode
{
    /// <summary>
    /// A report on the node's reachability now: listen addresses (TCP, UDP, whether uTP comes in), the port mapping and
    /// its protocol, every external address the node was told of and by whom (router, DHT, peers' <c>yourip</c>), incoming
    /// TCP and uTP connections (how many, per family, and when the last came, from anywhere and from the internet), each
    /// DHT node's table and last answered lookup, libp2p's addresses and peers, and one sentence per problem found with
    /// what to do about it. Cheap (no network traffic); what <c>peernet doctor</c> and the daemon's
    /// <c>GET /api/v1/node/doctor</c> show.
    /// </summary>
    public ConnectivityReport Diagnose()
    {
        ConnectivityTracker tracker = _session.Connectivity;
        PortMappingStatus mapping = PortMapping;
        var external = new List<ExternalAddressReport>();
        if (mapping.ExternalAddress is { } routerSays)
        {
            external.Add(new ExternalAddressReport(routerSays, ExternalAddressSource.PortMapping, 1));
        }

        foreach (AddressFamily family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            if (tracker.TrackersSee(family) is { } trackers)
            {
                external.Add(new ExternalAddressReport(trackers.Address, ExternalAddressSource.Tracker, trackers.Votes));
            }
        }

        foreach (DhtNode? dht in new[] { _dht, _dht6 })
        {
            if (dht?.ExternalAddress is { } dhtSays)
            {
                external.Add(new ExternalAddressReport(dhtSays, ExternalAddressSource.Dht, 1));
            }
        }

        foreach (AddressFamily family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            if (tracker.PeersSee(family) is { } peers)
            {
                external.Add(new ExternalAddressReport(peers.Address, ExternalAddressSource.Peers, peers.Votes));
            }
        }

        var facts = new ConnectivityReport
        {
            At = _session.Time.GetUtcNow(),
            StartedAt = tracker.StartedAt,
            ListenPort = ListenPort,
            TcpEndPoints = _session.LocalEndPoint is { } tcp ? [tcp] : [],
            UdpEndPoints = [.. _datagrams.Select(d => d.LocalEndPoint)],
            UtpIncoming = Utp.Count > 0 && Options.Utp.Incoming,
            PortMapping = mapping,
            ExternalAddresses = external,
            InboundTcp = Inbound(tracker, InboundTransport.Tcp),
            InboundUtp = Inbound(tracker, InboundTransport.Utp),
            Utp = UtpOf(Utp),
            Dht = Health(_dht),
            Dht6 = Health(_dht6),
            Libp2pListenAddresses = Libp2p is { } libp2p ? [.. libp2p.ListenAddresses.Select(a => a.ToString())] : [],
            Libp2pConnectedPeers = Libp2p?.ConnectedPeers.Count ?? 0,
            Libp2pResources = Libp2p?.Resources,
            Connections = _session.ConnectionCount,
            Torrents = Torrents.Count,
            Holepunch = new HolepunchReport
            {
                RendezvousReceived = _session.Holepunch.RendezvousReceived,
                Relayed = _session.Holepunch.Relayed,
                ErrorsSent = _session.Holepunch.ErrorsSent,
                RateLimited = _session.Holepunch.RateLimited,
                RendezvousSent = _session.Holepunch.RendezvousSent,
                ErrorsReceived = _session.Holepunch.ErrorsReceived,
                ConnectsReceived = _session.Holepunch.ConnectsReceived,
                Connected = _session.Holepunch.Connected,
                ConnectFailed = _session.Holepunch.ConnectFailed,
            },
        };
        return facts with { Problems = ConnectivityAdvice.Find(facts) };
    }

    /// <summary>
    /// The public address of <paramref name="family"/> the router mapped for us, else the one DHT nodes of that family
    /// agree on; null for neither (the session's <see cref="ConnectivityTracker.ExternalAddress"/> then asks trackers
    /// and peers).
    /// </summary>
    private IPAddress? LearnedAddress(AddressFamily family)
    {
        if (PortMapping.ExternalAddress is { } router && router.AddressFamily == family && NetworkScopes.Of(router) == NetworkScope.Global)
        {
            return router;
        }

        DhtNode? dht = family == AddressFamily.InterNetwork ? _dht : _dht6;
        return dht?.ExternalAddress is { } voted && voted.AddressFamily == family && NetworkScopes.Of(voted) == NetworkScope.Global ? voted : null;
    }

    private static InboundReport Inbound(ConnectivityTracker tracker, InboundTransport transport)
    {
        (long v4, long v6, DateTimeOffset? last, DateTimeOffset? fromInternet) = tracker.InboundOn(transport);
        return new InboundReport { IPv4 = v4, IPv6 = v6, Last = last, LastFromInternet = fromInternet };
    }

    private static UtpReport UtpOf(IReadOnlyList<UtpSocketManager> managers) => new()
    {
        Connections = managers.Sum(m => m.ConnectionCount),
        Accepted = managers.Sum(m => m.AcceptedCount),
        HalfOpen = managers.Sum(m => m.HalfOpenCount),
        HalfOpenPeak = managers.Count == 0 ? 0 : managers.Max(m => m.HalfOpenPeak),
        MaxHalfOpen = managers.Count == 0 ? 0 : managers[0].Settings.MaxHalfOpen,
        MaxHalfOpenPerAddress = managers.Count == 0 ? 0 : managers[0].Settings.MaxHalfOpenPerAddress,
        SynsReceived = managers.Sum(m => m.SynsReceived),
        SynsRefused = managers.Sum(m => m.HalfOpenRefused),
        SynBytes = managers.Sum(m => m.SynBytes),
        SynAnswers = managers.Sum(m => m.SynAnswers),
        SynAnswerBytes = managers.Sum(m => m.SynAnswerBytes),
    };

    private static DhtHealthReport? Health(DhtNode? dht)
    {
        if (dht is null)
        {
            return null;
        }

        DhtStats stats = dht.GetStats();
        return new DhtHealthReport
        {
            Family = dht.Family,
            Nodes = stats.Nodes,
            GoodNodes = stats.GoodNodes,
            Bootstrap = stats.Bootstrap,
            LastLookupAnswered = stats.LastLookupAnswered,
            Lookups = stats.Lookups,
        };
    }
}
