using PeerNet.Dht;

namespace PeerNet.Discovery.Dht;

internal sealed partial class RoutingTable
{
    /// <summary>In each bucket, the least recently heard questionable node: to ping, so it turns good or bad.</summary>
    public List<DhtContact> QuestionableToPing()
    {
        var result = new List<DhtContact>();
        foreach (Bucket bucket in _buckets)
        {
            RoutingNode? oldest = null;
            foreach (RoutingNode node in bucket.Nodes)
            {
                if (node.GetState(_time, GoodFor) == NodeState.Questionable && (oldest is null || Math.Max(node.LastResponse, node.LastQuery) < Math.Max(oldest.LastResponse, oldest.LastQuery)))
                {
                    oldest = node;
                }
            }

            if (oldest is not null)
            {
                result.Add(oldest.Contact);
            }
        }

        return result;
    }

    /// <summary>
    /// A random target in each bucket unchanged for <paramref name="staleAfter"/> (BEP 5: "Buckets that have not
    /// been changed in 15 minutes should be refreshed"); a lookup of it refreshes the bucket.
    /// </summary>
    public List<NodeId> StaleBucketTargets(TimeSpan staleAfter, Random random)
    {
        var targets = new List<NodeId>();
        for (int i = 0; i < _buckets.Count; i++)
        {
            if (_time.GetElapsedTime(_buckets[i].LastChanged) >= staleAfter)
            {
                targets.Add(RandomIdInBucket(i, random));
                _buckets[i].LastChanged = _time.GetTimestamp();
            }
        }

        return targets;
    }

    /// <summary>A random target in each bucket with room, but the last (our own), to fill the table after bootstrap.</summary>
    public List<NodeId> NotFullBucketTargets(Random random)
    {
        var targets = new List<NodeId>();
        for (int i = 0; i < _buckets.Count - 1; i++)
        {
            if (_buckets[i].Nodes.Count < BucketSize)
            {
                targets.Add(RandomIdInBucket(i, random));
            }
        }

        return targets;
    }

    /// <summary>A random ID that falls in bucket <paramref name="index"/>.</summary>
    public NodeId RandomIdInBucket(int index, Random random)
    {
        NodeId id = NodeId.Random(random);

        // Copy our first `index` bits, then (except in the last bucket) differ at bit `index`.
        int prefix = index == _buckets.Count - 1 ? index : index + 1;
        for (int bit = 0; bit < prefix; bit++)
        {
            bool want = bit == index ? !OwnId.GetBit(bit) : OwnId.GetBit(bit);
            if (id.GetBit(bit) != want)
            {
                id = id.FlipBit(bit);
            }
        }

        return id;
    }

    /// <summary>Counts of nodes by state, and replacement-cache entries.</summary>
    public (int Good, int Questionable, int Bad, int Replacements) CountStates()
    {
        int good = 0, questionable = 0, bad = 0, replacements = 0;
        foreach (Bucket bucket in _buckets)
        {
            replacements += bucket.Replacements.Count;
            foreach (RoutingNode node in bucket.Nodes)
            {
                switch (node.GetState(_time, GoodFor))
                {
                    case NodeState.Good:
                        good++;
                        break;
                    case NodeState.Questionable:
                        questionable++;
                        break;
                    default:
                        bad++;
                        break;
                }
            }
        }

        return (good, questionable, bad, replacements);
    }
}
