using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using PeerNet.PeerWire;
using PeerNet.Threading;
using PeerNet.Transport;

namespace PeerNet.Swarm;

/// <summary>
/// One peer of one torrent after the handshake: a reader loop that parses messages and posts them to the
/// torrent's loop (copying piece blocks straight into their piece buffers), and a writer loop that encodes
/// outgoing messages into the connection's pipe (reading uploaded blocks from disk straight into it).
/// </summary>
/// <remarks>
/// The fields under "owned by the torrent's loop" are read and written only there; the request sets shared
/// with the reader and writer loops are guarded by their own locks, never held across an await.
/// </remarks>
internal sealed partial class PeerConnection : IAsyncDisposable
{
    private readonly IDuplexConnection _connection;
    private readonly TorrentSwarm _swarm;
    private readonly CancellationTokenSource _closing = new();
    private readonly Channel<Outgoing> _outgoing = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentQueue<Outgoing> _urgent = new(); // sent ahead of queued blocks
    private readonly HashSet<long> _requested = [];   // blocks we asked this peer for
    private readonly HashSet<long> _queuedUploads = []; // blocks queued to upload to the peer, not yet sent or cancelled
    private readonly List<HashRequest> _hashRequestsSent = []; // BEP 52 requests we sent the peer, not yet answered
    private Task _reader = Task.CompletedTask;
    private Task _writer = Task.CompletedTask;
    private int _closed;

    public PeerConnection(TorrentSwarm swarm, IDuplexConnection connection, int id, Handshake remote, bool outgoing)
    {
        _swarm = swarm;
        _connection = connection;
        Id = id;
        RemoteHandshake = remote;
        IsOutgoing = outgoing;
        SupportsFast = remote.SupportsFastExtension;
        DownloadRate = new RateMeter(swarm.Time);
        UploadRate = new RateMeter(swarm.Time);
        ConnectedAt = swarm.Time.GetTimestamp();
        LastReceivedAt = ConnectedAt;
        LastSentAt = ConnectedAt;
    }

    /// <summary>A small number unique within the torrent (never 0), used by the picker and for blame.</summary>
    public int Id { get; }

    public Handshake RemoteHandshake { get; }

    public IPEndPoint RemoteEndPoint => _connection.RemoteEndPoint;

    public IPEndPoint LocalEndPoint => _connection.LocalEndPoint;

    public bool IsOutgoing { get; }

    public bool SupportsFast { get; }

    public RateMeter DownloadRate { get; }

    public RateMeter UploadRate { get; }

    public long ConnectedAt { get; }

    public long LastReceivedAt { get; private set; }

    public long LastSentAt { get; private set; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Why the connection closed, for logs and tests.</summary>
    public string? CloseReason { get; private set; }

    // ---- owned by the torrent's loop ----
    public bool AmChoking { get; set; } = true;

    public bool AmInterested { get; set; }

    public bool PeerChoking { get; set; } = true;

    public bool PeerInterested { get; set; }

    /// <summary>The peer's pieces; null until its bitfield (or have-all/none) arrives.</summary>
    public Bitfield? Pieces { get; set; }

    public bool IsSeed { get; set; }

    /// <summary>Whether the piece picker knows this peer yet.</summary>
    public bool InPicker { get; set; }

    /// <summary>Requests we have outstanding to this peer.</summary>
    public int Outstanding { get; set; }

    /// <summary>
    /// BEP 52 hash requests from this peer being answered: computed, or queued and not yet written (the loop counts
    /// one up when it takes a request, the writer down when the reply is written).
    /// </summary>
    public int HashRequestsInProgress => Volatile.Read(ref _hashRequestsInProgress);

    private int _hashRequestsInProgress;

    /// <summary>Takes a hash request in progress (loop), if the peer has fewer than <paramref name="max"/>.</summary>
    public bool TryBeginHashRequest(int max)
    {
        if (Volatile.Read(ref _hashRequestsInProgress) >= max)
        {
            return false;
        }

        Interlocked.Increment(ref _hashRequestsInProgress);
        return true;
    }

    /// <summary>A hash request in progress ended without a <c>hashes</c> reply (rejected after all).</summary>
    public void EndHashRequest() => Interlocked.Decrement(ref _hashRequestsInProgress);

    /// <summary>
    /// Requests of this peer's that we refused (rejected, or dropped without the fast extension) since we last served
    /// it or unchoked it (loop-owned); see <see cref="PeerLimits.MaxRefusedRequests"/>.
    /// </summary>
    public int RefusedRequests { get; set; }

    /// <summary>BEP 11: the peers we have told this peer about and not since dropped (loop-owned).</summary>
    public HashSet<IPEndPoint>? PexSent { get; set; }

    /// <summary>When we last sent this peer a ut_pex message; 0 before the first (loop-owned).</summary>
    public long LastPexSentAt { get; set; }

    /// <summary>
    /// BEP 55: peers this one told us of by PEX as supporting ut_holepunch, so it can be asked to relay a rendezvous to
    /// them (libtorrent's introducer); at most <see cref="TorrentSwarm.MaxIntroducedPerPeer"/> (loop-owned).
    /// </summary>
    public HashSet<IPEndPoint>? HolepunchIntroduced { get; set; }

    /// <summary>BEP 55: start of the window this peer's rendezvous and connect messages are counted in (loop-owned).</summary>
    public long RendezvousWindowStart { get; set; }

    /// <summary>Rendezvous and connect messages received from this peer in the current window (loop-owned).</summary>
    public int RendezvousInWindow { get; set; }

    /// <summary>Whether the connection runs over uTP (perhaps under MSE): its remote endpoint is then the peer's UDP mapping.</summary>
    public bool IsUtp => (_connection is Transport.MseConnection mse ? mse.Inner : _connection) is Transport.UtpConnection;

    /// <summary>Whether the connection began with an MSE handshake.</summary>
    public bool IsEncrypted => _connection is Transport.MseConnection;

    /// <summary>When this peer's last ut_pex message was taken (reader loop).</summary>
    public long LastPexAt { get; set; }

    /// <summary>BEP 9 metadata pieces sent to this peer (loop-owned).</summary>
    public int MetadataPiecesServed { get; set; }

    /// <summary>How many requests the peer accepts at once (BEP 10 <c>reqq</c>; 250 if it did not say).</summary>
    public int PeerRequestQueue { get; set; } = 250;

    /// <summary>Pieces the peer lets us request while it chokes us (BEP 6).</summary>
    public HashSet<int> AllowedFast { get; } = [];

    /// <summary>
    /// BEP 6 pieces we told this peer it may request while choked. Set once before the peer's loops start and
    /// never changed, so the writer loop may read it too.
    /// </summary>
    public int[] GrantedFast { get; set; } = [];

    /// <summary>Whether a choked peer may still be sent blocks of <paramref name="piece"/>.</summary>
    public bool IsGrantedFast(int piece) => Array.IndexOf(GrantedFast, piece) >= 0;

    public ExtensionHandshake? Extensions { get; set; }

    public long LastBlockAt { get; set; }

    public bool IsSnubbed { get; set; }

    public long LastUnchokedAt { get; set; }

    /// <summary>Blocks queued to upload and not yet sent (the writer loop decrements it).</summary>
    public int PendingUploads => Volatile.Read(ref _pendingUploads);

    private int _pendingUploads;

    public void Start()
    {
        _reader = BackgroundLoop.Start(() => ReadLoopAsync(_closing.Token));
        _writer = BackgroundLoop.Start(() => WriteLoopAsync(_closing.Token));
    }

    /// <summary>Closes the connection (idempotent) and tells the torrent's loop once.</summary>
    public void Close(string reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        CloseReason = reason;
        _outgoing.Writer.TryComplete();
        _closing.Cancel();
        _connection.Abort(new ConnectionClosedException(reason));
        _swarm.Post(new SwarmEvent(SwarmEventKind.PeerClosed, this, Payload: reason));
    }

    /// <summary>Closes the connection because the peer went over a budget (<paramref name="limit"/> names it in metrics).</summary>
    public void CloseOverLimit(string limit, string reason)
    {
        if (!IsClosed)
        {
            _swarm.Metrics.OverLimit(limit);
        }

        Close(reason);
    }

    public async ValueTask DisposeAsync()
    {
        Close("disposed");
        try
        {
            await Task.WhenAll(_reader, _writer).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionClosedException)
        {
            // The loops end by cancellation or a broken pipe; nothing to report after a close.
        }

        await _connection.DisposeAsync().ConfigureAwait(false);
        _closing.Dispose();
    }

    internal static long Key(int piece, int begin) => ((long)piece << 32) | (uint)begin;

    /// <summary>Records a request we are about to send, so its block is accepted when it arrives.</summary>
    public void TrackRequest(int piece, int begin)
    {
        lock (_requested)
        {
            _requested.Add(Key(piece, begin));
        }
    }

    /// <summary>Forgets a request (answered, rejected, cancelled or timed out); false if it was not outstanding.</summary>
    public bool UntrackRequest(int piece, int begin)
    {
        lock (_requested)
        {
            return _requested.Remove(Key(piece, begin));
        }
    }

    /// <summary>
    /// Records a BEP 52 hash request we are about to send, so that the one reply to it is accepted: false (send
    /// nothing) if the same request is already outstanding to this peer or it has <paramref name="max"/> of ours.
    /// </summary>
    public bool TrackHashRequest(in HashRequest request, int max)
    {
        lock (_hashRequestsSent)
        {
            if (_hashRequestsSent.Count >= max || _hashRequestsSent.Contains(request))
            {
                return false;
            }

            _hashRequestsSent.Add(request);
            return true;
        }
    }

    /// <summary>Whether <paramref name="request"/> is one of ours outstanding to this peer, which it answers now (forgotten).</summary>
    private bool UntrackHashRequest(in HashRequest request)
    {
        lock (_hashRequestsSent)
        {
            return _hashRequestsSent.Remove(request);
        }
    }

    /// <summary>Forgets every outstanding request (choked without the fast extension, or closing).</summary>
    public List<(int Piece, int Begin)> UntrackAllRequests()
    {
        lock (_requested)
        {
            var all = new List<(int, int)>(_requested.Count);
            foreach (long key in _requested)
            {
                all.Add(((int)(key >> 32), (int)key));
            }

            _requested.Clear();
            return all;
        }
    }
}

/// <summary>Why a peer connection was closed by this side.</summary>
internal sealed class ConnectionClosedException : IOException
{
    public ConnectionClosedException(string message)
        : base(message)
    {
    }

    public ConnectionClosedException()
    {
    }

    public ConnectionClosedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
