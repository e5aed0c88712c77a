namespace PeerNet.Swarm;

/// <summary>
/// A session's upload or download limit, shared by all its connections: a whole block is taken before it is
/// sent or read (going into debt if needed, so blocks are never split). A rate of 0 means unlimited, and the
/// rate may change at run time. Waiters sleep on the injected <see cref="TimeProvider"/> rather than spinning;
/// the burst is a quarter second of the rate, so a cap is smooth at the granularity peers can see. (Link
/// shaping in the in-memory network is a different tool: <see cref="Transport.TokenBucket"/> hands out
/// partial grants at a fixed rate.)
/// </summary>
internal sealed class TransferRateLimit
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _bytesPerSecond;
    private double _tokens;
    private long _lastRefill;

    public TransferRateLimit(long bytesPerSecond, TimeProvider time)
    {
        _time = time;
        _bytesPerSecond = bytesPerSecond;
        _lastRefill = time.GetTimestamp();
        _tokens = Burst;
    }

    /// <summary>Bytes per second; 0 for unlimited. May change at run time.</summary>
    public long BytesPerSecond
    {
        get => Volatile.Read(ref _bytesPerSecond);
        set => Volatile.Write(ref _bytesPerSecond, Math.Max(0, value));
    }

    private double Burst => Math.Max(BytesPerSecond / 4.0, 16 * 1024);

    /// <summary>Waits until <paramref name="bytes"/> may pass.</summary>
    public async ValueTask TakeAsync(int bytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_gate)
            {
                long rate = BytesPerSecond;
                if (rate == 0)
                {
                    return;
                }

                long now = _time.GetTimestamp();
                _tokens = Math.Min(Burst, _tokens + (_time.GetElapsedTime(_lastRefill, now).TotalSeconds * rate));
                _lastRefill = now;

                // Go into debt once there is something in the bucket, so a request larger than the burst can pass.
                if (_tokens > 0)
                {
                    _tokens -= bytes;
                    return;
                }

                wait = TimeSpan.FromSeconds(Math.Max(-_tokens + 1, 1) / rate);
            }

            await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }
}
