using System.Net;
using System.Net.Sockets;
using PeerNet.Discovery.Trackers;
using PeerNet.Tracker;

namespace PeerNet.Swarm;

internal sealed partial class TorrentSwarm
{
    private TrackerAnnouncer[] _trackerAnnouncers = [];
    private int _trackerPort;

    /// <summary>The torrent's tracker announcer, when it has usable trackers and they are enabled (for tests).</summary>
    internal TrackerAnnouncer? Trackers => _trackerAnnouncers.FirstOrDefault();

    /// <summary>
    /// Starts announcing to the torrent's trackers (the metainfo's <c>announce-list</c> tiers, or its <c>announce</c>)
    /// when <see cref="TorrentOptions.UseTrackers"/> is on and the session listens: peers they return join the
    /// candidates, <c>completed</c> goes out when the download finishes. A hybrid announces under each of its two
    /// swarm hashes, as libtorrent does, so v1-only and v2-only peers of the same content find it.
    /// </summary>
    private void StartTrackers()
    {
        _trackerPort = _session.ListenPort;
        if (!Options.UseTrackers || Metainfo.Trackers.Count == 0 || _trackerPort == 0)
        {
            return;
        }

        bool completeAtStart = Completed.IsCompleted;
        var random = new Random(Options.RandomSeed ?? Random.Shared.Next());
        _trackerAnnouncers = [.. Metainfo.InfoHashes.SwarmHashes
            .Select(hash => _session.Trackers.StartAnnouncer(Metainfo.Trackers, random, e => MakeAnnounce(e, hash), peers => OnTrackerPeers(peers, hash), (url, error) => Observer?.TrackerFailed(url, error)))
            .OfType<TrackerAnnouncer>()];
        if (!completeAtStart)
        {
            foreach (TrackerAnnouncer announcer in _trackerAnnouncers)
            {
                _ = Completed.ContinueWith(static (task, state) =>
                {
                    if (task.IsCompletedSuccessfully)
                    {
                        ((TrackerAnnouncer)state!).OnCompleted();
                    }
                }, announcer, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    /// <summary>The trackers' state for status: a hybrid's two announcers count each tracker once (see <see cref="TrackerSummary.Combine"/>).</summary>
    private TrackerSummary SummarizeTrackers()
    {
        TrackerAnnouncer[] announcers = _trackerAnnouncers;
        return announcers.Length switch
        {
            0 => default,
            1 => announcers[0].GetSummary(),
            _ => TrackerSummary.Combine([.. announcers.Select(a => (a.GetStates(), a.GetSummary().LastError))]),
        };
    }

    /// <summary>Every tracker of the torrent with its state (a hybrid's two announcers count each tracker once, working if either works).</summary>
    internal IReadOnlyList<TrackerStatus> GetTrackerStatuses()
    {
        TrackerAnnouncer[] announcers = _trackerAnnouncers;
        if (announcers.Length == 0)
        {
            return [.. Metainfo.Trackers.SelectMany((tier, index) => tier.Select(url => new TrackerStatus(url, index, TrackerState.NotContacted, null)))];
        }

        return [.. announcers.SelectMany(a => a.GetStatuses())
            .GroupBy(t => t.Url, StringComparer.Ordinal)
            .Select(g => g.OrderByDescending(t => t.State == TrackerState.Working ? 2 : t.State == TrackerState.Failing ? 1 : 0).First())];
    }

    /// <summary>Announces <c>stopped</c> (bounded by the tracker options' stop timeout) and releases the trackers.</summary>
    private async Task StopTrackersAsync()
    {
        await Task.WhenAll(_trackerAnnouncers.Select(a => a.DisposeAsync().AsTask())).ConfigureAwait(false);
    }

    private AnnounceRequest MakeAnnounce(TrackerEvent trackerEvent, Sha1Hash infoHash)
    {
        TorrentStatus status = GetStatus(); // (on the tracker's task: the published snapshot, never the loop's have-set)

        // What is left, as trackers use it: 0 exactly when complete (a seeder), otherwise at least 1 (pad bytes of a
        // hybrid torrent count in verified pieces but not in its total size).
        long left = status.PiecesVerified == status.PieceCount ? 0 : Math.Max(1, status.TotalSize - ((long)status.PiecesVerified * Metainfo.PieceLength));
        return new AnnounceRequest
        {
            InfoHash = infoHash,
            PeerId = _session.LocalPeerId,
            Port = _trackerPort,
            Uploaded = status.Uploaded,
            Downloaded = status.Downloaded,
            Left = left,
            Event = trackerEvent,
            NumWant = _session.Trackers.Options.NumWant,
            Key = _session.TrackerKey,
            ExternalIPv4 = _session.Connectivity.ExternalAddress(AddressFamily.InterNetwork),
            ExternalIPv6 = _session.Connectivity.ExternalAddress(AddressFamily.InterNetworkV6),
        };
    }

    /// <summary>Peers from a tracker become candidates; our own address (trackers list the announcer too) is left out.</summary>
    private void OnTrackerPeers(IReadOnlyList<IPEndPoint> peers, Sha1Hash foundUnder)
    {
        foreach (IPEndPoint peer in peers)
        {
            if (peer.Port == _trackerPort && (IPAddress.IsLoopback(peer.Address) || peer.Address.Equals(_session.LocalEndPoint?.Address)))
            {
                continue;
            }

            AddPeerFoundUnder(peer, foundUnder);
        }
    }
}
