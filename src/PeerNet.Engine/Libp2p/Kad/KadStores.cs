namespace PeerNet.Libp2p;

/// <summary>
/// The provider records this node holds for others: key → providers (their addresses), each expiring after
/// <see cref="Ttl"/> (48 h, as js-libp2p); at most <see cref="MaxKeys"/> keys and <see cref="MaxProvidersPerKey"/>
/// providers a key (a full key forgets its oldest; a full store refuses new keys until some expire). Thread-safe.
/// </summary>
internal sealed class KadProviderStore(int maxKeys, int maxProvidersPerKey, TimeSpan ttl, TimeProvider? time = null)
{
    private readonly Dictionary<string, Dictionary<Libp2pPeerId, Provider>> _byKey = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private DateTimeOffset _nextSweep;

    /// <summary>Most keys held.</summary>
    public int MaxKeys { get; } = maxKeys;

    /// <summary>Most providers held for one key.</summary>
    public int MaxProvidersPerKey { get; } = maxProvidersPerKey;

    /// <summary>How long a provider record lives.</summary>
    public TimeSpan Ttl { get; } = ttl;

    /// <summary>Keys held now (expired ones may linger until the next sweep).</summary>
    public int KeyCount
    {
        get
        {
            lock (_gate)
            {
                return _byKey.Count;
            }
        }
    }

    /// <summary>Records (or renews) <paramref name="provider"/> for <paramref name="key"/>; false when the store is full.</summary>
    public bool Add(ReadOnlySpan<byte> key, Libp2pPeerId provider, IReadOnlyList<Multiaddr> addresses)
    {
        string k = Convert.ToHexString(key);
        DateTimeOffset now = _time.GetUtcNow();
        lock (_gate)
        {
            Sweep(now);
            if (!_byKey.TryGetValue(k, out Dictionary<Libp2pPeerId, Provider>? providers))
            {
                if (_byKey.Count >= MaxKeys)
                {
                    return false;
                }

                _byKey[k] = providers = [];
            }

            if (!providers.ContainsKey(provider) && providers.Count >= MaxProvidersPerKey)
            {
                providers.Remove(providers.MinBy(p => p.Value.Expires).Key);
            }

            providers[provider] = new Provider(addresses, now + Ttl);
            return true;
        }
    }

    /// <summary>The unexpired providers of <paramref name="key"/>, newest first.</summary>
    public IReadOnlyList<KadPeer> Get(ReadOnlySpan<byte> key)
    {
        string k = Convert.ToHexString(key);
        DateTimeOffset now = _time.GetUtcNow();
        lock (_gate)
        {
            if (!_byKey.TryGetValue(k, out Dictionary<Libp2pPeerId, Provider>? providers))
            {
                return [];
            }

            return [.. providers.Where(p => p.Value.Expires > now).OrderByDescending(p => p.Value.Expires).Select(p => new KadPeer(p.Key, p.Value.Addresses))];
        }
    }

    /// <summary>Drops expired records, at most once a minute (or when the store is full).</summary>
    private void Sweep(DateTimeOffset now)
    {
        if (now < _nextSweep && _byKey.Count < MaxKeys)
        {
            return;
        }

        _nextSweep = now + TimeSpan.FromMinutes(1);
        foreach ((string key, Dictionary<Libp2pPeerId, Provider> providers) in _byKey.ToList())
        {
            foreach (Libp2pPeerId gone in providers.Where(p => p.Value.Expires <= now).Select(p => p.Key).ToList())
            {
                providers.Remove(gone);
            }

            if (providers.Count == 0)
            {
                _byKey.Remove(key);
            }
        }
    }

    private sealed record Provider(IReadOnlyList<Multiaddr> Addresses, DateTimeOffset Expires);
}

/// <summary>
/// The records this node holds (PUT_VALUE, already validated): key → value, each kept for <see cref="Ttl"/> (48 h,
/// js-libp2p's record validity); at most <see cref="MaxRecords"/> (a full store forgets the oldest). Thread-safe.
/// </summary>
internal sealed class KadRecordStore(int maxRecords, TimeSpan ttl, TimeProvider? time = null)
{
    private readonly Dictionary<string, Stored> _records = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _gate = new();

    /// <summary>Most records held.</summary>
    public int MaxRecords { get; } = maxRecords;

    /// <summary>How long a record is kept.</summary>
    public TimeSpan Ttl { get; } = ttl;

    /// <summary>Records held now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _records.Count;
            }
        }
    }

    /// <summary>Stores <paramref name="key"/> → <paramref name="value"/>, stamped now; returns the record as served.</summary>
    public KadValue Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        DateTimeOffset now = _time.GetUtcNow();
        var record = new KadValue(key.ToArray(), value.ToArray(), now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'00Z'", System.Globalization.CultureInfo.InvariantCulture));
        lock (_gate)
        {
            string k = Convert.ToHexString(key);
            if (!_records.ContainsKey(k) && _records.Count >= MaxRecords)
            {
                _records.Remove(_records.MinBy(r => r.Value.Time).Key);
            }

            _records[k] = new Stored(record, now);
        }

        return record;
    }

    /// <summary>The record of <paramref name="key"/>, unless missing or older than <see cref="Ttl"/>.</summary>
    public KadValue? Get(ReadOnlySpan<byte> key)
    {
        string k = Convert.ToHexString(key);
        lock (_gate)
        {
            if (!_records.TryGetValue(k, out Stored? stored))
            {
                return null;
            }

            if (_time.GetUtcNow() - stored.Time > Ttl)
            {
                _records.Remove(k);
                return null;
            }

            return stored.Record;
        }
    }

    private sealed record Stored(KadValue Record, DateTimeOffset Time);
}
