using System.Net;

namespace PeerNet.Discovery.Dht;

/// <summary>
/// Per-IP token buckets for incoming queries and for reply bytes, so a flood from one address is dropped while
/// the node keeps serving everyone else. Tracks at most a bounded number of addresses: when full, buckets that
/// have refilled completely (idle sources) are forgotten first, then the least recently used. Thread-safe.
/// </summary>
internal sealed class SourceRateLimiter(double ratePerSecond, double burst, int maxSources, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, Bucket> _buckets = [];

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
        long now = time.GetTimestamp();
        lock (_lock)
        {
            if (!_buckets.TryGetValue(address, out Bucket? bucket))
            {
                if (_buckets.Count >= maxSources)
                {
                    EvictLocked(now);
                }

                bucket = new Bucket { Tokens = burst, Last = now };
                _buckets.Add(address, bucket);
            }

            bucket.Tokens = Math.Min(burst, bucket.Tokens + (time.GetElapsedTime(bucket.Last, now).TotalSeconds * ratePerSecond));
            bucket.Last = now;
            if (bucket.Tokens < cost)
            {
                return false;
            }

            bucket.Tokens -= cost;
            return true;
        }
    }

    private void EvictLocked(long now)
    {
        double refillSeconds = burst / ratePerSecond;
        var idle = _buckets.Where(b => time.GetElapsedTime(b.Value.Last, now).TotalSeconds >= refillSeconds).Select(b => b.Key).ToList();
        foreach (IPAddress address in idle)
        {
            _buckets.Remove(address);
        }

        if (_buckets.Count >= maxSources)
        {
            _buckets.Remove(_buckets.MinBy(b => b.Value.Last).Key);
        }
    }

    private sealed class Bucket
    {
        public double Tokens { get; set; }

        public long Last { get; set; }
    }
}
