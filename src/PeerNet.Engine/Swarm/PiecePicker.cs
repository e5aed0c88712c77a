using PeerNet.Metainfo;
using PeerNet.PeerWire;

namespace PeerNet.Swarm;

/// <summary>
/// Decides which 16 KiB blocks to request from which peer, and keeps the books on every block in flight. A pure
/// policy object: no I/O, no clock, no locks — the owning torrent's loop calls it — and, given a seeded
/// <see cref="Random"/>, deterministic.
/// <para>
/// Order of a pick for one peer: (1) blocks of pieces this peer already downloads, (2) blocks of pieces others
/// started that suit it (orphans, and pieces of its <see cref="PeerSpeed"/> class unless it is fast), (3) new
/// pieces — highest priority first, then BEP 6 suggestions, then rarest first with a random tie-break, or lowest
/// index first when <see cref="Sequential"/> — (4) any other partial piece, and (5) in endgame, blocks already
/// requested from other peers, at most <see cref="MaxRequestsPerBlock"/> requests per block.
/// </para>
/// </summary>
internal sealed partial class PiecePicker
{
    /// <summary>Size of a request (BEP 3); only the last block of a piece may be shorter.</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>Highest piece priority.</summary>
    public const int MaxPriority = 7;

    /// <summary>Priority of every piece until the caller says otherwise.</summary>
    public const int DefaultPriority = 4;

    /// <summary>Upper bound of <see cref="MaxRequestsPerBlock"/>.</summary>
    public const int MaxRequestsPerBlockLimit = 4;

    /// <summary>Suggestions remembered per peer; older ones are dropped.</summary>
    public const int MaxSuggestions = 16;

    private readonly Func<int, int> _pieceLength;
    private readonly Random _random;
    private readonly Bitfield _have;
    private readonly Bitfield _notWanted;
    private readonly byte[] _priority;
    private readonly int[] _availability;
    private readonly Buckets _buckets;
    private readonly Dictionary<int, PartialPiece> _partialByPiece = [];
    private readonly List<PartialPiece> _partials = [];
    private readonly Stack<PartialPiece> _pool = new();
    private readonly Dictionary<int, PeerState> _peers = [];
    private readonly List<PeerState?> _slots = [];
    private readonly Stack<int> _freeSlots = new();
    private readonly int[] _cancelScratch = new int[MaxRequestsPerBlockLimit];
    private int _haveAllPeers;
    private int _remaining;
    private int _maxRequestsPerBlock = 3;

    /// <summary>
    /// Creates a picker for <paramref name="pieceCount"/> pieces. <paramref name="pieceLength"/> gives the bytes
    /// to request for a piece: the nominal length, less for the last piece, and in v2 less for each file's last
    /// piece (its data length). Every piece starts wanted at <see cref="DefaultPriority"/>.
    /// </summary>
    public PiecePicker(int pieceCount, Func<int, int> pieceLength, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        ArgumentNullException.ThrowIfNull(pieceLength);
        ArgumentNullException.ThrowIfNull(random);
        PieceCount = pieceCount;
        _pieceLength = pieceLength;
        _random = random;
        _have = new Bitfield(pieceCount);
        _notWanted = new Bitfield(pieceCount);
        _priority = new byte[pieceCount];
        _availability = new int[pieceCount];
        _buckets = new Buckets(pieceCount, random);
        Array.Fill(_priority, (byte)DefaultPriority);
        for (int i = 0; i < pieceCount; i++)
        {
            _buckets.Insert(i, DefaultPriority, 0);
        }

        _remaining = pieceCount;
    }

    /// <summary>Creates a picker for a v1 layout: <paramref name="totalLength"/> bytes cut into equal pieces, the last one short.</summary>
    public PiecePicker(long totalLength, int pieceLength, Random random)
        : this(CountPieces(totalLength, pieceLength), UniformLength(totalLength, pieceLength), random)
    {
    }

    /// <summary>Number of pieces.</summary>
    public int PieceCount { get; }

    /// <summary>Wanted pieces (priority above 0) we do not have yet.</summary>
    public int Remaining => _remaining;

    /// <summary>Pieces we have.</summary>
    public int HaveCount => _have.SetCount;

    /// <summary>Pick new pieces lowest index first (streaming) instead of rarest first.</summary>
    public bool Sequential { get; set; }

    /// <summary>Pieces being downloaded (started and not yet verified or failed).</summary>
    public int PartialCount => _partials.Count;

    /// <summary>Peers known to the picker.</summary>
    public int PeerCount => _peers.Count;

    /// <summary>Endgame: most concurrent requests of one block (the first plus duplicates); 1 to 4, default 3.</summary>
    public int MaxRequestsPerBlock
    {
        get => _maxRequestsPerBlock;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxRequestsPerBlockLimit);
            _maxRequestsPerBlock = value;
        }
    }

    /// <summary>
    /// Endgame: every wanted piece is had or started, so a peer that offers no free block may be asked for blocks
    /// already requested elsewhere. Strict, as libtorrent's default (<c>strict_end_game_mode</c>): a piece nobody
    /// has yet keeps us out of it. Counting only the pieces connected peers have put a swarm behind a slow seeder in
    /// endgame nearly all the time (every piece the leechers share is started within a second), and 12 leechers
    /// of the demo fetched 40-60 MiB of duplicates for 768 MiB; strict, about 1 MiB, finishing as fast.
    /// </summary>
    public bool InEndgame => _partials.Count > 0 && _buckets.Count == 0;

    /// <summary>Whether we have piece <paramref name="piece"/>.</summary>
    public bool HasPiece(int piece) => _have[piece];

    /// <summary>Whether piece <paramref name="piece"/> is being downloaded.</summary>
    public bool IsPartial(int piece) => _partialByPiece.ContainsKey(piece);

    /// <summary>Priority of piece <paramref name="piece"/> (0 = skip).</summary>
    public int GetPiecePriority(int piece) => _priority[piece];

    /// <summary>Bytes of block <paramref name="begin"/> of <paramref name="piece"/>, or 0 when it is not a block (to check a <c>piece</c> message's length).</summary>
    public int GetBlockLength(int piece, int begin)
    {
        if ((uint)piece >= (uint)PieceCount || begin < 0 || begin % BlockSize != 0)
        {
            return 0;
        }

        int length = _pieceLength(piece);
        return begin < length ? Math.Min(BlockSize, length - begin) : 0;
    }

    /// <summary>
    /// Marks piece <paramref name="piece"/> as ours (verified, or found on disk). Returns false if we had it.
    /// Any requests still out for it are dropped from the books; the caller cancels them.
    /// </summary>
    public bool MarkVerified(int piece)
    {
        if (!_have.Set(piece))
        {
            return false;
        }

        if (_partialByPiece.TryGetValue(piece, out PartialPiece? partial))
        {
            DropRequests(partial, null);
            RemovePartial(partial);
        }
        else if (_buckets.Contains(piece))
        {
            _buckets.Remove(piece);
        }

        if (!_notWanted[piece])
        {
            _remaining--;
            _notWanted.Set(piece);
        }

        return true;
    }

    /// <summary>
    /// Sets the priority of piece <paramref name="piece"/>: 0 skips it (deselected files, pieces wholly inside pad
    /// files), 1–7 order it, higher first. A piece already in progress keeps its blocks in flight but gets no new
    /// requests while at 0.
    /// </summary>
    public void SetPiecePriority(int piece, int priority)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(priority);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(priority, MaxPriority);
        int old = _priority[piece];
        if (old == priority)
        {
            return;
        }

        _priority[piece] = (byte)priority;
        if (_have[piece])
        {
            return;
        }

        if (old == 0)
        {
            _remaining++;
            _notWanted.Clear(piece);
        }
        else if (priority == 0)
        {
            _remaining--;
            _notWanted.Set(piece);
        }

        if (_buckets.Contains(piece))
        {
            if (priority == 0)
            {
                _buckets.Remove(piece);
            }
            else
            {
                _buckets.Move(piece, priority, _availability[piece]);
            }
        }
        else if (old == 0 && !_partialByPiece.ContainsKey(piece))
        {
            _buckets.Insert(piece, priority, _availability[piece]);
        }
    }

    /// <summary>
    /// Derives piece priorities from file priorities (one per file of <paramref name="files"/>): each piece gets
    /// the highest priority of the stored files it overlaps, so a piece shared by a wanted and a skipped file is
    /// still fetched. Pad files, empty files and symlinks count for nothing, so a piece wholly inside pad files (or
    /// otherwise covered by no stored file) gets 0 and is never requested.
    /// </summary>
    public void SetFilePriorities(IReadOnlyList<TorrentFile> files, ReadOnlySpan<int> filePriorities)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count != filePriorities.Length)
        {
            ThrowHelper.ThrowArgument(nameof(filePriorities), "There must be one priority per file.");
        }

        int[] pieces = new int[PieceCount];
        for (int f = 0; f < files.Count; f++)
        {
            TorrentFile file = files[f];
            int priority = filePriorities[f];
            ArgumentOutOfRangeException.ThrowIfNegative(priority);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(priority, MaxPriority);
            if (file.Length == 0 || file.IsPadFile || file.IsSymlink)
            {
                continue;
            }

            for (int p = file.FirstPiece; p <= file.LastPiece; p++)
            {
                pieces[p] = Math.Max(pieces[p], priority);
            }
        }

        for (int p = 0; p < pieces.Length; p++)
        {
            SetPiecePriority(p, pieces[p]);
        }
    }

    private static int CountPieces(long totalLength, int pieceLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(pieceLength, 1);
        long count = (totalLength + pieceLength - 1) / pieceLength;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, int.MaxValue, nameof(totalLength));
        return (int)count;
    }

    private static Func<int, int> UniformLength(long totalLength, int pieceLength) =>
        piece => (int)Math.Min(pieceLength, totalLength - ((long)piece * pieceLength));

    private PartialPiece StartPiece(int piece, PeerState owner)
    {
        int length = _pieceLength(piece);
        if (length <= 0)
        {
            ThrowHelper.ThrowInvalidOperation($"Piece {piece} has no bytes to request; give it priority 0.");
        }

        _buckets.Remove(piece);

        PartialPiece partial = _pool.Count > 0 ? _pool.Pop() : new PartialPiece();
        partial.Reset(piece, length);
        partial.Owner = owner.Slot;
        partial.Speed = owner.Speed;
        partial.ListIndex = _partials.Count;
        _partials.Add(partial);
        _partialByPiece.Add(piece, partial);
        return partial;
    }

    private void RemovePartial(PartialPiece partial)
    {
        int i = partial.ListIndex;
        PartialPiece last = _partials[^1];
        _partials[i] = last;
        last.ListIndex = i;
        _partials.RemoveAt(_partials.Count - 1);
        _partialByPiece.Remove(partial.Piece);
        _pool.Push(partial);
    }

    /// <summary>Returns a piece with no block received or requested to the not-started pool.</summary>
    private void Unstart(PartialPiece partial)
    {
        int piece = partial.Piece;
        RemovePartial(partial);
        if (_priority[piece] > 0)
        {
            _buckets.Insert(piece, _priority[piece], _availability[piece]);
        }
    }

    /// <summary>
    /// Forgets every request of <paramref name="partial"/>'s blocks (those of <paramref name="only"/>, or all),
    /// freeing blocks nobody else has requested. Returns how many requests were dropped.
    /// </summary>
    private int DropRequests(PartialPiece partial, PeerState? only)
    {
        int dropped = 0;
        for (int b = 0; b < partial.BlockCount; b++)
        {
            if (partial.State[b] != BlockState.Requested)
            {
                continue;
            }

            if (only is not null)
            {
                if (partial.RemoveRequester(b, only.Slot))
                {
                    only.Outstanding--;
                    dropped++;
                    FreeIfUnrequested(partial, b);
                }

                continue;
            }

            int start = b * MaxRequestsPerBlockLimit;
            for (int k = 0; k < partial.RequestCount[b]; k++)
            {
                _slots[partial.Requesters[start + k]]!.Outstanding--;
                dropped++;
            }

            partial.RequestCount[b] = 0;
            FreeIfUnrequested(partial, b);
        }

        return dropped;
    }

    private static void FreeIfUnrequested(PartialPiece partial, int block)
    {
        if (partial.RequestCount[block] == 0 && partial.State[block] == BlockState.Requested)
        {
            partial.State[block] = BlockState.Free;
            partial.Requested--;
            partial.Free++;
            partial.FreeHint = Math.Min(partial.FreeHint, block);
        }
    }
}
