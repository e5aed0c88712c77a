namespace PeerNet.Swarm;

/// <summary>
/// Bytes per second over a sliding window of one-second buckets, fed from any thread and read by the
/// torrent's loop. Used for the choker's rates, request pipelining and the progress display.
/// </summary>
internal sealed class RateMeter
{
    private const int Buckets = 5;
    private readonly TimeProvider _time;
    private readonly long[] _bytes = new long[Buckets];
    private readonly long _created;
    private long _currentSecond;
    private long _total;
    private long _lastSecond; // the second of the last Add: once it is a window behind, the rate is 0

    public RateMeter(TimeProvider time)
    {
        _time = time;
        _created = time.GetTimestamp();
        _currentSecond = Now(_created);
        _lastSecond = long.MinValue / 2;
    }

    /// <summary>All bytes ever counted.</summary>
    public long Total => Interlocked.Read(ref _total);

    public void Add(int bytes)
    {
        Interlocked.Add(ref _total, bytes);
        long second = Now(_time.GetTimestamp());
        lock (_bytes)
        {
            Roll(second);
            _bytes[second % Buckets] += bytes;
            _lastSecond = second;
        }
    }

    /// <summary>Average over the last complete seconds (and the current partial one).</summary>
    public double BytesPerSecond
    {
        get
        {
            long now = _time.GetTimestamp();
            long second = Now(now);
            if (second - Volatile.Read(ref _lastSecond) >= Buckets)
            {
                return 0; // nothing counted within the window: the common case of an idle torrent, read without the lock
            }

            lock (_bytes)
            {
                Roll(second);
                long sum = 0;
                foreach (long b in _bytes)
                {
                    sum += b;
                }

                // The window spans the complete buckets plus the current partial second, but a young meter has
                // only existed for part of it: divide by its age then, or a new peer's rate reads several times low.
                double window = (Buckets - 1) + ((now % _time.TimestampFrequency) / (double)_time.TimestampFrequency);
                double age = (now - _created) / (double)_time.TimestampFrequency;
                return sum / Math.Max(Math.Min(window, age), 1);
            }
        }
    }

    private long Now(long timestamp) => timestamp / _time.TimestampFrequency;

    private void Roll(long second)
    {
        if (second - _currentSecond >= Buckets)
        {
            Array.Clear(_bytes);
        }
        else
        {
            for (long s = _currentSecond + 1; s <= second; s++)
            {
                _bytes[s % Buckets] = 0;
            }
        }

        _currentSecond = Math.Max(_currentSecond, second);
    }
}
