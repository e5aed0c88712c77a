using System.Net;

namespace PeerNet.Swarm;

/// <summary>
/// The addresses one torrent knows peers at (from the user, trackers, the DHT, PEX, LSD and the listen ports incoming
/// peers announce), and when each may be dialled: a new address at once; after a failed dial, after
/// <see cref="TorrentOptions.RedialDelay"/> doubled with each failure in a row (at most <see cref="MaxBackoff"/>); after
/// a connection that ended, after <see cref="TorrentOptions.ReconnectDelay"/>. A peer that was a seed is not redialled
/// while we seed too. Without this a peer lost once (a reset, both ends closing a different one of two connections, a
/// restart) was lost for good, however often LSD, PEX or the DHT named it again.
/// <para>Addresses on ports below 1024 are dialled only when no other address is due: BitTorrent clients do not listen
/// there, so such an address is more likely a planted one aimed at some other service (libtorrent ranks them last too).</para>
/// <para>Bounded: at most <c>capacity</c> addresses; when full, a new address replaces the idle one that failed most
/// (one that never failed is never replaced). Single-threaded: the torrent's loop.</para>
/// </summary>
internal sealed class PeerList
{
    /// <summary>The longest wait before redialling an address that keeps failing.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(30);

    private readonly Dictionary<IPEndPoint, Entry> _entries = [];
    private readonly Queue<IPEndPoint> _due = new();
    private readonly Queue<IPEndPoint> _dueLowPort = new(); // taken only when _due is empty
    private readonly int _capacity;
    private readonly TimeProvider _time;
    private readonly TimeSpan _redialDelay;
    private readonly TimeSpan _reconnectDelay;

    public PeerList(int capacity, TimeProvider time, TimeSpan redialDelay, TimeSpan reconnectDelay)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
        _time = time;
        _redialDelay = redialDelay;
        _reconnectDelay = reconnectDelay;
    }

    /// <summary>Addresses known.</summary>
    public int Count => _entries.Count;

    /// <summary>Whether <paramref name="endpoint"/> is known.</summary>
    public bool Contains(IPEndPoint endpoint) => _entries.ContainsKey(endpoint);

    /// <summary>A source named a peer: a new address is due at once. False if it was known already or the list is full of addresses that never failed.</summary>
    public bool Add(IPEndPoint endpoint)
    {
        if (_entries.ContainsKey(endpoint) || !MakeRoom())
        {
            return false;
        }

        _entries[endpoint] = new Entry { Queued = true };
        QueueDue(endpoint);
        return true;
    }

    /// <summary>
    /// The next address due for a dial, or false. It counts as in use from here: the caller dials it (and reports
    /// <see cref="DialFailed"/> or <see cref="Connected"/>), or says it is <see cref="Connected"/> already, or
    /// <see cref="Remove"/>s it.
    /// </summary>
    public bool TryTakeDue(out IPEndPoint endpoint)
    {
        while (_due.TryDequeue(out IPEndPoint? next) || _dueLowPort.TryDequeue(out next))
        {
            if (_entries.TryGetValue(next, out Entry? entry) && entry.Queued)
            {
                entry.Queued = false;
                if (!entry.InUse)
                {
                    entry.InUse = true;
                    endpoint = next;
                    return true;
                }
            }
        }

        endpoint = null!;
        return false;
    }

    /// <summary>Forgets an address (a banned peer's).</summary>
    public void Remove(IPEndPoint endpoint) => _entries.Remove(endpoint);

    /// <summary>A dial failed (refused, timed out, wrong handshake): the address waits longer with each failure in a row.</summary>
    public void DialFailed(IPEndPoint endpoint)
    {
        if (_entries.TryGetValue(endpoint, out Entry? entry))
        {
            entry.InUse = false;
            entry.Failures++;
            double delay = Math.Min(_redialDelay.TotalSeconds * Math.Pow(2, Math.Min(entry.Failures - 1, 30)), MaxBackoff.TotalSeconds);
            entry.RetryAt = _time.GetTimestamp() + Ticks(TimeSpan.FromSeconds(delay));
        }
    }

    /// <summary>
    /// We are connected to the peer listening at <paramref name="endpoint"/> (we dialled it, or it dialled us and named
    /// its listen port): it is not dialled while that lasts. An incoming peer's address is learnt here if there is room.
    /// </summary>
    public void Connected(IPEndPoint endpoint)
    {
        if (!_entries.TryGetValue(endpoint, out Entry? entry))
        {
            if (!MakeRoom())
            {
                return;
            }

            entry = new Entry();
            _entries[endpoint] = entry;
        }

        entry.InUse = true;
        entry.Failures = 0;
    }

    /// <summary>The connection to the peer at <paramref name="endpoint"/> ended: it may be dialled again after the reconnect delay.</summary>
    /// <param name="endpoint">Where the peer listens.</param>
    /// <param name="wasSeed">It had every piece: not redialled while we seed.</param>
    public void Disconnected(IPEndPoint endpoint, bool wasSeed)
    {
        if (_entries.TryGetValue(endpoint, out Entry? entry))
        {
            entry.InUse = false;
            entry.Seed = wasSeed;
            entry.RetryAt = _time.GetTimestamp() + Ticks(_reconnectDelay);
        }
    }

    /// <summary>Queues every idle address whose wait is over (seeds left out while <paramref name="seeding"/>); returns how many.</summary>
    public int QueueRetries(bool seeding)
    {
        long now = _time.GetTimestamp();
        int queued = 0;
        foreach ((IPEndPoint endpoint, Entry entry) in _entries)
        {
            if (!entry.InUse && !entry.Queued && entry.RetryAt <= now && !(seeding && entry.Seed))
            {
                entry.Queued = true;
                QueueDue(endpoint);
                queued++;
            }
        }

        return queued;
    }

    /// <summary>Ports below this are privileged: dialled last.</summary>
    public const int LowPort = 1024;

    private void QueueDue(IPEndPoint endpoint) => (endpoint.Port < LowPort ? _dueLowPort : _due).Enqueue(endpoint);

    private bool MakeRoom()
    {
        if (_entries.Count < _capacity)
        {
            return true;
        }

        IPEndPoint? worst = null;
        int failures = 0;
        foreach ((IPEndPoint endpoint, Entry entry) in _entries)
        {
            if (!entry.InUse && entry.Failures > failures)
            {
                worst = endpoint;
                failures = entry.Failures;
            }
        }

        return worst is not null && _entries.Remove(worst);
    }

    private long Ticks(TimeSpan delay) => (long)(delay.TotalSeconds * _time.TimestampFrequency);

    private sealed class Entry
    {
        public bool InUse;
        public bool Queued;
        public bool Seed;
        public int Failures;
        public long RetryAt;
    }
}
