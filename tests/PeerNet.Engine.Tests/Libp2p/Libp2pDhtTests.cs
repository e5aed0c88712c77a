using System.Buffers;
using System.Net;
using Google.Protobuf;
using PeerNet.Libp2p;
using PeerNet.Libp2p.Protos;

namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>The libp2p Kademlia DHT between PeerNet nodes on 127.0.0.1: lookups across a chain, providers, records, hostile peers.</summary>
public sealed class Libp2pDhtTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_lookup_walks_a_chain_of_five_nodes_to_find_the_last()
    {
        await using Net net = await Net.ChainAsync(5);
        PeerNetNode first = net.Nodes[0];
        PeerNetNode last = net.Nodes[^1];

        Assert.Equal(1, first.Libp2p.Dht.RoutingTableSize); // it knows only its neighbour
        Libp2pPeerInfo? found = await first.Libp2p.Dht.FindPeerAsync(last.Identity.PeerId, Ct).WaitAsync(Timeout, Ct);
        IReadOnlyList<Libp2pPeerId> closest = await first.Libp2p.Dht.GetClosestPeersAsync(Libp2pDht.Sha256Multihash("somewhere"u8), Ct).WaitAsync(Timeout, Ct);

        Assert.NotNull(found);
        Assert.Equal(last.Identity.PeerId, found.PeerId);
        Assert.Contains(Multiaddr.ForTcp(IPAddress.Loopback, last.ListenPort), found.ListenAddresses);
        Assert.Equal(net.Nodes.Skip(1).Select(n => n.Identity.PeerId).ToHashSet(), closest.ToHashSet());
        Assert.Equal(4, first.Libp2p.Dht.RoutingTableSize); // the peers that answered joined its table
    }

    [Fact]
    public async Task A_provider_at_one_end_of_a_chain_is_found_from_the_other()
    {
        await using Net net = await Net.ChainAsync(5);
        byte[] key = Libp2pDht.Sha256Multihash("the content"u8);

        int sent = await net.Nodes[^1].Libp2p.Dht.ProvideAsync(key, Ct).WaitAsync(Timeout, Ct);
        IReadOnlyList<Libp2pPeerInfo> providers = await net.Nodes[0].Libp2p.Dht.FindProvidersAsync(key, 5, Ct).WaitAsync(Timeout, Ct);
        IReadOnlyList<Libp2pPeerInfo> none = await net.Nodes[0].Libp2p.Dht.FindProvidersAsync(Libp2pDht.Sha256Multihash("other"u8), 5, Ct).WaitAsync(Timeout, Ct);

        Assert.Equal(4, sent);
        Libp2pPeerInfo provider = Assert.Single(providers);
        Assert.Equal(net.Nodes[^1].Identity.PeerId, provider.PeerId);
        Assert.Equal([Multiaddr.ForTcp(IPAddress.Loopback, net.Nodes[^1].ListenPort)], provider.ListenAddresses);
        Assert.Empty(none);
    }

    [Fact]
    public async Task A_public_key_record_put_at_one_end_is_got_by_a_newcomer_at_the_other()
    {
        await using Net net = await Net.ChainAsync(4);
        byte[] publicKey = new PublicKey { Type = KeyType.Rsa, Data = ByteString.CopyFrom(Enumerable.Range(0, 64).Select(i => (byte)i).ToArray()) }.ToByteArray();
        byte[] key = KadRecords.PublicKeyKey(Libp2pPeerId.FromPublicKey(publicKey));

        int stored = await net.Nodes[0].Libp2p.Dht.PutValueAsync(key, publicKey, Ct).WaitAsync(Timeout, Ct);
        PeerNetNode newcomer = await net.AddAsync(connectTo: net.Nodes[^1]);
        Assert.Equal(0, newcomer.Libp2p.Dht.Records.Count);
        byte[]? got = await newcomer.Libp2p.Dht.GetValueAsync(key, Ct).WaitAsync(Timeout, Ct);

        Assert.Equal(3, stored);
        Assert.Equal(publicKey, got);
        await Assert.ThrowsAsync<ArgumentException>(() => net.Nodes[0].Libp2p.Dht.PutValueAsync("/ipns/name"u8.ToArray(), publicKey, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => net.Nodes[0].Libp2p.Dht.PutValueAsync(KadRecords.PublicKeyKey(net.Nodes[1].Identity.PeerId), publicKey, Ct));
    }

    [Fact]
    public async Task Only_peers_that_serve_the_dht_join_the_routing_table()
    {
        await using Net net = await Net.StartAsync(3);
        PeerNetNode a = net.Nodes[0];
        PeerNetNode client = net.Nodes[1];
        PeerNetNode server = net.Nodes[2];
        Assert.True(client.Libp2p.RemoveStreamHandler(Libp2pDht.ProtocolId)); // a DHT client: identify does not list the protocol

        await a.Libp2p.ConnectAsync(client.Libp2p.ListenAddresses[0], Ct).WaitAsync(Timeout, Ct);
        await a.Libp2p.ConnectAsync(server.Libp2p.ListenAddresses[0], Ct).WaitAsync(Timeout, Ct);
        await Net.WaitForAsync(() => a.Libp2p.Dht.RoutingTable.Contains(server.Identity.PeerId), "the server in the table");

        Assert.Equal([server.Identity.PeerId], a.Libp2p.Dht.RoutingTable);
    }

    [Theory]
    [InlineData("too-many-peers")]
    [InlineData("garbage")]
    [InlineData("oversized")]
    [InlineData("wrong-type")]
    [InlineData("reset")]
    public async Task A_hostile_answer_fails_that_peer_only_and_it_leaves_the_table(string hostility)
    {
        await using Net net = await Net.StartAsync(3);
        PeerNetNode a = net.Nodes[0];
        PeerNetNode good = net.Nodes[1];
        PeerNetNode hostile = net.Nodes[2];
        hostile.Libp2p.SetStreamHandler(Libp2pDht.ProtocolId, async (stream, peer, token) =>
        {
            await Libp2pNegotiation.ReadBodyAsync(stream, KadCodec.MaxMessageLength, token);
            await stream.WriteAsync(HostileAnswer(hostility), token);
            if (hostility == "reset")
            {
                stream.Abort();
                return;
            }

            stream.CompleteWrites();
            _ = await stream.ReadAsync(new byte[1], token); // until a's side ends
        });
        await a.Libp2p.ConnectAsync(good.Libp2p.ListenAddresses[0], Ct).WaitAsync(Timeout, Ct);
        await a.Libp2p.ConnectAsync(hostile.Libp2p.ListenAddresses[0], Ct).WaitAsync(Timeout, Ct);
        await Net.WaitForAsync(() => a.Libp2p.Dht.RoutingTableSize == 2, "both peers in the table");

        IReadOnlyList<Libp2pPeerId> closest = await a.Libp2p.Dht.GetClosestPeersAsync(Libp2pDht.Sha256Multihash("x"u8), Ct).WaitAsync(Timeout, Ct);

        Assert.Equal([good.Identity.PeerId], closest);
        Assert.Equal([good.Identity.PeerId], a.Libp2p.Dht.RoutingTable);
    }

    [Fact]
    public async Task The_server_refuses_bad_requests_on_their_stream_and_goes_on_serving()
    {
        await using Net net = await Net.StartAsync(3);
        PeerNetNode a = net.Nodes[0];
        PeerNetNode b = net.Nodes[1];
        PeerNetNode third = net.Nodes[2];
        await a.Libp2p.ConnectAsync(b.Libp2p.ListenAddresses[0], Ct).WaitAsync(Timeout, Ct);
        byte[] key = Libp2pDht.Sha256Multihash("k"u8);
        byte[] rsa = new PublicKey { Type = KeyType.Rsa, Data = ByteString.CopyFrom(new byte[64]) }.ToByteArray();

        // A record of a namespace nobody validates, an oversized length, garbage: each stream is reset.
        await Assert.ThrowsAnyAsync<IOException>(() => ExchangeAsync(a, b, Frame(new KadRpc(KadMessageType.PutValue, [.. "/foo/bar"u8], new KadValue([.. "/foo/bar"u8], [1], ""), [], []))));
        await Assert.ThrowsAnyAsync<IOException>(() => ExchangeAsync(a, b, [0x80, 0x80, 0x80, 0x04]));
        await Assert.ThrowsAnyAsync<IOException>(() => ExchangeAsync(a, b, [0x03, 0xff, 0xff, 0xff]));

        // ADD_PROVIDER naming someone else is ignored; one naming the sender is kept; a FIND_NODE is answered.
        await SendAsync(a, b, Frame(new KadRpc(KadMessageType.AddProvider, key, null, [], [new KadPeer(third.Identity.PeerId, [Multiaddr.ForTcp(IPAddress.Loopback, 1)])])));
        await SendAsync(a, b, Frame(new KadRpc(KadMessageType.AddProvider, key, null, [], [new KadPeer(a.Identity.PeerId, [Multiaddr.ForTcp(IPAddress.Loopback, 2)])])));
        KadRpc? answer = await ExchangeAsync(a, b, Frame(KadRpc.Request(KadMessageType.FindNode, b.Identity.PeerId.Multihash.Span)));
        KadRpc? put = await ExchangeAsync(a, b, Frame(new KadRpc(KadMessageType.PutValue, KadRecords.PublicKeyKey(Libp2pPeerId.FromPublicKey(rsa)), new KadValue(KadRecords.PublicKeyKey(Libp2pPeerId.FromPublicKey(rsa)), rsa, ""), [], [])));

        await Net.WaitForAsync(() => b.Libp2p.Dht.Providers.Get(key).Count > 0, "the provider record");
        KadPeer provider = Assert.Single(b.Libp2p.Dht.Providers.Get(key));
        Assert.Equal(a.Identity.PeerId, provider.Id);
        Assert.Equal(b.Identity.PeerId, Assert.Single(answer!.CloserPeers).Id); // asked for itself: it answers with itself
        Assert.Equal(KadMessageType.PutValue, put!.Type);
        Assert.Equal(1, b.Libp2p.Dht.Records.Count);
    }

    [Fact]
    public void Stores_are_bounded_and_records_expire()
    {
        var time = new ManualTime();
        var providers = new KadProviderStore(maxKeys: 2, maxProvidersPerKey: 2, TimeSpan.FromHours(48), time);
        Libp2pPeerId[] peers = [.. Enumerable.Range(0, 3).Select(_ => NewPeer())];
        IReadOnlyList<Multiaddr> addresses = [Multiaddr.ForTcp(IPAddress.Loopback, 1)];

        Assert.True(providers.Add([1], peers[0], addresses));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(providers.Add([1], peers[1], addresses));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(providers.Add([1], peers[2], addresses)); // the key's oldest provider goes
        Assert.True(providers.Add([2], peers[0], addresses));
        Assert.False(providers.Add([3], peers[0], addresses)); // two keys at most

        Assert.Equal([peers[2], peers[1]], providers.Get([1]).Select(p => p.Id));
        time.Advance(TimeSpan.FromHours(49));
        Assert.Empty(providers.Get([1]));
        Assert.True(providers.Add([3], peers[0], addresses)); // the expired ones were swept

        var records = new KadRecordStore(maxRecords: 2, TimeSpan.FromHours(48), time);
        records.Put([1], [10]);
        records.Put([2], [20]);
        records.Put([3], [30]);
        Assert.Equal(2, records.Count);
        Assert.Equal([30], records.Get([3])!.Value);
        time.Advance(TimeSpan.FromHours(49));
        Assert.Null(records.Get([3]));
    }

    [Fact]
    public void The_routing_table_keeps_k_peers_a_bucket_and_evicts_only_disconnected_ones()
    {
        Libp2pPeerId self = NewPeer();
        var table = new KadRoutingTable(self, bucketSize: 2);
        IReadOnlyList<Multiaddr> addresses = [Multiaddr.ForTcp(IPAddress.Loopback, 1)];
        byte[] me = KadDistance.Position(self);

        // Three peers of the farthest bucket (the first bit differs from ours).
        List<Libp2pPeerId> far = [];
        while (far.Count < 3)
        {
            Libp2pPeerId p = NewPeer();
            if (KadDistance.CommonPrefixLength(me, KadDistance.Position(p)) == 0)
            {
                far.Add(p);
            }
        }

        Assert.False(table.TryAdd(self, addresses, _ => false));
        Assert.False(table.TryAdd(far[0], [], _ => false)); // no address: useless to others
        Assert.True(table.TryAdd(far[0], addresses, _ => false));
        Assert.True(table.TryAdd(far[1], addresses, _ => false));
        Assert.False(table.TryAdd(far[2], addresses, _ => true)); // full, everyone connected
        Assert.True(table.TryAdd(far[2], addresses, p => !p.Equals(far[0]))); // far[0] is gone: replaced
        Assert.Equal(new[] { far[1], far[2] }.ToHashSet(), table.Peers.ToHashSet());
        Assert.Equal(far[1], table.Closest(KadDistance.Position(far[1]), 1)[0].Id);
    }

    private static Libp2pPeerId NewPeer()
    {
        using NodeIdentity identity = NodeIdentity.CreateEphemeral();
        return identity.PeerId;
    }

    private static byte[] HostileAnswer(string hostility)
    {
        var output = new ArrayBufferWriter<byte>();
        switch (hostility)
        {
            case "too-many-peers":
                var message = new KadMessage { Type = KadMessage.Types.MessageType.FindNode };
                for (int i = 0; i < 100; i++)
                {
                    var peer = new KadMessage.Types.Peer { Id = ByteString.CopyFrom(NewPeer().Multihash.Span) };
                    peer.Addrs.Add(ByteString.CopyFrom(Multiaddr.ForTcp(IPAddress.Loopback, 1000 + i).ToBytes()));
                    message.CloserPeers.Add(peer);
                }

                LengthPrefixedMessage.Write(message.ToByteArray(), output);
                return output.WrittenSpan.ToArray();
            case "garbage":
                return [0x04, 0x0a, 0xff, 0xff, 0xff];
            case "oversized":
                return [0x80, 0x80, 0x80, 0x08, 0x01, 0x02];
            case "wrong-type":
                return Frame(KadRpc.Request(KadMessageType.Ping, [1]));
            default:
                return [0x10]; // a length, then the reset
        }
    }

    private static byte[] Frame(KadRpc rpc)
    {
        var output = new ArrayBufferWriter<byte>();
        KadCodec.Write(rpc, output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Opens a DHT stream from <paramref name="a"/> to <paramref name="b"/>, writes the bytes, half-closes and reads one answer.</summary>
    private static async Task<KadRpc?> ExchangeAsync(PeerNetNode a, PeerNetNode b, byte[] request)
    {
        await using Libp2pStream stream = await a.Libp2p.OpenStreamAsync(b.Identity.PeerId, Libp2pDht.ProtocolId, Ct).WaitAsync(Timeout, Ct);
        await stream.WriteAsync(request, Ct);
        stream.CompleteWrites();
        byte[]? body = await Libp2pNegotiation.ReadBodyAsync(stream, KadCodec.MaxMessageLength, Ct).WaitAsync(Timeout, Ct);
        if (body is null)
        {
            throw new IOException("no answer");
        }

        Assert.True(KadCodec.TryDecode(body, out KadRpc? answer, out string? error), error);
        return answer;
    }

    /// <summary>Sends bytes on a DHT stream and waits for the server to close its side.</summary>
    private static async Task SendAsync(PeerNetNode a, PeerNetNode b, byte[] request)
    {
        await using Libp2pStream stream = await a.Libp2p.OpenStreamAsync(b.Identity.PeerId, Libp2pDht.ProtocolId, Ct).WaitAsync(Timeout, Ct);
        await stream.WriteAsync(request, Ct);
        stream.CompleteWrites();
        Assert.Equal(0, await stream.ReadAsync(new byte[16], Ct).AsTask().WaitAsync(Timeout, Ct));
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    /// <summary>PeerNet nodes on 127.0.0.1, disposed together.</summary>
    private sealed class Net : IAsyncDisposable
    {
        public List<PeerNetNode> Nodes { get; } = [];

        public static async Task<Net> StartAsync(int count)
        {
            var net = new Net();
            for (int i = 0; i < count; i++)
            {
                net.Nodes.Add(await StartNodeAsync());
            }

            return net;
        }

        /// <summary>Nodes where each has dialled the next, and each knows its neighbours (and only them).</summary>
        public static async Task<Net> ChainAsync(int count)
        {
            Net net = await StartAsync(count);
            for (int i = 0; i + 1 < count; i++)
            {
                await net.Nodes[i].Libp2p.ConnectAsync(net.Nodes[i + 1].Libp2p.ListenAddresses[0], Ct).WaitAsync(Timeout, Ct);
            }

            for (int i = 0; i < count; i++)
            {
                int neighbours = i == 0 || i == count - 1 ? 1 : 2;
                PeerNetNode node = net.Nodes[i];
                await WaitForAsync(() => node.Libp2p.Dht.RoutingTableSize == neighbours, $"node {i}'s neighbours in its table");
            }

            return net;
        }

        public async Task<PeerNetNode> AddAsync(PeerNetNode connectTo)
        {
            PeerNetNode node = await StartNodeAsync();
            Nodes.Add(node);
            await node.Libp2p.ConnectAsync(connectTo.Libp2p.ListenAddresses[0], Ct).WaitAsync(Timeout, Ct);
            await WaitForAsync(() => node.Libp2p.Dht.RoutingTableSize == 1, "the newcomer's neighbour in its table");
            return node;
        }

        public static Task WaitForAsync(Func<bool> condition, string what) => Poll.UntilAsync(condition, what, Timeout);

        public async ValueTask DisposeAsync()
        {
            await Task.WhenAll(Nodes.Select(n => n.DisposeAsync().AsTask()));
        }

        private static Task<PeerNetNode> StartNodeAsync() => PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
            cancellationToken: Ct);
    }
}
