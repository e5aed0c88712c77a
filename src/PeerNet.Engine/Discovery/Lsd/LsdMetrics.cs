using System.Diagnostics.Metrics;

namespace PeerNet.Discovery.Lsd;

/// <summary>Local service discovery's instruments on the <c>PeerNet</c> meter (totals over every session in the process).</summary>
internal static class LsdMetrics
{
    private static readonly Meter Meter = new(Swarm.SwarmMetrics.MeterName);

    public static readonly Counter<long> AnnouncesSent = Meter.CreateCounter<long>("peernet.lsd.announces.sent", "{datagram}", "BEP 14 announces multicast.");

    public static readonly Counter<long> DatagramsDropped = Meter.CreateCounter<long>("peernet.lsd.datagrams.dropped", "{datagram}", "Datagrams on the LSD port dropped: over a rate, queue full, or refused.");

    public static readonly Counter<long> PeersFound = Meter.CreateCounter<long>("peernet.lsd.peers.found", "{peer}", "Peers found by local service discovery.");
}
