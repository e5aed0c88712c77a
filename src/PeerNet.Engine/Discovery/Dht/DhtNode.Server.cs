using System.Net;
using PeerNet.Dht;

namespace PeerNet.Discovery.Dht;

public sealed partial class DhtNode
{
    /// <summary>Most peers in a get_peers reply to an address that has proven it receives at it (fits 1500 bytes).</summary>
    private const int MaxValuesV4 = 50;

    private const int MaxValuesV6 = 30;

    /// <summary>
    /// Most peers in a reply to an address not yet proven (not in our table, no valid token): a spoofed source
    /// gets a reply no bigger than needed, so the node is a poor amplifier.
    /// </summary>
    private const int MaxValuesUnverified = 8;

    /// <summary>BEP 51: samples per reply (20 fit in a packet with nodes), and the interval before asking again.</summary>
    private const int MaxSamples = 20;

    private const int SampleInterval = 21600;

    /// <summary>Pings of queriers we would like in our table, in flight at once.</summary>
    private int _querierPings;

    private async Task HandleQueryAsync(KrpcMessage query, IPEndPoint from, CancellationToken cancellationToken)
    {
        // BEP 43: a read-only node "should not respond to queries".
        if (_options.ReadOnly || !_queryLimiter.TryTake(from.Address))
        {
            Interlocked.Increment(ref _queriesDropped);
            return;
        }

        Interlocked.Increment(ref _queriesReceived);
        bool proven;
        lock (_lock)
        {
            RoutingNode? known = _table.Find(query.Id);
            proven = known is not null && known.EndPoint.Equals(from);

            // BEP 43: nodes that send ro=1 "should not be added to the routing table".
            if (!query.ReadOnly)
            {
                _table.Queried(query.Id, from);
                if (!proven && _table.WouldAccept(query.Id, from) && _querierPings < 16)
                {
                    _querierPings++;
                    _ = PingQuerierAsync(from);
                }
            }
        }

        KrpcMessage reply = query.Method switch
        {
            DhtMethod.Ping => Reply(query, from),
            DhtMethod.FindNode => Reply(query, from, nodes: Closest(query.Target)),
            DhtMethod.GetPeers => AnswerGetPeers(query, from, proven),
            DhtMethod.AnnouncePeer => AnswerAnnounce(query, from),
            DhtMethod.SampleInfohashes => AnswerSample(query, from),
            DhtMethod.Get or DhtMethod.Put => AnswerItem(query, from),
            _ => KrpcMessage.CreateError(query.TransactionId, KrpcErrorCode.MethodUnknown, "Method Unknown"),
        };
        await ReplyAsync(reply, from, cancellationToken).ConfigureAwait(false);
    }

    private async Task RefuseAsync(KrpcDecodeFailure failure, IPEndPoint from, CancellationToken cancellationToken)
    {
        if (!failure.ShouldReply || _options.ReadOnly || !_queryLimiter.TryTake(from.Address))
        {
            Interlocked.Increment(ref _queriesDropped);
            return;
        }

        // BEP 5: "203 Protocol Error, such as a malformed packet, invalid arguments, or bad token".
        KrpcMessage error = KrpcMessage.CreateError(failure.TransactionId!, KrpcErrorCode.Protocol, "Protocol Error: " + failure.Error);
        await ReplyAsync(error, from, cancellationToken).ConfigureAwait(false);
    }

    private async Task ReplyAsync(KrpcMessage reply, IPEndPoint to, CancellationToken cancellationToken)
    {
        byte[] bytes = reply.ToArray();

        // Bounded reply volume to any one source: past its byte budget, queries go unanswered.
        if (!_replyLimiter.TryTake(to.Address, bytes.Length))
        {
            Interlocked.Increment(ref _queriesDropped);
            return;
        }

        try
        {
            await _socket!.SendAsync(bytes, to, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    private async Task PingQuerierAsync(IPEndPoint from)
    {
        try
        {
            await QueryAsync(from, null, tid => NewQuery(tid, DhtMethod.Ping), _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            lock (_lock)
            {
                _querierPings--;
            }
        }
    }

    private KrpcMessage Reply(KrpcMessage query, IPEndPoint from, List<DhtContact>? nodes = null, byte[]? token = null, List<IPEndPoint>? values = null) => new()
    {
        Type = KrpcMessageType.Response,
        TransactionId = query.TransactionId,
        Id = _table.OwnId,

        // BEP 42: responses carry the requester's address as this node sees it.
        RequesterEndPoint = from,
        ClientVersion = Version,
        Token = token,
        Nodes = nodes is null ? [] : NodesOf(System.Net.Sockets.AddressFamily.InterNetwork, query, nodes),
        Nodes6 = nodes is null ? [] : NodesOf(System.Net.Sockets.AddressFamily.InterNetworkV6, query, nodes),
        Values = values ?? [],
    };

    /// <summary>
    /// BEP 32: the nodes of <paramref name="family"/> a reply carries. Without <c>want</c>, those of the socket the query
    /// came in on (ours, <paramref name="own"/>); with it, each family asked for: ours, or the closest in the routing
    /// table of <see cref="OtherFamily"/> (the same node's DHT on the other family), or none when there is no such table.
    /// </summary>
    private List<DhtContact> NodesOf(System.Net.Sockets.AddressFamily family, KrpcMessage query, List<DhtContact> own)
    {
        DhtWant wanted = family == System.Net.Sockets.AddressFamily.InterNetwork ? DhtWant.N4 : DhtWant.N6;
        bool asked = query.Want == DhtWant.None ? family == Family : (query.Want & wanted) != 0;
        if (!asked)
        {
            return [];
        }

        return family == Family ? own : OtherFamily is { } other && other.Family == family ? other.Closest(query.Target) : [];
    }

    private List<DhtContact> Closest(NodeId target)
    {
        lock (_lock)
        {
            return _table.Closest(target, _options.BucketSize);
        }
    }

    private KrpcMessage AnswerGetPeers(KrpcMessage query, IPEndPoint from, bool proven)
    {
        int max = !proven ? MaxValuesUnverified : Family == System.Net.Sockets.AddressFamily.InterNetwork ? MaxValuesV4 : MaxValuesV6;
        List<IPEndPoint> values;
        lock (_lock)
        {
            values = _peers.Get(query.Target, max, _random);
        }

        return Reply(query, from, Closest(query.Target), _tokens.Create(from.Address), values);
    }

    private KrpcMessage AnswerAnnounce(KrpcMessage query, IPEndPoint from)
    {
        // BEP 5: "The queried node must verify that the token was previously sent to the same IP address as the
        // querying node."
        if (query.Token is null || !_tokens.IsValid(query.Token, from.Address))
        {
            return KrpcMessage.CreateError(query.TransactionId, KrpcErrorCode.Protocol, "Protocol Error: bad token");
        }

        int port = query.ImpliedPort ? from.Port : query.Port;
        if (port == 0)
        {
            return KrpcMessage.CreateError(query.TransactionId, KrpcErrorCode.Protocol, "Protocol Error: port 0");
        }

        lock (_lock)
        {
            _peers.Add(query.Target, new IPEndPoint(from.Address, port));
        }

        return Reply(query, from);
    }

    private KrpcMessage AnswerSample(KrpcMessage query, IPEndPoint from)
    {
        List<NodeId> samples;
        lock (_lock)
        {
            samples = _peers.Sample(MaxSamples, _random);
        }

        return Reply(query, from, Closest(query.Target)) with
        {
            Interval = SampleInterval,
            SampleCount = _peers.InfoHashCount,
            Samples = samples,
        };
    }
}
