using System.Threading.Channels;
using Google.Protobuf;
using PeerNet.Libp2p.Protos;

namespace PeerNet.Libp2p;

/// <summary>Counts of what a <see cref="GossipsubRouter"/> did, for tests and diagnostics.</summary>
internal sealed class GossipsubCounters
{
    public long Published;
    public long Delivered;
    public long Duplicates;
    public long Rejected;
    public long Ignored;
    public long NotSubscribed;
    public long Graylisted;
    public long QueueFull;
    public long MalformedRpcs;
}

/// <summary>
/// The gossipsub v1.1 router on a <see cref="Libp2pHost"/> (libp2p specs pubsub/gossipsub v1.0 and v1.1). Per peer:
/// one long-lived outbound stream, opened when the peer connects and said (identify) it speaks pubsub, carries every
/// RPC to it through a bounded queue; inbound streams are read one RPC at a time. A heartbeat (on the injected
/// <see cref="TimeProvider"/>) keeps each topic's mesh within Dlo..Dhi (Dscore kept by score, Dout outbound), emits
/// IHAVE gossip, expires fanout, backoffs and broken IWANT promises, shifts the message cache and decays scores.
/// All state is under one lock; validators, signature checks and network writes run outside it.
/// </summary>
internal sealed class GossipsubRouter : IAsyncDisposable
{
    private readonly Libp2pHost _host;
    private readonly NodeIdentity _identity;
    private readonly GossipsubOptions _options;
    private readonly TimeProvider _time;
    private readonly Func<Multiaddr, CancellationToken, Task>? _dial;
    private readonly Lock _gate = new();
    private readonly Dictionary<Libp2pPeerId, Peer> _peers = [];
    private readonly Dictionary<string, List<PubsubSubscription>> _topics = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<PubsubMessage, PubsubValidationResult>> _validators = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<Peer>> _mesh = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<Peer>> _fanout = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _fanoutPublished = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Topic, Libp2pPeerId Peer), DateTimeOffset> _backoff = [];
    private readonly Dictionary<string, Dictionary<Libp2pPeerId, DateTimeOffset>> _promises = new(StringComparer.Ordinal);
    private readonly GossipsubMessageCache _cache;
    private readonly GossipsubSeenCache _seen;
    private readonly GossipsubScore _score;
    private readonly CancellationTokenSource _stop = new();
    private ITimer? _heartbeat;
    private long _ticks;
    private long _seqno;
    private int _pendingDials;
    private int _disposed;

    public GossipsubRouter(Libp2pHost host, NodeIdentity identity, GossipsubOptions? options = null, TimeProvider? time = null, Func<Multiaddr, CancellationToken, Task>? dial = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(identity);
        _host = host;
        _identity = identity;
        _options = options ?? GossipsubOptions.Default;
        _options.Validate();
        _time = time ?? TimeProvider.System;
        _dial = dial;
        _cache = new GossipsubMessageCache(_options.HistoryLength, _options.HistoryGossip);
        _seen = new GossipsubSeenCache(_options.SeenTtl, _options.MaxSeen);
        _score = new GossipsubScore(_options.Score, _time);

        // Sequence numbers rise from the clock in nanoseconds, as go- and js-libp2p do: unique across restarts.
        _seqno = _time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000;
    }

    public GossipsubCounters Counters { get; } = new();

    /// <summary>
    /// The randomness of mesh, gossip and promise choices (shared by default). A seeded one makes a run repeatable, and
    /// is for a router driven from one thread only, as the virtual-time simulation in the tests drives it.
    /// </summary>
    internal Random Random { get; set; } = Random.Shared;

    public GossipsubOptions Options => _options;

    public IReadOnlyList<string> Topics
    {
        get
        {
            lock (_gate)
            {
                return [.. _topics.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Registers the protocol handlers, follows the host's connections and starts the heartbeat.</summary>
    public void Start()
    {
        foreach (string protocol in GossipsubRpc.Protocols)
        {
            _host.SetHandler(protocol, ServeAsync);
        }

        _host.ConnectionReady += OnConnectionReady;
        _host.ConnectionClosed += OnConnectionClosed;
        foreach (Libp2pConnection connection in _host.Connections)
        {
            if (connection.Identified.IsCompleted)
            {
                OnConnectionReady(connection);
            }
        }

        _heartbeat = _time.CreateTimer(_ => Heartbeat(), null, _options.HeartbeatInterval, _options.HeartbeatInterval);
    }

    public PubsubSubscription Subscribe(string topic)
    {
        CheckTopic(topic);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var subscription = new PubsubSubscription(topic, _options.SubscriptionBuffer, Unsubscribe);
        lock (_gate)
        {
            if (!_topics.TryGetValue(topic, out List<PubsubSubscription>? list))
            {
                if (_topics.Count >= _options.MaxLocalTopics)
                {
                    throw new InvalidOperationException($"This node already subscribes to {_options.MaxLocalTopics} topics.");
                }

                list = [];
                _topics[topic] = list;
                var announce = new Rpc();
                announce.Subscriptions.Add(new Rpc.Types.SubOpts { Subscribe = true, Topicid = topic });
                foreach (Peer peer in _peers.Values)
                {
                    Send(peer, announce);
                }

                Join(topic);
            }

            list.Add(subscription);
        }

        return subscription;
    }

    public int Publish(string topic, ReadOnlySpan<byte> data)
    {
        CheckTopic(topic);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int maxData = _options.Limits.MaxRpcLength - 1024;
        if (data.Length > maxData)
        {
            throw new ArgumentException($"A pubsub message is at most {maxData} bytes, not {data.Length}.", nameof(data));
        }

        ulong seqno = (ulong)Interlocked.Increment(ref _seqno);
        PubsubWireMessage message = GossipsubRpc.Sign(_identity.PeerId, seqno, topic, data, bytes => _identity.Sign(bytes));
        byte[] wireId = GossipsubRpc.MessageId(message)!;
        string id = Convert.ToHexString(wireId);
        var rpc = new Rpc();
        rpc.Publish.Add(message);
        byte[] frame = GossipsubRpc.Framed(rpc);
        lock (_gate)
        {
            DateTimeOffset now = _time.GetUtcNow();
            _seen.Add(id, now);
            _cache.Put(id, wireId, topic, message);
            IEnumerable<Peer> targets;
            if (_options.FloodPublish)
            {
                targets = _peers.Values.Where(p => p.Topics.Contains(topic) && Score(p) >= _options.Score.PublishThreshold);
            }
            else if (_mesh.TryGetValue(topic, out HashSet<Peer>? mesh))
            {
                targets = mesh.Concat(_peers.Values.Where(p => p.IsFloodsub && p.Topics.Contains(topic)));
            }
            else
            {
                if (!_fanout.TryGetValue(topic, out HashSet<Peer>? fanout) || fanout.Count == 0)
                {
                    fanout = [.. Shuffled(_peers.Values.Where(p => p.IsGossip && p.Topics.Contains(topic) && Score(p) >= _options.Score.PublishThreshold)).Take(_options.D)];
                    _fanout[topic] = fanout;
                }

                _fanoutPublished[topic] = now;
                targets = fanout.Concat(_peers.Values.Where(p => p.IsFloodsub && p.Topics.Contains(topic)));
            }

            int sent = 0;
            foreach (Peer peer in targets.Distinct().ToList())
            {
                SendFrame(peer, frame);
                sent++;
            }

            Interlocked.Increment(ref Counters.Published);
            return sent;
        }
    }

    public IReadOnlyList<Libp2pPeerId> MeshPeers(string topic)
    {
        lock (_gate)
        {
            return _mesh.TryGetValue(topic, out HashSet<Peer>? mesh) ? [.. mesh.Select(p => p.Id)] : [];
        }
    }

    public IReadOnlyList<Libp2pPeerId> TopicPeers(string topic)
    {
        lock (_gate)
        {
            return [.. _peers.Values.Where(p => p.Topics.Contains(topic)).Select(p => p.Id)];
        }
    }

    public IReadOnlyList<Libp2pPeerId> Peers
    {
        get
        {
            lock (_gate)
            {
                return [.. _peers.Keys];
            }
        }
    }

    /// <summary>RPCs waiting in the peers' send queues.</summary>
    public int QueuedRpcs
    {
        get
        {
            lock (_gate)
            {
                return _peers.Values.Sum(p => p.Queue.Reader.Count);
            }
        }
    }

    public double PeerScore(Libp2pPeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_gate)
        {
            return _score.Score(peer);
        }
    }

    public void SetValidator(string topic, Func<PubsubMessage, PubsubValidationResult>? validator)
    {
        CheckTopic(topic);
        lock (_gate)
        {
            if (validator is null)
            {
                _validators.Remove(topic);
            }
            else
            {
                if (!_validators.ContainsKey(topic) && _validators.Count >= _options.MaxLocalTopics)
                {
                    throw new InvalidOperationException($"This node already has {_options.MaxLocalTopics} topic validators.");
                }

                _validators[topic] = validator;
            }
        }
    }

    /// <summary>One heartbeat: mesh maintenance, gossip, fanout expiry, promises, caches and score decay.</summary>
    public void Heartbeat()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        lock (_gate)
        {
            HeartbeatLocked();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _host.ConnectionReady -= OnConnectionReady;
        _host.ConnectionClosed -= OnConnectionClosed;
        foreach (string protocol in GossipsubRpc.Protocols)
        {
            _host.RemoveHandler(protocol);
        }

        if (_heartbeat is not null)
        {
            await _heartbeat.DisposeAsync().ConfigureAwait(false);
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        Task[] writers;
        lock (_gate)
        {
            writers = [.. _peers.Values.Select(p => p.Writer ?? Task.CompletedTask)];
            foreach (Peer peer in _peers.Values.ToList())
            {
                RemovePeerLocked(peer);
            }

            foreach (PubsubSubscription subscription in _topics.Values.SelectMany(s => s))
            {
                subscription.Complete();
            }

            _topics.Clear();
        }

        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private void CheckTopic(string topic)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        if (System.Text.Encoding.UTF8.GetByteCount(topic) > _options.Limits.MaxTopicLength)
        {
            throw new ArgumentException($"A topic is at most {_options.Limits.MaxTopicLength} bytes.", nameof(topic));
        }
    }

    private void Unsubscribe(PubsubSubscription subscription)
    {
        lock (_gate)
        {
            if (!_topics.TryGetValue(subscription.Topic, out List<PubsubSubscription>? list) || !list.Remove(subscription) || list.Count > 0)
            {
                return;
            }

            _topics.Remove(subscription.Topic);
            var announce = new Rpc();
            announce.Subscriptions.Add(new Rpc.Types.SubOpts { Subscribe = false, Topicid = subscription.Topic });
            foreach (Peer peer in _peers.Values)
            {
                Send(peer, announce);
            }

            Leave(subscription.Topic);
        }
    }

    private double Score(Peer peer) => _score.Score(peer.Id);

    // ---- peers and streams ----
    private void OnConnectionReady(Libp2pConnection connection)
    {
        Libp2pPeerRecord? record = connection.Identified.IsCompletedSuccessfully ? connection.Identified.Result : null;
        string? protocol = record?.Protocols.FirstOrDefault(p => GossipsubRpc.Protocols.Contains(p));
        if (protocol is null || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        lock (_gate)
        {
            GetOrAddPeerLocked(connection, protocol);
        }
    }

    private void OnConnectionClosed(Libp2pConnection connection)
    {
        lock (_gate)
        {
            if (_peers.TryGetValue(connection.RemotePeer, out Peer? peer) && peer.Connection == connection)
            {
                RemovePeerLocked(peer);
            }
        }

        // Another connection to the same peer carries on.
        if (_host.Connections.FirstOrDefault(c => c.RemotePeer.Equals(connection.RemotePeer) && c != connection) is { } other && other.Identified.IsCompleted)
        {
            OnConnectionReady(other);
        }
    }

    private Peer GetOrAddPeerLocked(Libp2pConnection connection, string? protocol)
    {
        if (_peers.TryGetValue(connection.RemotePeer, out Peer? peer))
        {
            peer.Protocol ??= protocol;
            return peer;
        }

        peer = AddPeerLocked(new Peer(connection.RemotePeer, connection.IsInitiator, connection, protocol, _options.MaxQueuedRpcs, _stop.Token), connection.RemoteEndPoint.Address);
        peer.Writer = Task.Run(() => WriteLoopAsync(peer), CancellationToken.None);
        return peer;
    }

    /// <summary>
    /// A seam for the virtual-time simulation (tests): a pubsub peer without a connection. No writer is started: the
    /// caller carries what the router queues for it (<see cref="Peer.Queue"/>, length-prefixed RPCs) and hands the
    /// RPCs it sends to <see cref="HandleRpc"/>, so the router's own logic runs on a link the caller times.
    /// </summary>
    internal Peer AddPeerWithoutConnection(Libp2pPeerId id, bool outbound, System.Net.IPAddress address, string protocol = GossipsubRpc.MeshsubV11)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(address);
        lock (_gate)
        {
            if (_peers.ContainsKey(id))
            {
                throw new InvalidOperationException($"{id} is already a pubsub peer.");
            }

            return AddPeerLocked(new Peer(id, outbound, connection: null, protocol, _options.MaxQueuedRpcs, _stop.Token), address);
        }
    }

    private Peer AddPeerLocked(Peer peer, System.Net.IPAddress address)
    {
        _peers[peer.Id] = peer;
        _score.AddPeer(peer.Id, address);
        if (_topics.Count > 0)
        {
            var hello = new Rpc();
            hello.Subscriptions.AddRange(_topics.Keys.Select(t => new Rpc.Types.SubOpts { Subscribe = true, Topicid = t }));
            Send(peer, hello);
        }

        return peer;
    }

    private void RemovePeerLocked(Peer peer)
    {
        if (!_peers.Remove(peer.Id))
        {
            return;
        }

        foreach ((string topic, HashSet<Peer> mesh) in _mesh)
        {
            if (mesh.Remove(peer))
            {
                _score.Prune(peer.Id, topic);
            }
        }

        foreach (HashSet<Peer> fanout in _fanout.Values)
        {
            fanout.Remove(peer);
        }

        _score.RemovePeer(peer.Id);
        peer.Queue.Writer.TryComplete();
        peer.Stop.Cancel();
    }

    private async Task WriteLoopAsync(Peer peer)
    {
        YamuxStream? stream = null;
        try
        {
            stream = await _host.OpenStreamAsync(peer.Connection!, GossipsubRpc.Protocols, peer.Stop.Token).ConfigureAwait(false);
            lock (_gate)
            {
                peer.Protocol = stream.Protocol;
            }

            ChannelReader<byte[]> queue = peer.Queue.Reader;
            while (await queue.WaitToReadAsync(peer.Stop.Token).ConfigureAwait(false))
            {
                while (queue.TryRead(out byte[]? frame))
                {
                    await stream.WriteAsync(frame, peer.Stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The peer went, refused the protocol, or reset the stream: it is no longer a pubsub peer of this connection.
        }
        finally
        {
            if (stream is not null)
            {
                stream.CompleteWrites();
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            lock (_gate)
            {
                if (_peers.TryGetValue(peer.Id, out Peer? current) && current == peer)
                {
                    RemovePeerLocked(peer);
                }
            }
        }
    }

    /// <summary>An inbound pubsub stream: each length-prefixed RPC handled in turn until the peer ends it.</summary>
    private async Task ServeAsync(YamuxStream stream, Libp2pConnection connection, CancellationToken cancellationToken)
    {
        Peer peer;
        lock (_gate)
        {
            peer = GetOrAddPeerLocked(connection, stream.Protocol);
            if (peer.InboundStreams >= _options.MaxInboundStreamsPerPeer)
            {
                stream.Abort();
                return;
            }

            peer.InboundStreams++;
        }

        try
        {
            while (true)
            {
                byte[]? body = await Libp2pNegotiation.ReadBodyAsync(stream, _options.Limits.MaxRpcLength, cancellationToken).ConfigureAwait(false);
                if (body is null)
                {
                    stream.CompleteWrites();
                    return;
                }

                HandleRpc(peer, body);
            }
        }
        finally
        {
            lock (_gate)
            {
                peer.InboundStreams--;
            }
        }
    }

    // ---- receiving ----
    internal void HandleRpc(Peer peer, byte[] body)
    {
        lock (_gate)
        {
            if (Score(peer) < _options.Score.GraylistThreshold)
            {
                Interlocked.Increment(ref Counters.Graylisted);
                return;
            }
        }

        if (!GossipsubRpc.TryDecode(body, _options.Limits, out Rpc? rpc, out string? error))
        {
            Interlocked.Increment(ref Counters.MalformedRpcs);
            lock (_gate)
            {
                _score.AddPenalty(peer.Id, 1);
            }

            throw new InvalidDataException($"{peer.Id} sent a pubsub RPC that was refused: {error}.");
        }

        if (rpc.Subscriptions.Count > 0)
        {
            lock (_gate)
            {
                foreach (Rpc.Types.SubOpts sub in rpc.Subscriptions)
                {
                    HandleSubscriptionLocked(peer, sub);
                }
            }
        }

        foreach (PubsubWireMessage message in rpc.Publish)
        {
            HandleMessage(peer, message);
        }

        if (rpc.Control is { } control && !peer.IsFloodsub)
        {
            List<Rpc> replies;
            List<Libp2pPeerId> exchanged;
            lock (_gate)
            {
                (replies, exchanged) = HandleControlLocked(peer, control);
                foreach (Rpc reply in replies)
                {
                    Send(peer, reply);
                }
            }

            DialExchanged(exchanged);
        }
    }

    private void HandleSubscriptionLocked(Peer peer, Rpc.Types.SubOpts sub)
    {
        string topic = sub.Topicid;
        if (sub.Subscribe)
        {
            if (peer.Topics.Count < _options.MaxTopicsPerPeer)
            {
                peer.Topics.Add(topic);
            }

            return;
        }

        peer.Topics.Remove(topic);
        if (_mesh.TryGetValue(topic, out HashSet<Peer>? mesh) && mesh.Remove(peer))
        {
            _score.Prune(peer.Id, topic);
        }

        if (_fanout.TryGetValue(topic, out HashSet<Peer>? fanout))
        {
            fanout.Remove(peer);
        }
    }

    private void HandleMessage(Peer peer, PubsubWireMessage message)
    {
        string topic = message.HasTopic ? message.Topic : "";
        byte[]? wireId = GossipsubRpc.MessageId(message);
        string? id = wireId is null ? null : Convert.ToHexString(wireId);
        lock (_gate)
        {
            if (!_topics.ContainsKey(topic))
            {
                Interlocked.Increment(ref Counters.NotSubscribed);
                return;
            }

            if (id is null)
            {
                Interlocked.Increment(ref Counters.Rejected);
                _score.RejectMessage(peer.Id, null, topic);
                return;
            }

            if (!_seen.Add(id, _time.GetUtcNow()))
            {
                Interlocked.Increment(ref Counters.Duplicates);
                _score.DuplicateMessage(peer.Id, id, topic);
                return;
            }
        }

        PubsubSignatureStatus status = GossipsubRpc.Verify(message, out Libp2pPeerId? author, out _);
        PubsubMessage? received = null;
        PubsubValidationResult result = PubsubValidationResult.Ignore;
        Func<PubsubMessage, PubsubValidationResult>? validator = null;
        if (status == PubsubSignatureStatus.Valid && !author!.Equals(_identity.PeerId))
        {
            received = new PubsubMessage(topic, author, message.Data.Memory, System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(message.Seqno.Span), peer.Id);
            lock (_gate)
            {
                _validators.TryGetValue(topic, out validator);
            }

            try
            {
                result = validator?.Invoke(received) ?? PubsubValidationResult.Accept;
            }
            catch (Exception)
            {
                result = PubsubValidationResult.Ignore; // the application's bug is not the peer's fault
            }
        }
        else if (status == PubsubSignatureStatus.Invalid)
        {
            result = PubsubValidationResult.Reject;
        }

        lock (_gate)
        {
            switch (result)
            {
                case PubsubValidationResult.Reject:
                    Interlocked.Increment(ref Counters.Rejected);
                    _score.RejectMessage(peer.Id, id, topic);
                    return;
                case PubsubValidationResult.Ignore:
                    Interlocked.Increment(ref Counters.Ignored);
                    _score.IgnoreMessage(peer.Id, id);
                    return;
            }

            Interlocked.Increment(ref Counters.Delivered);
            _score.DeliverMessage(peer.Id, id, topic);
            _cache.Put(id, wireId!, topic, message);
            _promises.Remove(id);
            ForwardLocked(message, topic, peer.Id, author!);
            if (_topics.TryGetValue(topic, out List<PubsubSubscription>? subscriptions))
            {
                foreach (PubsubSubscription subscription in subscriptions)
                {
                    subscription.Deliver(received!);
                }
            }
        }
    }

    private void ForwardLocked(PubsubWireMessage message, string topic, Libp2pPeerId source, Libp2pPeerId author)
    {
        IEnumerable<Peer> targets = _mesh.TryGetValue(topic, out HashSet<Peer>? mesh) ? mesh : [];
        targets = targets.Concat(_peers.Values.Where(p => p.IsFloodsub && p.Topics.Contains(topic) && Score(p) >= _options.Score.PublishThreshold));
        byte[]? frame = null;
        foreach (Peer peer in targets.Distinct())
        {
            if (peer.Id.Equals(source) || peer.Id.Equals(author))
            {
                continue;
            }

            if (frame is null)
            {
                var rpc = new Rpc();
                rpc.Publish.Add(message);
                frame = GossipsubRpc.Framed(rpc);
            }

            SendFrame(peer, frame);
        }
    }

    private (List<Rpc> Replies, List<Libp2pPeerId> Exchanged) HandleControlLocked(Peer peer, ControlMessage control)
    {
        DateTimeOffset now = _time.GetUtcNow();
        double score = Score(peer);
        var replies = new List<Rpc>();
        var exchanged = new List<Libp2pPeerId>();
        var reply = new Rpc { Control = new ControlMessage() };

        if (score >= _options.Score.GossipThreshold)
        {
            HandleIHaveLocked(peer, control.Ihave, reply.Control, now);
            HandleIWantLocked(peer, control.Iwant, replies);
        }

        foreach (ControlGraft graft in control.Graft)
        {
            string topic = graft.TopicID;
            if (!_mesh.TryGetValue(topic, out HashSet<Peer>? mesh) || mesh.Contains(peer))
            {
                continue; // not a topic of this node's (v1.1 ignores those grafts), or already in the mesh
            }

            if (_backoff.TryGetValue((topic, peer.Id), out DateTimeOffset until) && until > now)
            {
                // Too early: P₇, twice when right after the prune (a flood of grafts), and the backoff goes on.
                _score.AddPenalty(peer.Id, 1);
                if (until - _options.PruneBackoff + _options.GraftFloodThreshold > now)
                {
                    _score.AddPenalty(peer.Id, 1);
                }

                reply.Control.Prune.Add(MakePruneLocked(peer, topic, exchange: false, _options.PruneBackoff));
                continue;
            }

            if (score < 0)
            {
                reply.Control.Prune.Add(MakePruneLocked(peer, topic, exchange: false, _options.PruneBackoff));
                continue;
            }

            if (mesh.Count >= _options.Dhi && !peer.Outbound)
            {
                reply.Control.Prune.Add(MakePruneLocked(peer, topic, exchange: true, _options.PruneBackoff));
                continue;
            }

            mesh.Add(peer);
            _score.Graft(peer.Id, topic);
        }

        foreach (ControlPrune prune in control.Prune)
        {
            string topic = prune.TopicID;
            if (_mesh.TryGetValue(topic, out HashSet<Peer>? mesh) && mesh.Remove(peer))
            {
                _score.Prune(peer.Id, topic);
            }

            TimeSpan backoff = prune.HasBackoff ? TimeSpan.FromSeconds(Math.Min(prune.Backoff, (ulong)_options.MaxBackoff.TotalSeconds)) : _options.PruneBackoff;
            AddBackoffLocked(peer.Id, topic, now + backoff);
            if (prune.Peers.Count > 0 && score >= _options.Score.AcceptPxThreshold)
            {
                foreach (PxPeerInfo info in prune.Peers)
                {
                    if (exchanged.Count < _options.PrunePeers
                        && Libp2pPeerId.TryFromMultihash(info.PeerID.Span, out Libp2pPeerId? id, out _)
                        && !id.Equals(_identity.PeerId)
                        && !_peers.ContainsKey(id))
                    {
                        exchanged.Add(id);
                    }
                }
            }
        }

        if (reply.Control.Iwant.Count > 0 || reply.Control.Prune.Count > 0)
        {
            replies.Add(reply);
        }

        return (replies, exchanged);
    }

    private void HandleIHaveLocked(Peer peer, IEnumerable<ControlIHave> ihaves, ControlMessage reply, DateTimeOffset now)
    {
        var want = new Dictionary<string, ByteString>(StringComparer.Ordinal);
        foreach (ControlIHave ihave in ihaves)
        {
            if (++peer.IHaves > _options.MaxIHaveMessages || peer.IAsked >= _options.MaxIHaveLength)
            {
                break;
            }

            if (!_mesh.ContainsKey(ihave.TopicID))
            {
                continue;
            }

            foreach (ByteString wireId in ihave.MessageIDs)
            {
                string id = Convert.ToHexString(wireId.Span);
                if (!_seen.Contains(id))
                {
                    want.TryAdd(id, wireId);
                }
            }
        }

        if (want.Count == 0)
        {
            return;
        }

        int room = _options.MaxIHaveLength - peer.IAsked;
        List<KeyValuePair<string, ByteString>> asked = [.. Shuffled(want).Take(room)];
        peer.IAsked += asked.Count;
        if (asked.Count == 0)
        {
            return;
        }

        // One of them, at random, is a promise: undelivered within the follow-up time, it costs the peer P₇.
        string promised = asked[Random.Next(asked.Count)].Key;
        if (!_promises.TryGetValue(promised, out Dictionary<Libp2pPeerId, DateTimeOffset>? byPeer))
        {
            byPeer = [];
            _promises[promised] = byPeer;
        }

        byPeer.TryAdd(peer.Id, now + _options.IWantFollowupTime);
        var iwant = new ControlIWant();
        iwant.MessageIDs.AddRange(asked.Select(a => a.Value));
        reply.Iwant.Add(iwant);
    }

    private void HandleIWantLocked(Peer peer, IEnumerable<ControlIWant> iwants, List<Rpc> replies)
    {
        Rpc? current = null;
        int size = 0;
        foreach (ByteString wireId in iwants.SelectMany(i => i.MessageIDs))
        {
            PubsubWireMessage? message = _cache.GetForPeer(Convert.ToHexString(wireId.Span), peer.Id, _options.GossipRetransmission);
            if (message is null)
            {
                continue;
            }

            // A reply RPC stays within what a peer accepts: half the length limit, and no more messages than the limit
            // allows (an IWANT may list 5,000 IDs; one RPC may carry 1,000 messages).
            int length = message.CalculateSize();
            if (current is null || size + length > _options.Limits.MaxRpcLength / 2 || current.Publish.Count >= _options.Limits.MaxMessages)
            {
                current = new Rpc();
                replies.Add(current);
                size = 0;
            }

            current.Publish.Add(message);
            size += length;
        }
    }

    private ControlPrune MakePruneLocked(Peer peer, string topic, bool exchange, TimeSpan backoff)
    {
        AddBackoffLocked(peer.Id, topic, _time.GetUtcNow() + backoff);
        var prune = new ControlPrune { TopicID = topic, Backoff = (ulong)backoff.TotalSeconds };
        if (exchange && peer.Protocol != GossipsubRpc.MeshsubV10 && Score(peer) >= 0)
        {
            foreach (Peer other in Shuffled(_peers.Values.Where(p => p != peer && p.Topics.Contains(topic) && Score(p) >= 0)).Take(_options.PrunePeers))
            {
                prune.Peers.Add(new PxPeerInfo { PeerID = ByteString.CopyFrom(other.Id.Multihash.Span) });
            }
        }

        return prune;
    }

    private void AddBackoffLocked(Libp2pPeerId peer, string topic, DateTimeOffset until)
    {
        if (!_backoff.TryGetValue((topic, peer), out DateTimeOffset existing) || existing < until)
        {
            _backoff[(topic, peer)] = until;
        }
    }

    private bool InBackoffLocked(Peer peer, string topic, DateTimeOffset now) =>
        _backoff.TryGetValue((topic, peer.Id), out DateTimeOffset until) && until > now;

    /// <summary>Dials peers a well-scored peer exchanged, when their addresses are known (identify) and a dialler is set.</summary>
    private void DialExchanged(List<Libp2pPeerId> peers)
    {
        if (_dial is null)
        {
            return;
        }

        foreach (Libp2pPeerId peer in peers)
        {
            Multiaddr? address = _host.Peers.Get(peer)?.ListenAddrs.FirstOrDefault(a => a.Components.Count == 2);
            if (address is null || Interlocked.Increment(ref _pendingDials) > _options.PrunePeers)
            {
                if (address is not null)
                {
                    Interlocked.Decrement(ref _pendingDials);
                }

                continue;
            }

            Multiaddr full = Multiaddr.Parse($"{address}/p2p/{peer}");
            _ = Task.Run(
                async () =>
                {
                    try
                    {
                        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                        timeout.CancelAfter(TimeSpan.FromSeconds(30));
                        await _dial(full, timeout.Token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException or ArgumentException or InvalidOperationException or ObjectDisposedException)
                    {
                        // An exchanged peer that cannot be reached is simply not one.
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _pendingDials);
                    }
                },
                CancellationToken.None);
        }
    }

    // ---- the mesh ----
    private void Join(string topic)
    {
        DateTimeOffset now = _time.GetUtcNow();
        var mesh = new HashSet<Peer>();
        if (_fanout.Remove(topic, out HashSet<Peer>? fanout))
        {
            _fanoutPublished.Remove(topic);
            mesh.UnionWith(fanout.Where(p => Score(p) >= 0 && !InBackoffLocked(p, topic, now)));
        }

        if (mesh.Count < _options.D)
        {
            mesh.UnionWith(Shuffled(_peers.Values.Where(p => p.IsGossip && p.Topics.Contains(topic) && !mesh.Contains(p) && !InBackoffLocked(p, topic, now) && Score(p) >= 0))
                .Take(_options.D - mesh.Count));
        }

        _mesh[topic] = mesh;
        foreach (Peer peer in mesh)
        {
            _score.Graft(peer.Id, topic);
            Send(peer, new Rpc { Control = new ControlMessage { Graft = { new ControlGraft { TopicID = topic } } } });
        }
    }

    private void Leave(string topic)
    {
        if (!_mesh.Remove(topic, out HashSet<Peer>? mesh))
        {
            return;
        }

        foreach (Peer peer in mesh)
        {
            _score.Prune(peer.Id, topic);
            Send(peer, new Rpc { Control = new ControlMessage { Prune = { MakePruneLocked(peer, topic, exchange: true, _options.UnsubscribeBackoff) } } });
        }
    }

    private void HeartbeatLocked()
    {
        DateTimeOffset now = _time.GetUtcNow();
        _ticks++;
        foreach (Peer peer in _peers.Values)
        {
            peer.IHaves = 0;
            peer.IAsked = 0;
        }

        // Broken promises: advertised, asked for, never delivered.
        List<string>? kept = null;
        foreach ((string id, Dictionary<Libp2pPeerId, DateTimeOffset> byPeer) in _promises)
        {
            foreach ((Libp2pPeerId peer, DateTimeOffset deadline) in byPeer.ToList())
            {
                if (deadline <= now)
                {
                    _score.AddPenalty(peer, 1);
                    byPeer.Remove(peer);
                }
            }

            if (byPeer.Count == 0)
            {
                (kept ??= []).Add(id);
            }
        }

        foreach (string id in kept ?? [])
        {
            _promises.Remove(id);
        }

        var scores = _peers.Values.ToDictionary(p => p, Score);
        var control = new Dictionary<Peer, ControlMessage>();
        ControlMessage For(Peer peer)
        {
            if (!control.TryGetValue(peer, out ControlMessage? c))
            {
                c = new ControlMessage();
                control[peer] = c;
            }

            return c;
        }

        void Graft(HashSet<Peer> mesh, string topic, IEnumerable<Peer> peers)
        {
            foreach (Peer peer in peers.ToList())
            {
                if (mesh.Add(peer))
                {
                    _score.Graft(peer.Id, topic);
                    For(peer).Graft.Add(new ControlGraft { TopicID = topic });
                }
            }
        }

        void Prune(HashSet<Peer> mesh, string topic, Peer peer, bool exchange)
        {
            if (mesh.Remove(peer))
            {
                _score.Prune(peer.Id, topic);
                For(peer).Prune.Add(MakePruneLocked(peer, topic, exchange, _options.PruneBackoff));
            }
        }

        IEnumerable<Peer> Candidates(string topic, HashSet<Peer> mesh) =>
            _peers.Values.Where(p => p.IsGossip && p.Topics.Contains(topic) && !mesh.Contains(p) && !InBackoffLocked(p, topic, now) && scores[p] >= 0);

        foreach ((string topic, HashSet<Peer> mesh) in _mesh)
        {
            foreach (Peer peer in mesh.ToList())
            {
                if (!peer.Topics.Contains(topic))
                {
                    mesh.Remove(peer);
                    _score.Prune(peer.Id, topic);
                }
                else if (scores[peer] < 0)
                {
                    Prune(mesh, topic, peer, exchange: false);
                }
            }

            if (mesh.Count < _options.Dlo)
            {
                Graft(mesh, topic, Shuffled(Candidates(topic, mesh)).Take(_options.D - mesh.Count));
            }

            if (mesh.Count > _options.Dhi)
            {
                List<Peer> byScore = [.. Shuffled(mesh).OrderByDescending(p => scores[p])];
                List<Peer> keep = [.. byScore.Take(_options.Dscore)];
                keep.AddRange(Shuffled(byScore.Skip(_options.Dscore)).Take(_options.D - keep.Count));

                // At least Dout outbound peers survive: swap them in for the last random (not score-kept) ones.
                List<Peer> outboundLeft = [.. byScore.Where(p => p.Outbound && !keep.Contains(p))];
                for (int i = keep.Count - 1; i >= _options.Dscore && keep.Count(p => p.Outbound) < _options.Dout && outboundLeft.Count > 0; i--)
                {
                    if (!keep[i].Outbound)
                    {
                        keep[i] = outboundLeft[^1];
                        outboundLeft.RemoveAt(outboundLeft.Count - 1);
                    }
                }

                foreach (Peer peer in mesh.Except(keep).ToList())
                {
                    Prune(mesh, topic, peer, exchange: true);
                }
            }

            if (mesh.Count >= _options.Dlo)
            {
                int outbound = mesh.Count(p => p.Outbound);
                if (outbound < _options.Dout)
                {
                    Graft(mesh, topic, Shuffled(Candidates(topic, mesh).Where(p => p.Outbound)).Take(_options.Dout - outbound));
                }
            }

            if (_options.OpportunisticGraftTicks > 0 && _ticks % _options.OpportunisticGraftTicks == 0 && mesh.Count > 1)
            {
                List<double> sorted = [.. mesh.Select(p => scores[p]).Order()];
                double median = sorted[sorted.Count / 2];
                if (median < _options.Score.OpportunisticGraftThreshold)
                {
                    Graft(mesh, topic, Shuffled(Candidates(topic, mesh).Where(p => scores[p] > median)).Take(_options.OpportunisticGraftPeers));
                }
            }

            EmitGossip(topic, mesh, scores, For);
        }

        foreach (string topic in _fanout.Keys.ToList())
        {
            if (!_fanoutPublished.TryGetValue(topic, out DateTimeOffset last) || last + _options.FanoutTtl < now)
            {
                _fanout.Remove(topic);
                _fanoutPublished.Remove(topic);
                continue;
            }

            HashSet<Peer> fanout = _fanout[topic];
            fanout.RemoveWhere(p => !p.Topics.Contains(topic) || scores[p] < _options.Score.PublishThreshold);
            if (fanout.Count < _options.D)
            {
                fanout.UnionWith(Shuffled(_peers.Values.Where(p => p.IsGossip && p.Topics.Contains(topic) && !fanout.Contains(p) && scores[p] >= _options.Score.PublishThreshold)).Take(_options.D - fanout.Count));
            }

            EmitGossip(topic, fanout, scores, For);
        }

        foreach ((Peer peer, ControlMessage c) in control)
        {
            Send(peer, new Rpc { Control = c });
        }

        foreach (var key in _backoff.Where(b => b.Value + _options.HeartbeatInterval < now).Select(b => b.Key).ToList())
        {
            _backoff.Remove(key);
        }

        _cache.Shift();
        _seen.Prune(now);
        _score.Refresh();
    }

    private void EmitGossip(string topic, HashSet<Peer> exclude, Dictionary<Peer, double> scores, Func<Peer, ControlMessage> controlOf)
    {
        List<byte[]> ids = _cache.GossipIds(topic);
        if (ids.Count == 0)
        {
            return;
        }

        if (ids.Count > _options.MaxIHaveLength)
        {
            ids = [.. Shuffled(ids).Take(_options.MaxIHaveLength)];
        }

        List<Peer> candidates = [.. _peers.Values.Where(p => p.IsGossip && p.Topics.Contains(topic) && !exclude.Contains(p) && scores[p] >= _options.Score.GossipThreshold)];
        int target = Math.Max(_options.Dlazy, (int)(candidates.Count * _options.GossipFactor));
        foreach (Peer peer in Shuffled(candidates).Take(target))
        {
            var ihave = new ControlIHave { TopicID = topic };
            ihave.MessageIDs.AddRange(ids.Select(ByteString.CopyFrom));
            controlOf(peer).Ihave.Add(ihave);
        }
    }

    // ---- sending ----
    private void Send(Peer peer, Rpc rpc)
    {
        if (peer.IsFloodsub && rpc.Control is not null)
        {
            rpc = new Rpc { Subscriptions = { rpc.Subscriptions }, Publish = { rpc.Publish } };
            if (rpc.Subscriptions.Count == 0 && rpc.Publish.Count == 0)
            {
                return;
            }
        }

        SendFrame(peer, GossipsubRpc.Framed(rpc));
    }

    private void SendFrame(Peer peer, byte[] frame)
    {
        if (!peer.Queue.Writer.TryWrite(frame))
        {
            Interlocked.Increment(ref Counters.QueueFull);
        }
    }

    private List<T> Shuffled<T>(IEnumerable<T> items)
    {
        T[] array = [.. items];
        Random.Shuffle(array);
        return [.. array];
    }

    /// <summary>A connected pubsub peer: its connection, the protocol it speaks, its topics and its send queue.</summary>
    internal sealed class Peer
    {
        public Peer(Libp2pPeerId id, bool outbound, Libp2pConnection? connection, string? protocol, int queue, CancellationToken stopping)
        {
            Id = id;
            Outbound = outbound;
            Connection = connection;
            Protocol = protocol;
            Queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(queue) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
            Stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        }

        public Libp2pPeerId Id { get; }

        /// <summary>The connection carrying its streams; null for a peer the simulation links (<see cref="AddPeerWithoutConnection"/>).</summary>
        public Libp2pConnection? Connection { get; }

        /// <summary>The pubsub protocol it speaks (null until known: taken for gossipsub).</summary>
        public string? Protocol { get; set; }

        public bool IsFloodsub => Protocol == GossipsubRpc.Floodsub;

        public bool IsGossip => !IsFloodsub;

        /// <summary>Whether this node dialled it (counts for Dout).</summary>
        public bool Outbound { get; }

        public HashSet<string> Topics { get; } = new(StringComparer.Ordinal);

        public Channel<byte[]> Queue { get; }

        public CancellationTokenSource Stop { get; }

        public Task? Writer { get; set; }

        public int IHaves { get; set; }

        public int IAsked { get; set; }

        public int InboundStreams { get; set; }
    }
}
