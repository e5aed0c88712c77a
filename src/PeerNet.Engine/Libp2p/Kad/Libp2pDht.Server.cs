namespace PeerNet.Libp2p;

/// <summary>The server side: the <c>/ipfs/kad/1.0.0</c> handler.</summary>
public sealed partial class Libp2pDht
{
    /// <summary>
    /// Serves one inbound DHT stream: requests one after another (as the spec allows), each read within the request
    /// timeout and answered (ADD_PROVIDER is not), until the peer half-closes or <see cref="Libp2pDhtOptions.MaxRequestsPerStream"/>.
    /// A request that is refused throws, and the host resets the stream: the caller sees its request fail.
    /// </summary>
    private async Task ServeAsync(YamuxStream stream, Libp2pConnection connection, CancellationToken cancellationToken)
    {
        for (int served = 0; served < _options.MaxRequestsPerStream; served++)
        {
            using CancellationTokenSource timeout = Deadline(_options.RequestTimeout, cancellationToken, CancellationToken.None);
            byte[]? body = await Libp2pNegotiation.ReadBodyAsync(stream, KadCodec.MaxMessageLength, timeout.Token).ConfigureAwait(false);
            if (body is null)
            {
                stream.CompleteWrites();
                return;
            }

            if (!KadCodec.TryDecode(body, out KadRpc? request, out string? error))
            {
                throw new InvalidDataException($"{connection.RemotePeer}'s DHT request was refused: {error}.");
            }

            if (Answer(connection.RemotePeer, request) is { } answer)
            {
                await stream.WriteAsync(Frame(answer), timeout.Token).ConfigureAwait(false);
            }
        }

        throw new InvalidDataException($"{connection.RemotePeer} sent over {_options.MaxRequestsPerStream} DHT requests on one stream.");
    }

    /// <summary>The answer to <paramref name="request"/> from <paramref name="from"/>; null for none (ADD_PROVIDER); throws <see cref="InvalidDataException"/> to refuse.</summary>
    internal KadRpc? Answer(Libp2pPeerId from, KadRpc request)
    {
        byte[] key = request.Key;
        if (key.Length == 0 && request.Type != KadMessageType.Ping)
        {
            throw new InvalidDataException($"a {request.Type} request without a key");
        }

        switch (request.Type)
        {
            case KadMessageType.FindNode:
                {
                    List<KadPeer> closer = Closer(key, from);
                    if (key.AsSpan().SequenceEqual(_host.PeerId.Multihash.Span))
                    {
                        closer.Insert(0, new KadPeer(_host.PeerId, Strip(_selfAddresses())));
                    }

                    return new KadRpc(KadMessageType.FindNode, key, null, closer, [], request.ClusterLevel);
                }

            case KadMessageType.GetValue:
                return new KadRpc(KadMessageType.GetValue, key, LocalValue(key), Closer(key, from), [], request.ClusterLevel);

            case KadMessageType.PutValue:
                {
                    KadValue record = request.Record ?? throw new InvalidDataException("PUT_VALUE without a record");
                    if (!record.Key.AsSpan().SequenceEqual(key))
                    {
                        throw new InvalidDataException("PUT_VALUE of a record under another key");
                    }

                    if (!KadRecords.Validate(record.Key, record.Value, out string? error))
                    {
                        throw new InvalidDataException($"PUT_VALUE refused: {error}");
                    }

                    _records.Put(record.Key, record.Value);
                    return request; // echoed, as js and go do
                }

            case KadMessageType.AddProvider:
                foreach (KadPeer provider in request.ProviderPeers)
                {
                    // Only the sender may announce itself, and only with an address others can dial.
                    IReadOnlyList<Multiaddr> addresses = Strip(provider.Addresses);
                    if (provider.Id.Equals(from) && addresses.Count > 0)
                    {
                        _providers.Add(key, from, addresses);
                    }
                }

                return null;

            case KadMessageType.GetProviders:
                return new KadRpc(
                    KadMessageType.GetProviders,
                    key,
                    null,
                    Closer(key, from),
                    [.. _providers.Get(key).Where(p => p.Addresses.Count > 0).Take(_options.BucketSize)],
                    request.ClusterLevel);

            case KadMessageType.Ping:
                return request;

            default:
                throw new InvalidDataException($"unknown request {request.Type}");
        }
    }

    /// <summary>The k peers of the routing table closest to <paramref name="key"/>, not the asker, each with addresses.</summary>
    private List<KadPeer> Closer(byte[] key, Libp2pPeerId asker) =>
        [.. _table.Closest(KadDistance.Position(key), _options.BucketSize, asker).Where(c => c.Addresses.Count > 0).Select(c => new KadPeer(c.Id, c.Addresses))];
}
