using PeerNet.Metainfo;

namespace PeerNet.Swarm;

/// <summary>
/// BEP 52 hashes fetched from peers (<see cref="LayerFetcher"/>): the swarm's side, which names the peers to ask
/// (<see cref="IHashSources"/>) and acts on what a reply came to: a lie bans its sender, an installed layer may make
/// peers interesting again, proved block hashes ban exactly the senders of the bad blocks.
/// </summary>
internal sealed partial class TorrentSwarm : IHashSources
{
    private readonly LayerFetcher _layers;
    private readonly List<LayerFetcher.BadBlock> _badBlocks = []; // scratch for OnHashesReceived

    /// <summary>Files whose piece layers are still being fetched.</summary>
    public int MissingLayers => _layers.MissingCount;

    /// <summary>Peers banned because a proved block hash showed exactly which block they corrupted.</summary>
    public int BannedByBlockHashes { get; private set; }

    /// <summary>
    /// A <c>hashes</c> reply to a request we sent this peer (the reader matched it to the request exactly and checked
    /// its size). A reply whose proof does not reach the node we trust is a lie, and its sender is banned.
    /// </summary>
    private void OnHashesReceived(PeerConnection peer, HashReply reply)
    {
        switch (_layers.OnHashes(reply, _badBlocks, out TorrentFile? installed))
        {
            case HashesOutcome.BadLayerHashes:
                BanForHashes(peer, "piece-layer");
                break;
            case HashesOutcome.BadBlockHashes:
                BanForHashes(peer, "block");
                break;
            case HashesOutcome.LayerInstalled:
                OnLayerInstalled(installed!);
                break;
            case HashesOutcome.BlocksProved:
                foreach (LayerFetcher.BadBlock bad in _badBlocks)
                {
                    if (_peerSet.TryGet(bad.Peer, out PeerConnection? culprit))
                    {
                        BannedByBlockHashes++;
                        Ban(culprit, $"sent block {bad.Block} of piece {bad.Piece}, which failed its BEP 52 block hash");
                    }
                }

                _badBlocks.Clear();
                break;
        }
    }

    /// <summary>BEP 52 hashes are proved, never trusted: a peer whose hashes are not in the file's tree is banned.</summary>
    private void BanForHashes(PeerConnection peer, string what)
    {
        Ban(peer, $"sent {what} hashes that do not prove to the torrent's trusted hashes");
    }

    /// <summary>A file's layer is part of the torrent now: in a v2-only torrent its pieces are wanted again.</summary>
    private void OnLayerInstalled(TorrentFile file)
    {
        SwarmLog.LayerInstalled(Log, _logName, DisplayText.Sanitize(file.Path), file.LastPiece - file.FirstPiece + 1);
        if (Metainfo.Version == TorrentVersion.V2)
        {
            foreach (PeerConnection peer in _peerSet.Connected)
            {
                UpdateInterest(peer);
            }
        }
    }

    /// <summary>A peer that has announced pieces of <paramref name="file"/> and speaks v2, preferring one not tried last.</summary>
    int IHashSources.PickSource(TorrentFile file, int previous)
    {
        int fallback = -1;
        foreach (PeerConnection peer in _peerSet.Connected)
        {
            bool speaksV2 = Metainfo.Version == TorrentVersion.V2 || peer.RemoteHandshake.SupportsV2;
            bool hasFile = peer.IsSeed || (peer.Pieces is { } pieces && pieces.FirstSet(file.FirstPiece) is int first && first >= 0 && first <= file.LastPiece);
            if (!speaksV2 || !hasFile)
            {
                continue;
            }

            if (peer.Id != previous)
            {
                return peer.Id;
            }

            fallback = peer.Id;
        }

        return fallback;
    }

    bool IHashSources.IsConnected(int peer) => _peerSet.Contains(peer);

    bool IHashSources.TrySend(int peer, in PeerWire.HashRequest request)
        => _peerSet.TryGet(peer, out PeerConnection? connection) && SendHashRequest(connection, request);
}
