namespace PeerNet.Libp2p;

/// <summary>
/// The parameters of the node's gossipsub router (<see cref="PeerNetNodeOptions.Gossipsub"/>): the gossipsub v1.0
/// overlay and gossip ones, v1.1's, and the limits on what peers may send. Defaults are the specs' (and js-libp2p's
/// @libp2p/gossipsub); change them with <c>with</c> or an object initializer. The node checks them at start
/// (<see cref="Validate"/>).
/// </summary>
public sealed record GossipsubOptions
{
    /// <summary>The defaults.</summary>
    public static GossipsubOptions Default { get; } = new();

    /// <summary>The mesh degree aimed at.</summary>
    public int D { get; init; } = 6;

    /// <summary>Below this many mesh peers, the heartbeat grafts up to <see cref="D"/>.</summary>
    public int Dlo { get; init; } = 4;

    /// <summary>Above this many mesh peers, the heartbeat prunes down to <see cref="D"/>.</summary>
    public int Dhi { get; init; } = 12;

    /// <summary>Mesh peers kept by score when pruning an oversubscribed mesh (the rest kept at random).</summary>
    public int Dscore { get; init; } = 4;

    /// <summary>Outbound peers the mesh keeps at least (under <see cref="Dlo"/>, at most <see cref="D"/>/2).</summary>
    public int Dout { get; init; } = 2;

    /// <summary>The fewest peers gossip (IHAVE) goes to in each heartbeat.</summary>
    public int Dlazy { get; init; } = 6;

    /// <summary>The share of eligible peers gossip goes to, when more than <see cref="Dlazy"/>.</summary>
    public double GossipFactor { get; init; } = 0.25;

    /// <summary>The heartbeat's period.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a topic published to without a subscription keeps its fanout peers.</summary>
    public TimeSpan FanoutTtl { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Heartbeats a message stays in the message cache (served to IWANT).</summary>
    public int HistoryLength { get; init; } = 5;

    /// <summary>Heartbeats a message is advertised in gossip (IHAVE).</summary>
    public int HistoryGossip { get; init; } = 3;

    /// <summary>How long a message ID is remembered as seen (duplicates dropped).</summary>
    public TimeSpan SeenTtl { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Most message IDs remembered as seen (the oldest forgotten first).</summary>
    public int MaxSeen { get; init; } = 200_000;

    /// <summary>The backoff a PRUNE asks for, and the one kept after pruning a peer.</summary>
    public TimeSpan PruneBackoff { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The backoff after leaving a topic.</summary>
    public TimeSpan UnsubscribeBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest backoff taken from a peer's PRUNE.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromHours(1);

    /// <summary>A GRAFT this soon into a backoff is penalized twice (a flood of grafts).</summary>
    public TimeSpan GraftFloodThreshold { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Peers exchanged in a PRUNE (PX), and most peers dialled from one.</summary>
    public int PrunePeers { get; init; } = 16;

    /// <summary>Most message IDs asked of one peer in IWANTs per heartbeat.</summary>
    public int MaxIHaveLength { get; init; } = 5000;

    /// <summary>Most IHAVEs heeded from one peer per heartbeat.</summary>
    public int MaxIHaveMessages { get; init; } = 10;

    /// <summary>How long a peer has to deliver a message it advertised and was asked for, before P₇ counts it.</summary>
    public TimeSpan IWantFollowupTime { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How often one message is sent to one peer in answer to its IWANTs.</summary>
    public int GossipRetransmission { get; init; } = 3;

    /// <summary>Heartbeats between opportunistic grafting rounds.</summary>
    public int OpportunisticGraftTicks { get; init; } = 60;

    /// <summary>Peers grafted in an opportunistic round.</summary>
    public int OpportunisticGraftPeers { get; init; } = 2;

    /// <summary>Whether this node's own messages go to every topic peer above the publish threshold (v1.1), not only the mesh.</summary>
    public bool FloodPublish { get; init; } = true;

    /// <summary>Most RPCs queued for one peer; beyond, new ones to it are dropped (a slow peer does not hold memory).</summary>
    public int MaxQueuedRpcs { get; init; } = 1024;

    /// <summary>Most topics remembered of one peer's subscriptions.</summary>
    public int MaxTopicsPerPeer { get; init; } = 1000;

    /// <summary>Most topics this node subscribes to.</summary>
    public int MaxLocalTopics { get; init; } = 1000;

    /// <summary>Most concurrent inbound pubsub streams from one peer.</summary>
    public int MaxInboundStreamsPerPeer { get; init; } = 2;

    /// <summary>Messages buffered for a subscription that is not read; the oldest are dropped beyond.</summary>
    public int SubscriptionBuffer { get; init; } = 1024;

    /// <summary>Bounds on what peers send (kept internal: the codec's limits are not tunable from outside).</summary>
    internal GossipsubRpcLimits Limits { get; init; } = GossipsubRpcLimits.Default;

    /// <summary>Peer scoring (P₁–P₇) and its thresholds.</summary>
    public GossipsubScoreOptions Score { get; init; } = GossipsubScoreOptions.Default;

    /// <summary>Throws <see cref="ArgumentException"/> when the degrees contradict each other (as the spec constrains them).</summary>
    public void Validate()
    {
        if (Dlo > D || D > Dhi || Dout >= Math.Max(Dlo, 1) || Dout > D / 2 || Dscore > D || Dlazy < 0)
        {
            throw new ArgumentException($"gossipsub degrees must satisfy Dout < Dlo <= D <= Dhi, Dout <= D/2 and Dscore <= D (got D={D}, Dlo={Dlo}, Dhi={Dhi}, Dout={Dout}, Dscore={Dscore}).");
        }

        if (HistoryGossip > HistoryLength || HistoryLength < 1 || HeartbeatInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("gossipsub needs HistoryGossip <= HistoryLength, HistoryLength >= 1 and a positive heartbeat.");
        }

        Score.Validate();
    }
}

/// <summary>
/// One topic's score parameters (gossipsub v1.1, P₁–P₄): <see cref="GossipsubScoreOptions.Topic"/> for every topic,
/// or one topic's own in <see cref="GossipsubScoreOptions.Topics"/>.
/// </summary>
public sealed record GossipsubTopicScoreOptions
{
    /// <summary>How much the topic counts in the score.</summary>
    public double TopicWeight { get; init; } = 1;

    /// <summary>P₁'s weight (time in mesh).</summary>
    public double TimeInMeshWeight { get; init; } = 0.01;

    /// <summary>P₁'s unit.</summary>
    public TimeSpan TimeInMeshQuantum { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>P₁'s cap.</summary>
    public double TimeInMeshCap { get; init; } = 300;

    /// <summary>P₂'s weight (first deliveries).</summary>
    public double FirstMessageDeliveriesWeight { get; init; } = 1;

    /// <summary>P₂'s decay per decay interval.</summary>
    public double FirstMessageDeliveriesDecay { get; init; } = 0.9;

    /// <summary>P₂'s cap.</summary>
    public double FirstMessageDeliveriesCap { get; init; } = 20;

    /// <summary>P₃'s weight (mesh delivery deficit, squared); 0 by default, as the rate a topic should have is the application's to say.</summary>
    public double MeshMessageDeliveriesWeight { get; init; }

    /// <summary>P₃'s decay.</summary>
    public double MeshMessageDeliveriesDecay { get; init; } = 0.9;

    /// <summary>P₃'s threshold: fewer deliveries than this from a mesh peer is a deficit.</summary>
    public double MeshMessageDeliveriesThreshold { get; init; } = 1;

    /// <summary>P₃'s cap.</summary>
    public double MeshMessageDeliveriesCap { get; init; } = 10;

    /// <summary>How long a peer is in the mesh before P₃ applies.</summary>
    public TimeSpan MeshMessageDeliveriesActivation { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How soon after the first delivery a duplicate still counts for P₃ (near-first).</summary>
    public TimeSpan MeshMessageDeliveriesWindow { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>P₃b's weight (sticky mesh failure penalty).</summary>
    public double MeshFailurePenaltyWeight { get; init; }

    /// <summary>P₃b's decay.</summary>
    public double MeshFailurePenaltyDecay { get; init; } = 0.9;

    /// <summary>P₄'s weight (invalid messages, squared): with the default thresholds, 4 invalid messages fall under gossip, 9 under graylist.</summary>
    public double InvalidMessageDeliveriesWeight { get; init; } = -1;

    /// <summary>P₄'s decay.</summary>
    public double InvalidMessageDeliveriesDecay { get; init; } = 0.9;

    internal void Validate(string name)
    {
        // The spec's signs: P₁ and P₂ reward, P₃, P₃b and P₄ penalize; decays are fractions; quanta positive.
        if (TopicWeight < 0 || TimeInMeshWeight < 0 || FirstMessageDeliveriesWeight < 0 || MeshMessageDeliveriesWeight > 0
            || MeshFailurePenaltyWeight > 0 || InvalidMessageDeliveriesWeight > 0)
        {
            throw new ArgumentException($"score parameters of {name}: TopicWeight, TimeInMeshWeight and FirstMessageDeliveriesWeight must be >= 0, the mesh delivery, mesh failure and invalid message weights <= 0.");
        }

        if (TimeInMeshQuantum <= TimeSpan.Zero || !IsDecay(FirstMessageDeliveriesDecay) || !IsDecay(MeshMessageDeliveriesDecay)
            || !IsDecay(MeshFailurePenaltyDecay) || !IsDecay(InvalidMessageDeliveriesDecay))
        {
            throw new ArgumentException($"score parameters of {name}: TimeInMeshQuantum must be positive and every decay between 0 and 1.");
        }

        static bool IsDecay(double d) => d > 0 && d < 1;
    }
}

/// <summary>Peer scoring's global parameters (P₅–P₇, decay, retention) and thresholds (gossipsub v1.1).</summary>
public sealed record GossipsubScoreOptions
{
    /// <summary>The defaults: js-libp2p's thresholds and global weights, and <see cref="GossipsubTopicScoreOptions"/> for every topic.</summary>
    public static GossipsubScoreOptions Default { get; } = new();

    /// <summary>Below it, no gossip to or from the peer (js: -10).</summary>
    public double GossipThreshold { get; init; } = -10;

    /// <summary>Below it, this node's own messages do not go to the peer (js: -50).</summary>
    public double PublishThreshold { get; init; } = -50;

    /// <summary>Below it, the peer's RPCs are ignored (js: -80).</summary>
    public double GraylistThreshold { get; init; } = -80;

    /// <summary>Peer exchange is taken only from peers above it (js: 10).</summary>
    public double AcceptPxThreshold { get; init; } = 10;

    /// <summary>When the mesh's median score is below it, better peers are grafted (js: 20).</summary>
    public double OpportunisticGraftThreshold { get; init; } = 20;

    /// <summary>Parameters of every topic not in <see cref="Topics"/> (null: such topics do not count).</summary>
    public GossipsubTopicScoreOptions? Topic { get; init; } = new();

    /// <summary>
    /// Parameters of named topics, in place of <see cref="Topic"/> for them (as go-libp2p's per-topic
    /// <c>TopicScoreParams</c>): e.g. a P₃ delivery-rate expectation for a topic whose rate the application knows.
    /// </summary>
    public IReadOnlyDictionary<string, GossipsubTopicScoreOptions>? Topics { get; init; }

    /// <summary>The parameters <paramref name="topic"/> is scored by: its own, else <see cref="Topic"/> (null: it does not count).</summary>
    public GossipsubTopicScoreOptions? For(string topic) =>
        Topics is not null && Topics.TryGetValue(topic, out GossipsubTopicScoreOptions? own) ? own : Topic;

    /// <summary>The most the topics together add (0: no cap).</summary>
    public double TopicScoreCap { get; init; }

    /// <summary>P₅'s weight.</summary>
    public double AppSpecificWeight { get; init; } = 10;

    /// <summary>P₅: the application's score of a peer (null: 0).</summary>
    public Func<Libp2pPeerId, double>? AppSpecificScore { get; init; }

    /// <summary>P₆'s weight (peers sharing an IP address).</summary>
    public double IpColocationFactorWeight { get; init; } = -5;

    /// <summary>P₆'s threshold: more peers than this on one address are penalized by the surplus squared.</summary>
    public double IpColocationFactorThreshold { get; init; } = 10;

    /// <summary>P₇'s weight (behaviour penalty, squared beyond its threshold).</summary>
    public double BehaviourPenaltyWeight { get; init; } = -10;

    /// <summary>P₇'s threshold.</summary>
    public double BehaviourPenaltyThreshold { get; init; }

    /// <summary>P₇'s decay.</summary>
    public double BehaviourPenaltyDecay { get; init; } = 0.9;

    /// <summary>How often counters decay.</summary>
    public TimeSpan DecayInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A counter decayed under this is 0.</summary>
    public double DecayToZero { get; init; } = 0.01;

    /// <summary>How long a disconnected peer's score is kept (so it cannot reset a bad one by reconnecting).</summary>
    public TimeSpan RetainScore { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Most peers whose score is kept.</summary>
    public int MaxPeers { get; init; } = 10_000;

    /// <summary>Throws <see cref="ArgumentException"/> for thresholds out of the spec's order.</summary>
    public void Validate()
    {
        if (GossipThreshold > 0 || PublishThreshold > GossipThreshold || GraylistThreshold > PublishThreshold || AcceptPxThreshold < 0 || OpportunisticGraftThreshold < 0)
        {
            throw new ArgumentException("score thresholds must satisfy graylist <= publish <= gossip <= 0 and acceptPX, opportunisticGraft >= 0.");
        }

        if (DecayInterval <= TimeSpan.Zero || RetainScore < TimeSpan.Zero || MaxPeers < 1)
        {
            throw new ArgumentException("scoring needs a positive DecayInterval, a RetainScore of zero or more and MaxPeers of at least 1.");
        }

        foreach ((string name, GossipsubTopicScoreOptions topic) in (IEnumerable<KeyValuePair<string, GossipsubTopicScoreOptions>>?)Topics ?? [])
        {
            ArgumentNullException.ThrowIfNull(topic, $"Topics[{name}]");
            topic.Validate(name);
        }

        Topic?.Validate("every topic");
    }
}
