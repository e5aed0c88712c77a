using PeerNet.Libp2p;

namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>
/// Issue 17's gossipsub simulation in virtual time (<see cref="GossipsubVirtualSimulation"/>): real routers on 50 ms
/// links whose clock moves only between events, so latencies are the protocol's and repeat exactly for a seed. CI runs
/// 100 nodes without and with 20% spammers; <c>PEERNET_GOSSIP_SIM=1</c> runs the 1,000 nodes and prints the
/// rows of docs/performance.md.
/// </summary>
public sealed class GossipsubVirtualSimulationTests
{
    [Fact]
    public async Task Every_honest_node_gets_every_message_within_a_few_hops_of_virtual_time()
    {
        GossipsubVirtualSimulation.Result r = await GossipsubVirtualSimulation.RunAsync(new GossipsubVirtualSimulation.Settings { Nodes = 100, Messages = 50 });
        TestContext.Current.TestOutputHelper?.WriteLine(r.Describe());
        Assert.Equal(r.Expected, r.Delivered);
        Assert.Equal(0, r.Refused);
        Assert.InRange(r.MinMesh, 4, 12); // every mesh within Dlo..Dhi
        Assert.InRange(r.MaxMesh, 4, 12);

        // CPU costs no virtual time: a message pushed along the mesh arrives after whole link delays.
        Assert.True(r.P50 >= 50 && r.P50 % 50 == 0, $"the median copy took {r.P50} virtual ms over 50 ms links");
        Assert.True(r.P99 <= 6 * 50, $"p99 {r.P99} virtual ms: more than six hops"); // flood publishing, then a mesh of degree 6 among 100 nodes
        Assert.True(r.Max <= 1000 + (8 * 50), $"the slowest copy took {r.Max} virtual ms: more than a heartbeat and eight link delays");
    }

    [Fact]
    public async Task With_a_fifth_of_the_nodes_spamming_honest_messages_still_reach_everyone_and_no_spam_is_delivered()
    {
        GossipsubVirtualSimulation.Result r = await GossipsubVirtualSimulation.RunAsync(new GossipsubVirtualSimulation.Settings { Nodes = 100, Messages = 30, Spammers = 0.2 });
        TestContext.Current.TestOutputHelper?.WriteLine(r.Describe());
        Assert.Equal(80, r.Honest);
        Assert.Equal(r.Expected, r.Delivered);
        Assert.Equal(0, r.SpamDelivered);
        Assert.Equal(0, r.Refused); // every RPC a router sent was within the limits its peer accepts
        Assert.True(r.MeanSpammerScore < -50, $"honest nodes score spammers {r.MeanSpammerScore}, not under the publish threshold"); // P4, squared, decaying since the last spam
        Assert.True(r.Graylisted > 0, "no spammer fell under the graylist threshold");
        Assert.Equal(0, r.SpammersInHonestMeshes);
        Assert.True(r.P99 <= 6 * 50, $"p99 {r.P99} virtual ms: more than six hops");
    }

    [Fact]
    public async Task A_seed_repeats_its_run_exactly()
    {
        var settings = new GossipsubVirtualSimulation.Settings { Nodes = 40, Messages = 20, Spammers = 0.2, Seed = 5 };
        GossipsubVirtualSimulation.Result first = await GossipsubVirtualSimulation.RunAsync(settings);
        GossipsubVirtualSimulation.Result second = await GossipsubVirtualSimulation.RunAsync(settings);
        Assert.Equal(first.Protocol, second.Protocol);
    }

    /// <summary>The 1,000-node rows of docs/performance.md, one case each (0–3).</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Figures(int row)
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("PEERNET_GOSSIP_SIM") == "1", "Set PEERNET_GOSSIP_SIM=1 to run the 1,000-node simulation.");

        // The overlay of the gossipsub v1.1 evaluation's published configurations (libp2p/gossipsub-hardening,
        // scripts/configs/1k.json): D = 8 (6..12), Dscore = 6, Dlazy = 12, ~20 connections a node.
        var evaluation = new GossipsubOptions { D = 8, Dlo = 6, Dhi = 12, Dscore = 6, Dlazy = 12 };
        (string name, GossipsubVirtualSimulation.Settings settings) = row switch
        {
            0 => ("defaults", new GossipsubVirtualSimulation.Settings { Nodes = 1000, Messages = 200 }),
            1 => ("defaults, 20% spammers", new GossipsubVirtualSimulation.Settings { Nodes = 1000, Messages = 200, Spammers = 0.2 }),
            2 => ("evaluation overlay", new GossipsubVirtualSimulation.Settings { Nodes = 1000, Messages = 200, Dials = 10, Options = evaluation }),
            _ => ("evaluation overlay, 20% spammers", new GossipsubVirtualSimulation.Settings { Nodes = 1000, Messages = 200, Dials = 10, Options = evaluation, Spammers = 0.2 }),
        };
        GossipsubVirtualSimulation.Result r = await GossipsubVirtualSimulation.RunAsync(settings);
        TestContext.Current.TestOutputHelper!.WriteLine($"{name}: {r.Describe()}");
        Assert.Equal(r.Expected, r.Delivered);
        Assert.Equal(0, r.SpamDelivered);
    }
}
