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

    /// <summary>Each <see cref="Transport.UtpEnd"/>'s tag value.</summary>
    private static readonly string[] UtpEnds = ["closed", "reset", "timeout", "aborted", "unreachable"];

    private static readonly Transport.UtpEnd[] UtpCloseReasons = [Transport.UtpEnd.Closed, Transport.UtpEnd.Reset, Transport.UtpEnd.Timeout, Transport.UtpEnd.Aborted];

    private static readonly Transport.UtpEnd[] UtpConnectFailures = [Transport.UtpEnd.Reset, Transport.UtpEnd.Timeout, Transport.UtpEnd.Unreachable, Transport.UtpEnd.Aborted];

    private static readonly bool[] Directions = [false, true];

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

    /// <summary>
    /// The <c>peernet.utp.*</c> instruments over <paramref name="managers"/> (the node's, one per UDP socket), each
    /// measurement tagged with its socket's family (<c>ipv4</c>, <c>ipv6</c>). Observable: the counts are the managers'
    /// own, read when a listener asks, so the packet path pays no more than a field increment. Call once.
    /// </summary>
    public void ObserveUtp(IReadOnlyList<Transport.UtpSocketManager> managers)
    {
        if (managers.Count == 0)
        {
            return;
        }

        _meter.CreateObservableCounter("peernet.utp.syns.received", () => PerFamily(managers, m => m.SynsReceived), "{packet}", "uTP SYNs that named no connection of the node's (new ones, and repeats of a half-open one), answered or not.");
        _meter.CreateObservableCounter("peernet.utp.syns.answered", () => PerFamily(managers, m => m.SynAnswers), "{packet}", "Answers sent to uTP SYNs: a state packet no larger than the SYN, or a reset when incoming uTP is off.");
        _meter.CreateObservableCounter("peernet.utp.syns.refused", () => UtpSynsRefused(managers), "{packet}", "uTP SYNs refused, tagged with the reason: half_open_limit (the half-open table full), address_limit (the sender's address's share of it full), not_accepting (incoming uTP off, or stopping: answered with a rate-limited reset).");
        _meter.CreateObservableCounter("peernet.utp.syns.bytes", () => UtpSynBytes(managers), "By", "uTP bytes of the SYNs received (direction in) and of the answers to them (direction out; never more than in: no amplification).");
        _meter.CreateObservableGauge("peernet.utp.half_open", () => PerFamily(managers, m => (long)m.HalfOpenCount), "{entry}", "uTP half-open entries now: SYNs answered whose senders have not yet shown they receive at their address.");
        _meter.CreateObservableCounter("peernet.utp.half_open.expired", () => PerFamily(managers, m => Interlocked.Read(ref m.Counters.HalfOpenExpired)), "{entry}", "uTP half-open entries forgotten after the half-open timeout, our answer never acked (a forged source, or a lost answer).");
        _meter.CreateObservableCounter("peernet.utp.half_open.bad_acks", () => PerFamily(managers, m => Interlocked.Read(ref m.Counters.HalfOpenBadAcks)), "{packet}", "uTP packets naming a half-open entry that did not ack our answer to its SYN (their sender never saw it): dropped.");
        _meter.CreateObservableCounter("peernet.utp.connections.opened", () => UtpOpened(managers), "{connection}", "uTP connections established, tagged with the direction (in: the initiator acked our answer; out: our SYN was answered).");
        _meter.CreateObservableCounter("peernet.utp.connections.closed", () => UtpClosed(managers), "{connection}", "Established uTP connections ended, tagged with the direction (in, out) and the reason (closed, reset, timeout, aborted).");
        _meter.CreateObservableGauge("peernet.utp.connections", () => UtpOpen(managers), "{connection}", "uTP connections open now, tagged with the direction (in, out).");
        _meter.CreateObservableCounter("peernet.utp.connects.failed", () => UtpConnectsFailed(managers), "{connection}", "uTP connects that failed before their SYN was answered, tagged with the reason (refused, timeout, unreachable, aborted).");
        _meter.CreateObservableCounter("peernet.utp.packets.received", () => PerFamily(managers, m => Volatile.Read(ref m.Counters.PacketsReceived)), "{packet}", "Datagrams uTP received (data, acks, SYNs, resets; junk included).");
        _meter.CreateObservableCounter("peernet.utp.packets.sent", () => PerFamily(managers, m => Interlocked.Read(ref m.Counters.PacketsSent)), "{packet}", "Datagrams uTP sent (data, acks, SYNs, answers, resets).");
        _meter.CreateObservableCounter("peernet.utp.packets.dropped", () => PerFamily(managers, m => m.Dropped), "{packet}", "Datagrams uTP dropped: not valid uTP, or naming no connection.");
        _meter.CreateObservableCounter("peernet.utp.received", () => PerFamily(managers, m => Volatile.Read(ref m.Counters.BytesReceived)), "By", "uTP bytes received (UDP payload: headers, acks and data).");
        _meter.CreateObservableCounter("peernet.utp.sent", () => PerFamily(managers, m => Interlocked.Read(ref m.Counters.BytesSent)), "By", "uTP bytes sent (UDP payload: headers, acks and data).");
        _meter.CreateObservableCounter("peernet.utp.retransmissions", () => PerFamily(managers, m => Interlocked.Read(ref m.Counters.Retransmissions)), "{packet}", "uTP data and FIN packets sent again (lost by duplicate or selective acks, or after a timeout).");
        _meter.CreateObservableCounter("peernet.utp.timeouts", () => PerFamily(managers, m => Interlocked.Read(ref m.Counters.Timeouts)), "{timeout}", "uTP retransmission timeouts: no ack within an established connection's timeout (everything in flight resent), or a SYN resent.");
    }

    private static KeyValuePair<string, object?> FamilyOf(Transport.UtpSocketManager manager) =>
        new("family", manager.LocalEndPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4");

    private static IEnumerable<Measurement<long>> PerFamily(IReadOnlyList<Transport.UtpSocketManager> managers, Func<Transport.UtpSocketManager, long> value) =>
        managers.Select(m => new Measurement<long>(value(m), FamilyOf(m)));

    private static IEnumerable<Measurement<long>> UtpSynsRefused(IReadOnlyList<Transport.UtpSocketManager> managers) =>
        managers.SelectMany(m => new[]
        {
            new Measurement<long>(Interlocked.Read(ref m.Counters.SynsRefusedTableFull), FamilyOf(m), new("reason", "half_open_limit")),
            new Measurement<long>(Interlocked.Read(ref m.Counters.SynsRefusedAddressFull), FamilyOf(m), new("reason", "address_limit")),
            new Measurement<long>(Interlocked.Read(ref m.Counters.SynsRefusedNotAccepting), FamilyOf(m), new("reason", "not_accepting")),
        });

    private static IEnumerable<Measurement<long>> UtpSynBytes(IReadOnlyList<Transport.UtpSocketManager> managers) =>
        managers.SelectMany(m => new[]
        {
            new Measurement<long>(m.SynBytes, FamilyOf(m), new("direction", "in")),
            new Measurement<long>(m.SynAnswerBytes, FamilyOf(m), new("direction", "out")),
        });

    private static IEnumerable<Measurement<long>> UtpOpened(IReadOnlyList<Transport.UtpSocketManager> managers) =>
        managers.SelectMany(m => new[]
        {
            new Measurement<long>(m.AcceptedCount, FamilyOf(m), new("direction", "in")),
            new Measurement<long>(Interlocked.Read(ref m.Counters.OpenedOut), FamilyOf(m), new("direction", "out")),
        });

    private static IEnumerable<Measurement<long>> UtpOpen(IReadOnlyList<Transport.UtpSocketManager> managers) =>
        managers.SelectMany(m => new[]
        {
            new Measurement<long>(Math.Max(0, m.AcceptedCount - m.Counters.ClosedTotal(outgoing: false)), FamilyOf(m), new("direction", "in")),
            new Measurement<long>(Math.Max(0, Interlocked.Read(ref m.Counters.OpenedOut) - m.Counters.ClosedTotal(outgoing: true)), FamilyOf(m), new("direction", "out")),
        });

    private static IEnumerable<Measurement<long>> UtpClosed(IReadOnlyList<Transport.UtpSocketManager> managers) =>
        from m in managers
        from outgoing in Directions
        from end in UtpCloseReasons
        select new Measurement<long>(
            Interlocked.Read(ref m.Counters.Closed[((outgoing ? 1 : 0) * Transport.UtpCounters.Ends) + (int)end]),
            FamilyOf(m), new("direction", outgoing ? "out" : "in"), new("reason", UtpEnds[(int)end]));

    private static IEnumerable<Measurement<long>> UtpConnectsFailed(IReadOnlyList<Transport.UtpSocketManager> managers) =>
        from m in managers
        from end in UtpConnectFailures
        select new Measurement<long>(
            Interlocked.Read(ref m.Counters.ConnectsFailed[(int)end]),
            FamilyOf(m), new("reason", end == Transport.UtpEnd.Reset ? "refused" : UtpEnds[(int)end]));

    /// <summary>Disposes the meter if it is the node's own (a factory's meters are the factory's to dispose).</summary>
    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
