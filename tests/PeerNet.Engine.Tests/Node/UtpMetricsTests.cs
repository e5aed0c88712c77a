using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using PeerNet.Utp;

namespace PeerNet.Engine.Tests.Node;

/// <summary>The node's <c>peernet.utp.*</c> instruments, read as a <see cref="MeterListener"/> reads them, on real loopback sockets.</summary>
public sealed class UtpMetricsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_utp_connection_syns_over_the_address_limit_and_the_close_move_the_utp_meters()
    {
        using var listenerMeters = new ObservedMeters();
        using var dialerMeters = new ObservedMeters();
        await using PeerNetNode listener = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false },
            meterFactory: listenerMeters, cancellationToken: Ct).WaitAsync(Timeout, Ct);

        // Published before anything happened, every series at zero.
        listenerMeters.Read();
        Assert.Equal(0, listenerMeters["peernet.utp.syns.received", "family=ipv4"]);
        Assert.Equal(0, listenerMeters["peernet.utp.connections", "family=ipv4", "direction=in"]);
        Assert.Equal(0, listenerMeters["peernet.utp.syns.refused", "family=ipv4", "reason=address_limit"]);

        // A libp2p connection over uTP (the dialer dials no TCP).
        PeerNetNode dialer = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, OutgoingTcp = false, Utp = new UtpOptions { Outgoing = true, ConnectTimeout = Timeout } },
            meterFactory: dialerMeters, cancellationToken: Ct).WaitAsync(Timeout, Ct);
        try
        {
            await dialer.Libp2p.ConnectAsync(listener.Libp2p.ListenAddresses[0], Ct).WaitAsync(Timeout, Ct);
            await Poll.UntilAsync(() => listenerMeters.Read()["peernet.utp.connections", "family=ipv4", "direction=in"] == 1, "the listener's meters show the connection", Timeout, describe: listenerMeters.Describe);

            Assert.Equal(1, listenerMeters["peernet.utp.connections.opened", "family=ipv4", "direction=in"]);
            Assert.True(listenerMeters["peernet.utp.syns.received", "family=ipv4"] >= 1);
            Assert.True(listenerMeters["peernet.utp.syns.answered", "family=ipv4"] >= 1);
            Assert.InRange(listenerMeters["peernet.utp.syns.bytes", "family=ipv4", "direction=out"], 20, listenerMeters["peernet.utp.syns.bytes", "family=ipv4", "direction=in"]);
            Assert.True(listenerMeters["peernet.utp.packets.received", "family=ipv4"] >= 2, listenerMeters.Describe());
            Assert.True(listenerMeters["peernet.utp.packets.sent", "family=ipv4"] >= 1, listenerMeters.Describe());
            Assert.True(listenerMeters["peernet.utp.received", "family=ipv4"] > listenerMeters["peernet.utp.packets.received", "family=ipv4"] * 19);
            Assert.True(listenerMeters["peernet.utp.sent", "family=ipv4"] > 0);
            Assert.Equal(0, listenerMeters["peernet.utp.half_open", "family=ipv4"]);

            dialerMeters.Read();
            Assert.Equal(1, dialerMeters["peernet.utp.connections.opened", "family=ipv4", "direction=out"]);
            Assert.Equal(1, dialerMeters["peernet.utp.connections", "family=ipv4", "direction=out"]);
            Assert.Equal(0, dialerMeters["peernet.utp.connections.opened", "family=ipv4", "direction=in"]);
            Assert.Equal(0, dialerMeters["peernet.utp.connects.failed", "family=ipv4", "reason=timeout"]);
        }
        finally
        {
            await dialer.DisposeAsync();
        }

        // The dialer stopped: the listener's connection ended, one way or another.
        await Poll.UntilAsync(() => listenerMeters.Read()["peernet.utp.connections", "family=ipv4", "direction=in"] == 0, "the listener's meters show the connection ended", Timeout, describe: listenerMeters.Describe);
        Assert.Equal(1, new[] { "closed", "reset", "timeout", "aborted" }.Sum(r => listenerMeters["peernet.utp.connections.closed", "family=ipv4", "direction=in", $"reason={r}"]));

        // Ten SYNs from one address: the half-open table takes its share (8), the rest are refused for the address.
        long synsBefore = listenerMeters["peernet.utp.syns.received", "family=ipv4"];
        using var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        stranger.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        byte[] syn = new byte[UtpHeader.Length];
        for (int i = 0; i < 10; i++)
        {
            new UtpHeader(UtpPacketType.Syn, (ushort)(4000 + i), 1, 0, 65536, 1, 0).WriteTo(syn, 0);
            await stranger.SendToAsync(syn, new IPEndPoint(IPAddress.Loopback, listener.ListenPort), Ct);
        }

        await Poll.UntilAsync(() => listenerMeters.Read()["peernet.utp.syns.received", "family=ipv4"] == synsBefore + 10, "the ten SYNs are counted", Timeout, describe: listenerMeters.Describe);
        Assert.Equal(8, listenerMeters["peernet.utp.half_open", "family=ipv4"]);
        Assert.Equal(2, listenerMeters["peernet.utp.syns.refused", "family=ipv4", "reason=address_limit"]);
        Assert.Equal(0, listenerMeters["peernet.utp.syns.refused", "family=ipv4", "reason=half_open_limit"]);
        Assert.Equal(0, listenerMeters["peernet.utp.syns.refused", "family=ipv4", "reason=not_accepting"]);
        Assert.True(listenerMeters["peernet.utp.syns.bytes", "family=ipv4", "direction=out"] <= listenerMeters["peernet.utp.syns.bytes", "family=ipv4", "direction=in"]);

        // A data packet for one of those entries that does not ack our answer (as from a sender that never saw it) is a bad ack.
        byte[] answer = new byte[1500];
        SocketReceiveFromResult received = await stranger.ReceiveFromAsync(answer, new IPEndPoint(IPAddress.Any, 0), Ct).AsTask().WaitAsync(Timeout, Ct);
        UtpHeader state = UtpPacket.Parse(answer.AsSpan(0, received.ReceivedBytes)).Header;
        Assert.Equal(UtpPacketType.State, state.Type);
        new UtpHeader(UtpPacketType.Data, (ushort)(state.ConnectionId + 1), 1, 0, 65536, 2, (ushort)(state.SequenceNumber + 100)).WriteTo(syn, 0);
        await stranger.SendToAsync(syn, new IPEndPoint(IPAddress.Loopback, listener.ListenPort), Ct);
        await Poll.UntilAsync(() => listenerMeters.Read()["peernet.utp.half_open.bad_acks", "family=ipv4"] >= 1, "the bad ack is counted", Timeout, describe: listenerMeters.Describe);
        Assert.Equal(1, listenerMeters["peernet.utp.half_open.bad_acks", "family=ipv4"]);
        Assert.Equal(8, listenerMeters["peernet.utp.half_open", "family=ipv4"]); // still waiting for the real ack
    }

    /// <summary>
    /// A meter factory whose meters (the node's) are read by a listener of its own: <see cref="Read"/> records every
    /// observable instrument and keeps the last value of each series, named <c>name{tag=value,...}</c> (tags sorted).
    /// </summary>
    private sealed class ObservedMeters : ListenedMeterFactory
    {
        private readonly ConcurrentDictionary<string, long> _values = new();

        public ObservedMeters()
        {
            Listener.InstrumentPublished = (instrument, listener) =>
            {
                if (IsOurs(instrument.Meter) && instrument.Name.StartsWith("peernet.utp.", StringComparison.Ordinal))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            Listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
                _values[Key(instrument.Name, [.. tags.ToArray().Select(t => $"{t.Key}={t.Value}")])] = value);
            Listener.Start();
        }

        /// <summary>A series' last value read (0 when never measured).</summary>
        public long this[string name, params string[] tags] => _values.GetValueOrDefault(Key(name, tags));

        /// <summary>Records every observable instrument now.</summary>
        public ObservedMeters Read()
        {
            Listener.RecordObservableInstruments();
            return this;
        }

        public string Describe() => string.Join("\n", _values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key} {v.Value}"));

        private static string Key(string name, string[] tags) => $"{name}{{{string.Join(",", tags.Order(StringComparer.Ordinal))}}}";
    }
}
