using System.Collections.Concurrent;
using System.Net;

namespace PeerNet.Swarm;

/// <summary>
/// Which info-hash our handshake carries to each peer of a torrent: the wire hash, except for a peer trackers or the
/// DHT named only under a hybrid's truncated v2 hash (a v2-only client knows no other and refuses the v1 one).
/// Safe from any thread; at most <c>capacity</c> such peers are remembered (the rest are greeted with the wire hash).
/// </summary>
internal sealed class HandshakeHashes(InfoHashes hashes, int capacity)
{
    private readonly ConcurrentDictionary<IPEndPoint, byte> _v2Peers = new(concurrencyLevel: 1, capacity: 4); // small: one per torrent, rarely written, and a node may host thousands of torrents

    /// <summary>Notes that <paramref name="peer"/> was found under <paramref name="hash"/>, one of the torrent's swarm hashes.</summary>
    public void FoundUnder(IPEndPoint peer, Sha1Hash hash)
    {
        if (hash != hashes.WireHash && _v2Peers.Count < capacity)
        {
            _v2Peers.TryAdd(peer, 0);
        }
    }

    /// <summary>The hash to greet <paramref name="peer"/> with.</summary>
    public Sha1Hash For(IPEndPoint peer)
        => hashes.V2 is { } v2 && _v2Peers.ContainsKey(peer) ? v2.Truncate() : hashes.WireHash;
}
