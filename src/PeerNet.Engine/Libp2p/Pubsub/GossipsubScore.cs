using System.Net;

namespace PeerNet.Libp2p;

/// <summary>
/// gossipsub v1.1's peer score: per topic P₁ (time in mesh), P₂ (first deliveries), P₃/P₃b (mesh delivery deficit and
/// its sticky failure penalty), P₄ (invalid messages); globally P₅ (the application's), P₆ (peers sharing an IP
/// address) and P₇ (behaviour penalty). Counters decay every <see cref="GossipsubScoreOptions.DecayInterval"/>; a
/// disconnected peer's score is kept for <see cref="GossipsubScoreOptions.RetainScore"/>. Not thread-safe: the router
/// calls it under its lock.
/// </summary>
internal sealed class GossipsubScore
{
    /// <summary>Most message deliveries remembered (for scoring their duplicates), each for two minutes.</summary>
    private const int MaxDeliveries = 200_000;

    private readonly GossipsubScoreOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<Libp2pPeerId, PeerStats> _peers = [];
    private readonly Dictionary<IPAddress, HashSet<Libp2pPeerId>> _ips = [];
    private readonly Dictionary<string, Delivery> _deliveries = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, DateTimeOffset Expires)> _deliveryExpiry = new();
    private DateTimeOffset _lastDecay;

    public GossipsubScore(GossipsubScoreOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _lastDecay = time.GetUtcNow();
    }

    /// <summary>What happened to a message ID, for scoring duplicates of it.</summary>
    private enum DeliveryStatus
    {
        Valid,
        Invalid,
        Ignored,
    }

    public GossipsubScoreOptions Options => _options;

    /// <summary>The peer's score now (0 for one never seen).</summary>
    public double Score(Libp2pPeerId peer)
    {
        if (!_peers.TryGetValue(peer, out PeerStats? stats))
        {
            return 0;
        }

        double score = 0;
        if (_options.Topic is not null || _options.Topics is { Count: > 0 })
        {
            double topics = 0;
            foreach ((string name, TopicStats t) in stats.Topics)
            {
                if (_options.For(name) is not { } topic)
                {
                    continue;
                }

                double s = 0;
                if (t.InMesh)
                {
                    double p1 = t.MeshTime / topic.TimeInMeshQuantum;
                    s += Math.Min(p1, topic.TimeInMeshCap) * topic.TimeInMeshWeight;
                }

                s += t.FirstDeliveries * topic.FirstMessageDeliveriesWeight;
                if (t.MeshDeliveriesActive && t.MeshDeliveries < topic.MeshMessageDeliveriesThreshold)
                {
                    double deficit = topic.MeshMessageDeliveriesThreshold - t.MeshDeliveries;
                    s += deficit * deficit * topic.MeshMessageDeliveriesWeight;
                }

                s += t.MeshFailurePenalty * topic.MeshFailurePenaltyWeight;
                s += t.InvalidDeliveries * t.InvalidDeliveries * topic.InvalidMessageDeliveriesWeight;
                topics += s * topic.TopicWeight;
            }

            score += _options.TopicScoreCap > 0 ? Math.Min(topics, _options.TopicScoreCap) : topics;
        }

        if (_options.AppSpecificScore is { } app)
        {
            score += app(peer) * _options.AppSpecificWeight;
        }

        if (stats.Address is { } address && _ips.TryGetValue(address, out HashSet<Libp2pPeerId>? sharing) && sharing.Count > _options.IpColocationFactorThreshold)
        {
            double surplus = sharing.Count - _options.IpColocationFactorThreshold;
            score += surplus * surplus * _options.IpColocationFactorWeight;
        }

        if (stats.BehaviourPenalty > _options.BehaviourPenaltyThreshold)
        {
            double excess = stats.BehaviourPenalty - _options.BehaviourPenaltyThreshold;
            score += excess * excess * _options.BehaviourPenaltyWeight;
        }

        return score;
    }

    /// <summary>A peer connected (or reconnected: its retained score applies again).</summary>
    public void AddPeer(Libp2pPeerId peer, IPAddress? address)
    {
        if (!_peers.TryGetValue(peer, out PeerStats? stats))
        {
            if (_peers.Count >= _options.MaxPeers)
            {
                ForgetOldestDisconnected();
            }

            stats = new PeerStats();
            _peers[peer] = stats;
        }

        stats.Connected = true;
        SetAddress(peer, stats, address is null ? null : address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
    }

    /// <summary>A peer disconnected: its score is kept for a while (a negative one sticks; a positive one is dropped).</summary>
    public void RemovePeer(Libp2pPeerId peer)
    {
        if (!_peers.TryGetValue(peer, out PeerStats? stats))
        {
            return;
        }

        if (Score(peer) > 0 || _options.RetainScore <= TimeSpan.Zero)
        {
            SetAddress(peer, stats, null);
            _peers.Remove(peer);
            return;
        }

        // A mesh failure penalty for leaving with a deficit, as a prune would give.
        foreach (string topic in stats.Topics.Keys)
        {
            Prune(peer, topic);
        }

        stats.Connected = false;
        stats.Expires = _time.GetUtcNow() + _options.RetainScore;
    }

    /// <summary>The peer joined this node's mesh of <paramref name="topic"/>.</summary>
    public void Graft(Libp2pPeerId peer, string topic)
    {
        if (Topic(peer, topic) is { } t)
        {
            t.InMesh = true;
            t.GraftTime = _time.GetUtcNow();
            t.MeshTime = TimeSpan.Zero;
            t.MeshDeliveriesActive = false;
        }
    }

    /// <summary>The peer left this node's mesh of <paramref name="topic"/>: a delivery deficit becomes the sticky P₃b.</summary>
    public void Prune(Libp2pPeerId peer, string topic)
    {
        if (_options.For(topic) is not { } options || Topic(peer, topic) is not { } t)
        {
            return;
        }

        if (t.MeshDeliveriesActive && t.MeshDeliveries < options.MeshMessageDeliveriesThreshold)
        {
            double deficit = options.MeshMessageDeliveriesThreshold - t.MeshDeliveries;
            t.MeshFailurePenalty += deficit * deficit;
        }

        t.InMesh = false;
    }

    /// <summary>P₇: the peer misbehaved <paramref name="count"/> times (a GRAFT in backoff, a broken IWANT promise).</summary>
    public void AddPenalty(Libp2pPeerId peer, double count)
    {
        if (_peers.TryGetValue(peer, out PeerStats? stats))
        {
            stats.BehaviourPenalty += count;
        }
    }

    /// <summary>A message first seen from <paramref name="peer"/> passed validation: P₂ and P₃ for it.</summary>
    public void DeliverMessage(Libp2pPeerId peer, string id, string topic)
    {
        Delivery delivery = Record(id, DeliveryStatus.Valid);
        delivery.Peers.Add(peer);
        if (_options.For(topic) is { } options && Topic(peer, topic) is { } t)
        {
            t.FirstDeliveries = Math.Min(t.FirstDeliveries + 1, options.FirstMessageDeliveriesCap);
            if (t.InMesh)
            {
                t.MeshDeliveries = Math.Min(t.MeshDeliveries + 1, options.MeshMessageDeliveriesCap);
            }
        }
    }

    /// <summary>A message from <paramref name="peer"/> failed validation (a bad signature, a rejecting validator): P₄.</summary>
    public void RejectMessage(Libp2pPeerId peer, string? id, string topic)
    {
        if (id is not null)
        {
            Record(id, DeliveryStatus.Invalid).Peers.Add(peer);
        }

        if (Topic(peer, topic) is { } t)
        {
            t.InvalidDeliveries += 1;
        }
    }

    /// <summary>A message from <paramref name="peer"/> was ignored (validator said so, or it could not be checked): no penalty.</summary>
    public void IgnoreMessage(Libp2pPeerId peer, string id) => Record(id, DeliveryStatus.Ignored).Peers.Add(peer);

    /// <summary>
    /// A message seen before came again from <paramref name="peer"/>: near-first deliveries of a valid one count for
    /// P₃; copies of an invalid one count for P₄.
    /// </summary>
    public void DuplicateMessage(Libp2pPeerId peer, string id, string topic)
    {
        if (!_deliveries.TryGetValue(id, out Delivery? delivery) || !delivery.Peers.Add(peer))
        {
            return;
        }

        if (_options.For(topic) is not { } options || Topic(peer, topic) is not { } t)
        {
            return;
        }

        if (delivery.Status == DeliveryStatus.Invalid)
        {
            t.InvalidDeliveries += 1;
        }
        else if (delivery.Status == DeliveryStatus.Valid && t.InMesh && _time.GetUtcNow() - delivery.First <= options.MeshMessageDeliveriesWindow)
        {
            t.MeshDeliveries = Math.Min(t.MeshDeliveries + 1, options.MeshMessageDeliveriesCap);
        }
    }

    /// <summary>Decays the counters when a decay interval has passed, updates mesh times, forgets expired peers and deliveries.</summary>
    public void Refresh()
    {
        DateTimeOffset now = _time.GetUtcNow();
        while (_deliveryExpiry.TryPeek(out (string Id, DateTimeOffset Expires) head) && head.Expires <= now)
        {
            _deliveryExpiry.Dequeue();
            _deliveries.Remove(head.Id);
        }

        if (now - _lastDecay < _options.DecayInterval)
        {
            return;
        }

        _lastDecay = now;
        double zero = _options.DecayToZero;
        static double Decay(double value, double factor, double zero)
        {
            double decayed = value * factor;
            return decayed < zero ? 0 : decayed;
        }

        List<Libp2pPeerId>? expired = null;
        foreach ((Libp2pPeerId id, PeerStats stats) in _peers)
        {
            if (!stats.Connected && stats.Expires <= now)
            {
                (expired ??= []).Add(id);
                continue;
            }

            foreach ((string name, TopicStats t) in stats.Topics)
            {
                if (_options.For(name) is { } options)
                {
                    t.FirstDeliveries = Decay(t.FirstDeliveries, options.FirstMessageDeliveriesDecay, zero);
                    t.MeshDeliveries = Decay(t.MeshDeliveries, options.MeshMessageDeliveriesDecay, zero);
                    t.MeshFailurePenalty = Decay(t.MeshFailurePenalty, options.MeshFailurePenaltyDecay, zero);
                    t.InvalidDeliveries = Decay(t.InvalidDeliveries, options.InvalidMessageDeliveriesDecay, zero);
                    if (t.InMesh)
                    {
                        t.MeshTime = now - t.GraftTime;
                        t.MeshDeliveriesActive |= t.MeshTime > options.MeshMessageDeliveriesActivation;
                    }
                }
            }

            stats.BehaviourPenalty = Decay(stats.BehaviourPenalty, _options.BehaviourPenaltyDecay, zero);
        }

        foreach (Libp2pPeerId id in expired ?? [])
        {
            SetAddress(id, _peers[id], null);
            _peers.Remove(id);
        }
    }

    private TopicStats? Topic(Libp2pPeerId peer, string topic)
    {
        if (!_peers.TryGetValue(peer, out PeerStats? stats))
        {
            return null;
        }

        if (!stats.Topics.TryGetValue(topic, out TopicStats? t))
        {
            if (stats.Topics.Count >= 1000)
            {
                return null; // scoring keeps to the topics a peer can have here; the router bounds them too
            }

            t = new TopicStats();
            stats.Topics[topic] = t;
        }

        return t;
    }

    private Delivery Record(string id, DeliveryStatus status)
    {
        if (!_deliveries.TryGetValue(id, out Delivery? delivery))
        {
            DateTimeOffset now = _time.GetUtcNow();
            delivery = new Delivery { Status = status, First = now };
            if (_deliveries.Count >= MaxDeliveries)
            {
                return delivery; // counted, not remembered: duplicates of it score nothing
            }

            _deliveries[id] = delivery;
            _deliveryExpiry.Enqueue((id, now + TimeSpan.FromMinutes(2)));
        }

        return delivery;
    }

    private void SetAddress(Libp2pPeerId peer, PeerStats stats, IPAddress? address)
    {
        if (stats.Address is { } old && _ips.TryGetValue(old, out HashSet<Libp2pPeerId>? set))
        {
            set.Remove(peer);
            if (set.Count == 0)
            {
                _ips.Remove(old);
            }
        }

        stats.Address = address;
        if (address is not null)
        {
            if (!_ips.TryGetValue(address, out set))
            {
                set = [];
                _ips[address] = set;
            }

            set.Add(peer);
        }
    }

    private void ForgetOldestDisconnected()
    {
        KeyValuePair<Libp2pPeerId, PeerStats>? oldest = null;
        foreach (KeyValuePair<Libp2pPeerId, PeerStats> entry in _peers)
        {
            if (!entry.Value.Connected && (oldest is null || entry.Value.Expires < oldest.Value.Value.Expires))
            {
                oldest = entry;
            }
        }

        if (oldest is { } forget)
        {
            SetAddress(forget.Key, forget.Value, null);
            _peers.Remove(forget.Key);
        }
    }

    private sealed class PeerStats
    {
        public bool Connected { get; set; }

        public DateTimeOffset Expires { get; set; }

        public IPAddress? Address { get; set; }

        public double BehaviourPenalty { get; set; }

        public Dictionary<string, TopicStats> Topics { get; } = new(StringComparer.Ordinal);
    }

    private sealed class TopicStats
    {
        public bool InMesh { get; set; }

        public DateTimeOffset GraftTime { get; set; }

        public TimeSpan MeshTime { get; set; }

        public bool MeshDeliveriesActive { get; set; }

        public double FirstDeliveries { get; set; }

        public double MeshDeliveries { get; set; }

        public double MeshFailurePenalty { get; set; }

        public double InvalidDeliveries { get; set; }
    }

    private sealed class Delivery
    {
        public required DeliveryStatus Status { get; init; }

        public required DateTimeOffset First { get; init; }

        public HashSet<Libp2pPeerId> Peers { get; } = [];
    }
}
