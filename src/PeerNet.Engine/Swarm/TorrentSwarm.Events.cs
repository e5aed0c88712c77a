using PeerNet.PeerWire;

namespace PeerNet.Swarm;

internal sealed partial class TorrentSwarm
{
    private void Process(SwarmEvent e)
    {
        if (e.Kind is not SwarmEventKind.Tick and not SwarmEventKind.Invoke)
        {
            Volatile.Write(ref _idle, false); // something happened (a status query is not): tick every second again until a tick finds it idle
        }

        PeerConnection? peer = e.Peer;
        if (peer is not null && peer.IsClosed && e.Kind is not SwarmEventKind.PeerClosed and not SwarmEventKind.PieceHashed)
        {
            // A closed (perhaps banned) peer's block is not counted; release its claim so the block is fetched again.
            if (e.Kind == SwarmEventKind.BlockReceived && e.C != 0 && _pieceWriter.TryGetBuffer(e.A, out PieceBuffer? buffer))
            {
                buffer.Unclaim(e.B / BlockLength);
            }

            return;
        }

        switch (e.Kind)
        {
            case SwarmEventKind.Tick:
                OnTick();
                break;
            case SwarmEventKind.AddPeers:
                OnAddPeer((System.Net.IPEndPoint)e.Payload!);
                break;
            case SwarmEventKind.ConnectFinished:
                OnConnectFinished((System.Net.IPEndPoint)e.Payload!, e.A != 0);
                break;
            case SwarmEventKind.PeerConnected:
                OnPeerConnected(peer!);
                break;
            case SwarmEventKind.PeerClosed:
                OnPeerClosed(peer!);
                break;
            case SwarmEventKind.Choke:
                peer!.PeerChoking = true;
                if (!peer.SupportsFast)
                {
                    // BEP 3: a choke discards every request; with BEP 6 the peer rejects each one explicitly.
                    ReleaseRequests(peer);
                }

                break;
            case SwarmEventKind.Unchoke:
                peer!.PeerChoking = false;
                break;
            case SwarmEventKind.Interested:
                peer!.PeerInterested = true;
                UnchokeIfSlotFree(peer);
                break;
            case SwarmEventKind.NotInterested:
                peer!.PeerInterested = false;
                SuperSeedOnNotInterested(peer);
                break;
            case SwarmEventKind.Have:
                OnHave(peer!, e.A);
                break;
            case SwarmEventKind.Bitfield:
                OnPieceSet(peer!, (Bitfield)e.Payload!, seed: false);
                break;
            case SwarmEventKind.BitfieldUpdate:
                OnBitfieldUpdate(peer!, (Bitfield)e.Payload!);
                break;
            case SwarmEventKind.HaveAll:
                OnPieceSet(peer!, null, seed: true);
                break;
            case SwarmEventKind.HaveNone:
                OnPieceSet(peer!, new Bitfield(PieceCount), seed: false);
                break;
            case SwarmEventKind.Request:
                OnRequest(peer!, e.A, e.B, e.C);
                break;
            case SwarmEventKind.Reject:
                if (peer!.UntrackRequest(e.A, e.B))
                {
                    peer.Outstanding--;
                    _picker.OnRequestRejected(peer.Id, e.A, e.B);
                }

                break;
            case SwarmEventKind.AllowedFast:
                peer!.AllowedFast.Add(e.A);
                break;
            case SwarmEventKind.Suggest:
                _picker.SuggestPiece(peer!.Id, e.A);
                break;
            case SwarmEventKind.MetadataRequest:
                OnMetadataRequest(peer!, e.A);
                break;
            case SwarmEventKind.HashRequest:
                OnHashRequest(peer!, (HashRequest)e.Payload!);
                break;
            case SwarmEventKind.HashesReady:
                OnHashesReady(peer!, (HashReply)e.Payload!);
                break;
            case SwarmEventKind.HashesReceived:
                OnHashesReceived(peer!, (HashReply)e.Payload!);
                break;
            case SwarmEventKind.PexReceived:
                OnPexReceived(peer!, (PexMessage)e.Payload!);
                break;
            case SwarmEventKind.HolepunchReceived:
                OnHolepunchReceived(peer!, (HolepunchMessage)e.Payload!);
                break;
            case SwarmEventKind.HashRejected:
                _layers.OnRejected(peer!.Id, (HashRequest)e.Payload!);
                break;
            case SwarmEventKind.ExtensionHandshake:
                OnExtensionHandshake(peer!, (ExtensionHandshake)e.Payload!);
                break;
            case SwarmEventKind.BlockReceived:
                OnBlockReceived(peer!, e.A, e.B, e.C != 0);
                break;
            case SwarmEventKind.PieceHashed:
                OnPieceHashed(e.A, (HashedPiece?)e.Payload);
                break;
            case SwarmEventKind.Invoke:
                ((Action)e.Payload!)();
                break;
        }
    }

    private void OnPieceSet(PeerConnection peer, Bitfield? pieces, bool seed)
    {
        peer.IsSeed = seed || (pieces is not null && pieces.AllSet);
        peer.Pieces = pieces;
        EnsureInPicker(peer);
        _layers.RequestMissing();
        if (peer.IsSeed)
        {
            _picker.PeerHasAll(peer.Id);
        }
        else
        {
            for (int piece = pieces!.FirstSet(0); piece >= 0; piece = pieces.FirstSet(piece + 1))
            {
                _picker.PeerHas(peer.Id, piece);
            }
        }

        if (peer.IsSeed && State == TorrentState.Seeding)
        {
            // Two seeds have nothing to trade.
            peer.Close("both sides are seeds");
            return;
        }

        UpdateInterest(peer);
        SuperSeedOnPieceSet(peer);
    }

    /// <summary>
    /// A bitfield after the first (aria2 sends one for every 20 or more pieces it finished, and have-all once it has
    /// them all): read as haves for the pieces it adds, found a word at a time, so a peer repeating what we know costs a
    /// pass over the words, not a call per piece.
    /// </summary>
    private void OnBitfieldUpdate(PeerConnection peer, Bitfield update)
    {
        if (peer.IsSeed)
        {
            return;
        }

        peer.Pieces ??= new Bitfield(PieceCount);
        for (int piece = update.FirstSetExcept(peer.Pieces); piece >= 0 && !peer.IsSeed; piece = update.FirstSetExcept(peer.Pieces, piece + 1))
        {
            OnHave(peer, piece);
        }
    }

    private void OnHave(PeerConnection peer, int piece)
    {
        if (peer.IsSeed)
        {
            return;
        }

        peer.Pieces ??= new Bitfield(PieceCount);
        if (peer.Pieces[piece])
        {
            return;
        }

        peer.Pieces.Set(piece);
        SuperSeedOnHave(peer, piece);
        EnsureInPicker(peer);
        _picker.PeerHas(peer.Id, piece);
        if (peer.Pieces.AllSet)
        {
            peer.IsSeed = true;
        }

        if (!peer.AmInterested && !_have[piece])
        {
            UpdateInterest(peer);
        }
    }

    private void OnExtensionHandshake(PeerConnection peer, ExtensionHandshake handshake)
    {
        peer.Extensions = handshake;
        _peerSet.ListenPortLearned(peer);
        _session.Connectivity.PeerReported(peer.RemoteEndPoint.Address, handshake.YourIp);

        if (handshake.RequestQueueLength is int reqq)
        {
            peer.PeerRequestQueue = Math.Clamp(reqq, 1, 2000);
        }
    }

    /// <summary>
    /// Serves a peer's request. A request for a piece we never announced is a protocol violation and closes
    /// the connection; one we cannot serve now is rejected (BEP 6) or dropped.
    /// </summary>
    private void OnRequest(PeerConnection peer, int piece, int begin, int length)
    {
        if (!_have[piece])
        {
            peer.Close($"requested piece {piece}, which we do not have");
            return;
        }

        // A choked peer is served only the allowed-fast pieces we granted it (BEP 6); a super-seeded one only what it was shown.
        if ((peer.AmChoking && !peer.IsGrantedFast(piece)) || peer.PendingUploads >= PeerLimits.MaxQueuedUploads || !SuperSeedAllowsRequest(peer, piece))
        {
            if (Refuse(peer, "block request") && peer.SupportsFast)
            {
                peer.SendReject(piece, begin, length);
            }

            return;
        }

        if (!peer.SendBlock(piece, begin, length))
        {
            Refuse(peer, "repeated block request"); // answered once, when its first copy is sent
            return;
        }

        peer.RefusedRequests = 0;
        SuperSeedOnRequestServed(peer, piece, length);
    }

    /// <summary>
    /// Counts a request of the peer's we refuse; false (and the peer closed) once it has sent more than it could have
    /// had in flight when we last stopped serving it (our <c>reqq</c>) plus <see cref="PeerLimits.MaxRefusedRequests"/>:
    /// a compliant peer stops asking once choked or rejected, so a stream of refused requests, each costing us a reply,
    /// is a flood.
    /// </summary>
    private bool Refuse(PeerConnection peer, string what)
    {
        if (++peer.RefusedRequests <= (long)PeerLimits.MaxQueuedUploads + PeerLimits.MaxRefusedRequests) // long: int.MaxValue as "no limit" must not wrap
        {
            return true;
        }

        peer.CloseOverLimit("refused_requests", $"sent {peer.RefusedRequests} requests we had to refuse (last: {what}) since it was last served");
        return false;
    }

    /// <summary>Tells a peer whether we want anything it has, when that changes.</summary>
    private void UpdateInterest(PeerConnection peer)
    {
        bool interested = State == TorrentState.Downloading && PeerHasWanted(peer);
        if (interested == peer.AmInterested)
        {
            return;
        }

        peer.AmInterested = interested;
        peer.SendRaw(interested ? PeerMessageWriter.Interested : PeerMessageWriter.NotInterested);
    }

    private bool PeerHasWanted(PeerConnection peer)
    {
        if (peer.IsSeed)
        {
            return _have.SetCount < PieceCount;
        }

        if (peer.Pieces is null)
        {
            return false;
        }

        for (int piece = peer.Pieces.FirstSet(0); piece >= 0; piece = peer.Pieces.FirstSet(piece + 1))
        {
            if (!_have[piece])
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Gives back every block requested from a peer so others can be asked for them.</summary>
    private void ReleaseRequests(PeerConnection peer)
    {
        peer.UntrackAllRequests();
        if (peer.InPicker)
        {
            _picker.ReleaseRequests(peer.Id);
        }

        peer.Outstanding = 0;
    }

    /// <summary>The picker learns of a peer once it says what it has (bitfield, have-all/none, or a first have).</summary>
    private void EnsureInPicker(PeerConnection peer)
    {
        if (!peer.InPicker)
        {
            _picker.AddPeer(peer.Id);
            peer.InPicker = true;
        }
    }
}
