using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Swarm;

internal sealed partial class TorrentSwarm
{
    private readonly PeerBans _bans = new(BlockLength);
    private readonly List<PeerBans.Suspect> _convicted = []; // scratch for ConvictSuspects

    /// <summary>Addresses banned for sending data that failed verification.</summary>
    public IReadOnlyCollection<System.Net.IPAddress> Banned => _bans.Addresses;

    /// <summary>How many addresses are banned (safe to read from any thread, as is <see cref="Banned"/>).</summary>
    public int BannedCount => _bans.Count;

    /// <summary>
    /// A block arrived. Invariant: the picker credits a block only for the copy that holds the block's claim
    /// in the piece buffer (<paramref name="copied"/>), so the picker and the buffer always agree on what has
    /// arrived. A copy that lost the claim (an endgame duplicate) just releases its request; a claimed copy
    /// the picker does not accept (a stale answer to a request from before a hash failure) gives its claim back.
    /// </summary>
    private void OnBlockReceived(PeerConnection peer, int piece, int begin, bool copied)
    {
        peer.Outstanding = Math.Max(0, peer.Outstanding - 1);
        peer.LastBlockAt = Time.GetTimestamp();
        peer.IsSnubbed = false;
        int length = Math.Min(BlockLength, GetPieceSize(piece) - begin);
        if (!copied)
        {
            _picker.OnRequestCancelled(peer.Id, piece, begin);
            Interlocked.Add(ref _wasted, length);
            return;
        }

        if (!_pieceWriter.TryGetBuffer(piece, out PieceBuffer? buffer))
        {
            return;
        }

        BlockReceipt receipt = _picker.OnBlockReceived(peer.Id, piece, begin);
        foreach (int other in receipt.CancelPeers)
        {
            if (_peerSet.TryGet(other, out PeerConnection? duplicate))
            {
                // Endgame: another peer was asked for the same block; BEP 3 "cancel" so it need not send it.
                duplicate.SendCancel(piece, begin, length);
                duplicate.Outstanding = Math.Max(0, duplicate.Outstanding - 1);
            }
        }

        if (receipt.Status != BlockStatus.Accepted)
        {
            buffer.Unclaim(begin / BlockLength);
            Interlocked.Add(ref _wasted, length);
            return;
        }

        if (receipt.PieceComplete)
        {
            _pieceWriter.TryHash(buffer);
        }
    }

    /// <summary>The piece writer heard back from hashing (and writing) a piece: on to the loop (off the loop's thread).</summary>
    private void OnHashDone(int piece, HashedPiece? hashed) => Post(new SwarmEvent(SwarmEventKind.PieceHashed, A: piece, Payload: hashed));

    private void OnPieceHashed(int piece, HashedPiece? hashed)
    {
        _pieceWriter.OnHashed(piece);
        if (hashed is null || !_pieceWriter.TryGetBuffer(piece, out PieceBuffer? buffer))
        {
            return; // stopping
        }

        if (hashed.Result.Verdict != PieceVerdict.Good)
        {
            OnHashFailed(piece, buffer, hashed.Result);
            return;
        }

        ConvictSuspects(piece, buffer);
        if (hashed.WriteError is { } error)
        {
            Fail(error);
        }
        else if (hashed.Written)
        {
            OnPieceWritten(piece);
        }
    }

    private void OnHashFailed(int piece, PieceBuffer buffer, PieceCheckResult result)
    {
        Interlocked.Add(ref _wasted, buffer.Length);
        HashFailures++;
        PublishStatus();
        Metrics.PiecesFailed.Add(1);

        // The picker recorded who delivered each block (only the copy holding the buffer claim is credited),
        // and puts the piece back to be downloaded again.
        int[] sources = _picker.OnHashFailed(piece);
        var senders = new HashSet<int>(sources);
        SwarmLog.PieceFailed(Log, _logName, piece, senders.Count);
        Observer?.HashFailed(piece, senders.Count);
        var addresses = new System.Net.IPAddress[sources.Length]; // blocks past the requested ones are pad: no sender
        for (int block = 0; block < sources.Length; block++)
        {
            addresses[block] = _peerSet.TryGet(sources[block], out PeerConnection? from) ? from.RemoteEndPoint.Address : System.Net.IPAddress.None;
        }

        _bans.RecordFailure(piece, sources, addresses, buffer.Data.Span[..buffer.Length]);

        // One peer sent every block of a piece that failed: it is proven bad.
        if (senders.Count == 1 && _peerSet.TryGet(sources[0], out PeerConnection? only))
        {
            Ban(only, $"sent piece {piece}, which failed its hash check");
        }

        // Several senders: BEP 52 block hashes, proved against the piece's trusted node, pinpoint the bad blocks.
        if (senders.Count > 1 && result.BlockHashes is { } computed)
        {
            _layers.RequestBlockHashes(piece, sources, computed);
        }

        buffer.Reset();
    }

    /// <summary>The piece passed: every suspect whose block differs from the good data sent corrupt data.</summary>
    private void ConvictSuspects(int piece, PieceBuffer buffer)
    {
        // Each convicted address is banned even if its peer has left; a peer still here is closed.
        _bans.Convict(piece, buffer.Data.Span[..buffer.Length], _convicted);
        foreach (PeerBans.Suspect suspect in _convicted)
        {
            if (_peerSet.TryGet(suspect.Peer, out PeerConnection? peer))
            {
                Ban(peer, $"sent a corrupt block {suspect.Block} of piece {piece} (smart-ban)");
            }
        }

        _convicted.Clear();
    }

    /// <summary>Pieces that failed verification since the torrent started.</summary>
    public int HashFailures { get; private set; }

    private void Ban(PeerConnection peer, string reason)
    {
        Metrics.PeersBanned.Add(1);
        SwarmLog.PeerBanned(Log, _logName, peer.RemoteEndPoint, reason);
        _bans.Ban(peer.RemoteEndPoint.Address);
        Observer?.PeerBanned(peer.RemoteEndPoint, reason);
        peer.Close("banned: " + reason);
    }

    private void OnPieceWritten(int piece)
    {
        _pieceWriter.ReleaseBuffer(piece);

        if (_have[piece])
        {
            return;
        }

        _have.Set(piece);
        _haveChanged = true;
        PublishStatus();
        _resumeDirty = true;
        Metrics.PiecesVerified.Add(1);
        _picker.OnHashPassed(piece);
        Observer?.PieceVerified(piece);
        foreach (PeerConnection peer in _peerSet.Connected)
        {
            peer.SendHave(piece);
            if (peer.AmInterested)
            {
                UpdateInterest(peer);
            }
        }

        if (IsWantedComplete)
        {
            OnCompleted();
        }
    }

    /// <summary>
    /// Every piece of every wanted file is verified (all pieces, unless files were skipped). In a v2-only torrent,
    /// pieces held back until their file's layer arrives are still wanted.
    /// </summary>
    private bool IsWantedComplete => _picker.Remaining == 0 && (Metainfo.Version != TorrentVersion.V2 || _layers.MissingCount == 0);

    private void OnCompleted()
    {
        CreateEmptyFiles();
        State = TorrentState.Seeding;
        SaveResume();
        SwarmLog.Completed(Log, _logName, _have.SetCount);
        PublishStatus();
        _completed.TrySetResult();
        Observer?.Completed();
        foreach (PeerConnection peer in _peerSet.Connected)
        {
            UpdateInterest(peer);
            if (peer.IsSeed && _layers.MissingCount == 0)
            {
                // (A hybrid still missing piece layers keeps its seeds: they can send the layers v2 peers will ask us for.)
                peer.Close("both sides are seeds");
            }
        }
    }

    /// <summary>A fatal error (disk full, I/O): stop downloading, keep what is verified, report it.</summary>
    private void Fail(Exception error)
    {
        if (State == TorrentState.Error)
        {
            return;
        }

        State = TorrentState.Error;
        // Shown by status lines, logs and the completion's exception; storage errors quote the torrent's paths.
        Error = DisplayText.Sanitize(error is StorageFullException ? "disk full: " + error.Message : error.Message);
        SwarmLog.Failed(Log, _logName, Error);
        PublishStatus();
        Observer?.Failed(Error, (error as StorageException)?.FilePath);
        SaveResume();
        foreach (PeerConnection peer in _peerSet.Connected.ToArray())
        {
            peer.Close("torrent stopped: " + Error);
        }

        _completed.TrySetException(new IOException(Error, error));
    }
}
