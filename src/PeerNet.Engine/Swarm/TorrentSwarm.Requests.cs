using PeerNet.PeerWire;

namespace PeerNet.Swarm;

internal sealed partial class TorrentSwarm
{
    /// <summary>Seconds of a peer's measured rate to keep in flight (libtorrent's <c>request_queue_time</c> is 3).</summary>
    private const double RequestQueueSeconds = 1.0;

    /// <summary>A peer's queue is topped up once this fraction of its depth has been answered (or it runs dry).</summary>
    private const int RequestBatchFraction = 8;

    /// <summary>Requests kept in flight to a peer whose rate is not known yet (slow start).</summary>
    private const int MinRequestDepth = 16;

    /// <summary>
    /// Tops up each unchoked peer's request queue to its target depth: the bandwidth-delay product of its
    /// measured rate, within the peer's <c>reqq</c>.
    /// </summary>
    private void FillRequests()
    {
        if (State != TorrentState.Downloading)
        {
            return;
        }

        foreach (PeerConnection peer in _peerSet.Connected)
        {
            if (!peer.AmInterested || peer.IsClosed || peer.IsSnubbed)
            {
                continue;
            }

            bool choked = peer.PeerChoking;
            if (choked && peer.AllowedFast.Count == 0)
            {
                continue;
            }

            int depth = RequestDepth(peer);
            int want = depth - peer.Outstanding;
            if (want <= 0 || (want < depth / RequestBatchFraction && peer.Outstanding > 0))
            {
                // Top up in batches, not one request per block received: a request each is a send (and a flush, a
                // TCP segment, a wake-up of the seeder) per 16 KiB. libtorrent corks its socket for the same reason.
                continue;
            }

            if (peer.Outstanding == 0)
            {
                // The snub timer measures from the first request of a fresh batch, or the last block since.
                peer.LastBlockAt = Time.GetTimestamp();
            }

            if (!peer.InPicker)
            {
                continue;
            }

            Span<BlockRequest> output = _pickScratch.AsSpan(0, Math.Min(want, _pickScratch.Length));
            int picked = choked
                ? _picker.PickBlocks(peer.Id, output.Length, output, [.. peer.AllowedFast])
                : _picker.PickBlocks(peer.Id, output.Length, output);
            for (int i = 0; i < picked; i++)
            {
                BlockRequest request = _pickScratch[i];
                if (!_pieceWriter.EnsureBuffer(request.PieceIndex))
                {
                    _picker.OnRequestCancelled(peer.Id, request.PieceIndex, request.Begin);
                    continue;
                }

                peer.SendRequest(request.PieceIndex, request.Begin, request.Length);
                peer.Outstanding++;
            }
        }
    }

    private int RequestDepth(PeerConnection peer)
    {
        double rate = peer.DownloadRate.BytesPerSecond;
        int depth = MinRequestDepth + (int)Math.Min(rate * RequestQueueSeconds / BlockLength, int.MaxValue / 2);
        return Math.Min(depth, Math.Min(peer.PeerRequestQueue, Options.MaxRequestsPerPeer));
    }
}
