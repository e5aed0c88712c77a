using PeerNet.Dht;

namespace PeerNet.Discovery.Dht;

/// <summary>A BEP 44 item as stored: the value, and for a mutable item its key, salt, sequence and signature.</summary>
internal sealed record StoredItem(byte[] Value, byte[]? PublicKey, byte[]? Salt, long Sequence, byte[]? Signature, long StoredAt);

/// <summary>
/// BEP 44 items stored by this node, by target, each kept for a lifetime (BEP 44: "nodes SHOULD ... store items
/// for at least 2 hours"). Bounded: when full, the oldest item gives way. Thread-safe.
/// </summary>
internal sealed class ItemStore(int maxItems, TimeSpan lifetime, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<NodeId, StoredItem> _items = [];

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    public StoredItem? Get(NodeId target)
    {
        lock (_lock)
        {
            if (_items.TryGetValue(target, out StoredItem? item) && time.GetElapsedTime(item.StoredAt) < lifetime)
            {
                return item;
            }

            _items.Remove(target);
            return null;
        }
    }

    public void Put(NodeId target, StoredItem item)
    {
        lock (_lock)
        {
            if (!_items.ContainsKey(target) && _items.Count >= maxItems)
            {
                _items.Remove(_items.MinBy(i => i.Value.StoredAt).Key);
            }

            _items[target] = item;
        }
    }
}
