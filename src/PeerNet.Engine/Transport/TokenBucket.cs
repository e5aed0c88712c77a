namespace PeerNet.Transport;

/// <summary>
/// The one token bucket every rate in the engine uses: a rate, a burst it banks at most, and tokens refilled from the
/// clock (never by counting sleeps, so a wake-up that comes late loses nothing up to the burst). Its users differ only in
/// how they take:
/// <list type="bullet">
/// <item><see cref="TryTake"/>: all of a cost or nothing (DHT and LSD datagrams per source).</item>
/// <item><see cref="TakeAsync"/>: a whole cost, waiting until the bucket is not empty and then going into debt, so a
/// block larger than the burst still passes whole (upload and download limits, <see cref="ForTransferRate"/>).</item>
/// <item><see cref="TakeUpToAsync"/>: as much of a cost as is there, at least a quantum (the in-memory link's wire).</item>
/// </list>
/// A rate of 0 means unlimited; the rate may change at run time. Thread-safe; waiters sleep on the injected clock.
/// </summary>
internal sealed class TokenBucket
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly Func<double, double> _burstOf;
    private double _rate;
    private double _tokens;
    private long _last;

    /// <summary>
    /// A bucket for <paramref name="ratePerSecond"/> tokens a second (0: unlimited) that banks at most
    /// <paramref name="burstOf"/>(rate) tokens, starting with <paramref name="initial"/> (default: the burst).
    /// </summary>
    public TokenBucket(double ratePerSecond, Func<double, double> burstOf, TimeProvider time, double? initial = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ratePerSecond);
        _time = time;
        _burstOf = burstOf;
        _rate = ratePerSecond;
        _tokens = initial ?? burstOf(ratePerSecond);
        _last = time.GetTimestamp();
    }

    /// <summary>
    /// An upload or download limit of <paramref name="bytesPerSecond"/> (0: none): a whole block passes at once (the
    /// bucket goes into debt), and the burst is a quarter second of the rate, so a cap is smooth at the granularity peers
    /// can see.
    /// </summary>
    public static TokenBucket ForTransferRate(long bytesPerSecond, TimeProvider time) => new(bytesPerSecond, rate => Math.Max(rate / 4.0, 16 * 1024), time);

    /// <summary>
    /// A link of <paramref name="bytesPerSecond"/> for the in-memory network: handed out in quanta of about 10 ms of
    /// traffic (256 B to 16 KiB), so slow links still move whole messages and fast ones do not wake for every few bytes;
    /// banks at most 100 ms (enough that a timer firing late loses nothing, little enough to keep a second within 10%).
    /// </summary>
    public static TokenBucket ForLink(long bytesPerSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, 1);
        int quantum = (int)Math.Clamp(bytesPerSecond / 100, 256, 16 * 1024);
        return new TokenBucket(bytesPerSecond, Math.Max(bytesPerSecond / 10.0, quantum), time, initial: quantum) { Quantum = quantum };
    }

    /// <summary>The least <see cref="TakeUpToAsync"/> waits for (1 unless made <see cref="ForLink"/>).</summary>
    public int Quantum { get; private init; } = 1;

    /// <summary>A bucket with a fixed burst.</summary>
    public TokenBucket(double ratePerSecond, double burst, TimeProvider time, double? initial = null)
        : this(ratePerSecond, _ => burst, time, initial)
    {
    }

    /// <summary>Tokens a second; 0 for unlimited. May change at run time.</summary>
    public double Rate
    {
        get
        {
            lock (_lock)
            {
                return _rate;
            }
        }

        set
        {
            lock (_lock)
            {
                Refill(_time.GetTimestamp());
                _rate = Math.Max(0, value);
            }
        }
    }

    /// <summary>Whether the bucket is full (it has been idle for as long as a full refill takes).</summary>
    public bool IsFull
    {
        get
        {
            lock (_lock)
            {
                Refill(_time.GetTimestamp());
                return _rate == 0 || _tokens >= _burstOf(_rate);
            }
        }
    }

    /// <summary>The clock's timestamp of the last take or refill.</summary>
    public long LastUsed
    {
        get
        {
            lock (_lock)
            {
                return _last;
            }
        }
    }

    /// <summary>Takes <paramref name="cost"/> tokens if there are that many; false (nothing taken) otherwise.</summary>
    public bool TryTake(double cost)
    {
        lock (_lock)
        {
            if (_rate == 0)
            {
                return true;
            }

            Refill(_time.GetTimestamp());
            if (_tokens < cost)
            {
                return false;
            }

            _tokens -= cost;
            return true;
        }
    }

    /// <summary>Waits until the bucket is not empty, then takes all of <paramref name="cost"/>, going into debt if it must.</summary>
    public async ValueTask TakeAsync(double cost, CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_lock)
            {
                if (_rate == 0)
                {
                    return;
                }

                Refill(_time.GetTimestamp());
                if (_tokens > 0)
                {
                    _tokens -= cost;
                    return;
                }

                wait = TimeSpan.FromSeconds(Math.Max(-_tokens + 1, 1) / _rate);
            }

            await SleepAsync(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes up to <paramref name="wanted"/> tokens, waiting until at least a <see cref="Quantum"/> (or all of
    /// <paramref name="wanted"/>, if less) is there. Returns how many were taken, at least 1.
    /// </summary>
    public async ValueTask<int> TakeUpToAsync(int wanted, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(wanted, 1);
        while (true)
        {
            TimeSpan wait;
            lock (_lock)
            {
                if (_rate == 0)
                {
                    return wanted;
                }

                Refill(_time.GetTimestamp());
                int needed = Math.Min(wanted, Quantum);
                if (_tokens >= needed)
                {
                    int take = (int)Math.Min(wanted, Math.Floor(_tokens));
                    _tokens -= take;
                    return take;
                }

                wait = TimeSpan.FromSeconds((needed - _tokens) / _rate);
            }

            await SleepAsync(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Refill(long now)
    {
        if (_rate > 0)
        {
            _tokens = Math.Min(_burstOf(_rate), _tokens + (_time.GetElapsedTime(_last, now).TotalSeconds * _rate));
        }

        _last = now;
    }

    private Task SleepAsync(TimeSpan wait, CancellationToken cancellationToken)
        => Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, _time, cancellationToken);
}
