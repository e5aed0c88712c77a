using PeerNet.Libp2p.Protos;

namespace PeerNet.Libp2p;

/// <summary>
/// gossipsub's message cache: the messages of the last <c>HistoryLength</c> heartbeats (served to IWANT), the IDs of
/// the last <c>HistoryGossip</c> advertised in IHAVE; <see cref="Shift"/> at each heartbeat. Not thread-safe.
/// </summary>
internal sealed class GossipsubMessageCache
{
    private readonly int _gossip;
    private readonly LinkedList<List<(string Id, string Topic)>> _windows = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public GossipsubMessageCache(int history, int gossip)
    {
        _gossip = gossip;
        for (int i = 0; i < history; i++)
        {
            _windows.AddLast([]);
        }
    }

    public int Count => _entries.Count;

    /// <summary>Keeps a validated message (its ID as text, its wire ID, topic and message).</summary>
    public void Put(string id, byte[] wireId, string topic, PubsubWireMessage message)
    {
        if (_entries.TryAdd(id, new Entry(wireId, topic, message)))
        {
            _windows.First!.Value.Add((id, topic));
        }
    }

    /// <summary>
    /// The message for an IWANT from <paramref name="peer"/>, counting how often it was served to it; null when not
    /// cached or already sent <paramref name="maxTransmissions"/> times.
    /// </summary>
    public PubsubWireMessage? GetForPeer(string id, Libp2pPeerId peer, int maxTransmissions)
    {
        if (!_entries.TryGetValue(id, out Entry? entry))
        {
            return null;
        }

        entry.Served.TryGetValue(peer, out int served);
        if (served >= maxTransmissions)
        {
            return null;
        }

        entry.Served[peer] = served + 1;
        return entry.Message;
    }

    /// <summary>Whether the message is cached.</summary>
    public bool Contains(string id) => _entries.ContainsKey(id);

    /// <summary>The wire IDs of <paramref name="topic"/>'s messages in the gossip windows.</summary>
    public List<byte[]> GossipIds(string topic)
    {
        var ids = new List<byte[]>();
        int window = 0;
        for (LinkedListNode<List<(string Id, string Topic)>>? node = _windows.First; node is not null && window < _gossip; node = node.Next, window++)
        {
            foreach ((string id, string t) in node.Value)
            {
                if (t == topic && _entries.TryGetValue(id, out Entry? entry))
                {
                    ids.Add(entry.WireId);
                }
            }
        }

        return ids;
    }

    /// <summary>Starts a new window and forgets the oldest one's messages.</summary>
    public void Shift()
    {
        foreach ((string id, _) in _windows.Last!.Value)
        {
            _entries.Remove(id);
        }

        _windows.RemoveLast();
        _windows.AddFirst([]);
    }

    private sealed record Entry(byte[] WireId, string Topic, PubsubWireMessage Message)
    {
        public Dictionary<Libp2pPeerId, int> Served { get; } = [];
    }
}

/// <summary>The message IDs seen lately (duplicates are dropped), each for a TTL, at most a number of them. Not thread-safe.</summary>
internal sealed class GossipsubSeenCache
{
    private readonly TimeSpan _ttl;
    private readonly int _capacity;
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, DateTimeOffset Expires)> _order = new();

    public GossipsubSeenCache(TimeSpan ttl, int capacity)
    {
        _ttl = ttl;
        _capacity = capacity;
    }

    public int Count => _ids.Count;

    public bool Contains(string id) => _ids.Contains(id);

    /// <summary>Remembers <paramref name="id"/>; false when it was already seen.</summary>
    public bool Add(string id, DateTimeOffset now)
    {
        if (!_ids.Add(id))
        {
            return false;
        }

        _order.Enqueue((id, now + _ttl));
        while (_ids.Count > _capacity && _order.TryDequeue(out (string Id, DateTimeOffset Expires) oldest))
        {
            _ids.Remove(oldest.Id);
        }

        return true;
    }

    /// <summary>Forgets the IDs whose TTL has passed.</summary>
    public void Prune(DateTimeOffset now)
    {
        while (_order.TryPeek(out (string Id, DateTimeOffset Expires) head) && head.Expires <= now)
        {
            _order.Dequeue();
            _ids.Remove(head.Id);
        }
    }
}
