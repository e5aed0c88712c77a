namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>
/// What both gossipsub simulations (<see cref="GossipsubSimulation"/> on the real clock and the host,
/// <see cref="GossipsubVirtualSimulation"/> in virtual time) are asked to run: the overlay, the load and the spammers.
/// </summary>
public abstract record GossipsubSimulationSettings
{
    public int Nodes { get; init; } = 100;

    /// <summary>Each node dials this many others (so a node has about twice as many connections; none between two spammers in virtual time).</summary>
    public int Dials { get; init; } = 5;

    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The share of nodes that spam (the last ones).</summary>
    public double Spammers { get; init; }

    public int Messages { get; init; } = 50;

    /// <summary>Honest messages per second (of virtual time, in the virtual simulation), each from a random honest node.</summary>
    public int Rate { get; init; } = 10;

    /// <summary>Invalid messages each spammer publishes per honest message.</summary>
    public int SpamPerMessage { get; init; } = 2;

    public int Seed { get; init; } = 17;
}
