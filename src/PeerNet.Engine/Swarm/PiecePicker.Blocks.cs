namespace PeerNet.Swarm;

internal sealed partial class PiecePicker
{
    /// <summary>
    /// A <c>piece</c> message from <paramref name="peer"/> carrying block <paramref name="begin"/> of
    /// <paramref name="piece"/> (the caller checks its length with <see cref="GetBlockLength"/>). A missing block
    /// of a piece in progress is accepted even if its request to this peer had timed out; the peer is recorded as
    /// the block's source; every other peer it was requested from is listed for a <c>cancel</c>.
    /// </summary>
    public BlockReceipt OnBlockReceived(int peer, int piece, int begin)
    {
        PeerState state = GetPeer(peer);
        if ((uint)piece >= (uint)PieceCount || begin < 0 || begin % BlockSize != 0)
        {
            return new BlockReceipt(BlockStatus.Unrequested, false, []);
        }

        if (_have[piece])
        {
            return new BlockReceipt(BlockStatus.Duplicate, false, []);
        }

        int block = begin / BlockSize;
        if (!_partialByPiece.TryGetValue(piece, out PartialPiece? partial) || block >= partial.BlockCount)
        {
            return new BlockReceipt(BlockStatus.Unrequested, false, []);
        }

        if (partial.State[block] == BlockState.Received)
        {
            return new BlockReceipt(BlockStatus.Duplicate, false, []);
        }

        if (partial.RemoveRequester(block, state.Slot))
        {
            state.Outstanding--;
        }

        if (partial.State[block] == BlockState.Free)
        {
            partial.Free--;
        }
        else
        {
            partial.Requested--;
        }

        partial.State[block] = BlockState.Received;
        partial.Received++;
        partial.Sources[block] = peer;

        int cancels = partial.RequestCount[block];
        int start = block * MaxRequestsPerBlockLimit;
        for (int k = 0; k < cancels; k++)
        {
            PeerState other = _slots[partial.Requesters[start + k]]!;
            other.Outstanding--;
            _cancelScratch[k] = other.Id;
        }

        partial.RequestCount[block] = 0;
        return new BlockReceipt(BlockStatus.Accepted, partial.Received == partial.BlockCount, _cancelScratch.AsSpan(0, cancels));
    }

    /// <summary>BEP 6 <c>reject request</c>: the block is free to pick again. Returns whether it was outstanding.</summary>
    public bool OnRequestRejected(int peer, int piece, int begin) => Release(peer, piece, begin);

    /// <summary>We sent <c>cancel</c> for the request (our choice): the block is free to pick again.</summary>
    public bool OnRequestCancelled(int peer, int piece, int begin) => Release(peer, piece, begin);

    /// <summary>The request waited too long: the block is free to pick again (a late answer is still accepted).</summary>
    public bool OnRequestTimedOut(int peer, int piece, int begin) => Release(peer, piece, begin);

    /// <summary>The piece hashed correctly: it is ours (same as <see cref="MarkVerified"/>).</summary>
    public bool OnHashPassed(int piece) => MarkVerified(piece);

    /// <summary>
    /// The piece failed its hash check: every block goes back to not-requested and the piece to the pool of new
    /// pieces. Returns, per block, the peer that delivered it, for smart-ban (BEP 3 only says the piece is bad;
    /// comparing these sources with the ones of the eventual good copy tells which peer lied).
    /// </summary>
    public int[] OnHashFailed(int piece)
    {
        if (!_partialByPiece.TryGetValue(piece, out PartialPiece? partial) || partial.Received != partial.BlockCount)
        {
            ThrowHelper.ThrowInvalidOperation($"Piece {piece} is not a completely received piece.");
        }

        int[] sources = partial.Sources.AsSpan(0, partial.BlockCount).ToArray();
        Unstart(partial);
        return sources;
    }

    /// <summary>
    /// Copies, per block of a piece in progress, the peer that delivered it (undefined for blocks not received)
    /// into <paramref name="destination"/>; returns the block count, or 0 if the piece is not in progress. Call
    /// before <see cref="OnHashPassed"/> to learn who sent the good copy.
    /// </summary>
    public int GetBlockSources(int piece, Span<int> destination)
    {
        if (!_partialByPiece.TryGetValue(piece, out PartialPiece? partial))
        {
            return 0;
        }

        partial.Sources.AsSpan(0, partial.BlockCount).CopyTo(destination);
        return partial.BlockCount;
    }

    private bool Release(int peer, int piece, int begin)
    {
        PeerState state = GetPeer(peer);
        if ((uint)piece >= (uint)PieceCount || begin < 0 || begin % BlockSize != 0
            || !_partialByPiece.TryGetValue(piece, out PartialPiece? partial))
        {
            return false;
        }

        int block = begin / BlockSize;
        if (block >= partial.BlockCount || !partial.RemoveRequester(block, state.Slot))
        {
            return false;
        }

        state.Outstanding--;
        FreeIfUnrequested(partial, block);
        UnstartIfIdle(partial);
        return true;
    }
}
