using System.Diagnostics;
using System.Net;
using System.Text;
using PeerNet.Engine.Tests.Transport;
using PeerNet.Libp2p;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>
/// A network of gossipsub routers on real libp2p hosts (yamux over in-memory connections whose every link delays by a
/// set latency): delivery rate, latency percentiles and duplicates of messages published by honest nodes, with a share
/// of the nodes spamming the topic with messages the application rejects. The clock is the system's: heartbeats,
/// latencies and the time each copy arrives are real, so the figures include this process's own CPU time (the
/// machine's load shows in them). It checks the whole stack carries gossipsub; the protocol's own figures come from
/// <see cref="GossipsubVirtualSimulation"/>, in virtual time.
/// </summary>
internal static class GossipsubSimulation
{
    public const string Topic = "peernet/sim";

    /// <summary>The common settings; the real clock adds nothing to them.</summary>
    public sealed record Settings : GossipsubSimulationSettings;

    public sealed record Result(
        int Nodes, int Honest, int Spammers, int Messages, long Expected, long Delivered, long SpamDelivered,
        double P50, double P90, double P99, double Max, double DuplicatesPerDelivery, double MeanMeshSize, double MeanSpammerScore)
    {
        public double DeliveryRate => (double)Delivered / Expected;

        public string Describe() =>
            $"{Nodes} nodes ({Spammers} spamming), {Messages} messages: delivered {Delivered}/{Expected} = {DeliveryRate:P2}; spam delivered {SpamDelivered}; "
            + $"latency p50 {P50:F0} ms, p90 {P90:F0} ms, p99 {P99:F0} ms, max {Max:F0} ms; duplicates per delivery {DuplicatesPerDelivery:F2}; "
            + $"mean mesh {MeanMeshSize:F1}; mean score of spammers at honest peers {MeanSpammerScore:F1}";
    }

    private sealed record Node(int Index, NodeIdentity Identity, Libp2pHost Host, GossipsubRouter Router, InMemoryTransport Transport, IPAddress Address, bool Spammer);

    public static async Task<Result> RunAsync(Settings s, CancellationToken ct)
    {
        var random = new Random(s.Seed);
        var network = new InMemoryNetwork();
        var link = new InMemoryLinkOptions { Latency = s.Latency };
        var options = new GossipsubOptions();
        int spammers = (int)(s.Nodes * s.Spammers);
        var nodes = new List<Node>();
        var readers = new List<Task>();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sent = new Dictionary<string, long>(StringComparer.Ordinal); // message text -> Stopwatch timestamp of its publish
        var latencies = new List<double>();
        long delivered = 0, spamDelivered = 0;
        int port = 20000;
        try
        {
            for (int i = 0; i < s.Nodes; i++)
            {
                var identity = NodeIdentity.CreateEphemeral();
                var host = new Libp2pHost(identity);
                var router = new GossipsubRouter(host, identity, options, TimeProvider.System);
                var address = IPAddress.Parse($"10.{70 + (i / 60000)}.{i / 250 % 240}.{(i % 250) + 1}");
                nodes.Add(new Node(i, identity, host, router, network.CreateTransport(address, link), address, Spammer: i >= s.Nodes - spammers));
            }

            // Honest nodes reject what spammers send (the application's validator), and count what they deliver.
            foreach (Node node in nodes)
            {
                PubsubSubscription subscription = node.Router.Subscribe(Topic);
                node.Router.Start();
                if (!node.Spammer)
                {
                    node.Router.SetValidator(Topic, m => m.Data.Span.StartsWith("spam"u8) ? PubsubValidationResult.Reject : PubsubValidationResult.Accept);
                }

                readers.Add(ReadAsync(subscription, count: !node.Spammer, stopping.Token)); // a spammer reads and forgets
            }

            // A random graph, connected: a ring first, then random dials.
            var edges = new HashSet<(int, int)>();
            for (int i = 0; i < s.Nodes; i++)
            {
                edges.Add(Edge(i, (i + 1) % s.Nodes));
                for (int d = 1; d < s.Dials; d++)
                {
                    int j = random.Next(s.Nodes);
                    if (j != i)
                    {
                        edges.Add(Edge(i, j));
                    }
                }
            }

            await Parallel.ForEachAsync(edges, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (e, token) =>
            {
                Node a = nodes[e.Item1], b = nodes[e.Item2];
                await ConnectAsync(a.Host, a.Identity.PeerId, a.Transport, b.Host, b.Identity.PeerId, b.Transport, new IPEndPoint(b.Address, Interlocked.Increment(ref port)), token);
            });

            // Meshes form over a few heartbeats.
            await Poll.UntilAsync(() => nodes.All(n => n.Router.MeshPeers(Topic).Count >= Math.Min(options.Dlo, 2)), "the meshes form", TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(50));

            Node[] honest = [.. nodes.Where(n => !n.Spammer)];
            Node[] spamming = [.. nodes.Where(n => n.Spammer)];
            long duplicatesBefore = nodes.Sum(n => n.Router.Counters.Duplicates);
            long deliveredBefore = nodes.Sum(n => n.Router.Counters.Delivered);
            TimeSpan interval = TimeSpan.FromSeconds(1.0 / s.Rate);
            for (int m = 0; m < s.Messages; m++)
            {
                Node from = honest[random.Next(honest.Length)];
                string text = $"m{m} from {from.Index}";
                lock (sent)
                {
                    sent[text] = Stopwatch.GetTimestamp();
                }

                from.Router.Publish(Topic, Encoding.UTF8.GetBytes(text));
                foreach (Node spammer in spamming)
                {
                    for (int k = 0; k < s.SpamPerMessage; k++)
                    {
                        spammer.Router.Publish(Topic, Encoding.UTF8.GetBytes($"spam {spammer.Index} {m} {k}"));
                    }
                }

                await Task.Delay(interval, ct);
            }

            long expected = (long)s.Messages * (honest.Length - 1);
            _ = await Poll.TryUntilAsync(() => Interlocked.Read(ref delivered) >= expected, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50)); // a shortfall is reported, not thrown
            double meanMesh = nodes.Average(n => n.Router.MeshPeers(Topic).Count); // before the readers stop: a subscription's end leaves the topic
            await stopping.CancelAsync();
            await Task.WhenAll(readers);

            double[] sorted = [.. latencies.Order()];
            long duplicates = nodes.Sum(n => n.Router.Counters.Duplicates) - duplicatesBefore;
            long deliveries = nodes.Sum(n => n.Router.Counters.Delivered) - deliveredBefore;
            double spammerScore = spamming.Length == 0 ? 0 : honest
                .SelectMany(h => spamming.Where(sp => h.Router.Peers.Contains(sp.Identity.PeerId)).Select(sp => h.Router.PeerScore(sp.Identity.PeerId)))
                .DefaultIfEmpty(0).Average();
            return new Result(
                s.Nodes, honest.Length, spamming.Length, s.Messages, expected, delivered, spamDelivered,
                Percentile(sorted, 0.5), Percentile(sorted, 0.9), Percentile(sorted, 0.99), sorted.Length == 0 ? double.NaN : sorted[^1],
                (double)duplicates / Math.Max(1, deliveries), meanMesh, spammerScore);
        }
        finally
        {
            await stopping.CancelAsync();
            foreach (Node node in nodes)
            {
                await node.Router.DisposeAsync();
                await node.Host.DisposeAsync();
                await node.Transport.DisposeAsync();
                node.Identity.Dispose();
            }
        }

        async Task ReadAsync(PubsubSubscription subscription, bool count, CancellationToken token)
        {
            try
            {
                await foreach (PubsubMessage message in subscription.Messages.ReadAllAsync(token))
                {
                    if (!count)
                    {
                        continue;
                    }

                    long now = Stopwatch.GetTimestamp();
                    string text = Encoding.UTF8.GetString(message.Data.Span);
                    long at;
                    lock (sent)
                    {
                        if (!sent.TryGetValue(text, out at))
                        {
                            Interlocked.Increment(ref spamDelivered);
                            continue;
                        }

                        latencies.Add(Stopwatch.GetElapsedTime(at, now).TotalMilliseconds);
                    }

                    Interlocked.Increment(ref delivered);
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                subscription.Dispose();
            }
        }
    }

    /// <summary>Joins two hosts over a fresh in-memory connection (already authenticated: the simulation skips Noise), b listening.</summary>
    public static async Task<(Libp2pConnection AtA, Libp2pConnection AtB)> ConnectAsync(
        Libp2pHost a, Libp2pPeerId aId, IPeerTransport aTransport, Libp2pHost b, Libp2pPeerId bId, IPeerTransport bTransport, IPEndPoint bEndPoint, CancellationToken ct)
    {
        var (listener, client, server) = await TransportTestKit.ConnectPairAsync(bTransport, aTransport, bEndPoint);
        await listener.DisposeAsync();
        Task<Libp2pConnection> dial = a.AddConnectionAsync(client, bId, initiator: true, ct);
        Libp2pConnection atB = await b.AddConnectionAsync(server, aId, initiator: false, ct).WaitAsync(TransportTestKit.TestTimeout, ct);
        return (await dial.WaitAsync(TransportTestKit.TestTimeout, ct), atB);
    }

    private static (int, int) Edge(int a, int b) => a < b ? (a, b) : (b, a);

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
