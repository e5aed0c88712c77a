namespace PeerNet.Swarm;

/// <summary>
/// One once-a-second timer for every torrent of a session, instead of a timer each. A thousand timers fire a
/// thousand times a second at scattered moments, and each firing wakes a thread-pool worker that then spins before
/// it sleeps again: a node seeding 1,000 idle torrents spent 11% of a core that way (bench/idle.sh). One timer wakes
/// once and posts every torrent's tick in one burst, which the pool works through back to back.
/// </summary>
internal sealed class SwarmTicker : IAsyncDisposable
{
    /// <summary>How often <see cref="Register"/>ed callbacks run.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly PeriodicTimer _timer;
    private readonly Task _loop;
    private Registration[] _callbacks = []; // found by reference at unregistering: a delegate's Equals is slow, and 10,000 torrents stop at once
    private long _rounds;

    /// <summary>Starts the timer (on <paramref name="time"/>'s clock) at once, so a test's fake clock drives it from here on.</summary>
    public SwarmTicker(TimeProvider time)
    {
        _timer = new PeriodicTimer(Interval, time);
        _loop = RunAsync(_stopping.Token);
    }

    /// <summary>Rounds of callbacks run to their end (for tests: proof the timer has fired and posted).</summary>
    internal long Rounds => Volatile.Read(ref _rounds);

    /// <summary>
    /// Runs <paramref name="onTick"/> on the timer's thread every <see cref="Interval"/> until the registration is
    /// disposed. The callback must be quick and must not throw (a torrent posts an event to its own loop).
    /// </summary>
    public IDisposable Register(Action onTick)
    {
        var registration = new Registration(this, onTick);
        lock (_lock)
        {
            _callbacks = [.. _callbacks, registration];
        }

        return registration;
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _stopping.Cancel();
            _callbacks = [];
        }

        await _loop.ConfigureAwait(false);
        _timer.Dispose();
        _stopping.Dispose();
    }

    private void Unregister(Registration registration)
    {
        lock (_lock)
        {
            int at = Array.IndexOf(_callbacks, registration);
            if (at >= 0)
            {
                _callbacks = [.. _callbacks.AsSpan(0, at), .. _callbacks.AsSpan(at + 1)];
            }
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (Registration registration in Volatile.Read(ref _callbacks))
                {
                    registration.OnTick();
                }

                Interlocked.Increment(ref _rounds);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private sealed class Registration(SwarmTicker ticker, Action onTick) : IDisposable
    {
        private int _disposed;

        public Action OnTick { get; } = onTick;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                ticker.Unregister(this);
            }
        }
    }
}
