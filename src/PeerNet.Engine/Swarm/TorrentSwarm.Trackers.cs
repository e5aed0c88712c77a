using System.Net;
using PeerNet.Discovery.Trackers;
using PeerNet.Tracker;

namespace PeerNet.Swarm;

internal sealed partial class TorrentSwarm
{
    private TrackerAnnouncer? _trackers;
    private int _trackerPort;

    /// <summary>The torrent's tracker announcer, when it has usable trackers and they are enabled (for tests).</summary>
    internal TrackerAnnouncer? Trackers => _trackers;

    /// <summary>
    /// Starts announcing to the torrent's trackers (the metainfo's <c>announce-list</c> tiers, or its <c>announce</c>)
    /// when <see cref="TorrentOptions.UseTrackers"/> is on and the session listens: peers they return join the
    /// candidates, <c>completed</c> goes out when the download finishes.
    /// </summary>
    private void StartTrackers()
    {
        _trackerPort = _session.ListenPort;
        if (!Options.UseTrackers || Metainfo.Trackers.Count == 0 || _trackerPort == 0)
        {
            return;
        }

        bool completeAtStart = Completed.IsCompleted;
        _trackers = _session.Trackers.StartAnnouncer(Metainfo.Trackers, new Random(Options.RandomSeed ?? Random.Shared.Next()), MakeAnnounce, OnTrackerPeers);
        if (_trackers is not null && !completeAtStart)
        {
            _ = Completed.ContinueWith(static (task, state) =>
            {
                if (task.IsCompletedSuccessfully)
                {
                    ((TrackerAnnouncer)state!).OnCompleted();
                }
            }, _trackers, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Announces <c>stopped</c> (bounded by the tracker options' stop timeout) and releases the trackers.</summary>
    private async Task StopTrackersAsync()
    {
        if (_trackers is { } trackers)
        {
            await trackers.DisposeAsync().ConfigureAwait(false);
        }
    }

    private AnnounceRequest MakeAnnounce(TrackerEvent trackerEvent)
    {
        TorrentStatus status = GetStatus();

        // What is left, as trackers use it: 0 exactly when complete (a seeder), otherwise at least 1 (pad bytes of a
        // hybrid torrent count in verified pieces but not in its total size).
        long left = _have.IsComplete ? 0 : Math.Max(1, status.TotalSize - ((long)status.PiecesVerified * Metainfo.PieceLength));
        return new AnnounceRequest
        {
            InfoHash = Metainfo.InfoHashes.WireHash,
            PeerId = _session.LocalPeerId,
            Port = _trackerPort,
            Uploaded = status.Uploaded,
            Downloaded = status.Downloaded,
            Left = left,
            Event = trackerEvent,
            NumWant = _session.Trackers.Options.NumWant,
            Key = _session.TrackerKey,
        };
    }

    /// <summary>Peers from a tracker become candidates; our own address (trackers list the announcer too) is left out.</summary>
    private void OnTrackerPeers(IReadOnlyList<IPEndPoint> peers)
    {
        foreach (IPEndPoint peer in peers)
        {
            if (peer.Port == _trackerPort && (IPAddress.IsLoopback(peer.Address) || peer.Address.Equals(_session.LocalEndPoint?.Address)))
            {
                continue;
            }

            AddPeerEndpoint(peer);
        }
    }
}
