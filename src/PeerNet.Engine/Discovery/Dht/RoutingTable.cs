using System.Net;
using PeerNet.Dht;

namespace PeerNet.Discovery.Dht;

/// <summary>
/// The k-bucket routing table of BEP 5. Bucket i holds nodes sharing exactly i leading bits with our ID; the
/// last bucket holds all nodes sharing at least as many, and is the only one that splits ("only the bucket that
/// contains our own ID may be split"), so the table keeps k nodes per distance and many close to us. A full
/// bucket keeps its nodes while they are good, replaces bad ones first, and parks newcomers in a bounded
/// replacement cache. Not thread-safe: the node serialises calls under its lock.
/// </summary>
internal sealed partial class RoutingTable
{
    /// <summary>BEP 5: "After 15 minutes of inactivity, a node becomes questionable"; buckets are refreshed as often.</summary>
    public static readonly TimeSpan GoodFor = TimeSpan.FromMinutes(15);

    private readonly List<Bucket> _buckets = [];
    private readonly Dictionary<NodeId, RoutingNode> _byId = [];
    private readonly Dictionary<IPAddress, RoutingNode> _byAddress = [];
    private readonly TimeProvider _time;

    public RoutingTable(NodeId ownId, int bucketSize, bool restrictAddresses, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketSize, 1);
        OwnId = ownId;
        BucketSize = bucketSize;
        RestrictAddresses = restrictAddresses;
        _time = time;
        _buckets.Add(new Bucket(time.GetTimestamp()));
    }

    public NodeId OwnId { get; }

    /// <summary>k: nodes per bucket, and per replacement cache.</summary>
    public int BucketSize { get; }

    /// <summary>At most one entry per IP address (BEP 42's advice); off only for tests on one loopback address.</summary>
    public bool RestrictAddresses { get; }

    public int Count => _byId.Count;

    public int BucketCount => _buckets.Count;

    /// <summary>The entry for <paramref name="id"/>, if in the table.</summary>
    public RoutingNode? Find(NodeId id) => _byId.GetValueOrDefault(id);

    /// <summary>Whether a node that answered us from <paramref name="endPoint"/> would get a place (for pinging queriers).</summary>
    public bool WouldAccept(NodeId id, IPEndPoint endPoint)
    {
        if (id == OwnId || _byId.ContainsKey(id) || (RestrictAddresses && _byAddress.ContainsKey(endPoint.Address)))
        {
            return false;
        }

        int index = IndexOf(id);
        Bucket bucket = _buckets[index];
        return bucket.Nodes.Count < BucketSize || index == _buckets.Count - 1 || bucket.Nodes.Exists(n => n.GetState(_time, GoodFor) != NodeState.Good);
    }

    /// <summary>
    /// Records that <paramref name="contact"/> answered one of our queries: refreshes its entry, or inserts it
    /// (splitting, replacing a bad or unverified entry, or parking it in the replacement cache).
    /// </summary>
    public void Responded(DhtContact contact, bool verified)
    {
        if (contact.Id == OwnId)
        {
            return;
        }

        long now = _time.GetTimestamp();
        if (_byId.TryGetValue(contact.Id, out RoutingNode? known))
        {
            // A known ID from another endpoint is ignored: it could be anyone claiming it.
            if (known.EndPoint.Equals(contact.EndPoint))
            {
                known.LastResponse = now;
                known.Failures = 0;
            }

            return;
        }

        if (RestrictAddresses && _byAddress.TryGetValue(contact.EndPoint.Address, out RoutingNode? sameAddress))
        {
            // BEP 42: one entry per IP, and a verified ID is preferred over an unverified one.
            if (sameAddress.Verified || !verified)
            {
                return;
            }

            Remove(sameAddress);
        }

        var node = new RoutingNode(contact.Id, contact.EndPoint, verified, now);
        while (true)
        {
            int index = IndexOf(node.Id);
            Bucket bucket = _buckets[index];
            if (bucket.Nodes.Count < BucketSize)
            {
                Add(bucket, node, now);
                return;
            }

            RoutingNode? evict = bucket.Nodes.Find(n => n.GetState(_time, GoodFor) == NodeState.Bad)
                ?? (verified ? bucket.Nodes.Find(n => !n.Verified && n.GetState(_time, GoodFor) != NodeState.Good) : null);
            if (evict is not null)
            {
                Remove(evict);
                Add(bucket, node, now);
                return;
            }

            if (index == _buckets.Count - 1 && _buckets.Count < NodeId.Bits)
            {
                Split();
                continue;
            }

            bucket.AddReplacement(node, BucketSize);
            return;
        }
    }

    /// <summary>Records that <paramref name="id"/> sent us a query (it stays good while it keeps talking).</summary>
    public void Queried(NodeId id, IPEndPoint endPoint)
    {
        if (_byId.TryGetValue(id, out RoutingNode? node) && node.EndPoint.Equals(endPoint))
        {
            node.LastQuery = _time.GetTimestamp();
        }
    }

    /// <summary>Records that <paramref name="id"/> did not answer; a bad node gives way to its bucket's freshest replacement.</summary>
    public void Failed(NodeId id, IPEndPoint endPoint)
    {
        if (!_byId.TryGetValue(id, out RoutingNode? node) || !node.EndPoint.Equals(endPoint))
        {
            return;
        }

        node.Failures++;
        if (node.GetState(_time, GoodFor) != NodeState.Bad)
        {
            return;
        }

        Bucket bucket = _buckets[IndexOf(id)];
        while (bucket.Replacements.Count > 0)
        {
            RoutingNode replacement = bucket.Replacements[^1];
            bucket.Replacements.RemoveAt(bucket.Replacements.Count - 1);
            if (_byId.ContainsKey(replacement.Id) || (RestrictAddresses && _byAddress.ContainsKey(replacement.EndPoint.Address)))
            {
                continue;
            }

            Remove(node);
            Add(bucket, replacement, _time.GetTimestamp());
            return;
        }
    }

    /// <summary>The <paramref name="count"/> non-bad nodes closest to <paramref name="target"/>, closest first.</summary>
    public List<DhtContact> Closest(NodeId target, int count)
    {
        var nodes = new List<RoutingNode>(_byId.Count);
        foreach (RoutingNode node in _byId.Values)
        {
            if (node.Failures < RoutingNode.MaxFailures)
            {
                nodes.Add(node);
            }
        }

        nodes.Sort((x, y) => target.CompareDistance(x.Id, y.Id));
        var result = new List<DhtContact>(Math.Min(count, nodes.Count));
        for (int i = 0; i < nodes.Count && i < count; i++)
        {
            result.Add(nodes[i].Contact);
        }

        return result;
    }

    /// <summary>Every entry (for persistence and stats).</summary>
    public IEnumerable<RoutingNode> Nodes => _byId.Values;

    private int IndexOf(NodeId id) => Math.Min(OwnId.CommonPrefixLength(id), _buckets.Count - 1);

    private void Add(Bucket bucket, RoutingNode node, long now)
    {
        bucket.Nodes.Add(node);
        bucket.Replacements.RemoveAll(r => r.Id == node.Id);
        bucket.LastChanged = now;
        _byId[node.Id] = node;
        if (RestrictAddresses)
        {
            _byAddress[node.EndPoint.Address] = node;
        }
    }

    private void Remove(RoutingNode node)
    {
        _buckets[IndexOf(node.Id)].Nodes.Remove(node);
        _byId.Remove(node.Id);
        if (RestrictAddresses)
        {
            _byAddress.Remove(node.EndPoint.Address);
        }
    }

    /// <summary>Splits the last bucket: nodes sharing more bits with our ID move to a new last bucket.</summary>
    private void Split()
    {
        Bucket last = _buckets[^1];
        int depth = _buckets.Count - 1;
        var next = new Bucket(last.LastChanged);
        _buckets.Add(next);
        last.Nodes.RemoveAll(n =>
        {
            bool moves = OwnId.CommonPrefixLength(n.Id) > depth;
            if (moves)
            {
                next.Nodes.Add(n);
            }

            return moves;
        });
        last.Replacements.RemoveAll(n =>
        {
            bool moves = OwnId.CommonPrefixLength(n.Id) > depth;
            if (moves)
            {
                next.Replacements.Add(n);
            }

            return moves;
        });
    }

    private sealed class Bucket(long lastChanged)
    {
        public List<RoutingNode> Nodes { get; } = [];

        /// <summary>Nodes that answered while the bucket was full, newest last.</summary>
        public List<RoutingNode> Replacements { get; } = [];

        public long LastChanged { get; set; } = lastChanged;

        public void AddReplacement(RoutingNode node, int capacity)
        {
            Replacements.RemoveAll(r => r.Id == node.Id || r.EndPoint.Equals(node.EndPoint));
            if (Replacements.Count >= capacity)
            {
                Replacements.RemoveAt(0);
            }

            Replacements.Add(node);
        }
    }
}
