using PeerNet.PeerWire;

namespace PeerNet.Swarm;

internal sealed partial class TorrentSwarm
{
    private readonly long _startedAt;
    private Choker? _choker;
    private ChokerPeer[] _chokerScratch = []; // grown to twice the peers connected when they outgrow it

    /// <summary>
    /// The choker's round (every 10 s): tit-for-tat with a rotating optimistic unchoke while downloading, a
    /// round-robin that spreads upload while seeding (see <see cref="Choker"/>).
    /// </summary>
    private void RunChoker()
    {
        _choker ??= new Choker(new ChokerOptions { UploadSlots = Math.Max(0, Options.UploadSlots) }, new Random(Options.RandomSeed ?? Random.Shared.Next()));
        if (_chokerScratch.Length < _peerSet.Connected.Count)
        {
            _chokerScratch = new ChokerPeer[_peerSet.Connected.Count * 2];
        }

        int n = 0;
        foreach (PeerConnection peer in _peerSet.Connected)
        {
            _chokerScratch[n++] = new ChokerPeer
            {
                PeerId = peer.Id,
                IsInterested = peer.PeerInterested,
                IsUnchoked = !peer.AmChoking,
                DownloadRate = (long)peer.DownloadRate.BytesPerSecond,
                UploadRate = (long)peer.UploadRate.BytesPerSecond,
                IsSnubbed = peer.IsSnubbed,
                IsSeed = peer.IsSeed,
                ConnectedSince = Elapsed(peer.ConnectedAt),
                LastUnchokedAt = peer.LastUnchokedAt == 0 ? null : Elapsed(peer.LastUnchokedAt),
            };
        }

        IReadOnlySet<int> unchoke = _choker.Run(_chokerScratch.AsSpan(0, n), Elapsed(Time.GetTimestamp()), State == TorrentState.Seeding);
        foreach (PeerConnection peer in _peerSet.Connected)
        {
            SetChoke(peer, !unchoke.Contains(peer.Id));
        }
    }

    private TimeSpan Elapsed(long timestamp) => Time.GetElapsedTime(_startedAt, timestamp);

    /// <summary>Unchokes a newly interested peer at once when a slot is free, rather than a round later.</summary>
    private void UnchokeIfSlotFree(PeerConnection peer)
    {
        int unchoked = _peerSet.Connected.Count(p => !p.AmChoking);
        if (peer.AmChoking && (Options.UploadSlots <= 0 || unchoked < Options.UploadSlots))
        {
            SetChoke(peer, choke: false);
        }
    }

    private void SetChoke(PeerConnection peer, bool choke)
    {
        if (peer.AmChoking == choke)
        {
            return;
        }

        peer.AmChoking = choke;
        if (!choke)
        {
            peer.LastUnchokedAt = Time.GetTimestamp();
            peer.RefusedRequests = 0;
        }

        peer.SendRaw(choke ? PeerMessageWriter.Choke : PeerMessageWriter.Unchoke);
        if (!choke)
        {
            RevealPieces(peer);
        }
    }
}
