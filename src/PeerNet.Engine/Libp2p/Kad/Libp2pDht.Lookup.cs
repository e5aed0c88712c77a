namespace PeerNet.Libp2p;

/// <summary>The client side: requests to one peer and the iterative lookup.</summary>
public sealed partial class Libp2pDht
{
    private enum QueryState
    {
        Waiting,
        Querying,
        Answered,
        Failed,
    }

    /// <summary>
    /// The iterative lookup of <paramref name="key"/> (the spec's peer routing): starts from the k closest peers of the
    /// routing table, keeps α requests of <paramref name="type"/> in flight to the closest peers not yet asked, adds the
    /// closer peers each answer names, and ends when the k closest peers known have all answered (or failed), when
    /// <paramref name="onAnswer"/> says it has what it wants, or at the lookup's deadline. Peers that answer join the
    /// routing table; peers that cannot be reached leave it. Returns the closest peers that answered, nearest first.
    /// </summary>
    internal async Task<IReadOnlyList<KadContact>> LookupAsync(byte[] key, KadMessageType type, Func<Libp2pPeerId, KadRpc, bool>? onAnswer, CancellationToken cancellationToken)
    {
        byte[] target = KadDistance.Position(key);
        var request = KadRpc.Request(type, key);
        var known = new Dictionary<Libp2pPeerId, Candidate>();
        foreach (KadContact contact in _table.Closest(target, _options.BucketSize))
        {
            known[contact.Id] = new Candidate(contact);
        }

        using CancellationTokenSource deadline = Deadline(_options.LookupTimeout, cancellationToken, _stopping);
        var inflight = new Dictionary<Task<KadRpc?>, Candidate>();
        bool satisfied = false;
        try
        {
            while (!satisfied)
            {
                List<Candidate> closest = [.. known.Values.Where(c => c.State != QueryState.Failed)
                    .OrderBy(c => c.Contact.Position, Comparer<byte[]>.Create((a, b) => KadDistance.Compare(a, b, target)))
                    .Take(_options.BucketSize)];
                foreach (Candidate next in closest.Where(c => c.State == QueryState.Waiting))
                {
                    if (inflight.Count >= _options.Alpha)
                    {
                        break;
                    }

                    next.State = QueryState.Querying;
                    inflight[QueryAsync(next.Contact, request, deadline.Token)] = next;
                }

                if (inflight.Count == 0)
                {
                    break; // every one of the k closest answered or failed
                }

                Task<KadRpc?> done = await Task.WhenAny(inflight.Keys).WaitAsync(deadline.Token).ConfigureAwait(false);
                Candidate asked = inflight[done];
                inflight.Remove(done);
                KadRpc? answer = await done.ConfigureAwait(false);
                if (answer is null)
                {
                    asked.State = QueryState.Failed;
                    continue;
                }

                asked.State = QueryState.Answered;
                foreach (KadPeer peer in answer.CloserPeers)
                {
                    if (peer.Id.Equals(_host.PeerId))
                    {
                        continue;
                    }

                    if (known.TryGetValue(peer.Id, out Candidate? seen))
                    {
                        if (seen.Contact.Addresses.Count == 0 && peer.Addresses.Count > 0)
                        {
                            seen.Contact = seen.Contact with { Addresses = Strip(peer.Addresses) };
                        }
                    }
                    else if (known.Count < _options.MaxLookupCandidates)
                    {
                        known[peer.Id] = new Candidate(KadContact.Of(peer.Id, Strip(peer.Addresses)));
                    }
                }

                satisfied = onAnswer?.Invoke(asked.Contact.Id, answer) ?? false;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The lookup's deadline (or the node stopping): it ends with what it has.
        }
        finally
        {
            if (inflight.Count > 0)
            {
                await deadline.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll(inflight.Keys).ConfigureAwait(false); // each ends at once, with null
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        return [.. known.Values.Where(c => c.State == QueryState.Answered)
            .Select(c => c.Contact)
            .OrderBy(c => c.Position, Comparer<byte[]>.Create((a, b) => KadDistance.Compare(a, b, target)))
            .Take(_options.BucketSize)];
    }

    /// <summary>One request to <paramref name="peer"/> and its answer; null when it cannot be reached or answers badly (it then leaves the table).</summary>
    private async Task<KadRpc?> QueryAsync(KadContact peer, KadRpc request, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            using CancellationTokenSource timeout = Deadline(_options.RequestTimeout, cancellationToken, CancellationToken.None);
            Libp2pConnection connection = await ConnectAsync(peer, timeout.Token).ConfigureAwait(false);
            KadRpc answer = (await RequestAsync(connection, request, expectAnswer: true, timeout.Token).ConfigureAwait(false))!;
            IReadOnlyList<Multiaddr> addresses = _host.Peers.Get(peer.Id) is { } record && Strip(record.ListenAddrs) is { Count: > 0 } announced ? announced : peer.Addresses;
            _table.TryAdd(peer.Id, addresses, IsConnected);
            return answer;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                _table.Remove(peer.Id);
            }

            return null;
        }
    }

    /// <summary>Sends <paramref name="message"/> to <paramref name="peer"/> (an answer awaited for all but ADD_PROVIDER); false on failure.</summary>
    private async Task<bool> SendAsync(KadContact peer, KadRpc message, CancellationToken cancellationToken)
    {
        try
        {
            using CancellationTokenSource timeout = Deadline(_options.RequestTimeout, cancellationToken, _stopping);
            Libp2pConnection connection = await ConnectAsync(peer, timeout.Token).ConfigureAwait(false);
            await RequestAsync(connection, message, expectAnswer: message.Type != KadMessageType.AddProvider, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }
    }

    /// <summary>The connection to <paramref name="peer"/>: one that exists, else a dial of its TCP addresses in turn (through the service's dial).</summary>
    private async Task<Libp2pConnection> ConnectAsync(KadContact peer, CancellationToken cancellationToken)
    {
        if (FindConnection(peer.Id) is { } existing)
        {
            return existing;
        }

        string? lastError = null;
        foreach (Multiaddr address in Strip(peer.Addresses).Take(_options.MaxDialAddresses))
        {
            try
            {
                var endPoint = EndPointOf(address)!;
                await _dial(Multiaddr.ForTcp(endPoint.Address, endPoint.Port, peer.Id), cancellationToken).ConfigureAwait(false);
                if (FindConnection(peer.Id) is { } connection)
                {
                    return connection;
                }
            }
            catch (Exception e) when (e is IOException or ArgumentException)
            {
                lastError = e.Message;
            }
        }

        throw new IOException(lastError is null ? $"no address to dial {peer.Id} at" : $"could not dial {peer.Id}: {lastError}");
    }

    private Libp2pConnection? FindConnection(Libp2pPeerId peer) => _host.Connections.FirstOrDefault(c => c.RemotePeer.Equals(peer));

    /// <summary>Opens a DHT stream, writes <paramref name="request"/> and reads the answer (of the same type), or just half-closes.</summary>
    private async Task<KadRpc?> RequestAsync(Libp2pConnection connection, KadRpc request, bool expectAnswer, CancellationToken cancellationToken)
    {
        YamuxStream stream = await _host.OpenStreamAsync(connection, [ProtocolId], cancellationToken).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(Frame(request), cancellationToken).ConfigureAwait(false);
            stream.CompleteWrites();
            if (!expectAnswer)
            {
                CloseLater(stream);
                return null;
            }

            byte[] body = await Libp2pNegotiation.ReadBodyAsync(stream, KadCodec.MaxMessageLength, cancellationToken).ConfigureAwait(false)
                ?? throw new IOException($"{connection.RemotePeer} closed the DHT stream without an answer.");
            if (!KadCodec.TryDecode(body, out KadRpc? answer, out string? error))
            {
                throw new InvalidDataException($"{connection.RemotePeer}'s DHT answer was refused: {error}.");
            }

            if (answer.Type != request.Type)
            {
                throw new InvalidDataException($"{connection.RemotePeer} answered {request.Type} with {answer.Type}.");
            }

            CloseLater(stream);
            return answer;
        }
        catch
        {
            stream.Abort();
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed class Candidate(KadContact contact)
    {
        public KadContact Contact { get; set; } = contact;

        public QueryState State { get; set; }
    }
}
