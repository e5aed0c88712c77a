using System.Net;
using PeerNet.Transport;

namespace PeerNet.Discovery.Dht;

/// <summary>
/// A token bucket per IP address (for incoming queries, reply bytes, LSD datagrams), so a flood from one address is
/// dropped while the node keeps serving everyone else. Tracks at most a bounded number of addresses: when full, buckets
/// that have refilled completely (idle sources) are forgotten first, then the least recently used. Thread-safe.
/// </summary>
internal sealed class SourceRateLimiter(double ratePerSecond, double burst, int maxSources, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, TokenBucket> _buckets = [];

    public int TrackedSources
    {
        get
        {
            lock (_lock)
            {
                return _buckets.Count;
            }
        }
    }

    /// <summary>Takes <paramref name="cost"/> tokens from <paramref name="address"/>'s bucket; false when it has too few.</summary>
    public bool TryTake(IPAddress address, double cost = 1)
    {
        TokenBucket? bucket;
        lock (_lock)
        {
            if (!_buckets.TryGetValue(address, out bucket))
            {
                if (_buckets.Count >= maxSources)
                {
                    EvictLocked();
                }

                bucket = new TokenBucket(ratePerSecond, burst, time);
                _buckets.Add(address, bucket);
            }
        }

        return bucket.TryTake(cost);
    }

    private void EvictLocked()
    {
        foreach (IPAddress address in _buckets.Where(b => b.Value.IsFull).Select(b => b.Key).ToList())
        {
            _buckets.Remove(address);
        }

        if (_buckets.Count >= maxSources)
        {
            _buckets.Remove(_buckets.MinBy(b => b.Value.LastUsed).Key);
        }
    }
}
