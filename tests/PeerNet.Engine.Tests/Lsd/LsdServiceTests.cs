using System.Collections.Concurrent;
using System.Net;
using System.Text;
using PeerNet.Discovery.Lsd;
using PeerNet.Lsd;

namespace PeerNet.Engine.Tests.Lsd;

/// <summary>
/// <see cref="LsdService"/> over an in-memory multicast group with a fake clock: who hears whom, its own announces,
/// the BEP 14 rate limit, batching, and what a flood or a slow consumer costs.
/// </summary>
public sealed class LsdServiceTests
{
    private static readonly Sha1Hash X = Sha1Hash.Compute("torrent x"u8);
    private static readonly Sha1Hash Y = Sha1Hash.Compute("torrent y"u8);
    private const string A = "10.0.0.1";

    [Fact]
    public async Task TwoNodes_SameInfoHash_EachGetsTheOthersAddressAndAnnouncedPort()
    {
        await using var net = new LsdTestNet();
        LsdService a = net.Start("10.0.0.1", 6881);
        var foundByA = new ConcurrentQueue<IPEndPoint>();
        using IDisposable ra = a.Register([X], foundByA.Enqueue);
        await LsdTestNet.WaitUntilAsync(() => a.GetStats().AnnouncesSent == 1, "a's first announce");

        LsdService b = net.Start("10.0.0.2", 7000);
        var foundByB = new ConcurrentQueue<IPEndPoint>();
        using IDisposable rb = b.Register([X, Y], foundByB.Enqueue);

        // b's first announce reaches a at once; a answers the newcomer once its minute is over (BEP 14's limit).
        await LsdTestNet.WaitUntilAsync(() => foundByA.Contains(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 7000)), "a finds b");
        Assert.Empty(foundByB);
        net.Time.Advance(TimeSpan.FromMinutes(1));
        await LsdTestNet.WaitUntilAsync(() => foundByB.Contains(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 6881)), "b finds a");
        Assert.All(foundByA.Concat(foundByB), p => Assert.NotEqual(6771, p.Port));
    }

    [Fact]
    public async Task OwnAnnounce_HeardBackThroughLoopback_IsIgnoredByItsCookie()
    {
        await using var net = new LsdTestNet();
        LsdService a = net.Start("10.0.0.1", 6881);
        var found = new ConcurrentQueue<IPEndPoint>();
        using IDisposable registration = a.Register([X], found.Enqueue);
        await LsdTestNet.WaitUntilAsync(() => a.GetStats().OwnIgnored == 1, "own announce heard back");
        Assert.Empty(found);
        Assert.Equal(0, a.GetStats().PeersFound);

        // Another node's announce with the same port and address but another cookie is a peer.
        LsdTestNet.RawMember other = net.Join("10.0.0.1");
        await other.SendAsync(LsdMessage.Create(ipv6: false, 6881, [X], "not-" + a.Cookie));
        await LsdTestNet.WaitUntilAsync(() => !found.IsEmpty, "the other node found");
    }

    [Fact]
    public async Task AnnounceRate_AtMostOncePerMinutePerInfoHash_ThenEveryFiveMinutes()
    {
        await using var net = new LsdTestNet();
        LsdTestNet.RawMember listener = net.Join("10.0.0.9");
        LsdService a = net.Start("10.0.0.1", 6881);
        IDisposable first = a.Register([X], _ => { });
        await LsdTestNet.WaitUntilAsync(() => listener.AnnouncesOf(X, A) == 1, "the first announce");

        // Registering again (a magnet fetch handing over to its torrent), or a new node appearing, does not
        // announce again within the minute.
        first.Dispose();
        using IDisposable again = a.Register([X], _ => { });
        await net.Join("10.0.0.5").SendAsync(LsdMessage.Create(ipv6: false, 1, [X], null));
        await LsdTestNet.WaitUntilAsync(() => a.GetStats().PeersFound == 1, "the new node heard");
        net.Time.Advance(TimeSpan.FromSeconds(59));

        // A new registration makes the loop look at every info-hash: x is not due yet, y goes out.
        using IDisposable y = a.Register([Y], _ => { });
        await LsdTestNet.WaitUntilAsync(() => listener.AnnouncesOf(Y, A) == 1, "y's first announce");
        Assert.Equal(1, listener.AnnouncesOf(X, A));

        net.Time.Advance(TimeSpan.FromSeconds(1));
        await LsdTestNet.WaitUntilAsync(() => listener.AnnouncesOf(X, A) == 2, "x again, a minute after its first");

        // Then every five minutes, and not before: y (announced a second before x) is due first.
        net.Time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        await LsdTestNet.WaitUntilAsync(() => listener.AnnouncesOf(Y, A) == 2, "y's five-minute announce");
        Assert.Equal(2, listener.AnnouncesOf(X, A));
        net.Time.Advance(TimeSpan.FromSeconds(1));
        await LsdTestNet.WaitUntilAsync(() => listener.AnnouncesOf(X, A) == 3, "x's five-minute announce");
        Assert.Equal(5, a.GetStats().AnnouncesSent);
    }

    [Fact]
    public async Task ManyInfoHashes_GoOutInFewDatagrams_EachWithinTheBep14Size()
    {
        await using var net = new LsdTestNet();
        LsdTestNet.RawMember listener = net.Join("10.0.0.9");
        LsdService a = net.Start("10.0.0.1", 65535);
        Sha1Hash[] hashes = [.. Enumerable.Range(0, 60).Select(i => Sha1Hash.Compute([(byte)i]))];
        using IDisposable registration = a.Register(hashes, _ => { });
        await LsdTestNet.WaitUntilAsync(() => a.GetStats().InfoHashesAnnounced == 60, "every info-hash announced");
        await LsdTestNet.WaitUntilAsync(() => listener.Heard.Count >= 3, "the listener hears the datagrams"); // sent is not yet delivered

        Assert.Equal(25, LsdMessage.CountThatFit(LsdMessage.HostV4, 65535, a.Cookie));
        Assert.Equal(3, a.GetStats().AnnouncesSent); // 25 + 25 + 10
        byte[][] datagrams = [.. listener.Heard.Select(h => h.Datagram)];
        Assert.Equal(3, datagrams.Length);
        Assert.All(datagrams, d => Assert.True(d.Length <= LsdLimits.TargetDatagramLength, $"{d.Length} bytes"));
        Sha1Hash[] announced = [.. datagrams.SelectMany(d => LsdMessage.TryParse(d, out LsdAnnounce? x, out _) ? x.InfoHashes : [])];
        Assert.Equal(hashes.Order(), announced.Order());
    }

    [Fact]
    public async Task Unregistered_IsNeitherAnnouncedNorHandedPeers()
    {
        await using var net = new LsdTestNet();
        LsdTestNet.RawMember listener = net.Join("10.0.0.9");
        LsdService a = net.Start(A, 6881);
        var found = new ConcurrentQueue<IPEndPoint>();
        IDisposable x = a.Register([X], found.Enqueue);
        await LsdTestNet.WaitUntilAsync(() => listener.AnnouncesOf(X, A) == 1, "x announced");
        x.Dispose();

        // Six minutes on, a new registration runs the loop: x, no longer wanted, is not announced again.
        net.Time.Advance(TimeSpan.FromMinutes(6));
        using IDisposable y = a.Register([Y], _ => { });
        await LsdTestNet.WaitUntilAsync(() => listener.AnnouncesOf(Y, A) == 1, "y announced");
        Assert.Equal(1, listener.AnnouncesOf(X, A));

        await listener.SendAsync(LsdMessage.Create(ipv6: false, 1, [X], null));
        await listener.SendAsync(LsdMessage.Create(ipv6: false, 2, [Y], null)); // read after x's: one reader, in order
        await LsdTestNet.WaitUntilAsync(() => a.GetStats().PeersFound == 1, "y's peer handed over");
        Assert.Empty(found);
    }

    [Fact]
    public async Task IPv4OnlyInterface_SkipsTheIPv6Group()
    {
        await using var net = new LsdTestNet();
        LsdService a = net.Start("10.0.0.1", 6881);
        Assert.Equal([LsdMessage.GroupV4], a.JoinedGroups);
        LsdService b = net.Start("fd00::1", 6881);
        Assert.Equal([LsdMessage.GroupV6], b.JoinedGroups);
    }

    [Fact]
    public async Task FloodFromOneAddress_IsDroppedUnread_WhileAnotherNodeIsStillFound()
    {
        const int Flood = 5000;
        await using var net = new LsdTestNet(receiveQueueCapacity: Flood + 10);
        var options = new LsdOptions();
        LsdService a = net.Start("10.0.0.1", 6881, options);
        var found = new ConcurrentQueue<IPEndPoint>();
        using IDisposable registration = a.Register([X], found.Enqueue);
        await LsdTestNet.WaitUntilAsync(() => a.GetStats().OwnIgnored == 1, "a settled");

        // Junk and valid announces alternate, each valid one with another port (another peer); the fake clock
        // stands still, so the per-address bucket never refills.
        LsdTestNet.RawMember attacker = net.Join("10.6.6.6");
        for (int i = 0; i < Flood; i++)
        {
            await attacker.SendAsync(i % 2 == 0 ? LsdMessage.Create(ipv6: false, 1000 + i, [X], null) : Encoding.ASCII.GetBytes($"junk {i}"));
        }

        await LsdTestNet.WaitUntilAsync(() => a.GetStats().DatagramsReceived == Flood + 1, "the flood read");
        await net.Join("10.0.0.2").SendAsync(LsdMessage.Create(ipv6: false, 6882, [X], "honest"));
        var honest = new IPEndPoint(IPAddress.Parse("10.0.0.2"), 6882);
        await LsdTestNet.WaitUntilAsync(() => found.Contains(honest), "the honest node found");

        LsdStats stats = a.GetStats();
        Assert.Equal(Flood - (int)options.BurstPerSource, stats.DroppedRateLimited);
        Assert.Equal(options.BurstPerSource / 2, stats.Refused);
        Assert.Equal((options.BurstPerSource / 2) + 1, found.Count); // the attacker's accepted half, and the honest node
    }

    [Fact]
    public async Task SlowConsumer_QueueStaysBounded_AndTheRestIsDropped()
    {
        await using var net = new LsdTestNet();
        LsdService a = net.Start("10.0.0.1", 6881, new LsdOptions { QueueCapacity = 8 });
        using var gate = new ManualResetEventSlim();
        int calls = 0;
        using IDisposable registration = a.Register([X], _ =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                gate.Wait(LsdTestNet.Timeout); // the consumer stalls on the first peer
            }
        });
        await LsdTestNet.WaitUntilAsync(() => a.GetStats().OwnIgnored == 1, "a settled");

        LsdTestNet.RawMember sender = net.Join("10.0.0.2");
        await sender.SendAsync(LsdMessage.Create(ipv6: false, 1, [X], null));
        await LsdTestNet.WaitUntilAsync(() => Volatile.Read(ref calls) == 1, "the consumer stalled");
        for (int i = 0; i < 20; i++)
        {
            await sender.SendAsync(LsdMessage.Create(ipv6: false, 2 + i, [X], null));
        }

        await LsdTestNet.WaitUntilAsync(() => a.GetStats().DatagramsReceived == 22, "all read off the socket");
        Assert.Equal(12, a.GetStats().DroppedQueueFull);
        gate.Set();
        await LsdTestNet.WaitUntilAsync(() => Volatile.Read(ref calls) == 9, "the queued eight handed over");
    }
}
