namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>
/// Virtual time for a discrete-event simulation: one queue of events, each due at a virtual instant and owned by a
/// simulated node, run one at a time in (due time, order scheduled) order on the caller's thread. The clock stands
/// still while an event runs and moves only to the next event's instant, so the time the CPU takes costs none.
/// <see cref="For"/> gives each node a <see cref="TimeProvider"/> whose timers become events of that node.
/// </summary>
internal sealed class VirtualClock
{
    private readonly PriorityQueue<(int Owner, Action Action), (long Due, long Order)> _events = new();
    private long _order;

    public VirtualClock(DateTimeOffset start) => Now = start;

    public DateTimeOffset Now { get; private set; }

    public long EventsRun { get; private set; }

    public int Pending => _events.Count;

    /// <summary>A time provider for node <paramref name="owner"/>: what its timers do are events of it.</summary>
    public TimeProvider For(int owner) => new NodeTime(this, owner);

    public void Schedule(TimeSpan delay, int owner, Action action)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        _events.Enqueue((owner, action), (Now.UtcTicks + delay.Ticks, _order++));
    }

    /// <summary>Runs every event due up to <paramref name="until"/>, calling <paramref name="after"/> with each one's owner once it ran; then stands at <paramref name="until"/>.</summary>
    public void RunUntil(DateTimeOffset until, Action<int> after)
    {
        while (_events.TryPeek(out (int Owner, Action Action) next, out (long Due, long Order) key) && key.Due <= until.UtcTicks)
        {
            _events.Dequeue();
            Now = new DateTimeOffset(key.Due, TimeSpan.Zero);
            next.Action();
            EventsRun++;
            after(next.Owner);
        }

        if (until > Now)
        {
            Now = until;
        }
    }

    private sealed class NodeTime(VirtualClock clock, int owner) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => clock.Now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => clock.Now.UtcTicks;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new VirtualTimer(clock, owner, callback, state);
            timer.Change(dueTime, period);
            return timer;
        }
    }

    /// <summary>A timer whose firings are events; a change or disposal makes the events already queued stale.</summary>
    private sealed class VirtualTimer(VirtualClock clock, int owner, TimerCallback callback, object? state) : ITimer
    {
        private long _generation;
        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private bool _disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (_disposed)
            {
                return false;
            }

            long generation = ++_generation;
            _period = period;
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                Arm(dueTime, generation);
            }

            return true;
        }

        public void Dispose()
        {
            _disposed = true;
            _generation++;
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private void Arm(TimeSpan due, long generation) =>
            clock.Schedule(due, owner, () =>
            {
                if (_disposed || generation != _generation)
                {
                    return;
                }

                if (_period != Timeout.InfiniteTimeSpan && _period > TimeSpan.Zero)
                {
                    Arm(_period, generation);
                }

                callback(state);
            });
    }
}
