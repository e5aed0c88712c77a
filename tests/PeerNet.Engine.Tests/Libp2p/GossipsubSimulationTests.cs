namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>
/// The full-stack gossipsub network (<see cref="GossipsubSimulation"/>): 100 routers on real libp2p hosts and yamux
/// over in-memory links of 50 ms, on the system clock, without and with 20% of the nodes spamming. Its latencies
/// include this machine's CPU; the protocol's figures, and the 1,000 nodes, come from the virtual-time
/// <see cref="GossipsubVirtualSimulationTests"/>.
/// </summary>
public sealed class GossipsubSimulationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_honest_node_gets_every_message_in_a_hundred_node_network()
    {
        GossipsubSimulation.Result r = await GossipsubSimulation.RunAsync(new GossipsubSimulation.Settings { Nodes = 100, Messages = 30 }, Ct);
        TestContext.Current.TestOutputHelper?.WriteLine(r.Describe());
        Assert.Equal(r.Expected, r.Delivered);
        Assert.InRange(r.MeanMeshSize, 4, 12); // between Dlo and Dhi
        Assert.True(r.P50 >= 50, $"the median copy took {r.P50} ms over 50 ms links"); // a real delay per hop, so the latencies mean something
    }

    [Fact]
    public async Task With_a_fifth_of_the_nodes_spamming_honest_messages_still_reach_everyone_and_no_spam_is_delivered()
    {
        GossipsubSimulation.Result r = await GossipsubSimulation.RunAsync(new GossipsubSimulation.Settings { Nodes = 100, Messages = 30, Spammers = 0.2 }, Ct);
        TestContext.Current.TestOutputHelper?.WriteLine(r.Describe());
        Assert.Equal(80, r.Honest);
        Assert.Equal(r.Expected, r.Delivered);
        Assert.Equal(0, r.SpamDelivered);
        Assert.True(r.MeanSpammerScore < 0, $"honest nodes score spammers {r.MeanSpammerScore}"); // P4: invalid messages cost them
    }
}
