using System.Net;
using PeerNet.Dht;
using PeerNet.Transport;

namespace PeerNet.Discovery.Dht;

public sealed partial class DhtNode
{
    /// <summary>
    /// An iterative lookup of <paramref name="target"/> (find_node or get_peers): query the alpha closest known
    /// nodes not yet asked, merge the nodes they return, and stop when the k closest nodes that have not failed
    /// have all answered, or after <see cref="DhtNodeOptions.MaxQueriesPerLookup"/> queries. A query unanswered
    /// after <see cref="DhtNodeOptions.SlowQueryTimeout"/> stops counting against alpha and towards "done" (as
    /// libtorrent's short timeout), so dead nodes cost a lookup about a second, not the whole query timeout.
    /// </summary>
    internal async Task<LookupResult> LookupAsync(NodeId target, DhtMethod method, CancellationToken cancellationToken, Action<KrpcMessage>? onResponse = null)
    {
        Interlocked.Increment(ref _lookups);
        Interlocked.Increment(ref _activeLookups);
        try
        {
            LookupResult result = await RunLookupAsync(target, method, onResponse, cancellationToken).ConfigureAwait(false);
            NoteLookup(result);
            return result;
        }
        finally
        {
            Interlocked.Decrement(ref _activeLookups);
        }
    }

    private async Task<LookupResult> RunLookupAsync(NodeId target, DhtMethod method, Action<KrpcMessage>? onResponse, CancellationToken cancellationToken)
    {
        var candidates = new List<Candidate>();
        var seen = new HashSet<NodeId>();
        foreach (DhtContact contact in ClosestForLookup(target))
        {
            seen.Add(contact.Id);
            candidates.Add(new Candidate(contact, 0));
        }

        var peers = new HashSet<IPEndPoint>();
        var inFlight = new Dictionary<Task<KrpcMessage?>, Candidate>();
        int queries = 0;
        int k = _options.BucketSize;
        while (true)
        {
            candidates.Sort((x, y) => target.CompareDistance(x.Contact.Id, y.Contact.Id));
            List<Candidate> closest = candidates.Where(c => c.State is not (CandidateState.Failed or CandidateState.Slow)).Take(k).ToList();
            if (closest.TrueForAll(c => c.State == CandidateState.Responded) && (closest.Count > 0 || inFlight.Count == 0))
            {
                break;
            }

            int active = inFlight.Values.Count(c => c.State == CandidateState.Querying);
            foreach (Candidate next in closest)
            {
                if (active >= _options.Alpha || queries >= _options.MaxQueriesPerLookup)
                {
                    break;
                }

                if (next.State == CandidateState.New)
                {
                    next.State = CandidateState.Querying;
                    next.SentAt = _time.GetTimestamp();
                    active++;
                    queries++;
                    Task<KrpcMessage?> task = QueryAsync(next.Contact.EndPoint, next.Contact.Id, tid => NewQuery(tid, method, target), cancellationToken);
                    inFlight.Add(task, next);
                }
            }

            if (inFlight.Count == 0)
            {
                break;
            }

            Task<KrpcMessage?>? done = await NextAnswerAsync(inFlight, cancellationToken).ConfigureAwait(false);
            if (done is null)
            {
                continue; // a query turned slow: its place goes to the next candidate
            }

            Candidate asked = inFlight[done];
            inFlight.Remove(done);
            KrpcMessage? answer = await done.ConfigureAwait(false);
            if (answer is null || answer.Type != KrpcMessageType.Response || answer.Id != asked.Contact.Id)
            {
                asked.State = CandidateState.Failed;
                continue;
            }

            asked.State = CandidateState.Responded;
            asked.Token = answer.Token;
            onResponse?.Invoke(answer);
            // A node is believed only about addresses as wide as its own: one on the internet cannot send our lookups,
            // or the torrents that dial what they find, into our loopback or private networks.
            IPAddress informer = asked.Contact.EndPoint.Address;
            foreach (IPEndPoint peer in answer.Values)
            {
                if (peers.Count < 1000 && NetworkScopes.MayName(informer, peer.Address))
                {
                    peers.Add(peer);
                }
            }

            IReadOnlyList<DhtContact> returned = Family == System.Net.Sockets.AddressFamily.InterNetwork ? answer.Nodes : answer.Nodes6;
            foreach (DhtContact contact in returned)
            {
                if (contact.Id != _table.OwnId && contact.EndPoint.Port != 0 && NetworkScopes.MayName(informer, contact.EndPoint.Address) && seen.Add(contact.Id))
                {
                    candidates.Add(new Candidate(contact, asked.Depth + 1));
                }
            }
        }

        foreach (Task<KrpcMessage?> abandoned in inFlight.Keys)
        {
            // Slow queries left behind end at their own timeout; observe them so a cancellation is not unobserved.
            _ = abandoned.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        candidates.Sort((x, y) => target.CompareDistance(x.Contact.Id, y.Contact.Id));
        List<Candidate> responded = candidates.Where(c => c.State == CandidateState.Responded).Take(k).ToList();
        return new LookupResult(
            [.. peers],
            responded.Select(c => (c.Contact, c.Token)).ToList(),
            responded.Count > 0 ? responded[0].Depth : -1,
            queries);
    }

    /// <summary>
    /// The next query to finish, or null when, before any does, the oldest query still counted as active passes
    /// <see cref="DhtNodeOptions.SlowQueryTimeout"/> (it is then marked slow).
    /// </summary>
    private async Task<Task<KrpcMessage?>?> NextAnswerAsync(Dictionary<Task<KrpcMessage?>, Candidate> inFlight, CancellationToken cancellationToken)
    {
        Task<Task<KrpcMessage?>> any = Task.WhenAny(inFlight.Keys);
        Candidate? oldest = null;
        foreach (Candidate c in inFlight.Values)
        {
            if (c.State == CandidateState.Querying && (oldest is null || c.SentAt < oldest.SentAt))
            {
                oldest = c;
            }
        }

        TimeSpan left = oldest is null ? Timeout.InfiniteTimeSpan : _options.SlowQueryTimeout - _time.GetElapsedTime(oldest.SentAt);
        if (oldest is not null && left <= TimeSpan.Zero)
        {
            oldest.State = CandidateState.Slow;
            return null;
        }

        if (left == Timeout.InfiniteTimeSpan || left >= _options.QueryTimeout)
        {
            return await any.ConfigureAwait(false);
        }

        using var slow = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task delay = Task.Delay(left, _time, slow.Token);
        Task first = await Task.WhenAny(any, delay).ConfigureAwait(false);
        slow.Cancel();
        if (first == any)
        {
            return await any.ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        oldest!.State = CandidateState.Slow;
        return null;
    }

    private List<DhtContact> ClosestForLookup(NodeId target)
    {
        lock (_lock)
        {
            return _table.Closest(target, _options.BucketSize * 2);
        }
    }

    /// <summary>announce_peer to each of the lookup's closest nodes that gave a token, in parallel.</summary>
    private async Task<int> AnnounceToAsync(LookupResult lookup, NodeId target, int port, CancellationToken cancellationToken)
    {
        var announces = new List<Task<KrpcMessage?>>();
        foreach ((DhtContact contact, byte[]? token) in lookup.Closest)
        {
            if (token is not null)
            {
                announces.Add(QueryAsync(contact.EndPoint, contact.Id, tid => NewQuery(tid, DhtMethod.AnnouncePeer, target, token, port), cancellationToken));
            }
        }

        KrpcMessage?[] answers = await Task.WhenAll(announces).ConfigureAwait(false);
        return answers.Count(a => a?.Type == KrpcMessageType.Response);
    }

    private enum CandidateState
    {
        New,
        Querying,

        /// <summary>Still querying, past the slow timeout: neither active nor awaited.</summary>
        Slow,
        Responded,
        Failed,
    }

    private sealed class Candidate(DhtContact contact, int depth)
    {
        public DhtContact Contact { get; } = contact;

        /// <summary>Hops from our own table: 0 for nodes we knew, n+1 for nodes a depth-n node returned.</summary>
        public int Depth { get; } = depth;

        public CandidateState State { get; set; }

        /// <summary>When the query was sent (<see cref="TimeProvider.GetTimestamp"/>).</summary>
        public long SentAt { get; set; }

        public byte[]? Token { get; set; }
    }
}

/// <summary>What a lookup found.</summary>
/// <param name="Peers">Peers from get_peers <c>values</c>, distinct.</param>
/// <param name="Closest">The k closest nodes that answered, closest first, with the token each gave.</param>
/// <param name="Hops">Hops to the closest node that answered (0: it was in our table); -1 when none answered.</param>
/// <param name="Queries">Queries the lookup sent.</param>
internal sealed record LookupResult(IReadOnlyList<IPEndPoint> Peers, IReadOnlyList<(DhtContact Contact, byte[]? Token)> Closest, int Hops, int Queries);
