using System.Diagnostics.Metrics;

namespace PeerNet.Engine.Tests;

/// <summary>
/// A meter factory for one node or session under test, with a <see cref="MeterListener"/> of its own that a subclass
/// sets up: <see cref="IsOurs"/> tells this factory's meters from every other node's in the process.
/// </summary>
internal abstract class ListenedMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    /// <summary>The listener: set its callbacks in the subclass's constructor, then <see cref="MeterListener.Start"/> it.</summary>
    protected MeterListener Listener { get; } = new();

    /// <summary>Whether <paramref name="meter"/> was made by this factory.</summary>
    protected bool IsOurs(Meter meter)
    {
        lock (_meters)
        {
            return _meters.Contains(meter);
        }
    }

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options);
        lock (_meters)
        {
            _meters.Add(meter);
        }

        return meter;
    }

    public void Dispose()
    {
        Listener.Dispose();
        lock (_meters)
        {
            foreach (Meter meter in _meters)
            {
                meter.Dispose();
            }
        }
    }
}
