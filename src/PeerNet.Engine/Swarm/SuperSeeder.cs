using PeerNet.PeerWire;

namespace PeerNet.Swarm;

/// <summary>
/// BEP 16 super-seeding for a complete seed whose upload is the swarm's bottleneck: each peer is told of only a
/// few pieces (by <c>have</c>, after an empty piece set), chosen so that the seed sends every piece once before
/// any piece twice. A pure policy object: no I/O, no clock, single-threaded (the torrent's loop), deterministic
/// given a seeded <see cref="Random"/>.
/// <list type="bullet">
/// <item>Which piece: one the peer lacks, never handed out before (a shuffled pool); once those are gone, the
/// least spread of the rest — not yet fully requested by anyone first, then fewest peers that have it or were
/// shown it — within a bounded scan from a random start.</item>
/// <item>How many: an unchoked peer is shown <see cref="UnchokedReveals"/> pieces at a time (half a second of
/// its rate), so its requests keep the seed's uplink busy; a choked one a single piece, which keeps it interested (so the choker can pick
/// it) without holding back pieces it cannot fetch yet.</item>
/// <item>When the next: as soon as the peer says it has a shown piece (received and verified, or got elsewhere),
/// or everything it requested from us has been sent (<see cref="OnDrained"/>: for clients that never announce a
/// piece to a peer they believe has it), or it says it is not interested (it skips that piece's file). A piece
/// requested in full counts as on its way, so it is not shown to another peer meanwhile, and a peer's queue at
/// our uplink stays within what it was shown. BEP 16's strict form waits for the piece to appear at another peer;
/// this one keeps each peer's pipeline full instead.</item>
/// </list>
/// </summary>
internal sealed class SuperSeeder
{
    /// <summary>Pieces looked at, at most, to choose one once every piece has been handed out.</summary>
    public const int ScanBudget = 4096;

    /// <summary>Bytes shown to an unchoked peer at once, at least (two pieces when pieces are larger).</summary>
    public const long MinRevealBytes = 256 * 1024;

    /// <summary>Seconds of a peer's upload rate kept shown to it, so its requests never wait for the next <c>have</c>.</summary>
    public const double RevealSeconds = 0.5;

    /// <summary>Most pieces shown to one peer at once.</summary>
    public const int MaxReveals = 256;

    private readonly long _pieceLength;

    private readonly Func<int, int> _requestableLength;
    private readonly Random _random;
    private readonly int[] _spread;     // peers that have the piece, plus peers it is shown to and not yet done with
    private readonly bool[] _served;    // some peer requested every block of it (or had it)
    private readonly List<int> _fresh;  // never shown to anyone, nobody has it; popped from the end, stale entries skipped
    private readonly Dictionary<int, PeerState> _peers = [];

    /// <summary>Creates the policy for <paramref name="pieceCount"/> pieces of <paramref name="pieceLength"/> bytes (nominal).</summary>
    /// <param name="pieceCount">Pieces in the torrent.</param>
    /// <param name="pieceLength">The nominal piece length, which sets <see cref="UnchokedReveals"/>.</param>
    /// <param name="requestableLength">Bytes a peer requests of a piece (less for the last one, and pad or gap bytes in v2/hybrid).</param>
    /// <param name="random">Shuffles the pool and breaks ties.</param>
    public SuperSeeder(int pieceCount, long pieceLength, Func<int, int> requestableLength, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(pieceLength, 1);
        ArgumentNullException.ThrowIfNull(requestableLength);
        ArgumentNullException.ThrowIfNull(random);
        PieceCount = pieceCount;
        _requestableLength = requestableLength;
        _random = random;
        _spread = new int[pieceCount];
        _served = new bool[pieceCount];
        int[] pool = [.. Enumerable.Range(0, pieceCount)];
        random.Shuffle(pool);
        _fresh = [.. pool];
        _pieceLength = pieceLength;
    }

    /// <summary>Pieces in the torrent.</summary>
    public int PieceCount { get; }

    /// <summary>
    /// Pieces to keep shown to an unchoked peer we send <paramref name="bytesPerSecond"/> to: half a second of
    /// that rate, at least <see cref="MinRevealBytes"/> and two pieces, at most <see cref="MaxReveals"/>. Revealing
    /// a piece when the previous one is fully requested, this keeps the peer's requests ahead of our uplink; more
    /// would only hold pieces back from other peers.
    /// </summary>
    public int UnchokedReveals(double bytesPerSecond)
    {
        double bytes = Math.Max(MinRevealBytes, bytesPerSecond * RevealSeconds);
        return (int)Math.Clamp(Math.Ceiling(bytes / _pieceLength), 2, MaxReveals);
    }

    /// <summary>Pieces some peer has requested in full, had, or was given: the first copy's progress.</summary>
    public int ServedCount { get; private set; }

    /// <summary>How many peers have a piece or will soon: those that have it, are being sent it, or were shown it.</summary>
    public int Spread(int piece) => _spread[piece];

    /// <summary>Peers known.</summary>
    public int PeerCount => _peers.Count;

    /// <summary>
    /// Starts tracking a peer with what it says it has (null: nothing yet). A peer that has every piece needs
    /// nothing and is shown nothing.
    /// </summary>
    public void AddPeer(int peer, Bitfield? pieces)
    {
        if (_peers.ContainsKey(peer))
        {
            RemovePeer(peer);
        }

        var state = new PeerState(PieceCount);
        _peers[peer] = state;
        if (pieces is not null)
        {
            for (int piece = pieces.FirstSet(0); piece >= 0; piece = pieces.FirstSet(piece + 1))
            {
                PeerHas(peer, piece);
            }
        }
    }

    /// <summary>Forgets a peer: what it had and what it was shown no longer count towards a piece's spread.</summary>
    public void RemovePeer(int peer)
    {
        if (!_peers.Remove(peer, out PeerState? state))
        {
            return;
        }

        for (int piece = state.Has.FirstSet(0); piece >= 0; piece = state.Has.FirstSet(piece + 1))
        {
            _spread[piece]--;
        }

        foreach (int piece in state.Shown.Keys)
        {
            _spread[piece]--;
        }

        foreach (int piece in state.InFlight)
        {
            _spread[piece]--;
        }
    }

    /// <summary>Whether the peer is tracked (it connected while super-seeding and has not left).</summary>
    public bool Tracks(int peer) => _peers.ContainsKey(peer);

    /// <summary>Whether <paramref name="peer"/> was told we have <paramref name="piece"/> (it may request it).</summary>
    public bool WasRevealed(int peer, int piece)
        => _peers.TryGetValue(peer, out PeerState? state) && (uint)piece < (uint)PieceCount && state.Revealed[piece];

    /// <summary>Pieces shown to the peer and not yet done with: not fully requested, or requested and on their way.</summary>
    public int Outstanding(int peer) => _peers.TryGetValue(peer, out PeerState? state) ? state.Shown.Count + state.InFlight.Count : 0;

    /// <summary>Pieces the peer requested in full and has not announced yet.</summary>
    public int InFlight(int peer) => _peers.TryGetValue(peer, out PeerState? state) ? state.InFlight.Count : 0;

    /// <summary>
    /// The peer says it has a piece (bitfield or <c>have</c>). Returns true when that finished a piece shown
    /// to it (whether being requested or on its way), so the caller should reveal more.
    /// </summary>
    public bool PeerHas(int peer, int piece)
    {
        if (!_peers.TryGetValue(peer, out PeerState? state) || (uint)piece >= (uint)PieceCount || state.Has[piece])
        {
            return false;
        }

        state.Has.Set(piece);
        _spread[piece]++;
        MarkServed(piece);
        if (state.InFlight.Remove(piece))
        {
            _spread[piece]--;
            return true;
        }

        return Finish(state, piece, inFlight: false);
    }

    /// <summary>
    /// The peer requested <paramref name="length"/> bytes of a piece it was shown. Once it has requested the whole
    /// piece, the piece is served and on its way: it still counts as outstanding for the peer (and towards its
    /// spread) until the peer announces it or <see cref="OnDrained"/>. Returns true when the piece became served.
    /// </summary>
    public bool OnRequest(int peer, int piece, int length)
    {
        if (!_peers.TryGetValue(peer, out PeerState? state) || !state.Shown.TryGetValue(piece, out long requested))
        {
            return false;
        }

        requested += length;
        if (requested < _requestableLength(piece))
        {
            state.Shown[piece] = requested;
            return false;
        }

        MarkServed(piece);
        return Finish(state, piece, inFlight: true);
    }

    /// <summary>
    /// Everything the peer requested has been sent: pieces on their way to it are taken as had (still counted in the
    /// spread, no longer outstanding). For peers that never announce a piece to a peer they believe has it ("have suppression"), which
    /// would otherwise be shown nothing more. Returns true when that freed anything.
    /// </summary>
    public bool OnDrained(int peer)
    {
        if (!_peers.TryGetValue(peer, out PeerState? state) || state.InFlight.Count == 0)
        {
            return false;
        }

        // Sent in full: the peer has them, or will in a moment; they stay counted in the spread as if announced.
        foreach (int piece in state.InFlight)
        {
            state.Has.Set(piece);
        }

        state.InFlight.Clear();
        return true;
    }

    /// <summary>
    /// The peer is not interested although it lacks pieces: what it was shown is nothing it wants (a skipped
    /// file). Releases those pieces so the next reveal shows it others.
    /// </summary>
    public void OnNotInterested(int peer)
    {
        if (!_peers.TryGetValue(peer, out PeerState? state))
        {
            return;
        }

        foreach (int piece in state.Shown.Keys)
        {
            _spread[piece]--;
        }

        state.Shown.Clear();
    }

    /// <summary>
    /// Chooses pieces to show the peer until it has <paramref name="target"/> outstanding (or <paramref name="output"/>
    /// is full, or it lacks nothing we have not shown it); writes them to <paramref name="output"/> and returns
    /// how many. The caller sends a <c>have</c> for each.
    /// </summary>
    public int Reveal(int peer, int target, Span<int> output)
    {
        if (!_peers.TryGetValue(peer, out PeerState? state))
        {
            return 0;
        }

        int n = 0;
        while (n < output.Length && state.Shown.Count + state.InFlight.Count < target)
        {
            int piece = NextFresh(state);
            if (piece < 0)
            {
                piece = LeastSpread(state);

                // Past the first copy, a second one of a piece is worth sending only to a peer with nothing else
                // coming from us: one at a time, so it never holds back the last pieces of the first copy.
                if (piece >= 0 && _served[piece] && state.Shown.Count + state.InFlight.Count > 0)
                {
                    break;
                }
            }

            if (piece < 0)
            {
                break;
            }

            state.Revealed[piece] = true;
            state.Shown[piece] = 0;
            _spread[piece]++;
            output[n++] = piece;
        }

        return n;
    }

    private void MarkServed(int piece)
    {
        if (!_served[piece])
        {
            _served[piece] = true;
            ServedCount++;
        }
    }

    /// <summary>
    /// The peer needs no more of a piece it was shown: it no longer counts as outstanding. A piece it requested in
    /// full still counts towards the spread until the peer says it has it (or leaves), so that it is not shown to
    /// another peer while in flight.
    /// </summary>
    private bool Finish(PeerState state, int piece, bool inFlight)
    {
        if (!state.Shown.Remove(piece))
        {
            return false;
        }

        if (!inFlight || !state.InFlight.Add(piece))
        {
            _spread[piece]--;
        }

        return true;
    }

    /// <summary>A piece nobody has been shown or has, that the peer lacks; stale pool entries are dropped on the way.</summary>
    private int NextFresh(PeerState state)
    {
        for (int i = _fresh.Count - 1; i >= 0; i--)
        {
            int piece = _fresh[i];
            if (_spread[piece] != 0 || _served[piece])
            {
                _fresh.RemoveAt(i);  // the last entry when the pool is consumed in order: O(1)
                continue;
            }

            if (!state.Has[piece] && !state.Revealed[piece])
            {
                _fresh.RemoveAt(i);
                return piece;
            }
        }

        return -1;
    }

    /// <summary>
    /// Once the pool is empty: among pieces the peer lacks and was not shown, the one not yet served, then least
    /// spread, ties broken at random; at most <see cref="ScanBudget"/> pieces looked at, from a random start.
    /// </summary>
    private int LeastSpread(PeerState state)
    {
        if (PieceCount == 0)
        {
            return -1;
        }

        int start = _random.Next(PieceCount);
        int scanned = Math.Min(PieceCount, ScanBudget);
        int best = -1;
        long bestKey = long.MaxValue;
        for (int i = 0; i < scanned; i++)
        {
            int piece = start + i;
            if (piece >= PieceCount)
            {
                piece -= PieceCount;
            }

            if (state.Has[piece] || state.Revealed[piece])
            {
                continue;
            }

            long key = ((_served[piece] ? 1L : 0L) << 32) | (uint)_spread[piece];
            if (key < bestKey)
            {
                best = piece;
                bestKey = key;
            }
        }

        return best;
    }

    private sealed class PeerState(int pieceCount)
    {
        /// <summary>What the peer says it has.</summary>
        public Bitfield Has { get; } = new(pieceCount);

        /// <summary>Every piece we have told the peer about (a <c>have</c> cannot be taken back).</summary>
        public bool[] Revealed { get; } = new bool[pieceCount];

        /// <summary>Pieces shown and not yet done with, and the bytes of each requested so far.</summary>
        public Dictionary<int, long> Shown { get; } = [];

        /// <summary>Pieces requested in full and not yet announced by the peer: on their way to it.</summary>
        public HashSet<int> InFlight { get; } = [];
    }
}
