using System.Net;
using PeerNet.Dht;

namespace PeerNet.Discovery.Dht;

/// <summary>BEP 5's three states of a routing-table entry.</summary>
internal enum NodeState
{
    /// <summary>Responded to one of our queries, or queried us after having responded, within the last 15 minutes.</summary>
    Good,

    /// <summary>Nothing heard from it for 15 minutes: pinged before it is trusted or replaced.</summary>
    Questionable,

    /// <summary>"Nodes become bad when they fail to respond to multiple queries in a row" (BEP 5): replaced first.</summary>
    Bad,
}

/// <summary>One entry of the routing table or of a bucket's replacement cache.</summary>
internal sealed class RoutingNode(NodeId id, IPEndPoint endPoint, bool verified, long now)
{
    /// <summary>Failures in a row after which a node is bad.</summary>
    public const int MaxFailures = 2;

    public NodeId Id { get; } = id;

    public IPEndPoint EndPoint { get; } = endPoint;

    /// <summary>Whether its ID passes BEP 42 for its address (local addresses are exempt).</summary>
    public bool Verified { get; } = verified;

    /// <summary>When it last answered a query of ours (timestamp of the table's clock).</summary>
    public long LastResponse { get; set; } = now;

    /// <summary>When it last sent us a query.</summary>
    public long LastQuery { get; set; }

    /// <summary>Queries in a row it failed to answer.</summary>
    public int Failures { get; set; }

    public DhtContact Contact => new(Id, EndPoint);

    public NodeState GetState(TimeProvider time, TimeSpan goodFor)
    {
        if (Failures >= MaxFailures)
        {
            return NodeState.Bad;
        }

        long last = Math.Max(LastResponse, LastQuery);
        return time.GetElapsedTime(last) < goodFor ? NodeState.Good : NodeState.Questionable;
    }
}
