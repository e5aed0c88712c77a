using PeerNet.Discovery.Dht;
using PeerNet.Threading;

namespace PeerNet.Swarm;

/// <summary>
/// Mainline DHT (BEP 5) for a torrent: when the session has a DHT node, the torrent announces itself and takes
/// the peers the lookup finds, at start and then every <see cref="DhtAnnounceInterval"/>, under each of its swarm
/// hashes (a hybrid has two), on each family's DHT the session has (BEP 32: IPv4 and IPv6). Never for private torrents (BEP 27).
/// </summary>
internal sealed partial class TorrentSwarm
{
    /// <summary>How often the torrent re-announces to the DHT (peers expire from DHT nodes after 30 minutes).</summary>
    public static readonly TimeSpan DhtAnnounceInterval = TimeSpan.FromMinutes(15);

    private Task _dhtLoop = Task.CompletedTask;

    /// <summary>Peers the DHT has returned so far (for status and tests).</summary>
    public int DhtPeersFound => Volatile.Read(ref _dhtPeersFound);

    private int _dhtPeersFound;

    private void StartDht()
    {
        if (Options.UseDht && !Metainfo.IsPrivate && _session.ListenPort != 0)
        {
            // Each family's DHT (BEP 32) under each swarm hash.
            _dhtLoop = Task.WhenAll(
                from dht in _session.Options.DhtNodes
                from hash in Metainfo.InfoHashes.SwarmHashes
                select BackgroundLoop.Start(() => AnnounceToDhtAsync(dht, hash, _stopping.Token)));
        }
    }

    private Task AnnounceToDhtAsync(DhtNode dht, Sha1Hash hash, CancellationToken cancellationToken) => DhtPeerSearch.RunAsync(
        async token => (await dht.AnnounceAsync(hash, _session.ListenPort, token).ConfigureAwait(false)).Peers,
        peer =>
        {
            Interlocked.Increment(ref _dhtPeersFound);
            AddPeerFoundUnder(peer, hash);
        },
        DhtAnnounceInterval,
        Time,
        cancellationToken);
}
