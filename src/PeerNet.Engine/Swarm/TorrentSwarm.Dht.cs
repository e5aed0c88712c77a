using PeerNet.Discovery.Dht;
using PeerNet.Threading;

namespace PeerNet.Swarm;

/// <summary>
/// Mainline DHT (BEP 5) for a torrent: when the session has a DHT node, the torrent announces itself and takes
/// the peers the lookup finds, at start and then every <see cref="DhtAnnounceInterval"/>, under each of its swarm
/// hashes (a hybrid has two). Never for private torrents (BEP 27).
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
        if (_session.Options.Dht is { } dht && Options.UseDht && !Metainfo.IsPrivate && _session.ListenPort != 0)
        {
            _dhtLoop = Task.WhenAll(Metainfo.InfoHashes.SwarmHashes.Select(hash => BackgroundLoop.Start(() => AnnounceToDhtAsync(dht, hash, _stopping.Token))));
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
