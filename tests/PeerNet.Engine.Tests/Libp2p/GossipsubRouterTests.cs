using System.Net;
using System.Text;
using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Engine.Tests.Transport;
using PeerNet.Libp2p;
using PeerNet.Libp2p.Protos;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>
/// gossipsub routers on libp2p hosts joined by an in-memory network (each node its own address), the heartbeat driven in
/// virtual time: delivery, duplicates, mesh bounds, StrictSign, scoring, gossip and backoff. Misbehaving peers are
/// bare hosts that write hand-made RPCs.
/// </summary>
public sealed class GossipsubRouterTests
{
    private const string Topic = "peernet/test";
    private static readonly TimeSpan Timeout = TransportTestKit.TestTimeout;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_nodes_deliver_signed_messages_both_ways_and_graft_each_other()
    {
        await using var net = new Net();
        Node a = net.Add();
        Node b = net.Add();
        using PubsubSubscription atA = a.Router.Subscribe(Topic);
        using PubsubSubscription atB = b.Router.Subscribe(Topic);
        await net.ConnectAsync(a, b);
        await net.WaitUntilAsync(() => a.Router.TopicPeers(Topic).Count == 1 && b.Router.TopicPeers(Topic).Count == 1, "each learns the other's subscription");
        net.Heartbeats(1);
        await net.WaitUntilAsync(() => a.Router.MeshPeers(Topic).Count == 1 && b.Router.MeshPeers(Topic).Count == 1, "each grafts the other");

        Assert.Equal(1, a.Router.Publish(Topic, "hello from a"u8));
        PubsubMessage atBMessage = await ReadAsync(atB);
        Assert.Equal(1, b.Router.Publish(Topic, "hello from b"u8));
        PubsubMessage atAMessage = await ReadAsync(atA);

        Assert.Equal("hello from a", Encoding.UTF8.GetString(atBMessage.Data.Span));
        Assert.Equal(a.Identity.PeerId, atBMessage.From);
        Assert.Equal(a.Identity.PeerId, atBMessage.ReceivedFrom);
        Assert.Equal(Topic, atBMessage.Topic);
        Assert.Equal("hello from b", Encoding.UTF8.GetString(atAMessage.Data.Span));
        Assert.Equal(b.Identity.PeerId, atAMessage.From);
        Assert.False(atA.Messages.TryRead(out _), "a node does not receive its own message");
        Assert.True(b.Router.PeerScore(a.Identity.PeerId) > 0, "a first delivery raises the sender's score (P2)");
    }

    [Fact]
    public async Task Ten_nodes_deliver_every_message_once_and_meshes_settle_within_the_degree_bounds()
    {
        var options = new GossipsubOptions { D = 3, Dlo = 2, Dhi = 4, Dscore = 2, Dout = 1, Dlazy = 3, FloodPublish = false };
        await using var net = new Net(options);
        List<Node> nodes = [.. Enumerable.Range(0, 10).Select(_ => net.Add())];
        List<PubsubSubscription> subscriptions = [.. nodes.Select(n => n.Router.Subscribe(Topic))];
        try
        {
            // Everyone connected to everyone: meshes start over-full from grafts and the heartbeat prunes them.
            for (int i = 0; i < nodes.Count; i++)
            {
                for (int j = i + 1; j < nodes.Count; j++)
                {
                    await net.ConnectAsync(nodes[i], nodes[j]);
                }
            }

            await net.WaitUntilAsync(() => nodes.All(n => n.Router.TopicPeers(Topic).Count == nodes.Count - 1), "every node knows every subscription");
            bool Settled() => nodes.All(n => n.Router.MeshPeers(Topic).Count >= options.Dlo && n.Router.MeshPeers(Topic).Count <= options.Dhi);
            for (int round = 0; round < 30 && (round < 3 || !Settled()); round++)
            {
                net.Heartbeats(1);
                await net.SettleAsync();
            }

            Assert.All(nodes, n => Assert.InRange(n.Router.MeshPeers(Topic).Count, options.Dlo, options.Dhi));

            // Mesh forwarding only (no flood publishing): each message still reaches everyone, once.
            var sender = nodes[3];
            sender.Router.Publish(Topic, "m1"u8);
            nodes[7].Router.Publish(Topic, "m2"u8);
            for (int i = 0; i < nodes.Count; i++)
            {
                int expected = i is 3 or 7 ? 1 : 2;
                var got = new List<string>();
                for (int k = 0; k < expected; k++)
                {
                    got.Add(Encoding.UTF8.GetString((await ReadAsync(subscriptions[i])).Data.Span));
                }

                Assert.Equal(expected, got.Distinct().Count());
            }

            await net.SettleAsync();
            Assert.All(subscriptions, s => Assert.False(s.Messages.TryRead(out _), "no message is delivered twice"));
            Assert.True(nodes.Sum(n => n.Router.Counters.Duplicates) > 0, "flooding to every peer makes duplicates, which are dropped");
        }
        finally
        {
            subscriptions.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Unsigned_and_forged_messages_are_rejected_and_the_senders_score_drops()
    {
        await using var net = new Net();
        Node victim = net.Add();
        using PubsubSubscription subscription = victim.Router.Subscribe(Topic);
        await using Rogue rogue = await net.AddRogueAsync(victim);
        using var someoneElse = NodeIdentity.CreateEphemeral();
        await rogue.SendAsync(Subscribe(Topic));

        var unsigned = new PubsubWireMessage { From = ByteString.CopyFrom(rogue.Identity.PeerId.Multihash.Span), Seqno = ByteString.CopyFrom(new byte[8]), Topic = Topic, Data = ByteString.CopyFromUtf8("unsigned") };
        PubsubWireMessage forged = GossipsubRpc.Sign(someoneElse.PeerId, 7, Topic, "forged"u8, bytes => rogue.Identity.Sign(bytes));
        PubsubWireMessage tampered = GossipsubRpc.Sign(rogue.Identity.PeerId, 8, Topic, "original"u8, bytes => rogue.Identity.Sign(bytes));
        tampered.Data = ByteString.CopyFromUtf8("changed");
        await rogue.SendAsync(Publish(unsigned, forged, tampered));

        await net.WaitUntilAsync(() => victim.Router.Counters.Rejected == 3, "the three messages are rejected");
        Assert.False(subscription.Messages.TryRead(out _));
        Assert.True(victim.Router.PeerScore(rogue.Identity.PeerId) < 0, "invalid messages cost the sender (P4)");

        // A properly signed message from the same peer still gets through (it is not graylisted yet).
        await rogue.SendAsync(Publish(GossipsubRpc.Sign(rogue.Identity.PeerId, 9, Topic, "valid"u8, bytes => rogue.Identity.Sign(bytes))));
        PubsubMessage valid = await ReadAsync(subscription);
        Assert.Equal("valid", Encoding.UTF8.GetString(valid.Data.Span));
        Assert.Equal(9UL, valid.SequenceNumber);
    }

    [Fact]
    public async Task A_spammer_of_invalid_messages_is_graylisted_while_honest_peers_still_deliver()
    {
        await using var net = new Net();
        Node honest = net.Add();
        Node victim = net.Add();
        using PubsubSubscription atVictim = victim.Router.Subscribe(Topic);
        using PubsubSubscription atHonest = honest.Router.Subscribe(Topic);
        await net.ConnectAsync(honest, victim);
        await using Rogue spammer = await net.AddRogueAsync(victim);
        await spammer.SendAsync(Subscribe(Topic));
        await net.WaitUntilAsync(() => victim.Router.TopicPeers(Topic).Count == 2, "the victim knows both peers' subscriptions");

        const int Spam = 2000;
        const int Honest = 50;
        Task spamming = Task.Run(async () =>
        {
            for (int i = 0; i < Spam; i += 10)
            {
                await spammer.SendAsync(Publish([.. Enumerable.Range(i, 10).Select(k => GossipsubRpc.Sign(spammer.Identity.PeerId, (ulong)k, Topic, "spam"u8, _ => new byte[64]))]));
            }
        }, Ct);
        for (int i = 0; i < Honest; i++)
        {
            honest.Router.Publish(Topic, Encoding.UTF8.GetBytes($"honest {i}"));
        }

        var received = new HashSet<string>();
        while (received.Count < Honest)
        {
            received.Add(Encoding.UTF8.GetString((await ReadAsync(atVictim)).Data.Span));
        }

        await spamming.WaitAsync(Timeout, Ct);
        await net.WaitUntilAsync(() => victim.Router.Counters.Graylisted > 0, "the spammer's later RPCs are ignored unread");
        Assert.Equal(Honest, received.Count);
        Assert.True(victim.Router.PeerScore(spammer.Identity.PeerId) < victim.Router.Options.Score.GraylistThreshold);
        Assert.True(victim.Router.Counters.Rejected < Spam, "once graylisted, the spam is not even checked");
        Assert.True(victim.Router.PeerScore(honest.Identity.PeerId) >= 0);
    }

    [Fact]
    public async Task A_flooder_in_the_mesh_is_pruned_and_graylisted_while_two_honest_publishers_reach_everyone()
    {
        await using var net = new Net();
        Node honest1 = net.Add();
        Node honest2 = net.Add();
        Node victim = net.Add();
        using PubsubSubscription atVictim = victim.Router.Subscribe(Topic);
        using PubsubSubscription at1 = honest1.Router.Subscribe(Topic);
        using PubsubSubscription at2 = honest2.Router.Subscribe(Topic);
        await net.ConnectAsync(honest1, victim);
        await net.ConnectAsync(honest2, victim);
        await using Rogue flooder = await net.AddRogueAsync(victim);
        await flooder.SendAsync(Subscribe(Topic));
        await net.WaitUntilAsync(() => victim.Router.TopicPeers(Topic).Count == 3, "the victim knows all three subscriptions");
        net.Heartbeats(1);
        await flooder.ReceiveAsync(rpc => rpc.Control?.Graft.Any(g => g.TopicID == Topic) == true);
        Assert.Contains(flooder.Identity.PeerId, victim.Router.MeshPeers(Topic));

        // Half unsigned (from and seqno but no signature), half signed with garbage; honest1 and honest2 publish
        // meanwhile and only reach each other through the victim, so the victim must keep forwarding theirs.
        const int Flood = 1000;
        const int EachHonest = 25;
        var flooderFrom = ByteString.CopyFrom(flooder.Identity.PeerId.Multihash.Span);
        Task flooding = Task.Run(async () =>
        {
            for (int i = 0; i < Flood; i += 10)
            {
                await flooder.SendAsync(Publish([.. Enumerable.Range(i, 10).Select(k => k % 2 == 0
                    ? new PubsubWireMessage { From = flooderFrom, Seqno = ByteString.CopyFrom(BitConverter.GetBytes((ulong)k)), Topic = Topic, Data = ByteString.CopyFromUtf8("unsigned") }
                    : GossipsubRpc.Sign(flooder.Identity.PeerId, (ulong)k, Topic, "badly signed"u8, _ => new byte[64]))]));
            }
        }, Ct);
        for (int i = 0; i < EachHonest; i++)
        {
            honest1.Router.Publish(Topic, Encoding.UTF8.GetBytes($"one {i}"));
            honest2.Router.Publish(Topic, Encoding.UTF8.GetBytes($"two {i}"));
        }

        string[] atVictimTexts = await ReadTextsAsync(atVictim, 2 * EachHonest);
        string[] at1Texts = await ReadTextsAsync(at1, EachHonest);
        string[] at2Texts = await ReadTextsAsync(at2, EachHonest);
        await flooding.WaitAsync(Timeout, Ct);
        Assert.Equal(2 * EachHonest, atVictimTexts.Distinct().Count());
        Assert.All(atVictimTexts, t => Assert.Matches("^(one|two) [0-9]+$", t));
        Assert.Equal([.. Enumerable.Range(0, EachHonest).Select(i => $"two {i}").Order(StringComparer.Ordinal)], at1Texts);
        Assert.Equal([.. Enumerable.Range(0, EachHonest).Select(i => $"one {i}").Order(StringComparer.Ordinal)], at2Texts);

        // The flooder's score falls under the graylist threshold: its RPCs are dropped unread, even a valid message.
        // (Its sends completing is not the victim having read them: a CI run checked the score before that.)
        await net.WaitUntilAsync(
            () => victim.Router.PeerScore(flooder.Identity.PeerId) < victim.Router.Options.Score.GraylistThreshold,
            "the flooder's score under the graylist threshold");
        Assert.True(victim.Router.Counters.Rejected is > 0 and < Flood, $"{victim.Router.Counters.Rejected} rejected: once graylisted, the flood is not even checked");
        long graylisted = Interlocked.Read(ref victim.Router.Counters.Graylisted);
        await flooder.SendAsync(Publish(GossipsubRpc.Sign(flooder.Identity.PeerId, Flood, Topic, "valid at last"u8, bytes => flooder.Identity.Sign(bytes))));
        await net.WaitUntilAsync(() => Interlocked.Read(ref victim.Router.Counters.Graylisted) > graylisted, "the valid message's RPC is dropped unread");

        // The next heartbeat prunes it from the mesh (without peer exchange), and nothing of it reached anyone.
        net.Heartbeats(1);
        Rpc prune = await flooder.ReceiveAsync(rpc => rpc.Control?.Prune.Any(p => p.TopicID == Topic) == true);
        Assert.Empty(prune.Control.Prune.Single(p => p.TopicID == Topic).Peers);
        Assert.DoesNotContain(flooder.Identity.PeerId, victim.Router.MeshPeers(Topic));
        Assert.Equal(2, victim.Router.MeshPeers(Topic).Count);
        Assert.Contains(honest1.Identity.PeerId, victim.Router.MeshPeers(Topic));
        Assert.Contains(honest2.Identity.PeerId, victim.Router.MeshPeers(Topic));
        await net.SettleAsync();
        Assert.False(atVictim.Messages.TryRead(out PubsubMessage? extra), $"the victim delivered {extra}");
        Assert.False(at1.Messages.TryRead(out extra), $"honest1 got {extra}");
        Assert.False(at2.Messages.TryRead(out extra), $"honest2 got {extra}");
        Assert.True(victim.Router.PeerScore(honest1.Identity.PeerId) >= 0 && victim.Router.PeerScore(honest2.Identity.PeerId) >= 0);
    }

    [Fact]
    public async Task A_validator_rejects_with_a_penalty_and_ignores_without_one()
    {
        await using var net = new Net();
        Node a = net.Add();
        Node b = net.Add();
        using PubsubSubscription atB = b.Router.Subscribe(Topic);
        using PubsubSubscription atA = a.Router.Subscribe(Topic);
        b.Router.SetValidator(Topic, m => Encoding.UTF8.GetString(m.Data.Span) switch
        {
            "bad" => PubsubValidationResult.Reject,
            "later" => PubsubValidationResult.Ignore,
            _ => PubsubValidationResult.Accept,
        });
        await net.ConnectAsync(a, b);
        await net.WaitUntilAsync(() => a.Router.TopicPeers(Topic).Count == 1, "a knows b's subscription");

        a.Router.Publish(Topic, "later"u8);
        a.Router.Publish(Topic, "good"u8);
        Assert.Equal("good", Encoding.UTF8.GetString((await ReadAsync(atB)).Data.Span));
        Assert.Equal(1, b.Router.Counters.Ignored);
        double before = b.Router.PeerScore(a.Identity.PeerId);
        Assert.True(before > 0);

        a.Router.Publish(Topic, "bad"u8);
        await net.WaitUntilAsync(() => b.Router.Counters.Rejected == 1, "the validator rejects");
        Assert.True(b.Router.PeerScore(a.Identity.PeerId) < before);
        Assert.False(atB.Messages.TryRead(out _));
    }

    [Fact]
    public async Task A_topic_with_its_own_score_parameters_is_scored_by_them_and_the_others_by_the_default()
    {
        const string lenient = "peernet/lenient";
        var options = new GossipsubOptions
        {
            Score = GossipsubScoreOptions.Default with
            {
                Topics = new Dictionary<string, GossipsubTopicScoreOptions>
                {
                    [lenient] = new() { TimeInMeshWeight = 0, FirstMessageDeliveriesWeight = 0, InvalidMessageDeliveriesWeight = 0 },
                },
            },
        };
        await using var net = new Net(options);
        Node a = net.Add();
        Node b = net.Add();
        using PubsubSubscription strictAtB = b.Router.Subscribe(Topic);
        using PubsubSubscription lenientAtB = b.Router.Subscribe(lenient);
        b.Router.SetValidator(Topic, m => m.Data.Span.SequenceEqual("bad"u8) ? PubsubValidationResult.Reject : PubsubValidationResult.Accept);
        b.Router.SetValidator(lenient, m => m.Data.Span.SequenceEqual("bad"u8) ? PubsubValidationResult.Reject : PubsubValidationResult.Accept);
        await net.ConnectAsync(a, b);
        await net.WaitUntilAsync(() => a.Router.TopicPeers(Topic).Count == 1 && a.Router.TopicPeers(lenient).Count == 1, "a knows b's subscriptions");

        // Invalid messages on the lenient topic cost nothing (its own P₄ weight is 0); valid ones earn nothing (P₂ 0).
        a.Router.Publish(lenient, "bad"u8);
        a.Router.Publish(lenient, "bad"u8);
        a.Router.Publish(lenient, "fine"u8);
        Assert.Equal("fine", Encoding.UTF8.GetString((await ReadAsync(lenientAtB)).Data.Span));
        Assert.Equal(2, b.Router.Counters.Rejected);
        Assert.Equal(0, b.Router.PeerScore(a.Identity.PeerId));

        // The other topic takes the default parameters: a valid message earns P₂, an invalid one costs P₄.
        a.Router.Publish(Topic, "good"u8);
        Assert.Equal("good", Encoding.UTF8.GetString((await ReadAsync(strictAtB)).Data.Span));
        Assert.True(b.Router.PeerScore(a.Identity.PeerId) > 0);
        a.Router.Publish(Topic, "bad"u8);
        a.Router.Publish(Topic, "bad"u8);
        await net.WaitUntilAsync(() => b.Router.Counters.Rejected == 4, "the validator rejects on the default topic");
        Assert.True(b.Router.PeerScore(a.Identity.PeerId) < 0);
    }

    [Fact]
    public void Score_parameters_out_of_the_spec_are_refused_with_the_topic_named()
    {
        GossipsubOptions positiveP4 = new() { Score = GossipsubScoreOptions.Default with { Topics = new Dictionary<string, GossipsubTopicScoreOptions> { ["t"] = new() { InvalidMessageDeliveriesWeight = 1 } } } };
        Assert.Contains("score parameters of t", Assert.Throws<ArgumentException>(positiveP4.Validate).Message);
        GossipsubOptions noDecay = new() { Score = GossipsubScoreOptions.Default with { Topic = new() { FirstMessageDeliveriesDecay = 1 } } };
        Assert.Contains("every decay", Assert.Throws<ArgumentException>(noDecay.Validate).Message);
        GossipsubOptions degrees = new() { D = 3, Dlo = 4 };
        Assert.Throws<ArgumentException>(degrees.Validate);
        new GossipsubOptions().Validate();
    }

    [Fact]
    public async Task IHAVE_is_answered_with_IWANT_and_a_broken_promise_costs_the_advertiser()
    {
        await using var net = new Net();
        Node victim = net.Add();
        using PubsubSubscription subscription = victim.Router.Subscribe(Topic);
        await using Rogue rogue = await net.AddRogueAsync(victim);
        await rogue.SendAsync(Subscribe(Topic));
        byte[] id = [.. Enumerable.Range(0, 44).Select(i => (byte)i)];

        await rogue.SendAsync(new Rpc { Control = new ControlMessage { Ihave = { new ControlIHave { TopicID = Topic, MessageIDs = { ByteString.CopyFrom(id) } } } } });
        Rpc iwant = await rogue.ReceiveAsync(r => r.Control?.Iwant.Count > 0);
        Assert.Equal(id, iwant.Control.Iwant[0].MessageIDs[0].ToByteArray());
        Assert.Equal(0, victim.Router.PeerScore(rogue.Identity.PeerId));

        // The message never comes: after the follow-up time the heartbeat counts a broken promise (P7).
        for (int i = 0; i < 4; i++)
        {
            net.Heartbeats(1);
        }

        Assert.True(victim.Router.PeerScore(rogue.Identity.PeerId) < 0);
    }

    [Fact]
    public async Task IWANT_is_served_from_the_message_cache_a_bounded_number_of_times()
    {
        await using var net = new Net();
        Node victim = net.Add();
        await using Rogue rogue = await net.AddRogueAsync(victim);
        await rogue.SendAsync(Subscribe(Topic));
        await net.WaitUntilAsync(() => victim.Router.TopicPeers(Topic).Count == 1, "the victim knows the rogue's subscription");
        victim.Router.Publish(Topic, "cached"u8);
        Rpc published = await rogue.ReceiveAsync(r => r.Publish.Count > 0);
        byte[] id = GossipsubRpc.MessageId(published.Publish[0])!;
        Assert.Equal(GossipsubRpc.SeqnoLength + 36, id.Length); // js-libp2p's: the protobuf public key, then the seqno

        var iwant = new Rpc { Control = new ControlMessage { Iwant = { new ControlIWant { MessageIDs = { ByteString.CopyFrom(id) } } } } };
        for (int i = 0; i < 5; i++)
        {
            await rogue.SendAsync(iwant);
        }

        int Served() => rogue.Received.Count(r => r.Publish.Count > 0) - 1;
        await net.WaitUntilAsync(() => Served() >= victim.Router.Options.GossipRetransmission, "the IWANTs are answered");
        await rogue.SendAsync(Subscribe("flush")); // ordered after the IWANTs on the same stream
        await net.WaitUntilAsync(() => victim.Router.TopicPeers("flush").Count == 1, "the victim read every IWANT");
        await net.SettleAsync();
        Assert.Equal(victim.Router.Options.GossipRetransmission, Served());
    }

    [Fact]
    public async Task An_IWANT_for_more_messages_than_one_RPC_may_carry_is_answered_in_RPCs_a_peer_accepts()
    {
        // Found by the 1,000-node simulation: a node asked for 1,204 cached messages answered in one RPC, which the
        // asker refused (at most 1,000 messages an RPC) along with the stream it came on.
        using var identity = NodeIdentity.CreateEphemeral();
        using var asker = NodeIdentity.CreateEphemeral();
        await using var host = new Libp2pHost(identity);
        await using var router = new GossipsubRouter(host, identity, time: new FakeTimeProvider());
        GossipsubRouter.Peer peer = router.AddPeerWithoutConnection(asker.PeerId, outbound: false, IPAddress.Parse("10.0.0.2"));
        router.HandleRpc(peer, Subscribe(Topic).ToByteArray());
        int count = GossipsubRpcLimits.Default.MaxMessages + 204;
        var iwant = new ControlIWant();
        for (int i = 0; i < count; i++)
        {
            router.Publish(Topic, BitConverter.GetBytes(i));
            Assert.True(peer.Queue.Reader.TryRead(out byte[]? frame));
            iwant.MessageIDs.Add(ByteString.CopyFrom(GossipsubRpc.MessageId(Rpc.Parser.ParseFrom(Body(frame)).Publish[0])));
        }

        router.HandleRpc(peer, new Rpc { Control = new ControlMessage { Iwant = { iwant } } }.ToByteArray());
        int served = 0;
        while (peer.Queue.Reader.TryRead(out byte[]? frame))
        {
            Assert.True(GossipsubRpc.TryDecode(Body(frame), GossipsubRpcLimits.Default, out Rpc? reply, out string? error), error);
            served += reply.Publish.Count;
        }

        Assert.Equal(count, served);
    }

    [Fact]
    public async Task A_graft_during_backoff_is_pruned_and_penalized()
    {
        await using var net = new Net();
        Node victim = net.Add();
        using PubsubSubscription subscription = victim.Router.Subscribe(Topic);
        await using Rogue rogue = await net.AddRogueAsync(victim);
        await rogue.SendAsync(Subscribe(Topic));
        var graft = new Rpc { Control = new ControlMessage { Graft = { new ControlGraft { TopicID = Topic } } } };

        await rogue.SendAsync(graft);
        await net.WaitUntilAsync(() => victim.Router.MeshPeers(Topic).Contains(rogue.Identity.PeerId), "the graft is accepted");
        await rogue.SendAsync(new Rpc { Control = new ControlMessage { Prune = { new ControlPrune { TopicID = Topic, Backoff = 60 } } } });
        await net.WaitUntilAsync(() => victim.Router.MeshPeers(Topic).Count == 0, "the prune is heeded");

        await rogue.SendAsync(graft);
        Rpc prune = await rogue.ReceiveAsync(r => r.Control?.Prune.Count > 0);
        Assert.Equal(Topic, prune.Control.Prune[0].TopicID);
        Assert.True(prune.Control.Prune[0].Backoff >= 60);
        Assert.Empty(victim.Router.MeshPeers(Topic));
        Assert.True(victim.Router.PeerScore(rogue.Identity.PeerId) < 0, "a graft in backoff costs P7");

        // A graft for a topic the victim does not subscribe to is ignored (v1.1), not answered.
        await rogue.SendAsync(new Rpc { Control = new ControlMessage { Graft = { new ControlGraft { TopicID = "elsewhere" } } } });
        await rogue.SendAsync(Subscribe("flush"));
        await net.WaitUntilAsync(() => victim.Router.TopicPeers("flush").Count == 1, "the victim read the graft");
        await net.SettleAsync();
        Assert.DoesNotContain(rogue.Received, r => r.Control?.Prune.Any(p => p.TopicID == "elsewhere") == true);
    }

    [Fact]
    public async Task Oversized_or_malformed_RPCs_end_the_stream_and_cost_the_sender()
    {
        await using var net = new Net();
        Node victim = net.Add();
        using PubsubSubscription subscription = victim.Router.Subscribe(Topic);
        await using Rogue rogue = await net.AddRogueAsync(victim);
        var tooMany = new Rpc();
        tooMany.Subscriptions.AddRange(Enumerable.Range(0, GossipsubRpcLimits.Default.MaxSubscriptions + 1).Select(i => new Rpc.Types.SubOpts { Subscribe = true, Topicid = $"t{i}" }));
        await rogue.SendAsync(tooMany);
        await net.WaitUntilAsync(() => victim.Router.Counters.MalformedRpcs == 1, "the RPC is refused");
        Assert.Empty(victim.Router.TopicPeers("t0"));
        Assert.True(victim.Router.PeerScore(rogue.Identity.PeerId) < 0);
    }

    [Fact]
    public void The_codec_refuses_what_is_over_its_limits_and_checks_signatures()
    {
        using var author = NodeIdentity.CreateEphemeral();
        PubsubWireMessage message = GossipsubRpc.Sign(author.PeerId, 1, Topic, "x"u8, bytes => author.Sign(bytes));
        Assert.Equal(PubsubSignatureStatus.Valid, GossipsubRpc.Verify(message, out Libp2pPeerId? from, out _));
        Assert.Equal(author.PeerId, from);

        var withoutKey = message.Clone();
        withoutKey.ClearKey();
        Assert.Equal(PubsubSignatureStatus.Valid, GossipsubRpc.Verify(withoutKey, out _, out _)); // the key is inlined in the peer ID

        var shortSeqno = message.Clone();
        shortSeqno.Seqno = ByteString.CopyFrom(new byte[4]);
        Assert.Equal(PubsubSignatureStatus.Invalid, GossipsubRpc.Verify(shortSeqno, out _, out string? error));
        Assert.Contains("sequence number", error, StringComparison.Ordinal);

        var longTopic = new Rpc();
        longTopic.Subscriptions.Add(new Rpc.Types.SubOpts { Subscribe = true, Topicid = new string('t', 513) });
        Assert.False(GossipsubRpc.TryDecode(longTopic.ToByteArray(), GossipsubRpcLimits.Default, out _, out error));
        Assert.Contains("topic", error, StringComparison.Ordinal);
        Assert.False(GossipsubRpc.TryDecode(new byte[GossipsubRpcLimits.Default.MaxRpcLength + 1], GossipsubRpcLimits.Default, out _, out _));
        Assert.False(GossipsubRpc.TryDecode([0x0a, 0xff], GossipsubRpcLimits.Default, out _, out error));
    }

    [Fact]
    public void A_message_signed_by_another_implementation_verifies()
    {
        // fuzz/corpus/generate.py signs this seed with python3-cryptography's Ed25519, building the signed bytes itself.
        byte[] body = File.ReadAllBytes(FuzzCorpus.RepositoryFiles.Combine("fuzz", "corpus", "gossipsub", "publish-signed"));
        Assert.True(GossipsubRpc.TryDecode(body, GossipsubRpcLimits.Default, out Rpc? rpc, out string? error), error);
        PubsubWireMessage message = Assert.Single(rpc.Publish);
        Assert.Equal(PubsubSignatureStatus.Valid, GossipsubRpc.Verify(message, out Libp2pPeerId? author, out error));
        Assert.Equal(message.From.ToByteArray(), author!.Multihash.ToArray());
        Assert.Equal("hello", message.Data.ToStringUtf8());

        message.Data = ByteString.CopyFromUtf8("hellO");
        Assert.Equal(PubsubSignatureStatus.Invalid, GossipsubRpc.Verify(message, out _, out _));
    }

    private static async Task<PubsubMessage> ReadAsync(PubsubSubscription subscription) =>
        await subscription.Messages.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct);

    /// <summary>Reads <paramref name="count"/> messages and returns their texts in ordinal order.</summary>
    private static async Task<string[]> ReadTextsAsync(PubsubSubscription subscription, int count)
    {
        var texts = new string[count];
        for (int i = 0; i < count; i++)
        {
            texts[i] = Encoding.UTF8.GetString((await ReadAsync(subscription)).Data.Span);
        }

        return [.. texts.Order(StringComparer.Ordinal)];
    }

    /// <summary>A queued RPC without its varint length prefix.</summary>
    private static byte[] Body(byte[] frame) => frame[(Array.FindIndex(frame, b => (b & 0x80) == 0) + 1)..];

    private static Rpc Subscribe(string topic) => new() { Subscriptions = { new Rpc.Types.SubOpts { Subscribe = true, Topicid = topic } } };

    private static Rpc Publish(params PubsubWireMessage[] messages)
    {
        var rpc = new Rpc();
        rpc.Publish.AddRange(messages);
        return rpc;
    }

    /// <summary>A node: identity, host and router.</summary>
    private sealed record Node(NodeIdentity Identity, Libp2pHost Host, GossipsubRouter Router, IPeerTransport Transport, IPAddress Address);

    /// <summary>A bare host that speaks meshsub by hand: writes the RPCs a test makes, records the ones it receives.</summary>
    private sealed class Rogue : IAsyncDisposable
    {
        private readonly Channel<Rpc> _inbox = Channel.CreateUnbounded<Rpc>();
        private readonly List<Rpc> _received = [];
        private YamuxStream? _out;

        public Rogue(NodeIdentity identity, Libp2pHost host)
        {
            Identity = identity;
            Host = host;
            host.SetHandler(GossipsubRpc.MeshsubV11, async (stream, _, ct) =>
            {
                while (await Libp2pNegotiation.ReadBodyAsync(stream, 1 << 20, ct) is { } body)
                {
                    Rpc rpc = Rpc.Parser.ParseFrom(body);
                    lock (_received)
                    {
                        _received.Add(rpc);
                    }

                    _inbox.Writer.TryWrite(rpc);
                }
            });
        }

        public NodeIdentity Identity { get; }

        public Libp2pHost Host { get; }

        public Libp2pConnection? Connection { get; set; }

        public IReadOnlyList<Rpc> Received
        {
            get
            {
                lock (_received)
                {
                    return [.. _received];
                }
            }
        }

        public async Task SendAsync(Rpc rpc)
        {
            _out ??= await Host.OpenStreamAsync(Connection!, [GossipsubRpc.MeshsubV11], Ct);
            await _out.WriteAsync(GossipsubRpc.Framed(rpc), Ct);
        }

        public async Task<Rpc> ReceiveAsync(Func<Rpc, bool> match)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            deadline.CancelAfter(Timeout);
            while (true)
            {
                Rpc rpc = await _inbox.Reader.ReadAsync(deadline.Token);
                if (match(rpc))
                {
                    return rpc;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_out is not null)
            {
                await _out.DisposeAsync();
            }

            await Host.DisposeAsync();
            Identity.Dispose();
        }
    }

    /// <summary>Nodes on one in-memory network and one virtual clock for their heartbeats.</summary>
    private sealed class Net : IAsyncDisposable
    {
        private readonly InMemoryNetwork _network = new();
        private readonly GossipsubOptions _options;
        private readonly List<Node> _nodes = [];
        private int _port = 4000;

        public Net(GossipsubOptions? options = null)
        {
            _options = options ?? new GossipsubOptions { FloodPublish = true };
        }

        public FakeTimeProvider Time { get; } = new();

        public Node Add()
        {
            var identity = NodeIdentity.CreateEphemeral();
            var host = new Libp2pHost(identity);
            var router = new GossipsubRouter(host, identity, _options, Time);
            router.Start();
            var address = IPAddress.Parse($"127.0.5.{_nodes.Count + 1}");
            var node = new Node(identity, host, router, _network.CreateTransport(address), address);
            _nodes.Add(node);
            return node;
        }

        public async Task<Rogue> AddRogueAsync(Node victim)
        {
            var identity = NodeIdentity.CreateEphemeral();
            var rogue = new Rogue(identity, new Libp2pHost(identity));
            var address = IPAddress.Parse("127.0.6.1");
            (Libp2pConnection atRogue, _) = await ConnectHostsAsync(rogue.Host, identity.PeerId, _network.CreateTransport(address), victim.Host, victim.Identity.PeerId, victim.Transport, victim.Address);
            rogue.Connection = atRogue;
            await WaitUntilAsync(() => victim.Router.Peers.Contains(identity.PeerId), "the victim takes the rogue as a pubsub peer");
            return rogue;
        }

        public async Task ConnectAsync(Node a, Node b)
        {
            await ConnectHostsAsync(a.Host, a.Identity.PeerId, a.Transport, b.Host, b.Identity.PeerId, b.Transport, b.Address);
            await WaitUntilAsync(() => a.Router.Peers.Contains(b.Identity.PeerId) && b.Router.Peers.Contains(a.Identity.PeerId), "both take the other as a pubsub peer");
        }

        /// <summary>Advances the virtual clock by <paramref name="count"/> heartbeat intervals (each fires the routers' heartbeats).</summary>
        public void Heartbeats(int count)
        {
            for (int i = 0; i < count; i++)
            {
                Time.Advance(_options.HeartbeatInterval);
            }
        }

        /// <summary>Waits until every node's outbound queues are empty and a little more, for RPCs in flight to be read.</summary>
        public async Task SettleAsync()
        {
            await WaitUntilAsync(() => _nodes.All(n => n.Router.QueuedRpcs == 0), "the send queues drain");
            foreach (Node node in _nodes)
            {
                // A ping round trip on every connection: what was written before it has been read by then.
                foreach (Libp2pConnection connection in node.Host.Connections)
                {
                    await node.Host.PingAsync(connection, Ct).WaitAsync(Timeout, Ct);
                }
            }
        }

        public async Task WaitUntilAsync(Func<bool> condition, string what)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            deadline.CancelAfter(Timeout);
            try
            {
                while (!condition())
                {
                    await Task.Delay(10, deadline.Token);
                }
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
                throw new TimeoutException($"{what} did not happen within {Timeout.TotalSeconds} s");
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (Node node in _nodes)
            {
                await node.Router.DisposeAsync();
                await node.Host.DisposeAsync();
                node.Identity.Dispose();
            }
        }

        private Task<(Libp2pConnection AtA, Libp2pConnection AtB)> ConnectHostsAsync(
            Libp2pHost a, Libp2pPeerId aId, IPeerTransport aTransport, Libp2pHost b, Libp2pPeerId bId, IPeerTransport bTransport, IPAddress bAddress)
            => GossipsubSimulation.ConnectAsync(a, aId, aTransport, b, bId, bTransport, new IPEndPoint(bAddress, Interlocked.Increment(ref _port)), Ct);
    }
}
