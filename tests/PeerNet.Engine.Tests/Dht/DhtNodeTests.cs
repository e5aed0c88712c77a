using System.Net;
using PeerNet.Dht;
using PeerNet.Discovery.Dht;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Dht;

public sealed class DhtNodeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<DhtTestNet> NetAsync(int nodes) => DhtTestNet.StartAsync(nodes, 1, Ct);

    private static Task<KrpcMessage?> AskAsync(IDatagramSocket socket, IPEndPoint node, byte[] packet, TimeSpan? wait = null) =>
        DhtTestNet.AskAsync(socket, node, packet, Ct, wait);

    private static byte[] Query(DhtMethod method, NodeId target = default, byte[]? token = null, int port = 0, bool readOnly = false, string tid = "tt", DhtWant want = DhtWant.None) => new KrpcMessage
    {
        Want = want,
        Type = KrpcMessageType.Query,
        TransactionId = System.Text.Encoding.ASCII.GetBytes(tid),
        Method = method,
        Id = NodeId.Random(new Random(99)),
        Target = target,
        Token = token,
        Port = port,
        ReadOnly = readOnly,
    }.ToArray();

    [Fact]
    public async Task Network_OfTwentyNodes_FillsTablesAndFindsAnAnnouncedPeer()
    {
        await using DhtTestNet net = await NetAsync(20);
        Assert.All(net.Nodes, n => Assert.True(n.GetStats().Nodes >= 8, $"only {n.GetStats().Nodes} nodes"));

        Sha1Hash infoHash = Sha1Hash.Compute("some torrent"u8);
        DhtAnnounceResult announce = await net.Nodes[3].AnnounceAsync(infoHash, 51413, Ct).WaitAsync(Timeout, Ct);
        Assert.True(announce.AcceptedBy >= 4, $"accepted by {announce.AcceptedBy}");

        IReadOnlyList<IPEndPoint> peers = await net.Nodes[17].GetPeersAsync(infoHash, Ct).WaitAsync(Timeout, Ct);
        Assert.Contains(new IPEndPoint(net.Nodes[3].LocalEndPoint.Address, 51413), peers);
    }

    [Fact]
    public async Task FindNode_WantingBothFamilies_IsAnsweredFromEachFamilysTable()
    {
        // BEP 32: a dual-stack node runs a DHT per family; a query over IPv4 that asks for n6 gets the IPv6 table's nodes.
        await using DhtTestNet net = await NetAsync(4);
        DhtNode v4 = net.Nodes[0];
        var v6Nodes = new List<DhtNode>();
        for (int i = 1; i <= 4; i++)
        {
            IPEndPoint at = new(IPAddress.Parse($"fd00::{i}"), DhtTestNet.Port);
            string[] bootstrap = v6Nodes.Count == 0 ? [] : [v6Nodes[0].LocalEndPoint.ToString()];
            var node = new DhtNode(DhtTestNet.DefaultOptions with { BindEndPoint = at, BootstrapNodes = bootstrap }, net.Network, TimeProvider.System, new Random(40 + i));
            await node.StartAsync(Ct).WaitAsync(Timeout, Ct);
            v6Nodes.Add(node);
        }

        try
        {
            DhtNode v6 = v6Nodes[0];
            await Poll.UntilAsync(() => v6.GetStats().Nodes >= 3, "three nodes in the IPv6 table", Timeout);
            v4.OtherFamily = v6;
            v6.OtherFamily = v4;
            await using IDatagramSocket probe = net.Network.Bind(new IPEndPoint(net.NextAddress(), 1));
            NodeId target = NodeId.Random(new Random(5));

            KrpcMessage? plain = await AskAsync(probe, v4.LocalEndPoint, Query(DhtMethod.FindNode, target));
            KrpcMessage? both = await AskAsync(probe, v4.LocalEndPoint, Query(DhtMethod.FindNode, target, want: DhtWant.N4 | DhtWant.N6, tid: "t2"));
            KrpcMessage? only6 = await AskAsync(probe, v4.LocalEndPoint, Query(DhtMethod.FindNode, target, want: DhtWant.N6, tid: "t3"));

            Assert.NotEmpty(plain!.Nodes);
            Assert.Empty(plain.Nodes6);
            Assert.NotEmpty(both!.Nodes);
            Assert.Equal(3, both.Nodes6.Count); // v6's table: the three other IPv6 nodes
            Assert.All(both.Nodes6, c => Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, c.EndPoint.AddressFamily));
            Assert.Empty(only6!.Nodes);
            Assert.Equal(both.Nodes6.Select(c => c.EndPoint), only6.Nodes6.Select(c => c.EndPoint));
        }
        finally
        {
            foreach (DhtNode node in v6Nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AnIpv6TableWithoutBootstrapNodes_JoinsThroughTheIpv4Tables_WantAnswers()
    {
        // A dual-stack node (x4 + x6) in an IPv4 network and an IPv6 one; a second dual-stack node (y4 + y6) is given
        // IPv4 bootstrap nodes only: y6 finds nobody, then joins through y4, whose nodes name IPv6 ones when asked with want.
        await using DhtTestNet net = await NetAsync(4);
        DhtNode x4 = net.Nodes[0];
        var v6Nodes = new List<DhtNode>();
        DhtNode? y4 = null;
        try
        {
            for (int i = 1; i <= 4; i++)
            {
                string[] bootstrap = v6Nodes.Count == 0 ? [] : [v6Nodes[0].LocalEndPoint.ToString()];
                var node = new DhtNode(DhtTestNet.DefaultOptions with { BindEndPoint = new IPEndPoint(IPAddress.Parse($"fd00::{i}"), DhtTestNet.Port), BootstrapNodes = bootstrap }, net.Network, TimeProvider.System, new Random(40 + i));
                await node.StartAsync(Ct).WaitAsync(Timeout, Ct);
                v6Nodes.Add(node);
            }

            DhtNode x6 = v6Nodes[0];
            await Poll.UntilAsync(() => x6.GetStats().Nodes >= 3, "three nodes in x's IPv6 table", Timeout);
            x4.OtherFamily = x6;
            x6.OtherFamily = x4;

            string[] ipv4Only = [x4.LocalEndPoint.ToString()];
            y4 = new DhtNode(DhtTestNet.DefaultOptions with { BindEndPoint = new IPEndPoint(net.NextAddress(), DhtTestNet.Port), BootstrapNodes = ipv4Only }, net.Network, TimeProvider.System, new Random(50));
            var y6 = new DhtNode(DhtTestNet.DefaultOptions with { BindEndPoint = new IPEndPoint(IPAddress.Parse("fd00::99"), DhtTestNet.Port), BootstrapNodes = ipv4Only }, net.Network, TimeProvider.System, new Random(51));
            v6Nodes.Add(y6);
            await y4.StartAsync(Ct).WaitAsync(Timeout, Ct);
            await y6.StartAsync(Ct).WaitAsync(Timeout, Ct);
            Assert.Equal(DhtBootstrapState.Joined, y4.GetStats().Bootstrap);
            Assert.Equal(DhtBootstrapState.NobodyAnswered, y6.GetStats().Bootstrap);

            y4.OtherFamily = y6;
            y6.OtherFamily = y4;
            Assert.Empty(await x6.NodesOfFamilyAsync(System.Net.Sockets.AddressFamily.InterNetworkV6, y6.Id, Ct)); // its own family: not asked
            List<IPEndPoint> named = await y4.NodesOfFamilyAsync(System.Net.Sockets.AddressFamily.InterNetworkV6, y6.Id, Ct).WaitAsync(Timeout, Ct);
            Assert.Equal(v6Nodes.Skip(1).Take(3).Select(n => n.LocalEndPoint).OrderBy(e => e.ToString()), named.OrderBy(e => e.ToString())); // x6's table
            Assert.All(named, e => Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, e.AddressFamily));

            await y6.BootstrapAsync(Ct).WaitAsync(Timeout, Ct);
            DhtStats joined = y6.GetStats();
            Assert.Equal(DhtBootstrapState.Joined, joined.Bootstrap);
            Assert.True(joined.Nodes >= 3, $"{joined.Nodes} nodes in y's IPv6 table");
            Assert.All(y6.GetRoutingContacts(), c => Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, c.EndPoint.AddressFamily));
        }
        finally
        {
            foreach (DhtNode node in v6Nodes)
            {
                await node.DisposeAsync();
            }

            if (y4 is not null)
            {
                await y4.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task FindNode_WantingTheOtherFamily_WithoutATableForIt_ReturnsNoneOfIt()
    {
        await using DhtTestNet net = await NetAsync(3);
        await using IDatagramSocket probe = net.Network.Bind(new IPEndPoint(net.NextAddress(), 1));

        KrpcMessage? reply = await AskAsync(probe, net.Nodes[0].LocalEndPoint, Query(DhtMethod.FindNode, NodeId.Random(new Random(6)), want: DhtWant.N4 | DhtWant.N6));

        Assert.NotEmpty(reply!.Nodes);
        Assert.Empty(reply.Nodes6);
    }

    [Fact]
    public async Task Announce_WithImpliedPort_StoresTheSourcePort()
    {
        await using DhtTestNet net = await NetAsync(10);
        Sha1Hash infoHash = Sha1Hash.Compute("implied"u8);
        await net.Nodes[1].AnnounceAsync(infoHash, 0, Ct).WaitAsync(Timeout, Ct);
        IReadOnlyList<IPEndPoint> peers = await net.Nodes[8].GetPeersAsync(infoHash, Ct).WaitAsync(Timeout, Ct);
        Assert.Contains(net.Nodes[1].LocalEndPoint, peers);
    }

    [Fact]
    public async Task AnnouncePeer_WithABadToken_IsAnswered203()
    {
        await using DhtTestNet net = await NetAsync(2);
        await using IDatagramSocket probe = net.Network.Bind(new IPEndPoint(net.NextAddress(), 1));
        KrpcMessage? reply = await AskAsync(probe, net.Nodes[0].LocalEndPoint, Query(DhtMethod.AnnouncePeer, NodeId.Random(new Random(1)), [1, 2, 3], 6000));
        Assert.Equal(KrpcMessageType.Error, reply!.Type);
        Assert.Equal(KrpcErrorCode.Protocol, reply.ErrorCode);
    }

    [Fact]
    public async Task AnnouncePeer_WithTheTokenFromGetPeers_IsStored()
    {
        await using DhtTestNet net = await NetAsync(2);
        await using IDatagramSocket probe = net.Network.Bind(new IPEndPoint(net.NextAddress(), 1));
        NodeId hash = NodeId.Random(new Random(5));
        KrpcMessage? got = await AskAsync(probe, net.Nodes[0].LocalEndPoint, Query(DhtMethod.GetPeers, hash));
        Assert.NotNull(got!.Token);
        Assert.Equal(probe.LocalEndPoint, got.RequesterEndPoint);
        KrpcMessage? ok = await AskAsync(probe, net.Nodes[0].LocalEndPoint, Query(DhtMethod.AnnouncePeer, hash, got.Token, 6000));
        Assert.Equal(KrpcMessageType.Response, ok!.Type);
        KrpcMessage? again = await AskAsync(probe, net.Nodes[0].LocalEndPoint, Query(DhtMethod.GetPeers, hash));
        Assert.Contains(new IPEndPoint(probe.LocalEndPoint.Address, 6000), again!.Values);
    }

    [Fact]
    public async Task MalformedQuery_IsAnswered203_AndUnknownMethod204()
    {
        await using DhtTestNet net = await NetAsync(1);
        await using IDatagramSocket probe = net.Network.Bind(new IPEndPoint(net.NextAddress(), 1));
        KrpcMessage? malformed = await AskAsync(probe, net.Nodes[0].LocalEndPoint, "d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe"u8.ToArray());
        Assert.Equal(KrpcErrorCode.Protocol, malformed!.ErrorCode);
        KrpcMessage? unknown = await AskAsync(probe, net.Nodes[0].LocalEndPoint, "d1:ad2:id20:abcdefghij0123456789e1:q5:frobs1:t2:aa1:y1:qe"u8.ToArray());
        Assert.Equal(KrpcErrorCode.MethodUnknown, unknown!.ErrorCode);
        Assert.Null(await AskAsync(probe, net.Nodes[0].LocalEndPoint, "garbage"u8.ToArray(), TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task Flood_FromOneAddress_IsRateLimited_AndOthersAreStillServed()
    {
        await using var net = new DhtTestNet();
        DhtNode node = await net.AddAsync(Ct, o => o with { QueriesPerSecondPerAddress = 5 });
        await using IDatagramSocket flooder = net.Network.Bind(new IPEndPoint(net.NextAddress(), 1));
        for (int i = 0; i < 500; i++)
        {
            await flooder.SendAsync(Query(DhtMethod.Ping, tid: $"f{i}"), node.LocalEndPoint, Ct);
        }

        await using IDatagramSocket other = net.Network.Bind(new IPEndPoint(net.NextAddress(), 1));
        KrpcMessage? reply = await AskAsync(other, node.LocalEndPoint, Query(DhtMethod.Ping));
        Assert.Equal(KrpcMessageType.Response, reply!.Type);
        DhtStats stats = node.GetStats();
        Assert.True(stats.QueriesDropped >= 400, $"dropped {stats.QueriesDropped}");
        Assert.True(stats.QueriesReceived <= 60, $"answered {stats.QueriesReceived}");
    }

    [Fact]
    public async Task Flood_OfLargeReplyQueries_ReplyBytesToTheFloodingAddressStayWithinItsBudget()
    {
        // get_peers answers carry nodes (and here peers): the reply budget per address, not the query count,
        // is what must hold, or one small query stream turns the node into an amplifier.
        const int BytesPerSecond = 4_000;
        await using DhtTestNet net = await NetAsync(12);
        Sha1Hash infoHash = Sha1Hash.Compute("flooded"u8);
        await net.Nodes[1].AnnounceAsync(infoHash, 7000, Ct).WaitAsync(Timeout, Ct);
        DhtNode node = await net.AddAsync(Ct, o => o with { QueriesPerSecondPerAddress = 100_000, ReplyBytesPerSecondPerAddress = BytesPerSecond });
        await using IDatagramSocket flooder = net.Network.Bind(new IPEndPoint(net.NextAddress(), 1));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long received = 0;
        var buffer = new byte[2048];
        Task receiving = Task.Run(async () =>
        {
            using var quiet = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            quiet.CancelAfter(TimeSpan.FromSeconds(3));
            try
            {
                while (true)
                {
                    received += (await flooder.ReceiveAsync(buffer, quiet.Token)).Length;
                }
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
            }
        }, Ct);
        for (int i = 0; i < 1_000; i++)
        {
            await flooder.SendAsync(Query(DhtMethod.GetPeers, NodeId.FromHash(infoHash), tid: $"g{i}"), node.LocalEndPoint, Ct);
        }

        await receiving;
        double seconds = clock.Elapsed.TotalSeconds;

        // The budget: a burst of 4 s worth, then the rate, over the time the flooder listened.
        Assert.True(received <= BytesPerSecond * (4 + seconds), $"{received} reply bytes in {seconds:F1} s to one address");
        Assert.True(received > 0, "the flooder's first queries were answered");
        await using IDatagramSocket other = net.Network.Bind(new IPEndPoint(net.NextAddress(), 1));
        Assert.Equal(KrpcMessageType.Response, (await AskAsync(other, node.LocalEndPoint, Query(DhtMethod.Ping)))!.Type);
    }

    [Fact]
    public async Task ReadOnlyNode_AnswersNothing_AndStaysOutOfTables_ButCanLookUp()
    {
        await using DhtTestNet net = await NetAsync(12);
        Sha1Hash infoHash = Sha1Hash.Compute("ro"u8);
        await net.Nodes[0].AnnounceAsync(infoHash, 7000, Ct).WaitAsync(Timeout, Ct);

        DhtNode readOnly = await net.AddAsync(Ct, o => o with { ReadOnly = true });
        IReadOnlyList<IPEndPoint> peers = await readOnly.GetPeersAsync(infoHash, Ct).WaitAsync(Timeout, Ct);
        Assert.Contains(new IPEndPoint(net.Nodes[0].LocalEndPoint.Address, 7000), peers);

        await using IDatagramSocket probe = net.Network.Bind(new IPEndPoint(net.NextAddress(), 1));
        Assert.Null(await AskAsync(probe, readOnly.LocalEndPoint, Query(DhtMethod.Ping), TimeSpan.FromMilliseconds(300)));
        await Task.Delay(200, Ct);
        foreach (DhtNode other in net.Nodes.Where(n => n != readOnly))
        {
            Assert.DoesNotContain(other.GetRoutingContacts(), c => c.EndPoint.Equals(readOnly.LocalEndPoint));
        }
    }

    [Fact]
    public async Task Restart_WithAStatePath_KeepsTheIdAndRejoinsWithoutBootstrap()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"peernet-dht-{Guid.NewGuid():N}");
        try
        {
            await using DhtTestNet net = await NetAsync(10);
            IPAddress address = net.NextAddress();
            string path = Path.Combine(dir, "dht.state");
            DhtNodeOptions options = DhtTestNet.DefaultOptions with
            {
                BindEndPoint = new IPEndPoint(address, DhtTestNet.Port),
                BootstrapNodes = [net.Nodes[0].LocalEndPoint.ToString()],
                StatePath = path,
            };
            string id;
            await using (var first = new DhtNode(options, net.Network, TimeProvider.System, new Random(1)))
            {
                await first.StartAsync(Ct).WaitAsync(Timeout, Ct);
                id = first.NodeIdHex;
                Assert.True(first.GetStats().Nodes >= 8);
            }

            Assert.True(File.Exists(path));
            await using var second = new DhtNode(options with { BootstrapNodes = [] }, net.Network, TimeProvider.System, new Random(2));
            await second.StartAsync(Ct).WaitAsync(Timeout, Ct);
            Assert.Equal(id, second.NodeIdHex);
            Assert.True(second.GetStats().Nodes >= 8, $"only {second.GetStats().Nodes} nodes after restart");
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Lookup_WithDeadNodesInTables_TimesOutThemAndStillSucceeds()
    {
        await using DhtTestNet net = await NetAsync(30);
        Sha1Hash infoHash = Sha1Hash.Compute("churn"u8);
        await net.Nodes[0].AnnounceAsync(infoHash, 7001, Ct).WaitAsync(Timeout, Ct);
        for (int i = 0; i < 6; i++)
        {
            await net.RemoveAsync(net.Nodes[^1]);
        }

        IReadOnlyList<IPEndPoint> peers = await net.Nodes[5].GetPeersAsync(infoHash, Ct).WaitAsync(Timeout, Ct);
        Assert.Contains(new IPEndPoint(net.Nodes[0].LocalEndPoint.Address, 7001), peers);
    }

    [Fact]
    public async Task Lookup_WithDeadNodesAmongTheClosest_MovesOnAtTheSlowTimeout_NotTheQueryTimeout()
    {
        // Queries time out after 60 s here; the four nodes closest to the info-hash die after storing it. A lookup
        // that waited for them would take a minute; it must move on after the 200 ms slow timeout and still find
        // the peer on the live nodes that stored it.
        await using var net = new DhtTestNet(seed: 3);
        for (int i = 0; i < 20; i++)
        {
            await net.AddAsync(Ct, o => o with { QueryTimeout = TimeSpan.FromSeconds(60), SlowQueryTimeout = TimeSpan.FromMilliseconds(200) }).WaitAsync(Timeout, Ct);
        }

        Sha1Hash infoHash = Sha1Hash.Compute("slow"u8);
        DhtNode announcer = net.Nodes[0], searcher = net.Nodes[1];
        DhtAnnounceResult announced = await announcer.AnnounceAsync(infoHash, 7002, Ct).WaitAsync(Timeout, Ct);
        Assert.True(announced.AcceptedBy >= 6, $"{announced.AcceptedBy} nodes stored the announce");
        NodeId target = NodeId.FromHash(infoHash);
        foreach (DhtNode dead in net.Nodes.Skip(2).OrderBy(n => n.NodeIdHex, Comparer<string>.Create((a, b) => target.CompareDistance(NodeId.ParseHex(a), NodeId.ParseHex(b)))).Take(4).ToList())
        {
            await net.RemoveAsync(dead);
        }

        IReadOnlyList<IPEndPoint> peers = await searcher.GetPeersAsync(infoHash, Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);
        Assert.Contains(new IPEndPoint(announcer.LocalEndPoint.Address, 7002), peers);
    }
}
