using System.Net;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Swarm;

/// <summary>When a torrent dials, and dials again, the peers it knows of.</summary>
public sealed class PeerListTests
{
    private static readonly TimeSpan Redial = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(20);
    private readonly FakeTimeProvider _time = new();

    private PeerList Create(int capacity = 100) => new(capacity, _time, Redial, Reconnect);

    private static IPEndPoint Peer(int i) => new(IPAddress.Parse($"10.0.0.{i}"), 6881);

    private static List<IPEndPoint> TakeAll(PeerList list)
    {
        var due = new List<IPEndPoint>();
        while (list.TryTakeDue(out IPEndPoint endpoint))
        {
            due.Add(endpoint);
        }

        return due;
    }

    [Fact]
    public void NewAddresses_AreDueAtOnce_InOrder_AndOnlyOnce()
    {
        PeerList list = Create();
        Assert.True(list.Add(Peer(1)));
        Assert.True(list.Add(Peer(2)));
        Assert.False(list.Add(Peer(1)));
        Assert.Equal([Peer(1), Peer(2)], TakeAll(list));
        Assert.Empty(TakeAll(list));
        Assert.Equal(0, list.QueueRetries(seeding: false));
    }

    [Fact]
    public void FailedDials_WaitLongerEachTime_AndASuccessResetsTheWait()
    {
        PeerList list = Create();
        list.Add(Peer(1));
        IPEndPoint peer = Assert.Single(TakeAll(list));
        TimeSpan[] waits = [Redial, 2 * Redial, 4 * Redial, 8 * Redial];
        foreach (TimeSpan wait in waits)
        {
            list.DialFailed(peer);
            _time.Advance(wait - TimeSpan.FromSeconds(1));
            Assert.Equal(0, list.QueueRetries(seeding: false));
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(1, list.QueueRetries(seeding: false));
            Assert.Equal([peer], TakeAll(list));
        }

        // A connection resets the count: the next failure waits the first delay again.
        list.Connected(peer);
        list.Disconnected(peer, wasSeed: false);
        _time.Advance(Reconnect);
        list.QueueRetries(seeding: false);
        Assert.Equal([peer], TakeAll(list));
        list.DialFailed(peer);
        _time.Advance(Redial);
        Assert.Equal(1, list.QueueRetries(seeding: false));
    }

    [Fact]
    public void TheWait_NeverExceedsTheMaximum()
    {
        PeerList list = Create();
        list.Add(Peer(1));
        TakeAll(list);
        for (int i = 0; i < 40; i++)
        {
            list.DialFailed(Peer(1));
            _time.Advance(PeerList.MaxBackoff);
            Assert.Equal(1, list.QueueRetries(seeding: false));
            Assert.Single(TakeAll(list));
        }
    }

    [Fact]
    public void AnEndedConnection_IsRedialledAfterTheReconnectDelay_ButNotWhileConnected()
    {
        PeerList list = Create();
        list.Add(Peer(1));
        TakeAll(list);
        list.Connected(Peer(1));
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, list.QueueRetries(seeding: false));

        list.Disconnected(Peer(1), wasSeed: false);
        _time.Advance(Reconnect - TimeSpan.FromSeconds(1));
        Assert.Equal(0, list.QueueRetries(seeding: false));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, list.QueueRetries(seeding: false));
        Assert.Equal(0, list.QueueRetries(seeding: false));
        Assert.Equal([Peer(1)], TakeAll(list));
    }

    [Fact]
    public void ABannedAddress_IsForgotten()
    {
        PeerList list = Create();
        list.Add(Peer(1));
        TakeAll(list);
        list.Remove(Peer(1));
        Assert.False(list.Contains(Peer(1)));
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, list.QueueRetries(seeding: false));
    }

    [Fact]
    public void AQueuedAddress_ThatConnectsMeanwhile_IsNotHandedOut()
    {
        PeerList list = Create();
        list.Add(Peer(1));
        list.Connected(Peer(1));
        Assert.Empty(TakeAll(list));
    }

    [Fact]
    public void ASeed_IsNotRedialledWhileWeSeed_ButIsWhileWeDownload()
    {
        PeerList list = Create();
        list.Add(Peer(1));
        TakeAll(list);
        list.Connected(Peer(1));
        list.Disconnected(Peer(1), wasSeed: true);
        _time.Advance(Reconnect);
        Assert.Equal(0, list.QueueRetries(seeding: true));
        Assert.Equal(1, list.QueueRetries(seeding: false));
    }

    [Fact]
    public void IncomingPeers_ListenAddresses_AreLearntAndRedialledAfterTheyLeave()
    {
        PeerList list = Create();
        list.Connected(Peer(7));
        Assert.True(list.Contains(Peer(7)));
        Assert.Empty(TakeAll(list));
        list.Disconnected(Peer(7), wasSeed: false);
        _time.Advance(Reconnect);
        list.QueueRetries(seeding: false);
        Assert.Equal([Peer(7)], TakeAll(list));
    }

    [Fact]
    public void WhenFull_ANewAddressReplacesTheIdleOneThatFailedMost_AndNeverOneThatDidNot()
    {
        PeerList list = Create(capacity: 3);
        list.Add(Peer(1));
        list.Add(Peer(2));
        list.Add(Peer(3));
        TakeAll(list);
        Assert.False(list.Add(Peer(4)));

        list.DialFailed(Peer(3));
        _time.Advance(Redial);
        list.QueueRetries(seeding: false);
        Assert.Equal([Peer(3)], TakeAll(list));
        list.DialFailed(Peer(3));
        list.DialFailed(Peer(2));
        Assert.True(list.Add(Peer(4)));
        Assert.False(list.Contains(Peer(3)));
        Assert.Equal(3, list.Count);
        Assert.Equal([Peer(4)], TakeAll(list));

        // One being dialled again is not idle, so not replaced.
        _time.Advance(Redial);
        list.QueueRetries(seeding: false);
        Assert.Equal([Peer(2)], TakeAll(list));
        Assert.False(list.Add(Peer(5)));
        Assert.Equal(3, list.Count);
    }
}
