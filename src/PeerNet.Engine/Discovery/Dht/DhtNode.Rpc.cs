using System.Net;
using PeerNet.Dht;

namespace PeerNet.Discovery.Dht;

public sealed partial class DhtNode
{
    private readonly SemaphoreSlim _outstanding;
    private readonly Dictionary<ushort, PendingQuery> _pending = [];
    private readonly Dictionary<IPAddress, IPAddress> _externalVotes = [];
    private IPAddress? _externalAddress;

    /// <summary>Our address as most responders' <c>ip</c> field reports it (BEP 42), once two agree.</summary>
    internal IPAddress? ExternalAddress
    {
        get
        {
            lock (_lock)
            {
                return _externalAddress;
            }
        }
    }

    /// <summary>
    /// Sends a query to <paramref name="to"/> and waits for its answer: the response or error message, or null
    /// after the query timeout. A response adds its sender to the routing table; a timeout counts against the
    /// node <paramref name="expectedId"/> names, if it is in the table.
    /// </summary>
    private async Task<KrpcMessage?> QueryAsync(IPEndPoint to, NodeId? expectedId, Func<byte[], KrpcMessage> build, CancellationToken cancellationToken)
    {
        await _outstanding.WaitAsync(cancellationToken).ConfigureAwait(false);
        ushort tid = 0;
        var pending = new PendingQuery(to);
        try
        {
            lock (_lock)
            {
                do
                {
                    tid = (ushort)_random.Next(ushort.MaxValue + 1);
                }
                while (_pending.ContainsKey(tid));

                _pending.Add(tid, pending);
            }

            KrpcMessage query = build([(byte)(tid >> 8), (byte)tid]);
            Interlocked.Increment(ref _queriesSent);
            await SendAsync(query, to, cancellationToken).ConfigureAwait(false);
            KrpcMessage? answer;
            try
            {
                answer = await pending.Answer.Task.WaitAsync(_options.QueryTimeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                answer = null;
            }

            lock (_lock)
            {
                if (answer is null)
                {
                    if (expectedId is NodeId id)
                    {
                        _table.Failed(id, to);
                    }
                }
                else if (answer.Type == KrpcMessageType.Response && (expectedId is null || expectedId == answer.Id))
                {
                    _table.Responded(new DhtContact(answer.Id, to), NodeIdSecurity.IsValid(answer.Id, to.Address));
                    VoteExternalAddressLocked(answer.RequesterEndPoint, to.Address);
                }
            }

            return answer;
        }
        finally
        {
            lock (_lock)
            {
                if (_pending.TryGetValue(tid, out PendingQuery? registered) && ReferenceEquals(registered, pending))
                {
                    _pending.Remove(tid);
                }
            }

            _outstanding.Release();
        }
    }

    /// <summary>A query of <paramref name="method"/> from us, with <c>ro</c> when read-only, and BEP 32's <c>want</c> when given.</summary>
    private KrpcMessage NewQuery(byte[] tid, DhtMethod method, NodeId target = default, byte[]? token = null, int port = 0, DhtWant want = DhtWant.None) => new()
    {
        Type = KrpcMessageType.Query,
        TransactionId = tid,
        Method = method,
        Id = _table.OwnId,
        Target = target,
        Token = token,
        Port = port,
        ImpliedPort = method == DhtMethod.AnnouncePeer && port == 0,
        ReadOnly = _options.ReadOnly,
        ClientVersion = Version,
        Want = want,
    };

    private void CompleteQuery(KrpcMessage answer, IPEndPoint from)
    {
        if (answer.TransactionId.Length != 2)
        {
            return;
        }

        ushort tid = (ushort)((answer.TransactionId[0] << 8) | answer.TransactionId[1]);
        PendingQuery? pending;
        lock (_lock)
        {
            _pending.TryGetValue(tid, out pending);
        }

        // Only the node we asked may answer: a reply from elsewhere with a guessed transaction ID is ignored.
        if (pending is not null && pending.To.Equals(from))
        {
            pending.Answer.TrySetResult(answer);
        }
    }

    private void VoteExternalAddressLocked(IPEndPoint? reported, IPAddress voter)
    {
        if (reported is null)
        {
            return;
        }

        if (_externalVotes.Count >= 64 && !_externalVotes.ContainsKey(voter))
        {
            _externalVotes.Remove(_externalVotes.Keys.First());
        }

        _externalVotes[voter] = reported.Address;
        IGrouping<IPAddress, IPAddress>? best = _externalVotes.Values.GroupBy(a => a).MaxBy(g => g.Count());
        if (best is not null && best.Count() >= 2)
        {
            _externalAddress = best.Key;
        }
    }

    private sealed class PendingQuery(IPEndPoint to)
    {
        public IPEndPoint To { get; } = to;

        public TaskCompletionSource<KrpcMessage> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
