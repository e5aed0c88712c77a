using System.Net;
using PeerNet.Metainfo;

namespace PeerNet.Swarm;

/// <summary>
/// What a torrent tells whoever holds it (the node's handle turns these into public events). Called on the torrent's
/// loop (or its start-up): implementations must not block.
/// </summary>
internal interface ITorrentObserver
{
    void PieceVerified(int piece);

    void HashFailed(int piece, int senders);

    void Completed();

    void PeerConnected(IPEndPoint peer, bool outgoing);

    void PeerDisconnected(IPEndPoint peer, string reason);

    void PeerBanned(IPEndPoint peer, string reason);

    void Failed(string error, string? path);

    /// <summary>A tracker's announce failed (called from the tracker's task, not the loop).</summary>
    void TrackerFailed(string url, string error);
}

internal sealed partial class TorrentSwarm
{
    /// <summary>Who hears of this torrent's events; set before <see cref="StartAsync"/>.</summary>
    public ITorrentObserver? Observer { get; set; }

    /// <summary>
    /// Runs <paramref name="query"/> on the torrent's loop, where its state may be read, and returns the result: status
    /// calls read peers and pieces here, never from another thread. Throws <see cref="ObjectDisposedException"/> once the
    /// torrent has stopped.
    /// </summary>
    public Task<T> InvokeAsync<T>(Func<T> query, CancellationToken cancellationToken = default)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Volatile.Read(ref _disposed) != 0 || !_events.Writer.TryWrite(new SwarmEvent(SwarmEventKind.Invoke, Payload: (Action)Run)))
        {
            result.TrySetException(new ObjectDisposedException(nameof(TorrentSwarm), "the torrent has stopped"));
        }

        // Stopped after the post: the loop will never run it.
        _ = _stopping.Token.Register(static state => ((TaskCompletionSource<T>)state!).TrySetException(new ObjectDisposedException(nameof(TorrentSwarm), "the torrent has stopped")), result);
        return result.Task.WaitAsync(cancellationToken);

        void Run()
        {
            try
            {
                result.TrySetResult(query());
            }
#pragma warning disable CA1031 // The query's failure is the caller's to see.
            catch (Exception e)
#pragma warning restore CA1031
            {
                result.TrySetException(e);
            }
        }
    }

    /// <summary>The connected peers (on the loop).</summary>
    internal IReadOnlyList<PeerStatus> SnapshotPeers()
    {
        var peers = new List<PeerStatus>(_peerSet.Connected.Count);
        foreach (PeerConnection peer in _peerSet.Connected)
        {
            PeerFlags flags = (peer.IsOutgoing ? PeerFlags.Outgoing : PeerFlags.Incoming)
                | (peer.IsSeed ? PeerFlags.Seed : 0)
                | (peer.AmChoking ? PeerFlags.WeChoke : 0)
                | (peer.AmInterested ? PeerFlags.WeAreInterested : 0)
                | (peer.PeerChoking ? PeerFlags.ChokesUs : 0)
                | (peer.PeerInterested ? PeerFlags.IsInterested : 0)
                | (peer.IsSnubbed ? PeerFlags.Snubbed : 0)
                | (peer.SupportsFast ? PeerFlags.FastExtension : 0)
                | (peer.RemoteHandshake.SupportsV2 ? PeerFlags.V2 : 0)
                | (peer.IsUtp ? PeerFlags.Utp : 0)
                | (peer.IsEncrypted ? PeerFlags.Encrypted : 0);
            int pieces = peer.IsSeed ? PieceCount : peer.Pieces?.SetCount ?? 0;
            peers.Add(new PeerStatus
            {
                EndPoint = peer.RemoteEndPoint,
                Client = peer.Extensions?.ClientName,
                Flags = flags,
                DownloadRate = peer.DownloadRate.BytesPerSecond,
                UploadRate = peer.UploadRate.BytesPerSecond,
                Progress = PieceCount == 0 ? 1 : (double)pieces / PieceCount,
                ConnectedFor = Time.GetElapsedTime(peer.ConnectedAt),
            });
        }

        return peers;
    }

    /// <summary>Each file's verified bytes (on the loop): the bytes of verified pieces that fall in the file.</summary>
    internal IReadOnlyList<long> SnapshotFileProgress()
    {
        IReadOnlyList<TorrentFile> files = Metainfo.Files;
        long pieceLength = Storage.Map.PieceLength;
        long[] done = new long[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            TorrentFile file = files[i];
            if (file.Length == 0 || file.IsPadFile)
            {
                continue;
            }

            PeerNet.Storage.PieceRange range = Storage.Map.GetPieceRange(i);
            long fileStart = file.Offset;
            long fileEnd = fileStart + file.Length;
            for (int piece = range.First; piece < range.First + range.Count; piece++)
            {
                if (_have[piece])
                {
                    long start = Math.Max(piece * pieceLength, fileStart);
                    long end = Math.Min((piece + 1) * pieceLength, fileEnd);
                    done[i] += Math.Max(0, end - start);
                }
            }
        }

        return done;
    }
}
