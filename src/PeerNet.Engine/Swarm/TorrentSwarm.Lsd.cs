namespace PeerNet.Swarm;

/// <summary>
/// Local Service Discovery (BEP 14) for a torrent: when the session runs LSD, the torrent's info-hashes are announced
/// on the local network and the peers other nodes announce for them join the candidates. Never for private torrents
/// (BEP 27: their peers come from their trackers only).
/// </summary>
internal sealed partial class TorrentSwarm
{
    private IDisposable? _lsd;
    private int _lsdPeersFound;

    /// <summary>Peers local service discovery has handed this torrent so far (for status and tests).</summary>
    public int LsdPeersFound => Volatile.Read(ref _lsdPeersFound);

    private void StartLocalDiscovery()
    {
        if (_session.LocalDiscovery is { } lsd && Options.UseLocalDiscovery && !Metainfo.IsPrivate && _session.ListenPort != 0)
        {
            _lsd = lsd.Register(Metainfo.InfoHashes.SwarmHashes, peer =>
            {
                Interlocked.Increment(ref _lsdPeersFound);
                AddPeerEndpoint(peer);
            });
        }
    }

    private void StopLocalDiscovery() => _lsd?.Dispose();
}
