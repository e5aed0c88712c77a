using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// A meter factory of one node or session that counts one handshake counter of its own (<c>peernet.encryption.handshakes</c>,
/// <c>peernet.libp2p.handshakes</c>) by "direction:result", apart from every other node's in the process.
/// </summary>
internal sealed class HandshakeCounts : IMeterFactory
{
    private readonly List<Meter> _meters = [];
    private readonly MeterListener _listener = new();

    public HandshakeCounts(string instrument)
    {
        _listener.InstrumentPublished = (published, listener) =>
        {
            bool ours;
            lock (_meters)
            {
                ours = _meters.Contains(published.Meter);
            }

            if (ours && published.Name == instrument)
            {
                listener.EnableMeasurementEvents(published);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string direction = "", result = "";
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                (direction, result) = tag.Key == "direction" ? ((string)tag.Value!, result) : (direction, (string)tag.Value!);
            }

            Counts.AddOrUpdate($"{direction}:{result}", value, (_, old) => old + value);
        });
        _listener.Start();
    }

    /// <summary>Counts so far, by "direction:result" (e.g. "in:ok").</summary>
    public ConcurrentDictionary<string, long> Counts { get; } = new();

    public long this[string key] => Counts.GetValueOrDefault(key);

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
        _listener.Dispose();
        lock (_meters)
        {
            foreach (Meter meter in _meters)
            {
                meter.Dispose();
            }
        }
    }
}
