using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Diagnostics;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Swarm;

/// <summary>The dial side of a torrent's peer set: which known addresses are dialled, and what the caps allow.</summary>
public sealed class PeerSetTests : IDisposable
{
    private static readonly TimeSpan Redial = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();
    private readonly PeerBans _bans = new(16 * 1024);
    private readonly PeerNetMetrics _metrics = new();

    public void Dispose() => _metrics.Dispose();

    private PeerSet Create(int maxConnections = 50, int perAddress = 2)
        => new(new PeerList(100, _time, Redial, TimeSpan.FromSeconds(20)), _bans, maxConnections, perAddress, _metrics);

    private static IPEndPoint Peer(int host, int port = 6881) => new(IPAddress.Parse($"10.0.0.{host}"), port);

    /// <summary>Dials every due address the set allows, as the swarm's ConnectMore does.</summary>
    private static List<IPEndPoint> DialDue(PeerSet set)
    {
        var dialled = new List<IPEndPoint>();
        while (set.HasRoom && set.TryTakeDue(out IPEndPoint endpoint))
        {
            if (set.TryStartDial(endpoint))
            {
                dialled.Add(endpoint);
            }
        }

        return dialled;
    }

    [Fact]
    public void TryStartDial_NewAddresses_DialledOnceEach()
    {
        PeerSet set = Create();
        Assert.True(set.AddKnown(Peer(1)));
        Assert.True(set.AddKnown(Peer(2)));
        Assert.False(set.AddKnown(Peer(1)));

        Assert.Equal([Peer(1), Peer(2)], DialDue(set));
        Assert.Equal(2, set.ConnectingCount);
        Assert.Empty(DialDue(set));
    }

    [Fact]
    public void TryStartDial_BannedAddress_ForgottenNotDialled()
    {
        PeerSet set = Create();
        set.AddKnown(Peer(1));
        _bans.Ban(Peer(1).Address);

        Assert.Empty(DialDue(set));
        Assert.Equal(0, set.KnownCount);
        Assert.False(set.HasRoomFor(Peer(1).Address));
    }

    [Fact]
    public void TryStartDial_PerAddressCap_CountsDialsInProgressAndRefusesTheRest()
    {
        using var listener = new MeterListener();
        int refused = 0;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument, _metrics.PeersRefused))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Value is "address_cap")
                {
                    Interlocked.Add(ref refused, (int)value);
                }
            }
        });
        listener.Start();
        PeerSet set = Create(perAddress: 2);
        for (int port = 7000; port < 7003; port++)
        {
            set.AddKnown(Peer(1, port));
        }

        Assert.Equal([Peer(1, 7000), Peer(1, 7001)], DialDue(set));
        Assert.Equal(1, Volatile.Read(ref refused));

        // The refused one waits like a failed dial: due again after the redial delay, and still capped while both dials last.
        _time.Advance(Redial);
        set.QueueRetries(seeding: false);
        Assert.Empty(DialDue(set));

        Assert.Equal(2, Volatile.Read(ref refused));

        // Once the two dials have ended (here: handshakes whose connections were not kept), the third may go.
        set.Handshaken(Peer(1, 7000));
        set.Handshaken(Peer(1, 7001));
        _time.Advance(2 * Redial);
        set.QueueRetries(seeding: false);
        Assert.Equal([Peer(1, 7002)], DialDue(set));
    }

    [Fact]
    public void DialFinished_Failed_RedialledAfterTheBackoff()
    {
        PeerSet set = Create();
        set.AddKnown(Peer(1));
        Assert.Single(DialDue(set));

        set.DialFinished(Peer(1), connected: false);
        Assert.Equal(0, set.ConnectingCount);
        _time.Advance(Redial - TimeSpan.FromSeconds(1));
        set.QueueRetries(seeding: false);
        Assert.Empty(DialDue(set));

        _time.Advance(TimeSpan.FromSeconds(1));
        set.QueueRetries(seeding: false);
        Assert.Equal([Peer(1)], DialDue(set));
    }

    [Fact]
    public void HasRoom_DialsCountAgainstTheConnectionLimit()
    {
        PeerSet set = Create(maxConnections: 2);
        for (int host = 1; host <= 3; host++)
        {
            set.AddKnown(Peer(host));
        }

        Assert.Equal([Peer(1), Peer(2)], DialDue(set));
        Assert.False(set.HasRoom);
        Assert.False(set.HasRoomFor(Peer(9).Address)); // an incoming peer is held to the same limit

        set.Handshaken(Peer(1)); // its connection was not kept: room again
        Assert.True(set.HasRoom);
        Assert.Equal([Peer(3)], DialDue(set));
    }

    [Fact]
    public void Empty_NoConnections_AcceptsAnyUnbannedAddress()
    {
        PeerSet set = Create();

        Assert.Equal(0, set.Count);
        Assert.Equal(0, set.ConnectionsFrom(Peer(1).Address));
        Assert.False(set.IsAtAddressCap(Peer(1).Address));
        Assert.True(set.HasRoomFor(Peer(1).Address));
        Assert.Null(set.FindByPeerId(default));
        Assert.Empty(set.TakeAll());
    }
}
