using System.Collections.Concurrent;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// A meter factory of one node or session that counts one handshake counter of its own (<c>peernet.encryption.handshakes</c>,
/// <c>peernet.libp2p.handshakes</c>) by "direction:result", apart from every other node's in the process.
/// </summary>
internal sealed class HandshakeCounts : ListenedMeterFactory
{
    public HandshakeCounts(string instrument)
    {
        Listener.InstrumentPublished = (published, listener) =>
        {
            if (IsOurs(published.Meter) && published.Name == instrument)
            {
                listener.EnableMeasurementEvents(published);
            }
        };
        Listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string direction = "", result = "";
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                (direction, result) = tag.Key == "direction" ? ((string)tag.Value!, result) : (direction, (string)tag.Value!);
            }

            Counts.AddOrUpdate($"{direction}:{result}", value, (_, old) => old + value);
        });
        Listener.Start();
    }

    /// <summary>Counts so far, by "direction:result" (e.g. "in:ok").</summary>
    public ConcurrentDictionary<string, long> Counts { get; } = new();

    public long this[string key] => Counts.GetValueOrDefault(key);
}
