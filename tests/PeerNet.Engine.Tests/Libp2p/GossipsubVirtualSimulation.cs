using System.Diagnostics;
using System.Net;
using System.Text;
using PeerNet.Libp2p;
using PeerNet.Libp2p.Protos;

namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>
/// Issue 17's gossipsub simulation in virtual time: real <see cref="GossipsubRouter"/>s (mesh, gossip, IWANT, scoring,
/// graylisting, signing and validation all theirs) joined by links the harness carries, on one
/// <see cref="VirtualClock"/>. Each router's peers are added without a connection
/// (<see cref="GossipsubRouter.AddPeerWithoutConnection"/>); after every event of a node (a heartbeat, an RPC
/// delivered to it, a publish), what the router queued for each peer is taken from the queue and scheduled for
/// delivery to the other end 50 ms of virtual time later, where the other router handles it
/// (<see cref="GossipsubRouter.HandleRpc"/>) in an event of its own. Everything runs on one thread, one event at a
/// time, and an event runs to its end before the clock moves: the system is quiescent whenever time advances, so CPU
/// time costs no virtual time and the latencies are the protocol's. What is not simulated: the libp2p host, yamux
/// and the stream framing (the real-clock <see cref="GossipsubSimulation"/> covers those), bandwidth (a link only
/// delays), peer exchange dialling (no dialler is given), and the wall clock. Seeded: the graph, the publishers and
/// every router's choices come from <see cref="GossipsubSimulationSettings.Seed"/>, so a run repeats exactly.
/// </summary>
internal static class GossipsubVirtualSimulation
{
    public const string Topic = "peernet/sim";

    /// <summary>The common settings, and what only virtual time has.</summary>
    public sealed record Settings : GossipsubSimulationSettings
    {
        /// <summary>Virtual time between the first connections and the first message (the meshes form).</summary>
        public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(10);

        /// <summary>Most virtual time after the last message for the deliveries to finish.</summary>
        public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(30);

        /// <summary>The routers' options (null: the defaults, D = 6).</summary>
        public GossipsubOptions? Options { get; init; }
    }

    /// <summary>
    /// One run's figures. Latencies are virtual milliseconds from publish to each honest delivery; duplicates are the
    /// copies of honest messages honest nodes received beyond the first, per delivery; meshes are the honest nodes'
    /// at the end. <see cref="WallSeconds"/> is the only figure that depends on the machine.
    /// </summary>
    public sealed record Result(
        int Nodes, int Honest, int Spammers, int Messages, long Expected, long Delivered, long SpamDelivered,
        double P50, double P90, double P99, double Max, double DuplicatesPerDelivery,
        double MeanMesh, int MinMesh, int MaxMesh, double SpammersInHonestMeshes, double MeanSpammerScore,
        long Graylisted, long Rejected, long Refused, long Events, double WallSeconds)
    {
        public double DeliveryRate => (double)Delivered / Expected;

        /// <summary>The run without its wall time: what must repeat exactly for a seed.</summary>
        public Result Protocol => this with { WallSeconds = 0 };

        public string Describe() =>
            $"{Nodes} nodes ({Spammers} spamming), {Messages} messages: delivered {Delivered}/{Expected} = {DeliveryRate:P2}; spam delivered {SpamDelivered}; "
            + $"latency p50 {P50:F0} ms, p90 {P90:F0} ms, p99 {P99:F0} ms, max {Max:F0} ms (virtual); duplicates per delivery {DuplicatesPerDelivery:F2}; "
            + $"honest meshes {MeanMesh:F1} (min {MinMesh}, max {MaxMesh}), spammers hold {SpammersInHonestMeshes:P1} of their places; "
            + $"mean score of spammers at honest peers {MeanSpammerScore:F1}; RPCs graylisted {Graylisted}, messages rejected {Rejected}, RPCs refused {Refused}; "
            + $"{Events} events in {WallSeconds:F1} s wall";
    }

    private sealed record Link(GossipsubRouter.Peer Local, int Remote, GossipsubRouter.Peer AtRemote);

    private sealed record Node(int Index, NodeIdentity Identity, Libp2pHost Host, GossipsubRouter Router, PubsubSubscription Subscription, IPAddress Address, bool Spammer)
    {
        public List<Link> Links { get; } = [];
    }

    public static async Task<Result> RunAsync(Settings s)
    {
        var wall = Stopwatch.StartNew();
        var random = new Random(s.Seed);
        var clock = new VirtualClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        GossipsubOptions options = s.Options ?? new GossipsubOptions();
        int spammers = (int)(s.Nodes * s.Spammers);
        var nodes = new List<Node>();
        var sent = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var latencies = new List<double>();
        long delivered = 0, spamDelivered = 0, copies = 0, refused = 0;
        try
        {
            for (int i = 0; i < s.Nodes; i++)
            {
                var identity = NodeIdentity.CreateEphemeral();
                var host = new Libp2pHost(identity);
                var router = new GossipsubRouter(host, identity, options, clock.For(i)) { Random = new Random(random.Next()) };
                bool spammer = IsSpammer(i);
                if (!spammer)
                {
                    router.SetValidator(Topic, m => m.Data.Span.StartsWith("spam"u8) ? PubsubValidationResult.Reject : PubsubValidationResult.Accept);
                }

                var address = IPAddress.Parse($"10.{70 + (i / 60000)}.{i / 250 % 240}.{(i % 250) + 1}");
                nodes.Add(new Node(i, identity, host, router, router.Subscribe(Topic), address, spammer));
            }

            // A random graph, connected: a ring first, then random dials; the lower index dials.
            var edges = new List<(int, int)>();
            var known = new HashSet<(int, int)>();
            for (int i = 0; i < s.Nodes; i++)
            {
                Add(i, (i + 1) % s.Nodes);
                for (int d = 1; d < s.Dials; d++)
                {
                    Add(i, random.Next(s.Nodes));
                }
            }

            foreach ((int a, int b) in edges)
            {
                Node dialler = nodes[a], listener = nodes[b];
                GossipsubRouter.Peer atDialler = dialler.Router.AddPeerWithoutConnection(listener.Identity.PeerId, outbound: true, listener.Address);
                GossipsubRouter.Peer atListener = listener.Router.AddPeerWithoutConnection(dialler.Identity.PeerId, outbound: false, dialler.Address);
                dialler.Links.Add(new Link(atDialler, b, atListener));
                listener.Links.Add(new Link(atListener, a, atDialler));
            }

            foreach (Node node in nodes)
            {
                Flush(node.Index); // the subscriptions each router announces to its new peers
            }

            // Each router starts within the first heartbeat interval, so the heartbeats are out of phase as on a network.
            foreach (Node node in nodes)
            {
                clock.Schedule(TimeSpan.FromTicks(random.NextInt64(options.HeartbeatInterval.Ticks)), node.Index, node.Router.Start);
            }

            DateTimeOffset start = clock.Now;
            clock.RunUntil(start + s.WarmUp, Flush);

            Node[] honest = [.. nodes.Where(n => !n.Spammer)];
            Node[] spamming = [.. nodes.Where(n => n.Spammer)];
            long graylistedBefore = honest.Sum(n => n.Router.Counters.Graylisted);
            long rejectedBefore = honest.Sum(n => n.Router.Counters.Rejected);
            TimeSpan interval = TimeSpan.FromTicks(TimeSpan.TicksPerSecond / s.Rate);
            for (int m = 0; m < s.Messages; m++)
            {
                Node from = honest[random.Next(honest.Length)];
                string text = $"m{m} from {from.Index}";
                int message = m;
                clock.Schedule(interval * m, from.Index, () =>
                {
                    sent[text] = clock.Now;
                    from.Router.Publish(Topic, Encoding.UTF8.GetBytes(text));
                });
                foreach (Node spammer in spamming)
                {
                    clock.Schedule(interval * m, spammer.Index, () =>
                    {
                        for (int k = 0; k < s.SpamPerMessage; k++)
                        {
                            spammer.Router.Publish(Topic, Encoding.UTF8.GetBytes($"spam {spammer.Index} {message} {k}"));
                        }
                    });
                }
            }

            long expected = (long)s.Messages * (honest.Length - 1);
            DateTimeOffset end = clock.Now + (interval * (s.Messages - 1)) + s.Drain;
            while (clock.Now < end && delivered < expected)
            {
                clock.RunUntil(Min(end, clock.Now + TimeSpan.FromSeconds(1)), Flush);
            }

            double[] sorted = [.. latencies.Order()];
            int[] meshes = [.. honest.Select(n => n.Router.MeshPeers(Topic).Count)];
            var spammerIds = spamming.Select(n => n.Identity.PeerId).ToHashSet();
            double spammerShare = (double)honest.Sum(n => n.Router.MeshPeers(Topic).Count(spammerIds.Contains)) / Math.Max(1, meshes.Sum());
            double spammerScore = spamming.Length == 0 ? 0 : honest
                .SelectMany(h => h.Links.Where(l => nodes[l.Remote].Spammer).Select(l => h.Router.PeerScore(l.Local.Id)))
                .DefaultIfEmpty(0).Average();
            return new Result(
                s.Nodes, honest.Length, spamming.Length, s.Messages, expected, delivered, spamDelivered,
                Percentile(sorted, 0.5), Percentile(sorted, 0.9), Percentile(sorted, 0.99), sorted.Length == 0 ? double.NaN : sorted[^1],
                (double)(copies - delivered) / Math.Max(1, delivered), meshes.Average(), meshes.Min(), meshes.Max(), spammerShare, spammerScore,
                honest.Sum(n => n.Router.Counters.Graylisted) - graylistedBefore, honest.Sum(n => n.Router.Counters.Rejected) - rejectedBefore,
                refused, clock.EventsRun, wall.Elapsed.TotalSeconds);

            // Spammers are not linked to each other: each one's invalid messages go to honest nodes, which refuse them and
            // then graylist it. (Linked, they would relay one another's spam, and every spammer would check the signature
            // of every spam message: 16 million checks at 1,000 nodes, the simulation's whole time, and no honest node's
            // concern.)
            void Add(int a, int b)
            {
                if (a != b && !(IsSpammer(a) && IsSpammer(b)) && known.Add((Math.Min(a, b), Math.Max(a, b))))
                {
                    edges.Add((a, b));
                }
            }
        }
        finally
        {
            foreach (Node node in nodes)
            {
                await node.Router.DisposeAsync();
                await node.Host.DisposeAsync();
                node.Identity.Dispose();
            }
        }

        bool IsSpammer(int index) => index >= s.Nodes - spammers;

        // After each event of a node: what its router queued for its peers goes on the links, and what it delivered is counted.
        void Flush(int index)
        {
            Node node = nodes[index];
            foreach (Link link in node.Links)
            {
                while (link.Local.Queue.Reader.TryRead(out byte[]? frame))
                {
                    Node to = nodes[link.Remote];
                    clock.Schedule(s.Latency, to.Index, () => Receive(to, link.AtRemote, frame));
                }
            }

            while (node.Subscription.Messages.TryRead(out PubsubMessage? message))
            {
                if (node.Spammer)
                {
                    continue;
                }

                string text = Encoding.UTF8.GetString(message.Data.Span);
                if (!sent.TryGetValue(text, out DateTimeOffset at))
                {
                    spamDelivered++;
                    continue;
                }

                latencies.Add((clock.Now - at).TotalMilliseconds);
                delivered++;
            }
        }

        void Receive(Node node, GossipsubRouter.Peer from, byte[] frame)
        {
            byte[] body = Body(frame);
            if (!node.Spammer)
            {
                copies += Rpc.Parser.ParseFrom(body).Publish.Count(p => !p.Data.Span.StartsWith("spam"u8));
            }

            try
            {
                node.Router.HandleRpc(from, body);
            }
            catch (InvalidDataException)
            {
                refused++; // on a connection, the stream it came on would end; here the RPC is dropped and counted
            }
        }
    }

    /// <summary>An RPC without its unsigned-varint length prefix.</summary>
    private static byte[] Body(byte[] frame)
    {
        int i = 0;
        while ((frame[i] & 0x80) != 0)
        {
            i++;
        }

        return frame[(i + 1)..];
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
