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

    public RateMeter(TimeProvider time)
    {
        _time = time;
        _created = time.GetTimestamp();
        _currentSecond = Now();
    }

    /// <summary>All bytes ever counted.</summary>
    public long Total => Interlocked.Read(ref _total);

    public void Add(int bytes)
    {
        Interlocked.Add(ref _total, bytes);
        long second = Now();
        lock (_bytes)
        {
            Roll(second);
            _bytes[second % Buckets] += bytes;
        }
    }

    /// <summary>Average over the last complete seconds (and the current partial one).</summary>
    public double BytesPerSecond
    {
        get
        {
            long second = Now();
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
                long now = _time.GetTimestamp();
                double window = (Buckets - 1) + ((now % _time.TimestampFrequency) / (double)_time.TimestampFrequency);
                double age = (now - _created) / (double)_time.TimestampFrequency;
                return sum / Math.Max(Math.Min(window, age), 1);
            }
        }
    }

    private long Now() => _time.GetTimestamp() / _time.TimestampFrequency;

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
