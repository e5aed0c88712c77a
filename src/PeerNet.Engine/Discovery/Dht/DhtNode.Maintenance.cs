using System.Net;
using System.Net.Sockets;
using PeerNet.Dht;
using PeerNet.Transport;

namespace PeerNet.Discovery.Dht;

public sealed partial class DhtNode
{
    private List<DhtContact> _savedNodes = [];
    private int _ticks;

    /// <summary>
    /// Asks the saved nodes and the bootstrap nodes for nodes near our ID (filling the table with whoever
    /// answers), then looks our own ID up, then refreshes the buckets that are not full. With an empty table and the
    /// same node's DHT on the other family (<see cref="OtherFamily"/>), the nodes of our family that its nodes name
    /// when asked with BEP 32's <c>want</c> are seeds too: bootstrap nodes of one family are enough for both tables.
    /// </summary>
    internal async Task BootstrapAsync(CancellationToken cancellationToken)
    {
        NoteBootstrap(DhtBootstrapState.Running);
        var seeds = new List<IPEndPoint>(_savedNodes.Select(n => n.EndPoint));
        seeds.AddRange(await ResolveBootstrapAsync(cancellationToken).ConfigureAwait(false));
        if (OtherFamily is { } other && TableCount == 0)
        {
            seeds.AddRange(await other.NodesOfFamilyAsync(Family, _table.OwnId, cancellationToken).ConfigureAwait(false));
        }
        NodeId own = _table.OwnId;
        await Task.WhenAll(seeds.Distinct().Take(64).Select(seed =>
            QueryAsync(seed, null, tid => NewQuery(tid, DhtMethod.FindNode, own), cancellationToken))).ConfigureAwait(false);
        await LookupAsync(own, DhtMethod.FindNode, cancellationToken).ConfigureAwait(false);
        await RefreshAsync(onlyNotFull: true, cancellationToken).ConfigureAwait(false);
        int nodes;
        lock (_lock)
        {
            nodes = _table.Count;
        }

        NoteBootstrap(nodes > 0 ? DhtBootstrapState.Joined : DhtBootstrapState.NobodyAnswered);
        if (nodes > 0)
        {
            DhtLog.Bootstrapped(_log, nodes);
        }
        else
        {
            DhtLog.NobodyAnswered(_log, seeds.Count);
        }
    }

    /// <summary>
    /// BEP 32: nodes of <paramref name="family"/> (the other family's, for the same node's DHT there) that the nodes of
    /// this table closest to <paramref name="target"/> know: each is asked find_node with <c>want</c> n4 and n6, and the
    /// nodes of that family in its answer (<c>nodes</c> or <c>nodes6</c>) are returned, each once, at most 64, only
    /// those the answering node may name (<see cref="NetworkScopes.MayName(IPAddress, IPAddress)"/>).
    /// </summary>
    internal async Task<List<IPEndPoint>> NodesOfFamilyAsync(AddressFamily family, NodeId target, CancellationToken cancellationToken)
    {
        if (_socket is null || family == Family)
        {
            return [];
        }

        List<DhtContact> asked;
        lock (_lock)
        {
            asked = _table.Closest(target, _options.BucketSize);
        }

        KrpcMessage?[] answers = await Task.WhenAll(asked.Select(contact =>
            QueryAsync(contact.EndPoint, contact.Id, tid => NewQuery(tid, DhtMethod.FindNode, target, want: DhtWant.N4 | DhtWant.N6), cancellationToken))).ConfigureAwait(false);
        var found = new List<IPEndPoint>();
        for (int i = 0; i < answers.Length; i++)
        {
            if (answers[i] is not { Type: KrpcMessageType.Response } answer)
            {
                continue;
            }

            foreach (DhtContact contact in family == AddressFamily.InterNetwork ? answer.Nodes : answer.Nodes6)
            {
                if (found.Count < 64 && contact.EndPoint.Port != 0 && DhtContact.FamilyOf(contact.EndPoint) == family
                    && NetworkScopes.MayName(asked[i].EndPoint.Address, contact.EndPoint.Address) && !found.Contains(contact.EndPoint))
                {
                    found.Add(contact.EndPoint);
                }
            }
        }

        return found;
    }

    private int TableCount
    {
        get
        {
            lock (_lock)
            {
                return _table.Count;
            }
        }
    }

    /// <summary>Looks up a random ID in each bucket that is stale (or, with <paramref name="onlyNotFull"/>, not full).</summary>
    internal async Task RefreshAsync(bool onlyNotFull, CancellationToken cancellationToken)
    {
        List<NodeId> targets;
        lock (_lock)
        {
            targets = onlyNotFull
                ? _table.NotFullBucketTargets(_random)
                : _table.StaleBucketTargets(RoutingTable.GoodFor, _random);
        }

        // In parallel: each lookup is bounded in queries, and a dead node costs each one a timeout.
        await Task.WhenAll(targets.Select(target => LookupAsync(target, DhtMethod.FindNode, cancellationToken))).ConfigureAwait(false);
    }

    private async Task<List<IPEndPoint>> ResolveBootstrapAsync(CancellationToken cancellationToken)
    {
        var endPoints = new List<IPEndPoint>();
        foreach (string entry in _options.BootstrapNodes)
        {
            int colon = entry.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(entry.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out int port) || port is < 1 or > IPEndPoint.MaxPort)
            {
                continue;
            }

            string host = entry[..colon].Trim('[', ']');
            if (IPAddress.TryParse(host, out IPAddress? literal))
            {
                endPoints.Add(new IPEndPoint(literal, port));
                continue;
            }

            try
            {
                IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, Family, cancellationToken).ConfigureAwait(false);
                endPoints.AddRange(addresses.Select(a => new IPEndPoint(a, port)));
            }
            catch (SocketException e)
            {
                // An unresolvable router is skipped; the others may do.
                DhtLog.RouterUnresolved(_log, host, e.SocketErrorCode.ToString());
            }
        }

        return endPoints.Where(e => DhtContact.FamilyOf(e) == Family).ToList();
    }

    private async Task MaintenanceLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.MaintenanceInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await MaintainAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One maintenance round: expire peers, ping questionable nodes, refresh stale buckets, save state.</summary>
    internal async Task MaintainAsync(CancellationToken cancellationToken)
    {
        _peers.Expire();
        List<DhtContact> questionable;
        int count;
        lock (_lock)
        {
            questionable = _table.QuestionableToPing();
            count = _table.Count;
        }

        await Task.WhenAll(questionable.Select(node =>
            QueryAsync(node.EndPoint, node.Id, tid => NewQuery(tid, DhtMethod.Ping), cancellationToken))).ConfigureAwait(false);
        if (count == 0)
        {
            await BootstrapAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await RefreshAsync(onlyNotFull: false, cancellationToken).ConfigureAwait(false);
        }

        if (++_ticks % 5 == 0)
        {
            SaveState();
        }
    }

    /// <summary>The routing table's entries (tests, diagnostics).</summary>
    internal List<DhtContact> GetRoutingContacts()
    {
        lock (_lock)
        {
            return _table.Nodes.Select(n => n.Contact).ToList();
        }
    }

    /// <summary>Writes the state file now (also done every few maintenance rounds and on dispose).</summary>
    internal void SaveState()
    {
        if (_options.StatePath is null)
        {
            return;
        }

        DhtState state;
        lock (_lock)
        {
            state = new DhtState(_table.OwnId, _externalAddress ?? _options.ExternalAddress, _table.Nodes.Select(n => n.Contact).ToList());
        }

        try
        {
            state.Save(_options.StatePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The next round tries again; a lost save only costs a slower bootstrap.
            DhtLog.SaveFailed(_log, _options.StatePath, e.Message);
        }
    }
}
