using System.Diagnostics.Metrics;

namespace PeerNet.Diagnostics;

/// <summary>
/// A node's instruments, on a meter named <c>PeerNet</c> made by the node's <see cref="IMeterFactory"/> (or one of its
/// own when none is given): read them with <c>dotnet-counters monitor --counters PeerNet</c>, a
/// <see cref="MeterListener"/>, or an OpenTelemetry exporter. Counting costs a branch when nothing listens. No static
/// meter: two nodes in one process count apart, each under its factory's tags.
/// </summary>
internal sealed class PeerNetMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "PeerNet";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    public PeerNetMetrics(IMeterFactory? factory = null)
    {
        _ownsMeter = factory is null;
        _meter = factory?.Create(new MeterOptions(MeterName)) ?? new Meter(MeterName);
        Downloaded = _meter.CreateCounter<long>("peernet.transfer.downloaded", "By", "Payload bytes received from peers.");
        Uploaded = _meter.CreateCounter<long>("peernet.transfer.uploaded", "By", "Payload bytes sent to peers.");
        PiecesVerified = _meter.CreateCounter<long>("peernet.pieces.verified", "{piece}", "Pieces downloaded and verified.");
        PiecesFailed = _meter.CreateCounter<long>("peernet.pieces.failed", "{piece}", "Pieces that failed their hash check.");
        PeersBanned = _meter.CreateCounter<long>("peernet.peers.banned", "{peer}", "Peers banned for sending bad data or hashes.");
        PeersRefused = _meter.CreateCounter<long>("peernet.peers.refused", "{peer}", "Peer addresses and connections refused by the dial policy, tagged with the reason.");
        PeersOverLimit = _meter.CreateCounter<long>("peernet.peers.over_limit", "{peer}", "Peers closed for going over a per-peer budget, tagged with the limit.");
        Dials = _meter.CreateCounter<long>("peernet.peers.dials", "{connection}", "Outgoing connection attempts started.");
        PeersConnected = _meter.CreateUpDownCounter<long>("peernet.peers.connected", "{peer}", "Peer connections attached to torrents.");
        ConnectionsUnrouted = _meter.CreateCounter<long>("peernet.connections.unrouted", "{connection}", "Incoming connections closed before any protocol took them, tagged with the reason (unknown, too_long, timeout, closed).");
        DatagramsDropped = _meter.CreateCounter<long>("peernet.datagrams.dropped", "{datagram}", "Datagrams on the node's UDP port dropped, tagged with the reason (unknown, queue_full, no_owner).");
        EncryptionHandshakes = _meter.CreateCounter<long>("peernet.encryption.handshakes", "{connection}", "MSE handshakes, tagged with the direction (in, out) and the result: the method agreed (rc4, plaintext) or why it failed (timeout, closed, unknown_torrent, sync_not_found, plaintext_refused, ...).");
        Libp2pHandshakes = _meter.CreateCounter<long>("peernet.libp2p.handshakes", "{connection}", "libp2p connection upgrades (multistream-select, then Noise), tagged with the direction (in, out) and the result: ok, or why it failed (timeout, closed, multistream, bad_signature, peer_id_mismatch, unsupported_key_type, bad_ciphertext, ...).");
        Libp2pLimitRefusals = _meter.CreateCounter<long>("peernet.libp2p.limits.refused", "{refusal}", "libp2p connections closed and streams reset or refused by the resource manager, tagged with the limit (a Libp2pResourceLimits name: MaxInboundStreamsPerPeer, MaxStreamMemory, ...) and the direction (in, out).");
        HolepunchMessages = _meter.CreateCounter<long>("peernet.holepunch.messages", "{message}", "BEP 55 ut_holepunch messages, tagged with the direction (in, out), the type (rendezvous, connect, error) and for errors the code (no_such_peer, not_connected, no_support, no_self).");
        HolepunchConnects = _meter.CreateCounter<long>("peernet.holepunch.connects", "{connection}", "uTP dials made because a relay sent a ut_holepunch connect, tagged with the result (connected, failed).");
        LsdAnnouncesSent = _meter.CreateCounter<long>("peernet.lsd.announces.sent", "{datagram}", "BEP 14 announces multicast.");
        LsdDatagramsDropped = _meter.CreateCounter<long>("peernet.lsd.datagrams.dropped", "{datagram}", "Datagrams on the LSD port dropped: over a rate, queue full, or refused.");
        LsdPeersFound = _meter.CreateCounter<long>("peernet.lsd.peers.found", "{peer}", "Peers found by local service discovery.");
    }

    public Counter<long> Downloaded { get; }

    public Counter<long> Uploaded { get; }

    public Counter<long> PiecesVerified { get; }

    public Counter<long> PiecesFailed { get; }

    public Counter<long> PeersBanned { get; }

    public Counter<long> PeersRefused { get; }

    public Counter<long> PeersOverLimit { get; }

    public Counter<long> Dials { get; }

    public UpDownCounter<long> PeersConnected { get; }

    public Counter<long> ConnectionsUnrouted { get; }

    public Counter<long> DatagramsDropped { get; }

    public Counter<long> EncryptionHandshakes { get; }

    /// <summary>Counts an MSE handshake in <paramref name="direction"/> with its <paramref name="result"/>.</summary>
    public void Encryption(string direction, string result) => EncryptionHandshakes.Add(1, new KeyValuePair<string, object?>("direction", direction), new KeyValuePair<string, object?>("result", result));

    public Counter<long> Libp2pHandshakes { get; }

    /// <summary>Counts a libp2p upgrade in <paramref name="direction"/> with its <paramref name="result"/>.</summary>
    public void Libp2p(string direction, string result) => Libp2pHandshakes.Add(1, new KeyValuePair<string, object?>("direction", direction), new KeyValuePair<string, object?>("result", result));

    public Counter<long> Libp2pLimitRefusals { get; }

    /// <summary>Counts a refusal of the libp2p resource manager over <paramref name="limit"/> in <paramref name="direction"/>.</summary>
    public void Libp2pLimit(string limit, string direction) => Libp2pLimitRefusals.Add(1, new KeyValuePair<string, object?>("limit", limit), new KeyValuePair<string, object?>("direction", direction));

    public Counter<long> HolepunchMessages { get; }

    public Counter<long> HolepunchConnects { get; }

    /// <summary>Counts a ut_holepunch message sent or received.</summary>
    public void Holepunch(string direction, PeerWire.HolepunchMessage message)
    {
        if (!HolepunchMessages.Enabled)
        {
            return;
        }

        string type = message.Type switch
        {
            PeerWire.HolepunchMessageType.Rendezvous => "rendezvous",
            PeerWire.HolepunchMessageType.Connect => "connect",
            _ => "error",
        };
        HolepunchMessages.Add(1, new KeyValuePair<string, object?>("direction", direction), new KeyValuePair<string, object?>("type", type), new KeyValuePair<string, object?>("code", PeerWire.HolepunchErrors.Tag(message.Error)));
    }

    /// <summary>Counts a holepunch dial's outcome.</summary>
    public void HolepunchConnect(bool connected) => HolepunchConnects.Add(1, new KeyValuePair<string, object?>("result", connected ? "connected" : "failed"));

    public Counter<long> LsdAnnouncesSent { get; }

    public Counter<long> LsdDatagramsDropped { get; }

    public Counter<long> LsdPeersFound { get; }

    /// <summary>Counts a refusal with its reason.</summary>
    public void Refused(string reason) => PeersRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Counts a peer closed for going over <paramref name="limit"/>.</summary>
    public void OverLimit(string limit) => PeersOverLimit.Add(1, new KeyValuePair<string, object?>("limit", limit));

    /// <summary>Counts an incoming connection no protocol took.</summary>
    public void Unrouted(Transport.UnroutedReason reason) => ConnectionsUnrouted.Add(1, new KeyValuePair<string, object?>("reason", reason switch
    {
        Transport.UnroutedReason.TooLong => "too_long",
        Transport.UnroutedReason.Timeout => "timeout",
        Transport.UnroutedReason.Closed => "closed",
        _ => "unknown",
    }));

    /// <summary>Counts a datagram the node's UDP port dropped.</summary>
    public void Dropped(Transport.DatagramDropReason reason) => DatagramsDropped.Add(1, new KeyValuePair<string, object?>("reason", reason switch
    {
        Transport.DatagramDropReason.QueueFull => "queue_full",
        Transport.DatagramDropReason.NoOwner => "no_owner",
        _ => "unknown",
    }));

    /// <summary>Disposes the meter if it is the node's own (a factory's meters are the factory's to dispose).</summary>
    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
