using System.Diagnostics.Metrics;

namespace PeerNet.Swarm;

/// <summary>
/// The swarm's instruments on the <c>PeerNet</c> meter (read them with <c>dotnet-counters monitor -n peernet
/// --counters PeerNet</c>, a <see cref="MeterListener"/>, or an OpenTelemetry exporter). Counting costs a branch
/// when nothing listens. Totals cover every torrent of every session in the process.
/// </summary>
internal static class SwarmMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "PeerNet";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Downloaded = Meter.CreateCounter<long>("peernet.transfer.downloaded", "By", "Payload bytes received from peers.");

    public static readonly Counter<long> Uploaded = Meter.CreateCounter<long>("peernet.transfer.uploaded", "By", "Payload bytes sent to peers.");

    public static readonly Counter<long> PiecesVerified = Meter.CreateCounter<long>("peernet.pieces.verified", "{piece}", "Pieces downloaded and verified.");

    public static readonly Counter<long> PiecesFailed = Meter.CreateCounter<long>("peernet.pieces.failed", "{piece}", "Pieces that failed their hash check.");

    public static readonly Counter<long> PeersBanned = Meter.CreateCounter<long>("peernet.peers.banned", "{peer}", "Peers banned for sending bad data or hashes.");

    public static readonly Counter<long> PeersRefused = Meter.CreateCounter<long>("peernet.peers.refused", "{peer}", "Peer addresses and connections refused by the dial policy, tagged with the reason.");

    public static readonly Counter<long> PeersOverLimit = Meter.CreateCounter<long>("peernet.peers.over_limit", "{peer}", "Peers closed for going over a per-peer budget, tagged with the limit.");

    public static readonly Counter<long> Dials = Meter.CreateCounter<long>("peernet.peers.dials", "{connection}", "Outgoing connection attempts started.");

    /// <summary>Counts a refusal with its reason.</summary>
    public static void Refused(string reason) => PeersRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Counts a peer closed for going over <paramref name="limit"/>.</summary>
    public static void OverLimit(string limit) => PeersOverLimit.Add(1, new KeyValuePair<string, object?>("limit", limit));

    public static readonly UpDownCounter<long> PeersConnected = Meter.CreateUpDownCounter<long>("peernet.peers.connected", "{peer}", "Peer connections attached to torrents.");
}
