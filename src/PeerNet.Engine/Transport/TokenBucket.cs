namespace PeerNet.Transport;

/// <summary>
/// A token bucket that paces bytes to a rate, refilled from the clock rather than by counting sleeps, so a wake-up
/// that comes late loses nothing (up to the burst size). Shared by every connection of one in-memory node.
/// </summary>
internal sealed class TokenBucket
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _timeProvider;
    private readonly double _bytesPerSecond;
    private readonly double _burst;
    private readonly int _quantum;
    private double _tokens;
    private long _lastRefill;

    /// <summary>Creates a bucket for <paramref name="bytesPerSecond"/> (at least 1).</summary>
    public TokenBucket(long bytesPerSecond, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, 1);
        _timeProvider = timeProvider;
        _bytesPerSecond = bytesPerSecond;

        // Hand out bytes in quanta of about 10 ms of traffic (256 B to 16 KiB), so slow links still move whole
        // messages and fast ones do not wake up for every few bytes. Bank at most 100 ms of unused capacity: enough
        // that a timer firing late on a busy machine loses nothing, little enough to keep a second's total within 10%.
        _quantum = (int)Math.Clamp(bytesPerSecond / 100, 256, 16 * 1024);
        _burst = Math.Max(bytesPerSecond / 10.0, _quantum);
        _tokens = _quantum;
        _lastRefill = timeProvider.GetTimestamp();
    }

    /// <summary>The rate in bytes per second.</summary>
    public long BytesPerSecond => (long)_bytesPerSecond;

    /// <summary>
    /// Takes up to <paramref name="wanted"/> bytes of capacity, waiting until at least one quantum (or all of
    /// <paramref name="wanted"/>, if less) is there. Returns how many bytes may go now, at least 1.
    /// </summary>
    public async ValueTask<int> TakeAsync(int wanted, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(wanted, 1);
        while (true)
        {
            TimeSpan wait;
            lock (_lock)
            {
                long now = _timeProvider.GetTimestamp();
                _tokens = Math.Min(_burst, _tokens + (_timeProvider.GetElapsedTime(_lastRefill, now).TotalSeconds * _bytesPerSecond));
                _lastRefill = now;
                int needed = Math.Min(wanted, _quantum);
                if (_tokens >= needed)
                {
                    int take = (int)Math.Min(wanted, Math.Floor(_tokens));
                    _tokens -= take;
                    return take;
                }

                wait = TimeSpan.FromSeconds((needed - _tokens) / _bytesPerSecond);
            }

            await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }
}
