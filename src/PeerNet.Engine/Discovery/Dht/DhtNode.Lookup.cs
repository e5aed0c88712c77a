using System.Net;
using PeerNet.Dht;

namespace PeerNet.Discovery.Dht;

public sealed partial class DhtNode
{
    /// <summary>
    /// An iterative lookup of <paramref name="target"/> (find_node or get_peers): query the alpha closest known
    /// nodes not yet asked, merge the nodes they return, and stop when the k closest nodes that have not failed
    /// have all answered, or after <see cref="DhtNodeOptions.MaxQueriesPerLookup"/> queries.
    /// </summary>
    internal async Task<LookupResult> LookupAsync(NodeId target, DhtMethod method, CancellationToken cancellationToken, Action<KrpcMessage>? onResponse = null)
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
            List<Candidate> closest = candidates.Where(c => c.State != CandidateState.Failed).Take(k).ToList();
            if (closest.TrueForAll(c => c.State == CandidateState.Responded))
            {
                break;
            }

            foreach (Candidate next in closest)
            {
                if (inFlight.Count >= _options.Alpha || queries >= _options.MaxQueriesPerLookup)
                {
                    break;
                }

                if (next.State == CandidateState.New)
                {
                    next.State = CandidateState.Querying;
                    queries++;
                    Task<KrpcMessage?> task = QueryAsync(next.Contact.EndPoint, next.Contact.Id, tid => NewQuery(tid, method, target), cancellationToken);
                    inFlight.Add(task, next);
                }
            }

            if (inFlight.Count == 0)
            {
                break;
            }

            Task<KrpcMessage?> done = await Task.WhenAny(inFlight.Keys).ConfigureAwait(false);
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
            foreach (IPEndPoint peer in answer.Values)
            {
                if (peers.Count < 1000)
                {
                    peers.Add(peer);
                }
            }

            IReadOnlyList<DhtContact> returned = Family == System.Net.Sockets.AddressFamily.InterNetwork ? answer.Nodes : answer.Nodes6;
            foreach (DhtContact contact in returned)
            {
                if (contact.Id != _table.OwnId && contact.EndPoint.Port != 0 && seen.Add(contact.Id))
                {
                    candidates.Add(new Candidate(contact, asked.Depth + 1));
                }
            }
        }

        candidates.Sort((x, y) => target.CompareDistance(x.Contact.Id, y.Contact.Id));
        List<Candidate> responded = candidates.Where(c => c.State == CandidateState.Responded).Take(k).ToList();
        return new LookupResult(
            [.. peers],
            responded.Select(c => (c.Contact, c.Token)).ToList(),
            responded.Count > 0 ? responded[0].Depth : -1,
            queries);
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
        Responded,
        Failed,
    }

    private sealed class Candidate(DhtContact contact, int depth)
    {
        public DhtContact Contact { get; } = contact;

        /// <summary>Hops from our own table: 0 for nodes we knew, n+1 for nodes a depth-n node returned.</summary>
        public int Depth { get; } = depth;

        public CandidateState State { get; set; }

        public byte[]? Token { get; set; }
    }
}

/// <summary>What a lookup found.</summary>
/// <param name="Peers">Peers from get_peers <c>values</c>, distinct.</param>
/// <param name="Closest">The k closest nodes that answered, closest first, with the token each gave.</param>
/// <param name="Hops">Hops to the closest node that answered (0: it was in our table); -1 when none answered.</param>
/// <param name="Queries">Queries the lookup sent.</param>
internal sealed record LookupResult(IReadOnlyList<IPEndPoint> Peers, IReadOnlyList<(DhtContact Contact, byte[]? Token)> Closest, int Hops, int Queries);
