using PeerNet.PeerWire;

namespace PeerNet.Swarm;

internal sealed partial class PiecePicker
{
    private enum PartialPass
    {
        Own,
        Shared,
        Backup,
    }

    /// <summary>
    /// Picks up to <paramref name="maxBlocks"/> blocks to request from <paramref name="peer"/> (which must not be
    /// choking us; see the overload with allowed-fast pieces) into <paramref name="output"/> and marks them
    /// requested. Returns how many were written. Uses what the picker was told of the peer's pieces; allocates
    /// nothing once the piece pool is warm.
    /// </summary>
    public int PickBlocks(int peer, int maxBlocks, Span<BlockRequest> output)
    {
        PeerState state = GetPeer(peer);
        int max = Math.Min(maxBlocks, output.Length);
        if (max <= 0 || _remaining == 0)
        {
            return 0;
        }

        int n = FromPartials(state, output, 0, max, PartialPass.Own);
        n = FromPartials(state, output, n, max, PartialPass.Shared);
        while (n < max)
        {
            int piece = Sequential ? NextSequential(state) : NextRarest(state);
            if (piece < 0)
            {
                break;
            }

            n = Take(StartPiece(piece, state), state, output, n, max);
        }

        n = FromPartials(state, output, n, max, PartialPass.Backup);
        if (n < max && InEndgame)
        {
            n = Busy(state, output, n, max, [], restricted: false);
        }

        return n;
    }

    /// <summary>
    /// Picks blocks from a peer that is choking us, only within its BEP 6 allowed-fast pieces
    /// (<paramref name="allowedFast"/>): pieces already in progress first, then the rarest, then (in endgame)
    /// duplicates.
    /// </summary>
    public int PickBlocks(int peer, int maxBlocks, Span<BlockRequest> output, ReadOnlySpan<int> allowedFast)
    {
        PeerState state = GetPeer(peer);
        int max = Math.Min(maxBlocks, output.Length);
        if (max <= 0 || _remaining == 0)
        {
            return 0;
        }

        int n = 0;
        foreach (int piece in allowedFast)
        {
            if (n < max && (uint)piece < (uint)PieceCount && _partialByPiece.TryGetValue(piece, out PartialPiece? partial)
                && partial.Free > 0 && _priority[piece] > 0 && state.HasPiece(piece))
            {
                Adopt(partial, state);
                n = Take(partial, state, output, n, max);
            }
        }

        while (n < max)
        {
            int best = -1;
            foreach (int piece in allowedFast)
            {
                if ((uint)piece < (uint)PieceCount && _buckets.Contains(piece) && state.HasPiece(piece)
                    && (best < 0 || _availability[piece] < _availability[best]))
                {
                    best = piece;
                }
            }

            if (best < 0)
            {
                break;
            }

            n = Take(StartPiece(best, state), state, output, n, max);
        }

        if (n < max && InEndgame)
        {
            n = Busy(state, output, n, max, allowedFast, restricted: true);
        }

        return n;
    }

    /// <summary>
    /// Whether a peer that chokes us still has something to offer: a free block of one of its allowed-fast pieces
    /// (<paramref name="allowedFast"/>) that it has and we want.
    /// </summary>
    public bool CanPickFromChokedPeer(int peer, ReadOnlySpan<int> allowedFast)
    {
        PeerState state = GetPeer(peer);
        foreach (int piece in allowedFast)
        {
            if ((uint)piece >= (uint)PieceCount || !state.HasPiece(piece))
            {
                continue;
            }

            if (_buckets.Contains(piece)
                || (_partialByPiece.TryGetValue(piece, out PartialPiece? partial) && partial.Free > 0 && _priority[piece] > 0))
            {
                return true;
            }
        }

        return false;
    }

    private static void Adopt(PartialPiece partial, PeerState peer)
    {
        if (partial.Owner < 0)
        {
            partial.Owner = peer.Slot;
            partial.Speed = peer.Speed;
        }
    }

    private static bool Matches(PartialPiece partial, PeerState peer, PartialPass pass)
    {
        if (partial.Owner == peer.Slot)
        {
            return pass == PartialPass.Own;
        }

        bool shared = partial.Owner < 0 || (peer.Speed != PeerSpeed.Fast && partial.Speed == peer.Speed);
        return pass == (shared ? PartialPass.Shared : PartialPass.Backup);
    }

    private int FromPartials(PeerState peer, Span<BlockRequest> output, int n, int max, PartialPass pass)
    {
        List<PartialPiece> partials = _partials;
        for (int i = 0; i < partials.Count && n < max; i++)
        {
            PartialPiece partial = partials[i];
            if (partial.Free > 0 && _priority[partial.Piece] > 0 && Matches(partial, peer, pass) && peer.HasPiece(partial.Piece))
            {
                Adopt(partial, peer);
                n = Take(partial, peer, output, n, max);
            }
        }

        return n;
    }

    private static int Take(PartialPiece partial, PeerState peer, Span<BlockRequest> output, int n, int max)
    {
        int b = partial.FreeHint;
        for (; b < partial.BlockCount && n < max && partial.Free > 0; b++)
        {
            if (partial.State[b] != BlockState.Free)
            {
                continue;
            }

            partial.State[b] = BlockState.Requested;
            partial.AddRequester(b, peer.Slot);
            partial.Free--;
            partial.Requested++;
            peer.Outstanding++;
            output[n++] = new BlockRequest(partial.Piece, b * BlockSize, partial.BlockLength(b));
        }

        partial.FreeHint = b;
        return n;
    }

    /// <summary>Endgame: blocks requested from others (fewest requests first) that this peer has not been asked for.</summary>
    private int Busy(PeerState peer, Span<BlockRequest> output, int n, int max, ReadOnlySpan<int> only, bool restricted)
    {
        for (int requests = 1; requests < _maxRequestsPerBlock && n < max; requests++)
        {
            List<PartialPiece> partials = _partials;
            for (int i = 0; i < partials.Count && n < max; i++)
            {
                PartialPiece partial = partials[i];
                if (partial.Requested == 0 || _priority[partial.Piece] == 0 || !peer.HasPiece(partial.Piece)
                    || (restricted && !only.Contains(partial.Piece)))
                {
                    continue;
                }

                for (int b = 0; b < partial.BlockCount && n < max; b++)
                {
                    if (partial.State[b] == BlockState.Requested && partial.RequestCount[b] == requests && !partial.IsRequester(b, peer.Slot))
                    {
                        partial.AddRequester(b, peer.Slot);
                        peer.Outstanding++;
                        output[n++] = new BlockRequest(partial.Piece, b * BlockSize, partial.BlockLength(b));
                    }
                }
            }
        }

        return n;
    }

    /// <summary>The new piece to start for <paramref name="peer"/>: highest priority, then suggested, then rarest; or -1.</summary>
    private int NextRarest(PeerState peer)
    {
        for (int level = MaxPriority; level > 0; level--)
        {
            if (_buckets.LevelCount(level) == 0)
            {
                continue;
            }

            int piece = NextSuggested(peer, level);
            if (piece < 0)
            {
                piece = peer.Has is { } has ? RarestOf(level, has) : FirstOf(level);
            }

            if (piece >= 0)
            {
                return piece;
            }
        }

        return -1;
    }

    private int NextSequential(PeerState peer)
    {
        for (int level = MaxPriority; level > 0; level--)
        {
            if (_buckets.LevelCount(level) == 0)
            {
                continue;
            }

            Bitfield absent = _buckets.Absent(level)!;
            int piece = peer.Has is { } has ? has.FirstSetExcept(absent) : absent.FirstClear();
            if (piece >= 0)
            {
                return piece;
            }
        }

        return -1;
    }

    private int NextSuggested(PeerState peer, int level)
    {
        if (peer.Suggested is not { } suggested)
        {
            return -1;
        }

        foreach (int piece in suggested)
        {
            if (_buckets.Contains(piece) && _priority[piece] == level && peer.HasPiece(piece))
            {
                return piece;
            }
        }

        return -1;
    }

    /// <summary>For a have-all peer: the first piece of the least available non-empty bucket.</summary>
    private int FirstOf(int level)
    {
        int buckets = _buckets.BucketCount(level);
        for (int a = 0; a < buckets; a++)
        {
            ReadOnlySpan<int> bucket = _buckets.Bucket(level, a);
            if (bucket.Length > 0)
            {
                return bucket[0];
            }
        }

        return -1;
    }

    /// <summary>
    /// The rarest piece at <paramref name="level"/> that <paramref name="has"/> holds. Walks the buckets up from
    /// availability 1 (a piece this peer has is at least that available) — a peer with many pieces matches within
    /// a few probes. A peer with few pieces could make that walk long, so after a budget of probes it switches to
    /// walking the peer's own pickable pieces 64 at a time and keeping the least available, ties broken by
    /// reservoir sampling.
    /// </summary>
    private int RarestOf(int level, Bitfield has)
    {
        int budget = 64 + (PieceCount >> 6);
        int buckets = _buckets.BucketCount(level);
        for (int a = 1; a < buckets; a++)
        {
            foreach (int piece in _buckets.Bucket(level, a))
            {
                if (has[piece])
                {
                    return piece;
                }

                if (--budget == 0)
                {
                    return RarestByPeer(level, has);
                }
            }
        }

        return -1;
    }

    private int RarestByPeer(int level, Bitfield has)
    {
        Bitfield absent = _buckets.Absent(level)!;
        int best = -1;
        int bestAvailability = int.MaxValue;
        int ties = 0;
        for (int piece = has.FirstSetExcept(absent); piece >= 0; piece = has.FirstSetExcept(absent, piece + 1))
        {
            int availability = _availability[piece];
            if (availability < bestAvailability)
            {
                best = piece;
                bestAvailability = availability;
                ties = 1;
            }
            else if (availability == bestAvailability && _random.Next(++ties) == 0)
            {
                best = piece;
            }
        }

        return best;
    }
}
