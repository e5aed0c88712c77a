using System.Diagnostics;
using System.Globalization;
using System.Net;
using PeerNet.Dht;
using PeerNet.Discovery.Dht;

namespace PeerNet.Engine.Tests.Dht;

/// <summary>
/// A DHT of 1,000 PeerNet nodes on the in-memory datagram network: every node joins through three random
/// running nodes, a set of stable nodes announce info-hashes, then 20% of the network leaves and as many new
/// nodes join while lookups run from random nodes. Reports hops, queries and success rate; asserts at least
/// 99% of lookups find the announced peer. PEERNET_DHT_SIM=NODES[,LOOKUPS] runs a bigger one.
/// </summary>
public sealed class DhtSimulationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Simulation_ThousandNodesWithTwentyPercentChurn_LookupsSucceedAtLeast99Percent()
    {
        (int nodeCount, int lookupCount) = Size();
        var clock = Stopwatch.StartNew();
        await using var net = new DhtTestNet(seed: 2026);
        for (int i = 0; i < nodeCount; i++)
        {
            await net.AddAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        }

        TimeSpan joined = clock.Elapsed;
        double meanTable = net.Nodes.Average(n => n.GetStats().Nodes);

        // Stable announcers (never churned) each announce one info-hash.
        const int Torrents = 20;
        var stable = net.Nodes.Take(Torrents).ToList();
        var torrents = new List<(Sha1Hash InfoHash, IPEndPoint Peer)>();
        for (int i = 0; i < Torrents; i++)
        {
            Sha1Hash infoHash = Sha1Hash.Compute(BitConverter.GetBytes(i));
            await stable[i].AnnounceAsync(infoHash, 7000 + i, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            torrents.Add((infoHash, new IPEndPoint(stable[i].LocalEndPoint.Address, 7000 + i)));
        }

        // Churn: 20% of the nodes leave and as many join, in rounds, while lookups run from random nodes.
        const int Rounds = 20;
        int churn = nodeCount / 5;
        int successes = 0, lookups = 0;
        long hops = 0, queries = 0;
        var hopHistogram = new SortedDictionary<int, int>();
        for (int round = 0; round < Rounds; round++)
        {
            int leaving = (churn * (round + 1) / Rounds) - (churn * round / Rounds);
            var leavers = net.Nodes.Skip(Torrents).OrderBy(_ => net.Random.Next()).Take(leaving).ToList();
            await Task.WhenAll(leavers.Select(net.RemoveAsync));
            var work = new List<Task>();
            for (int i = 0; i < leaving; i++)
            {
                work.Add(net.AddAsync(Ct));
            }

            var batch = new List<Task<(bool Found, LookupResult Result)>>();
            int wanted = (lookupCount * (round + 1) / Rounds) - (lookupCount * round / Rounds);
            IReadOnlyList<DhtNode> running = net.Nodes;
            for (int i = 0; i < wanted; i++)
            {
                (Sha1Hash infoHash, IPEndPoint peer) = torrents[net.Random.Next(Torrents)];
                batch.Add(LookupAsync(running[net.Random.Next(running.Count)], infoHash, peer));
            }

            await Task.WhenAll(work).WaitAsync(TimeSpan.FromSeconds(60), Ct);
            foreach ((bool found, LookupResult result) in await Task.WhenAll(batch).WaitAsync(TimeSpan.FromSeconds(60), Ct))
            {
                lookups++;
                successes += found ? 1 : 0;
                hops += result.Hops;
                queries += result.Queries;
                hopHistogram[result.Hops] = hopHistogram.GetValueOrDefault(result.Hops) + 1;
            }
        }

        double rate = (double)successes / lookups;
        string report = string.Create(CultureInfo.InvariantCulture,
            $"DHT simulation: {nodeCount} nodes joined in {joined.TotalSeconds:F1} s (mean table {meanTable:F1} nodes); " +
            $"{churn} left and {churn} joined during {lookups} get_peers lookups; success {successes}/{lookups} = {rate:P2}; " +
            $"mean hops {(double)hops / lookups:F2} (histogram {string.Join(" ", hopHistogram.Select(h => $"{h.Key}:{h.Value}"))}); " +
            $"mean queries per lookup {(double)queries / lookups:F1}; datagrams sent {net.Network.Sent}, dropped {net.Network.Dropped}; " +
            $"total {clock.Elapsed.TotalSeconds:F1} s");
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        Console.WriteLine(report);
        Assert.True(rate >= 0.99, report);
    }

    private static async Task<(bool Found, LookupResult Result)> LookupAsync(DhtNode from, Sha1Hash infoHash, IPEndPoint peer)
    {
        LookupResult result = await from.LookupAsync(NodeId.FromHash(infoHash), DhtMethod.GetPeers, Ct);
        return (result.Peers.Contains(peer), result);
    }

    private static (int Nodes, int Lookups) Size()
    {
        string? setting = Environment.GetEnvironmentVariable("PEERNET_DHT_SIM");
        if (string.IsNullOrWhiteSpace(setting))
        {
            return (1000, 500);
        }

        string[] parts = setting.Split(',');
        int nodes = int.Parse(parts[0], CultureInfo.InvariantCulture);
        return (nodes, parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : nodes);
    }
}
