using System.Net;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Metainfo;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Hostile;

/// <summary>
/// The node as a reflector (issue finding 4): one 340-byte PEX message used to make a client dial 50 arbitrary
/// host:port pairs in under a second, with only port 0 and our own address filtered. Now an address is only as local as
/// whoever named it, dials are paced node-wide, low ports wait for the rest, and one IP address gets a few connections
/// to a torrent at most.
/// </summary>
public sealed class DialPolicyTests
{
    private static readonly IPAddress InternetPeer = IPAddress.Parse("198.51.100.7");

    [Fact]
    public async Task Pex_FromAnInternetPeer_NamingLocalOrUnroutableAddresses_OnlyInternetAddressesDialled()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [256 * 1024]);
        await using Node node = await Node.StartAsync(harness, IPAddress.Parse("10.0.6.1"));
        TorrentSwarm swarm = await SwarmHarness.SeedAsync(node.Session, torrent, content);

        IPEndPoint[] refused =
        [
            IPEndPoint.Parse("127.0.0.1:7000"), IPEndPoint.Parse("127.8.9.10:6881"), IPEndPoint.Parse("10.0.6.50:6881"),
            IPEndPoint.Parse("192.168.1.5:6881"), IPEndPoint.Parse("172.16.0.9:6881"), IPEndPoint.Parse("100.64.1.1:6881"),
            IPEndPoint.Parse("169.254.1.1:6881"), IPEndPoint.Parse("224.0.0.1:6881"), IPEndPoint.Parse("0.0.0.0:6881"),
            IPEndPoint.Parse("255.255.255.255:6881"), IPEndPoint.Parse("240.1.2.3:6881"), IPEndPoint.Parse("[::1]:6881"),
            IPEndPoint.Parse("[fe80::1]:6881"), IPEndPoint.Parse("[fd00::5]:6881"), IPEndPoint.Parse("[ff02::1]:6881"),
            IPEndPoint.Parse("[::ffff:127.0.0.1]:6881"), IPEndPoint.Parse("8.8.8.8:0"),
        ];
        IPEndPoint[] allowed = [IPEndPoint.Parse("203.0.113.5:6881"), IPEndPoint.Parse("[2001:db8::7]:6881")];

        await using FakePeer attacker = await FakePeer.ConnectAsync(harness.Network, InternetPeer, node.Session.LocalEndPoint!, torrent.InfoHashes.WireHash);
        await attacker.SendExtensionHandshakeAsync();
        await attacker.SendAsync(FakePeer.Pex([.. refused, .. allowed]));

        // The message is handled in one step of the torrent's loop, which starts the dials of what it admits in the
        // order named (the allowed ones last): once they are dialled, anything refused would have been dialled before.
        await SwarmHarness.WaitUntilAsync(() => node.Transport.Dialled.Count >= allowed.Length);
        Assert.Equal(allowed, node.Transport.Dialled.ToArray());
        Assert.Equal(allowed.Length, swarm.KnownPeerCount);
    }

    [Fact]
    public async Task Pex_OfManyAddresses_DialledAtTheNodeWideRate()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [256 * 1024]);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using Node node = await Node.StartAsync(harness, IPAddress.Parse("10.0.6.2"), time, new PeerLimits { MaxDialsPerSecond = 5 });
        TorrentSwarm swarm = await SwarmHarness.SeedAsync(node.Session, torrent, content, new TorrentOptions { UploadSlots = 0, MaxConnections = 100 });

        IPEndPoint[] named = [.. Enumerable.Range(1, 40).Select(i => new IPEndPoint(IPAddress.Parse($"203.0.113.{i}"), 6881))];
        await using FakePeer attacker = await FakePeer.ConnectAsync(harness.Network, InternetPeer, node.Session.LocalEndPoint!, torrent.InfoHashes.WireHash);
        await attacker.SendExtensionHandshakeAsync();
        await attacker.SendAsync(FakePeer.Pex(named));

        // All 40 are known once the message is handled; in that same step 5 were dialled, and no clock has moved since.
        await SwarmHarness.WaitUntilAsync(() => swarm.KnownPeerCount == named.Length && node.Transport.Dialled.Count >= 5);
        Assert.Equal(5, node.Transport.Dialled.Count);

        // A second later (the torrent's tick), 5 more.
        time.Advance(TimeSpan.FromSeconds(1));
        await SwarmHarness.WaitUntilAsync(() => node.Transport.Dialled.Count >= 10);
        Assert.Equal(10, node.Transport.Dialled.Count);
    }

    [Fact]
    public async Task OneAddress_ConnectsSixTimes_OnlyItsCapIsKept()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [256 * 1024]);
        await using Node node = await Node.StartAsync(harness, IPAddress.Parse("10.0.6.3"));
        TorrentSwarm swarm = await SwarmHarness.SeedAsync(node.Session, torrent, content);
        int cap = node.Session.Options.PeerLimits.MaxConnectionsPerAddress;

        var address = IPAddress.Parse("10.9.3.1");
        var kept = new List<FakePeer>();
        try
        {
            for (int i = 0; i < cap; i++)
            {
                kept.Add(await FakePeer.ConnectAsync(harness.Network, address, node.Session.LocalEndPoint!, torrent.InfoHashes.WireHash));
                int attached = i + 1;
                await SwarmHarness.WaitUntilAsync(() => swarm.ConnectionsFrom(address) == attached);
            }

            for (int i = 0; i < 2; i++)
            {
                // Refused in the handshake, or attached for a moment and closed: either way not kept.
                try
                {
                    await using FakePeer extra = await FakePeer.ConnectAsync(harness.Network, address, node.Session.LocalEndPoint!, torrent.InfoHashes.WireHash);
                    await extra.AssertClosedAsync(SwarmHarness.Timeout);
                }
                catch (IOException)
                {
                }
            }

            Assert.Equal(cap, swarm.ConnectionsFrom(address));

            // Another address is still welcome.
            await using FakePeer other = await FakePeer.ConnectAsync(harness.Network, IPAddress.Parse("10.9.3.2"), node.Session.LocalEndPoint!, torrent.InfoHashes.WireHash);
            await SwarmHarness.WaitUntilAsync(() => swarm.ConnectionsFrom(IPAddress.Parse("10.9.3.2")) == 1);
        }
        finally
        {
            foreach (FakePeer peer in kept)
            {
                await peer.DisposeAsync();
            }
        }
    }

    [Fact]
    public void PeerList_LowPorts_TakenOnlyWhenNothingElseIsDue()
    {
        var list = new PeerList(10, TimeProvider.System, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
        list.Add(IPEndPoint.Parse("203.0.113.1:80"));
        list.Add(IPEndPoint.Parse("203.0.113.2:22"));
        list.Add(IPEndPoint.Parse("203.0.113.3:6881"));
        list.Add(IPEndPoint.Parse("203.0.113.4:1024"));
        var order = new List<IPEndPoint>();
        while (list.TryTakeDue(out IPEndPoint next))
        {
            order.Add(next);
        }

        Assert.Equal(["203.0.113.3:6881", "203.0.113.4:1024", "203.0.113.1:80", "203.0.113.2:22"], order.Select(e => e.ToString()));
    }

    [Theory]
    [InlineData("127.0.0.1", nameof(NetworkScope.Loopback))]
    [InlineData("127.255.0.9", nameof(NetworkScope.Loopback))]
    [InlineData("::1", nameof(NetworkScope.Loopback))]
    [InlineData("::ffff:127.0.0.1", nameof(NetworkScope.Loopback))]
    [InlineData("169.254.3.4", nameof(NetworkScope.LinkLocal))]
    [InlineData("fe80::1", nameof(NetworkScope.LinkLocal))]
    [InlineData("10.1.2.3", nameof(NetworkScope.Private))]
    [InlineData("172.16.0.1", nameof(NetworkScope.Private))]
    [InlineData("172.31.255.255", nameof(NetworkScope.Private))]
    [InlineData("172.32.0.1", nameof(NetworkScope.Global))]
    [InlineData("192.168.0.1", nameof(NetworkScope.Private))]
    [InlineData("100.64.0.1", nameof(NetworkScope.Private))]
    [InlineData("100.128.0.1", nameof(NetworkScope.Global))]
    [InlineData("fc00::1", nameof(NetworkScope.Private))]
    [InlineData("fd12:3456::1", nameof(NetworkScope.Private))]
    [InlineData("8.8.8.8", nameof(NetworkScope.Global))]
    [InlineData("2001:db8::1", nameof(NetworkScope.Global))]
    [InlineData("0.0.0.0", nameof(NetworkScope.Unroutable))]
    [InlineData("0.1.2.3", nameof(NetworkScope.Unroutable))]
    [InlineData("224.0.0.1", nameof(NetworkScope.Unroutable))]
    [InlineData("239.192.152.143", nameof(NetworkScope.Unroutable))]
    [InlineData("240.0.0.1", nameof(NetworkScope.Unroutable))]
    [InlineData("255.255.255.255", nameof(NetworkScope.Unroutable))]
    [InlineData("::", nameof(NetworkScope.Unroutable))]
    [InlineData("ff02::1", nameof(NetworkScope.Unroutable))]
    public void NetworkScope_OfAddress(string address, string expected) => Assert.Equal(Enum.Parse<NetworkScope>(expected), NetworkScopes.Of(IPAddress.Parse(address)));

    [Theory]
    [InlineData("198.51.100.7", "203.0.113.5", true)]
    [InlineData("198.51.100.7", "10.0.0.5", false)]
    [InlineData("198.51.100.7", "127.0.0.1", false)]
    [InlineData("198.51.100.7", "169.254.0.1", false)]
    [InlineData("10.0.0.1", "192.168.0.5", true)]
    [InlineData("10.0.0.1", "203.0.113.5", true)]
    [InlineData("10.0.0.1", "127.0.0.1", false)]
    [InlineData("10.0.0.1", "fe80::1", false)]
    [InlineData("127.0.0.1", "127.0.0.1", true)]
    [InlineData("127.0.0.1", "10.0.0.1", true)]
    [InlineData("::1", "203.0.113.5", true)]
    [InlineData("127.0.0.1", "224.0.0.1", false)]
    [InlineData("127.0.0.1", "0.0.0.0", false)]
    public void NetworkScope_MayName_OnlyAsWideAsTheInformer(string informer, string target, bool expected)
        => Assert.Equal(expected, NetworkScopes.MayName(IPAddress.Parse(informer), IPAddress.Parse(target)));

    /// <summary>A node on the in-memory network whose dials are recorded.</summary>
    private sealed class Node : IAsyncDisposable
    {
        private Node(SwarmSession session, RecordingTransport transport)
        {
            Session = session;
            Transport = transport;
        }

        public SwarmSession Session { get; }

        public RecordingTransport Transport { get; }

        public static async Task<Node> StartAsync(SwarmHarness harness, IPAddress address, TimeProvider? time = null, PeerLimits? limits = null)
        {
            var transport = new RecordingTransport(harness.Network.CreateTransport(address));
            var session = new SwarmSession(new SessionOptions { ListenEndPoint = new IPEndPoint(address, 6881), Time = time ?? TimeProvider.System, PeerLimits = limits ?? new PeerLimits() }, transport);
            await session.StartAsync(TestContext.Current.CancellationToken);
            return new Node(session, transport);
        }

        public async ValueTask DisposeAsync()
        {
            await Session.DisposeAsync();
            await Transport.DisposeAsync();
        }
    }
}
