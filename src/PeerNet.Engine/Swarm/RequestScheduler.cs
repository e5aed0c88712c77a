using PeerNet.PeerWire;

namespace PeerNet.Swarm;

/// <summary>
/// Keeps each unchoked peer's request queue topped up to its target depth: the bandwidth-delay product of its measured
/// rate, within the peer's <c>reqq</c> and ours. Blocks come from the picker; a piece gets a receive buffer from the
/// <see cref="PieceWriter"/> before its first request, within the memory budget. The loop runs it after each batch of
/// events; it keeps only a scratch array, so a top-up allocates nothing.
/// </summary>
internal sealed class RequestScheduler
{
    /// <summary>Seconds of a peer's measured rate to keep in flight (libtorrent's <c>request_queue_time</c> is 3).</summary>
    public const double RequestQueueSeconds = 1.0;

    /// <summary>A peer's queue is topped up once this fraction of its depth has been answered (or it runs dry).</summary>
    public const int RequestBatchFraction = 8;

    /// <summary>Requests kept in flight to a peer whose rate is not known yet (slow start).</summary>
    public const int MinRequestDepth = 16;

    private const int BlockLength = PeerWireLimits.BlockLength;

    private BlockRequest[]? _scratch; // made at the first request: a seed never asks, and a node may host thousands
    private readonly PiecePicker _picker;
    private readonly PieceWriter _pieces;
    private readonly TimeProvider _time;
    private readonly int _maxRequestsPerPeer;

    /// <param name="picker">Which blocks to ask a peer for.</param>
    /// <param name="pieces">Gives a piece its receive buffer (or refuses, over the memory budget).</param>
    /// <param name="time">The clock of the snub timer.</param>
    /// <param name="maxRequestsPerPeer">Our own cap on requests in flight to one peer (<see cref="TorrentOptions.MaxRequestsPerPeer"/>).</param>
    public RequestScheduler(PiecePicker picker, PieceWriter pieces, TimeProvider time, int maxRequestsPerPeer)
    {
        _picker = picker;
        _pieces = pieces;
        _time = time;
        _maxRequestsPerPeer = maxRequestsPerPeer;
    }

    /// <summary>
    /// The requests a peer should have in flight: <see cref="MinRequestDepth"/> plus <see cref="RequestQueueSeconds"/> of
    /// its measured rate in blocks, capped by its <c>reqq</c> and by <paramref name="maxRequestsPerPeer"/>.
    /// </summary>
    public static int TargetDepth(double bytesPerSecond, int peerRequestQueue, int maxRequestsPerPeer)
    {
        int depth = MinRequestDepth + (int)Math.Min(bytesPerSecond * RequestQueueSeconds / BlockLength, int.MaxValue / 2);
        return Math.Min(depth, Math.Min(peerRequestQueue, maxRequestsPerPeer));
    }

    /// <summary>
    /// How many requests to send a peer now: none until at least 1/<see cref="RequestBatchFraction"/> of its depth is
    /// missing (or it has none in flight). A request each block received would be a send (and a flush, a TCP segment, a
    /// wake-up of the seeder) per 16 KiB; libtorrent corks its socket for the same reason.
    /// </summary>
    public static int ToRequest(int depth, int outstanding)
    {
        int want = depth - outstanding;
        return want <= 0 || (want < depth / RequestBatchFraction && outstanding > 0) ? 0 : want;
    }

    /// <summary>Tops up the request queue of every peer that may be asked (interested, not snubbed, unchoked or with allowed-fast pieces).</summary>
    public void Fill(Dictionary<int, PeerConnection>.ValueCollection peers)
    {
        foreach (PeerConnection peer in peers)
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

            int want = ToRequest(TargetDepth(peer.DownloadRate.BytesPerSecond, peer.PeerRequestQueue, _maxRequestsPerPeer), peer.Outstanding);
            if (want == 0)
            {
                continue;
            }

            if (peer.Outstanding == 0)
            {
                // The snub timer measures from the first request of a fresh batch, or the last block since.
                peer.LastBlockAt = _time.GetTimestamp();
            }

            if (!peer.InPicker)
            {
                continue;
            }

            _scratch ??= new BlockRequest[256];
            Span<BlockRequest> output = _scratch.AsSpan(0, Math.Min(want, _scratch.Length));
            int picked = choked
                ? _picker.PickBlocks(peer.Id, output.Length, output, [.. peer.AllowedFast])
                : _picker.PickBlocks(peer.Id, output.Length, output);
            for (int i = 0; i < picked; i++)
            {
                BlockRequest request = _scratch[i];
                if (!_pieces.EnsureBuffer(request.PieceIndex))
                {
                    _picker.OnRequestCancelled(peer.Id, request.PieceIndex, request.Begin);
                    continue;
                }

                peer.SendRequest(request.PieceIndex, request.Begin, request.Length);
                peer.Outstanding++;
            }
        }
    }
}
