namespace PeerNet.Swarm;

/// <summary>
/// Decides, once per round (every 10 s), which peers we upload to. A pure policy object: no clock (the caller
/// passes <c>now</c>), single-threaded, deterministic given a seeded <see cref="Random"/>.
/// <list type="bullet">
/// <item>Leeching — tit-for-tat (BEP 3, "Choking and optimistic unchoking"): the <c>UploadSlots − 1</c>
/// interested, non-snubbed peers that send to us fastest, plus one optimistic unchoke that rotates every
/// <see cref="ChokerOptions.OptimisticInterval"/> rounds among interested choked peers, newly connected ones
/// weighted <see cref="ChokerOptions.NewPeerWeight"/>× so they can bootstrap.</item>
/// <item>Seeding — round robin, as libtorrent's default seed choker: a peer keeps its slot for
/// <see cref="ChokerOptions.SeedTurn"/>, then yields to the interested peer that has waited longest since it was
/// last unchoked (never-unchoked peers first). Every slot takes part in the rotation, which already gives new
/// peers their chance, so there is no separate optimistic slot. Chosen over "fastest upload" because it spreads
/// the seed's pieces over the whole swarm instead of feeding the best-connected peers only.</item>
/// <item>Anti-fibrillation — a peer unchoked less than <see cref="ChokerOptions.MinimumUnchokeTime"/> ago keeps
/// its slot unless more such peers than slots compete.</item>
/// <item><see cref="ChokerOptions.UploadSlots"/> = 0 unchokes every interested peer.</item>
/// </list>
/// Snubbed peers never get a regular slot; they may still be the optimistic unchoke when nobody else is choked
/// and interested.
/// </summary>
internal sealed class Choker
{
    private readonly ChokerOptions _options;
    private readonly Random _random;
    private readonly HashSet<int> _unchoke = [];
    private readonly LeechOrder _leechOrder = new();
    private readonly SeedOrder _seedOrder = new();
    private ChokerPeer[] _scratch = [];
    private long _round;
    private long _optimisticRound;
    private int? _optimistic;

    /// <summary>Creates a choker.</summary>
    public Choker(ChokerOptions options, Random random)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(options.UploadSlots);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.OptimisticInterval, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NewPeerWeight, 1);
        _options = options;
        _random = random;
    }

    /// <summary>The current optimistic unchoke (leeching), or null.</summary>
    public int? OptimisticPeer => _optimistic;

    /// <summary>Rounds run so far.</summary>
    public long Round => _round;

    /// <summary>
    /// Runs one round over every connected peer. Returns the peers to have unchoked from now on (all others
    /// choked); the set is the choker's own and is reused by the next round.
    /// </summary>
    public IReadOnlySet<int> Run(ReadOnlySpan<ChokerPeer> peers, TimeSpan now, bool seeding)
    {
        _round++;
        _unchoke.Clear();
        if (_options.UploadSlots == 0)
        {
            foreach (ChokerPeer peer in peers)
            {
                if (IsWanting(peer))
                {
                    _unchoke.Add(peer.PeerId);
                }
            }

            _optimistic = null;
            return _unchoke;
        }

        int count = CollectCandidates(peers);
        if (seeding)
        {
            _optimistic = null;
            _seedOrder.Now = now;
            _seedOrder.Turn = _options.SeedTurn;
            Array.Sort(_scratch, 0, count, _seedOrder);
            AddFirst(count, _options.UploadSlots);
        }
        else
        {
            _leechOrder.Now = now;
            _leechOrder.Protection = _options.MinimumUnchokeTime;
            Array.Sort(_scratch, 0, count, _leechOrder);
            AddFirst(count, _options.UploadSlots - 1);
            ChooseOptimistic(peers, now);
        }

        return _unchoke;
    }

    /// <summary>Interested in us, and not a seed (a seed wants nothing, whatever it says).</summary>
    private static bool IsWanting(in ChokerPeer peer) => peer.IsInterested && !peer.IsSeed;

    private static bool IsRecentlyUnchoked(in ChokerPeer peer, TimeSpan now, TimeSpan window) =>
        peer.IsUnchoked && peer.LastUnchokedAt is { } at && now - at < window;

    /// <summary>Copies the peers that may get a regular slot (interested, not snubbed) to the scratch array; returns how many.</summary>
    private int CollectCandidates(ReadOnlySpan<ChokerPeer> peers)
    {
        if (_scratch.Length < peers.Length)
        {
            _scratch = new ChokerPeer[Math.Max(peers.Length, _scratch.Length * 2)];
        }

        int count = 0;
        foreach (ChokerPeer peer in peers)
        {
            if (IsWanting(peer) && !peer.IsSnubbed)
            {
                _scratch[count++] = peer;
            }
        }

        return count;
    }

    private void AddFirst(int count, int slots)
    {
        for (int i = 0; i < count && i < slots; i++)
        {
            _unchoke.Add(_scratch[i].PeerId);
        }
    }

    /// <summary>
    /// Keeps the optimistic unchoke for <see cref="ChokerOptions.OptimisticInterval"/> rounds, unless it left, lost
    /// interest or earned a regular slot; then draws a new one, new peers weighted
    /// <see cref="ChokerOptions.NewPeerWeight"/>×, from the first non-empty tier: interested peers we choke that
    /// are not snubbed; then ones we unchoke now (losing a regular slot); then snubbed ones; then the previous
    /// optimistic unchoke again.
    /// </summary>
    private void ChooseOptimistic(ReadOnlySpan<ChokerPeer> peers, TimeSpan now)
    {
        int? previous = _optimistic;
        if (previous is int current && _round - _optimisticRound < _options.OptimisticInterval && !_unchoke.Contains(current))
        {
            foreach (ChokerPeer peer in peers)
            {
                if (peer.PeerId == current && IsWanting(peer))
                {
                    _unchoke.Add(current);
                    return;
                }
            }
        }

        _optimistic = null;
        for (int tier = 0; tier < 4; tier++)
        {
            int total = 0;
            foreach (ChokerPeer peer in peers)
            {
                total += OptimisticWeight(peer, now, tier, previous);
            }

            if (total == 0)
            {
                continue;
            }

            int ticket = _random.Next(total);
            foreach (ChokerPeer peer in peers)
            {
                ticket -= OptimisticWeight(peer, now, tier, previous);
                if (ticket < 0)
                {
                    _optimistic = peer.PeerId;
                    _optimisticRound = _round;
                    _unchoke.Add(peer.PeerId);
                    return;
                }
            }
        }
    }

    private int OptimisticWeight(in ChokerPeer peer, TimeSpan now, int tier, int? previous)
    {
        bool eligible = IsWanting(peer) && !_unchoke.Contains(peer.PeerId) && tier switch
        {
            0 => !peer.IsUnchoked && !peer.IsSnubbed && peer.PeerId != previous,
            1 => !peer.IsSnubbed && peer.PeerId != previous,
            2 => peer.PeerId != previous,
            _ => true,
        };
        if (!eligible)
        {
            return 0;
        }

        return now - peer.ConnectedSince < _options.NewPeerWindow ? _options.NewPeerWeight : 1;
    }

    /// <summary>
    /// Leeching order: recently unchoked peers first (anti-fibrillation), then by download rate from the peer,
    /// ties kept as they are (unchoked first), then by id for determinism.
    /// </summary>
    private sealed class LeechOrder : IComparer<ChokerPeer>
    {
        public TimeSpan Now { get; set; }

        public TimeSpan Protection { get; set; }

        public int Compare(ChokerPeer x, ChokerPeer y)
        {
            int c = IsRecentlyUnchoked(y, Now, Protection).CompareTo(IsRecentlyUnchoked(x, Now, Protection));
            if (c == 0)
            {
                c = y.DownloadRate.CompareTo(x.DownloadRate);
            }

            if (c == 0)
            {
                c = y.IsUnchoked.CompareTo(x.IsUnchoked);
            }

            return c != 0 ? c : x.PeerId.CompareTo(y.PeerId);
        }
    }

    /// <summary>
    /// Seeding order: peers still within their turn first (the most recently unchoked first, should there be more
    /// than slots), then the one that has waited longest since it was last unchoked, never-unchoked first; ties by
    /// connection time, then id.
    /// </summary>
    private sealed class SeedOrder : IComparer<ChokerPeer>
    {
        public TimeSpan Now { get; set; }

        public TimeSpan Turn { get; set; }

        public int Compare(ChokerPeer x, ChokerPeer y)
        {
            bool xTurn = IsRecentlyUnchoked(x, Now, Turn);
            bool yTurn = IsRecentlyUnchoked(y, Now, Turn);
            int c = yTurn.CompareTo(xTurn);
            if (c != 0)
            {
                return c;
            }

            TimeSpan xAt = x.LastUnchokedAt ?? TimeSpan.MinValue;
            TimeSpan yAt = y.LastUnchokedAt ?? TimeSpan.MinValue;
            c = xTurn ? yAt.CompareTo(xAt) : xAt.CompareTo(yAt);
            if (c == 0)
            {
                c = x.ConnectedSince.CompareTo(y.ConnectedSince);
            }

            return c != 0 ? c : x.PeerId.CompareTo(y.PeerId);
        }
    }
}
