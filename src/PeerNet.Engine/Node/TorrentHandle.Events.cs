using System.Net;
using PeerNet.Swarm;

namespace PeerNet;

/// <summary>What the torrent's loop reports, turned into the node's public events.</summary>
public sealed partial class TorrentHandle : ITorrentObserver
{
    void ITorrentObserver.PieceVerified(int piece)
    {
        if (_node.HasWatchers)
        {
            _node.Publish(new PieceVerified(this, piece));
        }
    }

    void ITorrentObserver.HashFailed(int piece, int senders) => _node.Publish(new HashFailed(this, piece, senders));

    void ITorrentObserver.Completed()
    {
        Volatile.Read(ref _completed).TrySetResult();
        _node.Publish(new TorrentCompleted(this));
        if (!Options.SeedWhenDone && !Options.ReadOnly)
        {
            // Off the loop: pausing waits for the loop to end.
            _ = Task.Run(async () =>
            {
                try
                {
                    await PauseAsync().ConfigureAwait(false);
                }
                catch (ObjectDisposedException)
                {
                    // Removed meanwhile.
                }
            });
        }
    }

    void ITorrentObserver.PeerConnected(IPEndPoint peer, bool outgoing) => _node.Publish(new PeerConnected(this, peer, outgoing));

    void ITorrentObserver.PeerDisconnected(IPEndPoint peer, string reason) => _node.Publish(new PeerDisconnected(this, peer, reason));

    void ITorrentObserver.PeerBanned(IPEndPoint peer, string reason) => _node.Publish(new PeerBanned(this, peer, reason));

    void ITorrentObserver.Failed(string error, string? path)
    {
        _error = error;
        Volatile.Read(ref _completed).TrySetException(new IOException(error));
        _node.Publish(path is not null ? new StorageError(this, path, error) : new TorrentStateChanged(this, TorrentState.Error));
    }

    void ITorrentObserver.TrackerFailed(string url, string error) => _node.Publish(new TrackerFailed(this, url, error));
}
