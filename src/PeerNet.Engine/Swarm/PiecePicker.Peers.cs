using PeerNet.PeerWire;

namespace PeerNet.Swarm;

internal sealed partial class PiecePicker
{
    /// <summary>Registers a peer that has no pieces yet (no bitfield, or BEP 6 <c>have none</c>).</summary>
    public void AddPeer(int peer) => AddPeer(peer, null);

    /// <summary>
    /// Registers a peer with the pieces of its <c>bitfield</c> message. The picker keeps its own copy; a full
    /// bitfield makes the peer a have-all peer, counted once rather than per piece.
    /// </summary>
    public void AddPeer(int peer, Bitfield? has)
    {
        if (has is not null && has.Length != PieceCount)
        {
            ThrowHelper.ThrowArgument(nameof(has), "The bitfield is for a different piece count.");
        }

        if (_peers.ContainsKey(peer))
        {
            ThrowHelper.ThrowInvalidOperation($"Peer {peer} is already known.");
        }

        int slot;
        if (_freeSlots.Count > 0)
        {
            slot = _freeSlots.Pop();
        }
        else
        {
            slot = _slots.Count;
            _slots.Add(null);
        }

        var state = new PeerState(peer, slot, new Bitfield(PieceCount));
        _slots[slot] = state;
        _peers.Add(peer, state);
        if (has is null || has.NoneSet)
        {
            return;
        }

        if (has.AllSet)
        {
            state.Has = null;
            _haveAllPeers++;
            return;
        }

        state.Has!.CopyFrom(has);
        for (int piece = has.FirstSet(); piece >= 0; piece = has.FirstSet(piece + 1))
        {
            AddAvailability(piece, 1);
        }
    }

    /// <summary>
    /// A <c>have</c> from <paramref name="peer"/>. Returns whether it is a piece we want (so the caller may become
    /// interested). A peer that thereby has every piece becomes a have-all peer.
    /// </summary>
    public bool PeerHas(int peer, int piece)
    {
        PeerState state = GetPeer(peer);
        if ((uint)piece >= (uint)PieceCount)
        {
            throw new ArgumentOutOfRangeException(nameof(piece), piece, "No such piece.");
        }

        if (state.Has is { } has && has.Set(piece))
        {
            AddAvailability(piece, 1);
            if (has.AllSet)
            {
                BecomeHaveAll(state);
            }
        }

        return !_notWanted[piece];
    }

    /// <summary>BEP 6 <c>have all</c>, or a peer that finished: it counts once, not once per piece.</summary>
    public void PeerHasAll(int peer) => BecomeHaveAll(GetPeer(peer));

    /// <summary>Whether <paramref name="peer"/> has a piece we want and do not have.</summary>
    public bool IsInteresting(int peer)
    {
        PeerState state = GetPeer(peer);
        return state.Has is { } has ? has.FirstSetExcept(_notWanted) >= 0 : _remaining > 0;
    }

    /// <summary>Whether <paramref name="peer"/> has every piece.</summary>
    public bool IsHaveAll(int peer) => GetPeer(peer).HaveAll;

    /// <summary>Whether <paramref name="peer"/> has piece <paramref name="piece"/>, as far as the picker was told.</summary>
    public bool PeerHasPiece(int peer, int piece) => GetPeer(peer).HasPiece(piece);

    /// <summary>Peers that have piece <paramref name="piece"/> (have-all peers included).</summary>
    public int GetAvailability(int piece) => _availability[piece] + _haveAllPeers;

    /// <summary>Blocks requested from <paramref name="peer"/> and not yet answered.</summary>
    public int GetOutstanding(int peer) => GetPeer(peer).Outstanding;

    /// <summary>Sets the speed class of <paramref name="peer"/> (see <see cref="PeerSpeed"/>).</summary>
    public void SetPeerSpeed(int peer, PeerSpeed speed) => GetPeer(peer).Speed = speed;

    /// <summary>
    /// BEP 6 <c>suggest piece</c>: among new pieces of the same priority, this peer's suggestions are picked before
    /// the rarest ones (the peer likely has them in cache). The newest <see cref="MaxSuggestions"/> are kept.
    /// </summary>
    public void SuggestPiece(int peer, int piece)
    {
        PeerState state = GetPeer(peer);
        if ((uint)piece >= (uint)PieceCount || _have[piece])
        {
            return;
        }

        List<int> list = state.Suggested ??= new List<int>(MaxSuggestions);
        list.Remove(piece);
        if (list.Count == MaxSuggestions)
        {
            list.RemoveAt(0);
        }

        list.Add(piece);
    }

    /// <summary>
    /// Forgets <paramref name="peer"/>: its blocks in flight become free again, the pieces it owned become
    /// orphans that any peer may adopt, and its pieces no longer count toward availability.
    /// </summary>
    public void RemovePeer(int peer)
    {
        PeerState state = GetPeer(peer);
        ReleaseRequests(peer);
        foreach (PartialPiece partial in _partials)
        {
            if (partial.Owner == state.Slot)
            {
                partial.Owner = -1;
            }
        }

        if (state.Has is { } has)
        {
            for (int piece = has.FirstSet(); piece >= 0; piece = has.FirstSet(piece + 1))
            {
                AddAvailability(piece, -1);
            }
        }
        else
        {
            _haveAllPeers--;
        }

        _peers.Remove(peer);
        _slots[state.Slot] = null;
        _freeSlots.Push(state.Slot);
    }

    /// <summary>
    /// Drops every request outstanding to <paramref name="peer"/> (it choked us without the fast extension, which
    /// discards them; or the caller gave up on it). The blocks become free. Returns how many were dropped.
    /// </summary>
    public int ReleaseRequests(int peer)
    {
        PeerState state = GetPeer(peer);
        int dropped = 0;
        for (int i = _partials.Count - 1; i >= 0 && state.Outstanding > 0; i--)
        {
            PartialPiece partial = _partials[i];
            int n = partial.Requested > 0 ? DropRequests(partial, state) : 0;
            if (n > 0)
            {
                dropped += n;
                UnstartIfIdle(partial);
            }
        }

        return dropped;
    }

    private PeerState GetPeer(int peer)
    {
        if (!_peers.TryGetValue(peer, out PeerState? state))
        {
            ThrowHelper.ThrowInvalidOperation($"Peer {peer} is not known to the picker.");
        }

        return state;
    }

    private void BecomeHaveAll(PeerState state)
    {
        if (state.Has is not { } has)
        {
            return;
        }

        for (int piece = has.FirstSet(); piece >= 0; piece = has.FirstSet(piece + 1))
        {
            AddAvailability(piece, -1);
        }

        state.Has = null;
        _haveAllPeers++;
    }

    private void AddAvailability(int piece, int delta)
    {
        int availability = _availability[piece] += delta;
        if (_buckets.Contains(piece))
        {
            _buckets.MoveAvailability(piece, availability);
        }
    }

    private void UnstartIfIdle(PartialPiece partial)
    {
        if (partial.Received == 0 && partial.Requested == 0)
        {
            Unstart(partial);
        }
    }
}
