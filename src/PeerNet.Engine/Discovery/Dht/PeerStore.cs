using System.Net;
using PeerNet.Dht;

namespace PeerNet.Discovery.Dht;

/// <summary>
/// Peers announced to this node, per info-hash, each kept until it expires. Bounded in info-hashes and in peers
/// per info-hash: when full, the entry closest to expiry gives way. Thread-safe.
/// </summary>
internal sealed class PeerStore(int maxInfoHashes, int maxPeersPerInfoHash, TimeSpan lifetime, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<NodeId, Dictionary<IPEndPoint, long>> _peers = [];

    public int InfoHashCount
    {
        get
        {
            lock (_lock)
            {
                return _peers.Count;
            }
        }
    }

    public int PeerCount
    {
        get
        {
            lock (_lock)
            {
                return _peers.Values.Sum(p => p.Count);
            }
        }
    }

    public void Add(NodeId infoHash, IPEndPoint peer)
    {
        long now = time.GetTimestamp();
        lock (_lock)
        {
            if (!_peers.TryGetValue(infoHash, out Dictionary<IPEndPoint, long>? peers))
            {
                if (_peers.Count >= maxInfoHashes)
                {
                    ExpireLocked();
                    if (_peers.Count >= maxInfoHashes)
                    {
                        // Give way: the info-hash whose newest announce is oldest.
                        NodeId oldest = _peers.MinBy(p => p.Value.Values.Max()).Key;
                        _peers.Remove(oldest);
                    }
                }

                peers = [];
                _peers.Add(infoHash, peers);
            }

            if (!peers.ContainsKey(peer) && peers.Count >= maxPeersPerInfoHash)
            {
                peers.Remove(peers.MinBy(p => p.Value).Key);
            }

            peers[peer] = now;
        }
    }

    /// <summary>Up to <paramref name="max"/> live peers for <paramref name="infoHash"/>, a random choice when there are more.</summary>
    public List<IPEndPoint> Get(NodeId infoHash, int max, Random random)
    {
        lock (_lock)
        {
            if (!_peers.TryGetValue(infoHash, out Dictionary<IPEndPoint, long>? peers))
            {
                return [];
            }

            var live = new List<IPEndPoint>(peers.Count);
            foreach ((IPEndPoint peer, long at) in peers)
            {
                if (time.GetElapsedTime(at) < lifetime)
                {
                    live.Add(peer);
                }
            }

            if (live.Count > max)
            {
                random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(live));
                live.RemoveRange(max, live.Count - max);
            }

            return live;
        }
    }

    /// <summary>Up to <paramref name="max"/> stored info-hashes, chosen at random (BEP 51 samples).</summary>
    public List<NodeId> Sample(int max, Random random)
    {
        lock (_lock)
        {
            var all = _peers.Keys.ToList();
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(all));
            return all.Count > max ? all[..max] : all;
        }
    }

    /// <summary>Drops expired peers and empty info-hashes.</summary>
    public void Expire()
    {
        lock (_lock)
        {
            ExpireLocked();
        }
    }

    private void ExpireLocked()
    {
        var emptied = new List<NodeId>();
        foreach ((NodeId infoHash, Dictionary<IPEndPoint, long> peers) in _peers)
        {
            foreach ((IPEndPoint peer, long at) in peers)
            {
                if (time.GetElapsedTime(at) >= lifetime)
                {
                    peers.Remove(peer);
                }
            }

            if (peers.Count == 0)
            {
                emptied.Add(infoHash);
            }
        }

        foreach (NodeId infoHash in emptied)
        {
            _peers.Remove(infoHash);
        }
    }
}
