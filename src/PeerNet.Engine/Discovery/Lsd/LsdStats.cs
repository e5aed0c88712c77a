namespace PeerNet.Discovery.Lsd;

/// <summary>A snapshot of an <see cref="LsdService"/>'s traffic (for status, metrics and tests).</summary>
/// <param name="AnnouncesSent">Datagrams sent, counting each group separately.</param>
/// <param name="InfoHashesAnnounced">Info-hashes those datagrams carried.</param>
/// <param name="DatagramsReceived">Datagrams that arrived, before any check.</param>
/// <param name="DroppedRateLimited">Dropped unread: over the per-address or overall rate.</param>
/// <param name="DroppedQueueFull">Dropped unread: the queue to the reader was full.</param>
/// <param name="Refused">Read and refused by the BEP 14 parser.</param>
/// <param name="OwnIgnored">Our own announces, heard back through multicast loopback (same cookie).</param>
/// <param name="PeersFound">Peers handed to a registered torrent or metadata fetch.</param>
internal sealed record LsdStats(
    long AnnouncesSent,
    long InfoHashesAnnounced,
    long DatagramsReceived,
    long DroppedRateLimited,
    long DroppedQueueFull,
    long Refused,
    long OwnIgnored,
    long PeersFound);
