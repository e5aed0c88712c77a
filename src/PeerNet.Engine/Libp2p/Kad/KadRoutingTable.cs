using System.Security.Cryptography;

namespace PeerNet.Libp2p;

/// <summary>Kademlia's key space for libp2p: a key's position is its SHA-256, distances are XOR of positions.</summary>
internal static class KadDistance
{
    /// <summary>The position of <paramref name="key"/> (a peer ID's multihash, a content multihash, a record key).</summary>
    public static byte[] Position(ReadOnlySpan<byte> key) => SHA256.HashData(key);

    /// <summary>The position of <paramref name="peer"/>.</summary>
    public static byte[] Position(Libp2pPeerId peer) => SHA256.HashData(peer.Multihash.Span);

    /// <summary>Compares the distances of <paramref name="a"/> and <paramref name="b"/> to <paramref name="target"/>.</summary>
    public static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> target)
    {
        for (int i = 0; i < target.Length; i++)
        {
            int da = a[i] ^ target[i];
            int db = b[i] ^ target[i];
            if (da != db)
            {
                return da < db ? -1 : 1;
            }
        }

        return 0;
    }

    /// <summary>How many leading bits <paramref name="a"/> and <paramref name="b"/> share (256 when equal).</summary>
    public static int CommonPrefixLength(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        for (int i = 0; i < a.Length; i++)
        {
            int x = a[i] ^ b[i];
            if (x != 0)
            {
                return (i * 8) + System.Numerics.BitOperations.LeadingZeroCount((uint)x) - 24;
            }
        }

        return a.Length * 8;
    }
}

/// <summary>A peer of the Kademlia routing table or of a lookup: its ID, position and the addresses known for it.</summary>
/// <param name="Id">The peer.</param>
/// <param name="Position">SHA-256 of its multihash.</param>
/// <param name="Addresses">Its addresses (without <c>/p2p</c>).</param>
internal sealed record KadContact(Libp2pPeerId Id, byte[] Position, IReadOnlyList<Multiaddr> Addresses)
{
    /// <summary>A contact for <paramref name="id"/>.</summary>
    public static KadContact Of(Libp2pPeerId id, IReadOnlyList<Multiaddr> addresses) => new(id, KadDistance.Position(id), addresses);
}

/// <summary>
/// The k-bucket routing table of the libp2p DHT: a bucket of at most k peers for each length of the prefix a peer's
/// position shares with this node's (0 to 255, so every bucket a fully split table would have). A full bucket takes a
/// newcomer only in place of its least recently seen peer that has no connection now; otherwise the newcomer is
/// dropped (Kademlia's preference for long-lived peers). Thread-safe.
/// </summary>
internal sealed class KadRoutingTable
{
    private readonly byte[] _self;
    private readonly int _bucketSize;
    private readonly List<Entry>[] _buckets = new List<Entry>[256];
    private readonly Dictionary<Libp2pPeerId, Entry> _byPeer = [];
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    /// <summary>A table around <paramref name="self"/> with buckets of <paramref name="bucketSize"/> peers.</summary>
    public KadRoutingTable(Libp2pPeerId self, int bucketSize, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketSize, 1);
        Self = self;
        _self = KadDistance.Position(self);
        _bucketSize = bucketSize;
        _time = time ?? TimeProvider.System;
        for (int i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = [];
        }
    }

    /// <summary>This node.</summary>
    public Libp2pPeerId Self { get; }

    /// <summary>Peers in the table.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byPeer.Count;
            }
        }
    }

    /// <summary>The peers in the table, closest buckets last.</summary>
    public IReadOnlyList<Libp2pPeerId> Peers
    {
        get
        {
            lock (_gate)
            {
                return [.. _buckets.SelectMany(b => b).Select(e => e.Contact.Id)];
            }
        }
    }

    /// <summary>
    /// Adds <paramref name="peer"/> (or refreshes it, with new addresses when given); a full bucket evicts its least
    /// recently seen peer for which <paramref name="isConnected"/> says false, or refuses. True when the peer is in the table.
    /// </summary>
    public bool TryAdd(Libp2pPeerId peer, IReadOnlyList<Multiaddr> addresses, Func<Libp2pPeerId, bool> isConnected)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(addresses);
        ArgumentNullException.ThrowIfNull(isConnected);
        if (peer.Equals(Self))
        {
            return false;
        }

        DateTimeOffset now = _time.GetUtcNow();
        lock (_gate)
        {
            if (_byPeer.TryGetValue(peer, out Entry? known))
            {
                known.LastSeen = now;
                if (addresses.Count > 0)
                {
                    known.Contact = known.Contact with { Addresses = addresses };
                }

                return true;
            }

            if (addresses.Count == 0)
            {
                return false; // nobody could be told how to reach it
            }

            var contact = KadContact.Of(peer, addresses);
            List<Entry> bucket = _buckets[Math.Min(KadDistance.CommonPrefixLength(_self, contact.Position), 255)];
            if (bucket.Count >= _bucketSize)
            {
                Entry? stale = bucket.Where(e => !isConnected(e.Contact.Id)).MinBy(e => e.LastSeen);
                if (stale is null)
                {
                    return false;
                }

                bucket.Remove(stale);
                _byPeer.Remove(stale.Contact.Id);
            }

            var entry = new Entry(contact) { LastSeen = now };
            bucket.Add(entry);
            _byPeer[peer] = entry;
            return true;
        }
    }

    /// <summary>Removes <paramref name="peer"/>; false when it was not there.</summary>
    public bool Remove(Libp2pPeerId peer)
    {
        lock (_gate)
        {
            if (!_byPeer.Remove(peer, out Entry? entry))
            {
                return false;
            }

            _buckets[Math.Min(KadDistance.CommonPrefixLength(_self, entry.Contact.Position), 255)].Remove(entry);
            return true;
        }
    }

    /// <summary>The table's contact for <paramref name="peer"/>, if it is there.</summary>
    public KadContact? Find(Libp2pPeerId peer)
    {
        lock (_gate)
        {
            return _byPeer.TryGetValue(peer, out Entry? entry) ? entry.Contact : null;
        }
    }

    /// <summary>The <paramref name="count"/> peers closest to <paramref name="target"/> (a position), nearest first, without <paramref name="exclude"/>.</summary>
    public IReadOnlyList<KadContact> Closest(byte[] target, int count, Libp2pPeerId? exclude = null)
    {
        lock (_gate)
        {
            var all = new List<KadContact>(_byPeer.Count);
            foreach (Entry entry in _byPeer.Values)
            {
                if (!entry.Contact.Id.Equals(exclude))
                {
                    all.Add(entry.Contact);
                }
            }

            all.Sort((a, b) => KadDistance.Compare(a.Position, b.Position, target));
            return all.Count > count ? all[..count] : all;
        }
    }

    private sealed class Entry(KadContact contact)
    {
        public KadContact Contact { get; set; } = contact;

        public DateTimeOffset LastSeen { get; set; }
    }
}
