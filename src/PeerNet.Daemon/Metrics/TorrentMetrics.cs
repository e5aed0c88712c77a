using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using PeerNet.Daemon.Service;
using PeerNet.Discovery.Dht;

namespace PeerNet.Daemon.Metrics;

/// <summary>
/// The daemon's own instruments, on the meter <see cref="MeterName"/>, read from the node's public status when a scrape
/// asks (observable instruments: nothing is counted between scrapes). Node-wide: torrents by state, rates, connections,
/// the DHT's table and queries. Per torrent (label <c>info_hash</c>, the API's id): bytes down and up, size, progress,
/// peers, rates, hash failures and an info series naming it, for at most <see cref="MetricsSettings.PerTorrentLimit"/>
/// torrents, the most active first (then by info-hash, so an idle daemon's set is stable); the rest are counted in
/// <c>peernet_torrents_unlisted</c>. A removed torrent's series stop at the next scrape.
/// </summary>
internal sealed class TorrentMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "PeerNet.Daemon";

    /// <summary>What the names of the per-torrent instruments (a series per listed torrent) start with.</summary>
    public const string PerTorrentPrefix = "peernet.torrent.";

    /// <summary>How long one look at the node serves the instruments of one scrape (each instrument's callback asks in turn).</summary>
    private static readonly TimeSpan SnapshotLifetime = TimeSpan.FromMilliseconds(250);

    private static readonly TorrentState[] States = Enum.GetValues<TorrentState>();

    private readonly NodeService _node;
    private readonly int _limit;
    private readonly Meter _meter;
    private readonly Lock _gate = new();
    private Snapshot _snapshot = Snapshot.Empty;
    private long _taken;

    public TorrentMetrics(NodeService node, IOptions<MetricsSettings> settings, IMeterFactory meterFactory)
    {
        _node = node;
        _limit = settings.Value.PerTorrentLimit;
        _meter = meterFactory.Create(new MeterOptions(MeterName));

        _meter.CreateObservableGauge("peernet.torrents", ByState, "{torrent}", "Torrents of the node, by state.");
        _meter.CreateObservableGauge("peernet.torrents.unlisted", () => Take().Unlisted, "{torrent}", "Torrents without series of their own (over Metrics:PerTorrentLimit).");
        _meter.CreateObservableGauge("peernet.node.connections", () => Node(s => s.Connections), "{connection}", "Peer connections of every torrent.");
        _meter.CreateObservableGauge("peernet.node.download_rate", () => Node(s => s.DownloadRate), "By/s", "Payload bytes received per second, over every torrent.");
        _meter.CreateObservableGauge("peernet.node.upload_rate", () => Node(s => s.UploadRate), "By/s", "Payload bytes sent per second, over every torrent.");
        _meter.CreateObservableGauge("peernet.dht.nodes", DhtNodes, "{node}", "Nodes in each DHT routing table, by address family (ipv4, ipv6) and health (good, questionable, bad).");
        _meter.CreateObservableCounter("peernet.dht.queries.received", () => Dht(d => d.QueriesReceived), "{query}", "DHT queries received, by address family.");
        _meter.CreateObservableCounter("peernet.dht.queries.sent", () => Dht(d => d.QueriesSent), "{query}", "DHT queries sent, by address family.");
        _meter.CreateObservableCounter("peernet.dht.queries.dropped", () => Dht(d => d.QueriesDropped), "{query}", "DHT queries dropped (over a rate limit, or malformed), by address family.");

        _meter.CreateObservableGauge("peernet.torrent.info", () => PerTorrent(Info), "1", "1 for each listed torrent, naming it and its state.");
        _meter.CreateObservableCounter("peernet.torrent.downloaded", () => PerTorrent(s => s.Downloaded), "By", "Payload bytes this torrent received since it was added or the daemon started.");
        _meter.CreateObservableCounter("peernet.torrent.uploaded", () => PerTorrent(s => s.Uploaded), "By", "Payload bytes this torrent sent since it was added or the daemon started.");
        _meter.CreateObservableCounter("peernet.torrent.hash_failures", () => PerTorrent(s => (long)s.HashFailures), "{piece}", "Pieces of this torrent that failed their hash check.");
        _meter.CreateObservableGauge("peernet.torrent.size", () => PerTorrent(s => s.TotalSize), "By", "The torrent's size (0 until a magnet's metadata arrives).");
        _meter.CreateObservableGauge("peernet.torrent.progress_ratio", () => PerTorrent(s => s.Progress), "1", "The part of the wanted data verified, from 0 to 1.");
        _meter.CreateObservableGauge("peernet.torrent.peers", () => PerTorrent(s => (long)s.Peers), "{peer}", "The torrent's connected peers.");
        _meter.CreateObservableGauge("peernet.torrent.seeds", () => PerTorrent(s => (long)s.Seeds), "{peer}", "The torrent's connected peers that have every piece.");
        _meter.CreateObservableGauge("peernet.torrent.download_rate", () => PerTorrent(s => s.DownloadRate), "By/s", "Payload bytes this torrent receives per second.");
        _meter.CreateObservableGauge("peernet.torrent.upload_rate", () => PerTorrent(s => s.UploadRate), "By/s", "Payload bytes this torrent sends per second.");
    }

    /// <summary>A state's label value: <c>seeding</c>, <c>fetching_metadata</c>.</summary>
    public static string StateLabel(TorrentState state) => state switch
    {
        TorrentState.FetchingMetadata => "fetching_metadata",
        _ => state.ToString().ToLowerInvariant(),
    };

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ByState()
    {
        Snapshot s = Take();
        return States.Select(state => new Measurement<long>(s.ByState.GetValueOrDefault(state), new KeyValuePair<string, object?>("state", StateLabel(state))));
    }

    private IEnumerable<Measurement<T>> Node<T>(Func<NodeStatus, T> value)
        where T : struct =>
        Take().Node is { } node ? [new Measurement<T>(value(node))] : [];

    /// <summary>One measurement per DHT the node runs, tagged with its address family (<c>ipv4</c>, <c>ipv6</c>).</summary>
    private IEnumerable<Measurement<long>> Dht(Func<DhtStats, long> value) =>
        Take().Dhts.Select(d => new Measurement<long>(value(d.Stats), new KeyValuePair<string, object?>("family", d.Family)));

    private IEnumerable<Measurement<long>> DhtNodes() =>
        Take().Dhts.SelectMany(d => new[]
        {
            new Measurement<long>(d.Stats.GoodNodes, new("family", d.Family), new("health", "good")),
            new Measurement<long>(d.Stats.QuestionableNodes, new("family", d.Family), new("health", "questionable")),
            new Measurement<long>(d.Stats.BadNodes, new("family", d.Family), new("health", "bad")),
        });

    private static Measurement<long> Info(Listed torrent) => new(1,
        new KeyValuePair<string, object?>("info_hash", torrent.Id),
        new KeyValuePair<string, object?>("name", DisplayText.Sanitize(torrent.Status.Name, 200)),
        new KeyValuePair<string, object?>("state", StateLabel(torrent.Status.State)));

    private IEnumerable<Measurement<T>> PerTorrent<T>(Func<TorrentStatus, T> value)
        where T : struct =>
        PerTorrent(t => new Measurement<T>(value(t.Status), new KeyValuePair<string, object?>("info_hash", t.Id)));

    private IEnumerable<Measurement<T>> PerTorrent<T>(Func<Listed, Measurement<T>> measure)
        where T : struct =>
        Take().Listed.Select(measure);

    /// <summary>The node as one scrape sees it: taken once, shared by every instrument's callback of that scrape.</summary>
    private Snapshot Take()
    {
        lock (_gate)
        {
            if (_taken != 0 && Stopwatch.GetElapsedTime(_taken) < SnapshotLifetime)
            {
                return _snapshot;
            }

            _snapshot = Look();
            _taken = Stopwatch.GetTimestamp();
            return _snapshot;
        }
    }

    private Snapshot Look()
    {
        PeerNetNode node;
        try
        {
            node = _node.Node;
        }
        catch (InvalidOperationException)
        {
            return Snapshot.Empty; // not started yet
        }

        try
        {
            var torrents = new List<Listed>();
            var byState = new Dictionary<TorrentState, long>();
            foreach (TorrentHandle torrent in node.Torrents)
            {
                TorrentStatus status;
                try
                {
                    status = torrent.GetStatus();
                }
                catch (ObjectDisposedException)
                {
                    continue; // removed meanwhile
                }

                byState[status.State] = byState.GetValueOrDefault(status.State) + 1;
                torrents.Add(new Listed(NodeService.IdOf(torrent), status));
            }

            Listed[] listed = [.. torrents
                .OrderByDescending(t => t.Status.DownloadRate + t.Status.UploadRate)
                .ThenBy(t => t.Id, StringComparer.Ordinal)
                .Take(_limit)];
            (string, DhtStats)[] dhts = [.. new[] { node.Dht, node.Dht6 }.OfType<DhtNode>().Select(d => (NodeService.FamilyOf(d), d.GetStats()))];
            return new Snapshot(node.GetStatus(), dhts, byState, listed, torrents.Count - listed.Length);
        }
        catch (ObjectDisposedException)
        {
            return Snapshot.Empty; // stopping
        }
    }

    private sealed record Listed(string Id, TorrentStatus Status);

    private sealed record Snapshot(NodeStatus? Node, IReadOnlyList<(string Family, DhtStats Stats)> Dhts, IReadOnlyDictionary<TorrentState, long> ByState, IReadOnlyList<Listed> Listed, long Unlisted)
    {
        public static readonly Snapshot Empty = new(null, [], new Dictionary<TorrentState, long>(), [], 0);
    }
}
