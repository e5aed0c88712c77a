using PeerNet.PeerWire;

namespace PeerNet.Swarm;

/// <summary>
/// BEP 16 super-seeding (<see cref="TorrentOptions.SuperSeeding"/>): the wire side of <see cref="SuperSeeder"/>.
/// A peer that connects while this torrent is a complete seed with the option on is sent an empty piece set and
/// then one <c>have</c> per piece the policy shows it; it gets no allowed-fast pieces. Peers connected before
/// (or when the option is off) see every piece as usual.
/// </summary>
internal sealed partial class TorrentSwarm
{
    private SuperSeeder? _superSeeder;
    private int[] _revealScratch = [];

    /// <summary>The super-seeding policy, once a peer has been super-seeded (tests read it).</summary>
    internal SuperSeeder? SuperSeeder => _superSeeder;

    /// <summary>Whether this peer is being super-seeded: it knows only the pieces it was shown.</summary>
    private bool IsSuperSeeded(PeerConnection peer) => _superSeeder?.Tracks(peer.Id) == true;

    /// <summary>
    /// At connection: starts super-seeding the peer when the option is on and we have every piece. BEP 16: the
    /// seed "masquerades as a normal client with no data" — an empty piece set (have-none, or no bitfield at all,
    /// which BEP 3 allows a peer with nothing) — then shows it one piece. Returns false to send the piece set as usual.
    /// </summary>
    private bool TryStartSuperSeeding(PeerConnection peer)
    {
        if (!Options.SuperSeeding || State != TorrentState.Seeding || _have.SetCount != PieceCount || PieceCount == 0)
        {
            return false;
        }

        _superSeeder ??= new SuperSeeder(PieceCount, Storage.Map.PieceLength, Storage.Map.GetRequestableLength, new Random(Options.RandomSeed ?? Random.Shared.Next()));
        _superSeeder.AddPeer(peer.Id, null);
        if (peer.SupportsFast)
        {
            peer.SendRaw(PeerMessageWriter.HaveNone);
        }

        RevealPieces(peer);
        return true;
    }

    /// <summary>Tops up the pieces shown to a super-seeded peer: one while we choke it, <see cref="SuperSeeder.UnchokedReveals"/> once unchoked.</summary>
    private void RevealPieces(PeerConnection peer)
    {
        if (_superSeeder is null || peer.IsClosed || !_superSeeder.Tracks(peer.Id))
        {
            return;
        }

        int target = peer.AmChoking ? 1 : _superSeeder.UnchokedReveals(peer.UploadRate.BytesPerSecond);
        if (_revealScratch.Length < target)
        {
            _revealScratch = new int[SuperSeeder.MaxReveals];
        }

        int n = _superSeeder.Reveal(peer.Id, target, _revealScratch.AsSpan(0, target));
        for (int i = 0; i < n; i++)
        {
            peer.SendHave(_revealScratch[i]);
        }
    }

    /// <summary>A super-seeded peer's bitfield (or have-none) arrived: what it has counts towards each piece's spread.</summary>
    private void SuperSeedOnPieceSet(PeerConnection peer)
    {
        if (!IsSuperSeeded(peer) || peer.Pieces is not { } pieces)
        {
            return;
        }

        bool finished = false;
        for (int piece = pieces.FirstSet(0); piece >= 0; piece = pieces.FirstSet(piece + 1))
        {
            finished |= _superSeeder!.PeerHas(peer.Id, piece);
        }

        if (finished)
        {
            RevealPieces(peer);
        }
    }

    /// <summary>A peer announced a piece: it spreads; if it was one the peer was shown, show it another.</summary>
    private void SuperSeedOnHave(PeerConnection peer, int piece)
    {
        if (IsSuperSeeded(peer) && _superSeeder!.PeerHas(peer.Id, piece))
        {
            RevealPieces(peer);
        }
    }

    /// <summary>
    /// Checks a super-seeded peer's request: a piece it was never shown cannot be known to it from us, so it is
    /// refused (rejected under BEP 6, else dropped) without closing — the peer may have guessed from elsewhere.
    /// Returns false when refused.
    /// </summary>
    private bool SuperSeedAllowsRequest(PeerConnection peer, int piece)
        => !IsSuperSeeded(peer) || _superSeeder!.WasRevealed(peer.Id, piece);

    /// <summary>A super-seeded peer's request was queued: counts towards the piece being served.</summary>
    private void SuperSeedOnRequestServed(PeerConnection peer, int piece, int length)
    {
        if (IsSuperSeeded(peer))
        {
            _superSeeder!.OnRequest(peer.Id, piece, length);
        }
    }

    /// <summary>Not interested while lacking pieces: it wants none of those it was shown (skipped files); show it others.</summary>
    private void SuperSeedOnNotInterested(PeerConnection peer)
    {
        if (IsSuperSeeded(peer) && !peer.IsSeed)
        {
            _superSeeder!.OnNotInterested(peer.Id);
            RevealPieces(peer);
        }
    }

    private void SuperSeedOnPeerClosed(PeerConnection peer) => _superSeeder?.RemovePeer(peer.Id);

    /// <summary>
    /// Every tick: a super-seeded peer whose requests have all been sent but which announced none of the pieces on
    /// their way (it suppresses <c>have</c> to a peer it believes has them) is shown more anyway.
    /// </summary>
    private void SuperSeedOnTick()
    {
        if (_superSeeder is null)
        {
            return;
        }

        foreach (PeerConnection peer in _peerSet.Connected)
        {
            if (peer.PendingUploads == 0 && _superSeeder.InFlight(peer.Id) > 0 && _superSeeder.OnDrained(peer.Id))
            {
                RevealPieces(peer);
            }
        }
    }
}
