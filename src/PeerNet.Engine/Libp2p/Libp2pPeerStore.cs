using System.Collections.Concurrent;

namespace PeerNet.Libp2p;

/// <summary>What is known of a libp2p peer, from identify and identify/push.</summary>
/// <param name="PeerId">The peer.</param>
/// <param name="Protocols">The protocols it said it speaks.</param>
/// <param name="ListenAddrs">The addresses it said it listens on.</param>
/// <param name="AgentVersion">Its software, as it says.</param>
/// <param name="ProtocolVersion">Its libp2p protocol version, as it says.</param>
/// <param name="ObservedAddr">The address at which it last saw this side.</param>
/// <param name="Updated">When this record last changed.</param>
internal sealed record Libp2pPeerRecord(
    Libp2pPeerId PeerId,
    IReadOnlyList<string> Protocols,
    IReadOnlyList<Multiaddr> ListenAddrs,
    string? AgentVersion,
    string? ProtocolVersion,
    Multiaddr? ObservedAddr,
    DateTimeOffset Updated);

/// <summary>
/// A bounded store of what peers said in identify, keyed by peer ID: at most <see cref="Capacity"/> peers, the least
/// recently updated forgotten first.
/// </summary>
internal sealed class Libp2pPeerStore
{
    private readonly ConcurrentDictionary<Libp2pPeerId, Libp2pPeerRecord> _peers = new();
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    /// <summary>A store of at most <paramref name="capacity"/> peers.</summary>
    public Libp2pPeerStore(int capacity = 10_000, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Most peers kept.</summary>
    public int Capacity { get; }

    /// <summary>Peers known now.</summary>
    public int Count => _peers.Count;

    /// <summary>What is known of <paramref name="peer"/>, if anything.</summary>
    public Libp2pPeerRecord? Get(Libp2pPeerId peer) => _peers.TryGetValue(peer, out Libp2pPeerRecord? record) ? record : null;

    /// <summary>
    /// Records an identify (<paramref name="replace"/>: every field) or a push (only the fields it carries), and returns
    /// the record.
    /// </summary>
    public Libp2pPeerRecord Update(Libp2pPeerId peer, IdentifyInfo info, bool replace)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(info);
        lock (_gate)
        {
            Libp2pPeerRecord? old = replace ? null : Get(peer);
            var record = new Libp2pPeerRecord(
                peer,
                info.Protocols ?? old?.Protocols ?? [],
                info.HasListenAddrs || old is null ? info.ListenAddrs : old.ListenAddrs,
                info.AgentVersion ?? old?.AgentVersion,
                info.ProtocolVersion ?? old?.ProtocolVersion,
                info.ObservedAddr ?? old?.ObservedAddr,
                _time.GetUtcNow());
            if (!_peers.ContainsKey(peer) && _peers.Count >= Capacity)
            {
                Libp2pPeerId oldest = _peers.Values.MinBy(r => r.Updated)!.PeerId;
                _peers.TryRemove(oldest, out _);
            }

            _peers[peer] = record;
            return record;
        }
    }
}
