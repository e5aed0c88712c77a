using System.Net;
using System.Net.Sockets;
using PeerNet.Transport;

namespace PeerNet.Diagnostics;

/// <summary>Which of the node's listeners an incoming connection came through.</summary>
internal enum InboundTransport
{
    Tcp,
    Utp,
}

/// <summary>
/// What the node has seen of its own reachability, on its clock, for <see cref="PeerNetNode.Diagnose"/>: incoming
/// connections per transport and family (count, last time, last time from an address on the internet), and the address
/// peers say they see us at (BEP 10 <c>yourip</c>), one vote per peer address, the most recent voters kept.
/// </summary>
internal sealed class ConnectivityTracker(TimeProvider time)
{
    /// <summary>Voters remembered (the oldest vote goes first): enough for a majority, bounded against a flood of peers.</summary>
    internal const int MaxVoters = 64;

    private readonly Lock _gate = new();
    private readonly InboundCounts[] _inbound = [new(), new()];
    private readonly Dictionary<IPAddress, (IPAddress Reported, DateTimeOffset At)> _votes = [];
    private readonly Queue<IPAddress> _voters = new();
    private readonly Dictionary<string, (IPAddress Reported, DateTimeOffset At)> _trackerVotes = new(StringComparer.Ordinal);
    private readonly Queue<string> _trackerVoters = new();

    /// <summary>
    /// The external address of a family from the node's most trusted sources (the router's mapping, then the DHT's
    /// vote), public addresses only; set by the node. <see cref="ExternalAddress"/> falls back to trackers, then peers.
    /// </summary>
    public Func<AddressFamily, IPAddress?>? Learned { get; set; }

    /// <summary>When the tracker (and so the node's session) started.</summary>
    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    /// <summary>Notes an incoming connection accepted on <paramref name="transport"/> from <paramref name="remote"/>.</summary>
    public void Inbound(InboundTransport transport, IPEndPoint remote)
    {
        DateTimeOffset now = time.GetUtcNow();
        IPAddress address = remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address;
        bool fromInternet = NetworkScopes.Of(address) == NetworkScope.Global;
        lock (_gate)
        {
            InboundCounts counts = _inbound[(int)transport];
            if (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                counts.IPv6++;
            }
            else
            {
                counts.IPv4++;
            }

            counts.Last = now;
            if (fromInternet)
            {
                counts.LastFromInternet = now;
            }
        }
    }

    /// <summary>
    /// Notes that the peer at <paramref name="voter"/> sees us at <paramref name="reported"/>. Only peers on the internet
    /// reporting an internet address count: a peer on the LAN sees our LAN address, not the router's.
    /// </summary>
    public void PeerReported(IPAddress voter, IPAddress? reported)
    {
        if (reported is null)
        {
            return;
        }

        voter = voter.IsIPv4MappedToIPv6 ? voter.MapToIPv4() : voter;
        reported = reported.IsIPv4MappedToIPv6 ? reported.MapToIPv4() : reported;
        if (NetworkScopes.Of(voter) != NetworkScope.Global || NetworkScopes.Of(reported) != NetworkScope.Global)
        {
            return;
        }

        DateTimeOffset now = time.GetUtcNow();
        lock (_gate)
        {
            if (!_votes.ContainsKey(voter))
            {
                if (_voters.Count >= MaxVoters)
                {
                    _votes.Remove(_voters.Dequeue());
                }

                _voters.Enqueue(voter);
            }

            _votes[voter] = (reported, now);
        }
    }

    /// <summary>
    /// Notes that the tracker at <paramref name="url"/> (one on the internet) saw our announce come from
    /// <paramref name="reported"/> (BEP 24). Only an internet address counts; one vote per tracker URL, the latest 64 kept.
    /// </summary>
    public void TrackerReported(string url, IPAddress reported)
    {
        reported = reported.IsIPv4MappedToIPv6 ? reported.MapToIPv4() : reported;
        if (NetworkScopes.Of(reported) != NetworkScope.Global)
        {
            return;
        }

        DateTimeOffset now = time.GetUtcNow();
        lock (_gate)
        {
            if (!_trackerVotes.ContainsKey(url))
            {
                if (_trackerVoters.Count >= MaxVoters)
                {
                    _trackerVotes.Remove(_trackerVoters.Dequeue());
                }

                _trackerVoters.Enqueue(url);
            }

            _trackerVotes[url] = (reported, now);
        }
    }

    /// <summary>The address most peers of <paramref name="family"/> report, with how many do and the latest report; null without any.</summary>
    public (IPAddress Address, int Votes, DateTimeOffset At)? PeersSee(AddressFamily family)
    {
        lock (_gate)
        {
            return Majority(_votes.Values, family);
        }
    }

    /// <summary>The address most trackers report for <paramref name="family"/>, with how many do and the latest report; null without any.</summary>
    public (IPAddress Address, int Votes, DateTimeOffset At)? TrackersSee(AddressFamily family)
    {
        lock (_gate)
        {
            return Majority(_trackerVotes.Values, family);
        }
    }

    /// <summary>
    /// Our public address of <paramref name="family"/> as best known, for announces (BEP 7 <c>ipv4=</c>/<c>ipv6=</c>):
    /// the router's or the DHT's (<see cref="Learned"/>), else what trackers report, else what at least two peers
    /// report; null when nobody said.
    /// </summary>
    public IPAddress? ExternalAddress(AddressFamily family)
    {
        if (Learned?.Invoke(family) is { } learned && learned.AddressFamily == family && NetworkScopes.Of(learned) == NetworkScope.Global)
        {
            return learned;
        }

        if (TrackersSee(family) is { } trackers)
        {
            return trackers.Address;
        }

        return PeersSee(family) is { Votes: >= 2 } peers ? peers.Address : null;
    }

    private static (IPAddress Address, int Votes, DateTimeOffset At)? Majority(IEnumerable<(IPAddress Reported, DateTimeOffset At)> votes, AddressFamily family)
    {
        var best = votes
            .Where(v => v.Reported.AddressFamily == family)
            .GroupBy(v => v.Reported)
            .Select(g => (Address: g.Key, Votes: g.Count(), At: g.Max(v => v.At)))
            .OrderByDescending(g => g.Votes).ThenByDescending(g => g.At)
            .FirstOrDefault();
        return best.Address is null ? null : best;
    }

    /// <summary>The incoming connections seen on <paramref name="transport"/>.</summary>
    public (long IPv4, long IPv6, DateTimeOffset? Last, DateTimeOffset? LastFromInternet) InboundOn(InboundTransport transport)
    {
        lock (_gate)
        {
            InboundCounts c = _inbound[(int)transport];
            return (c.IPv4, c.IPv6, c.Last, c.LastFromInternet);
        }
    }

    private sealed class InboundCounts
    {
        public long IPv4;
        public long IPv6;
        public DateTimeOffset? Last;
        public DateTimeOffset? LastFromInternet;
    }
}
