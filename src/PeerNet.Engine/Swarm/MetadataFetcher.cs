using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using PeerNet.Discovery.Trackers;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Tracker;
using PeerNet.Transport;

namespace PeerNet.Swarm;

/// <summary>
/// BEP 9: fetches a torrent's info dictionary from peers, given only its info-hashes (a magnet link). Peers are
/// tried several at once as they are added; each one that advertises ut_metadata is asked for every piece, and
/// the assembled bytes are accepted only if they hash to the magnet's info-hash (SHA-1 for v1, SHA-256 for v2,
/// both for hybrid) and parse as a safe info dictionary. A peer that sends anything else is dropped and the next
/// one tried.
/// </summary>
internal sealed class MetadataFetcher
{
    /// <summary>Peers tried at once.</summary>
    public const int Parallel = 4;

    /// <summary>
    /// Largest info dictionary accepted (BEP 9 itself allows up to the extension handshake's limit). 16 MiB holds
    /// the v1 piece hashes of a 3 TiB torrent at 4 MiB pieces; v2 dictionaries are far smaller (no piece hashes).
    /// </summary>
    public const int DefaultMaxMetadataSize = 16 * 1024 * 1024;

    private const byte LocalMetadataId = TorrentSwarm.LocalMetadataExtensionId;

    private readonly SwarmSession _session;
    private readonly InfoHashes _hashes;
    private readonly HandshakeHashes _handshakeHashes;
    private readonly Channel<IPEndPoint> _candidates = Channel.CreateUnbounded<IPEndPoint>();
    private readonly HashSet<IPEndPoint> _seen = [];
    private readonly int _maxSize;

    /// <summary>Creates a fetcher for the torrent with <paramref name="hashes"/>, dialing through <paramref name="session"/>.</summary>
    public MetadataFetcher(SwarmSession session, InfoHashes hashes, int maxMetadataSize = DefaultMaxMetadataSize)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (hashes.V1 is null && hashes.V2 is null)
        {
            throw new ArgumentException("A magnet link needs a v1 or a v2 info-hash.", nameof(hashes));
        }

        _session = session;
        _hashes = hashes;
        _handshakeHashes = new HandshakeHashes(hashes, MaxCandidates);
        _maxSize = Math.Clamp(maxMetadataSize, 1, ExtensionHandshake.MaxMetadataSize);
    }

    /// <summary>The magnet's trackers (<c>tr</c>), one tier each, given to the torrent (an info dictionary has none).</summary>
    public IReadOnlyList<string> Trackers { get; init; } = [];

    /// <summary>
    /// Announce to <see cref="Trackers"/> while fetching, and ask the peers they return (the magnet's own trackers
    /// are often the only way to find anyone before the metadata, and so the torrent's trackers, is known).
    /// </summary>
    public bool AnnounceToTrackers { get; init; }

    /// <summary>Look the info-hash up in the session's DHT (when it has one) and ask the peers found.</summary>
    public bool UseDht { get; init; } = true;

    /// <summary>
    /// Announce the info-hash on the local network and ask the peers that announce it there (BEP 14), when the
    /// session runs local service discovery.
    /// </summary>
    public bool UseLocalDiscovery { get; init; } = true;

    /// <summary>The magnet's <c>xl</c> (total size), if any: what the announces report as left.</summary>
    public long? ExactLength { get; init; }

    /// <summary>Why the last peer failed, for the error shown when no peer delivers.</summary>
    public string? LastFailure { get; private set; }

    /// <summary>Peers that failed to deliver so far.</summary>
    public int FailedPeers => Volatile.Read(ref _failed);

    private int _failed;

    /// <summary>Addresses a fetch remembers (and so tries) at most; sources that name more are ignored past it.</summary>
    public const int MaxCandidates = 5000;

    /// <summary>
    /// Offers a peer to ask; each address is tried once, at most <see cref="MaxCandidates"/> in all, never port 0 or an
    /// address that cannot be a peer (the DHT and trackers have held what they name to their own scope already).
    /// </summary>
    public void AddPeer(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.Port == 0 || Transport.NetworkScopes.Of(endpoint.Address) == Transport.NetworkScope.Unroutable)
        {
            _session.Metrics.Refused("unroutable");
            return;
        }

        lock (_seen)
        {
            if (_seen.Count >= MaxCandidates || !_seen.Add(endpoint))
            {
                return;
            }
        }

        _candidates.Writer.TryWrite(endpoint);
    }

    /// <summary>Says no more peers will be added: once every peer has been tried, fetching fails.</summary>
    public void CompleteAdding() => _candidates.Writer.TryComplete();

    /// <summary>
    /// Fetches and verifies the metadata; waits for peers to be added while none is left to try, until
    /// <see cref="CompleteAdding"/>. Cancel to give up.
    /// </summary>
    public async Task<TorrentMetainfo> FetchAsync(CancellationToken cancellationToken)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var result = new TaskCompletionSource<TorrentMetainfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        TrackerAnnouncer[] announcers = StartTrackers();
        Task dhtLookups = UseDht ? Task.WhenAll(_session.Options.DhtNodes.Select(dht => LookUpInDhtAsync(dht, done.Token))) : Task.CompletedTask;
        using IDisposable? localDiscovery = UseLocalDiscovery ? _session.LocalDiscovery?.Register(_hashes.SwarmHashes, AddPeer) : null;
        var workers = new Task[Parallel];
        for (int i = 0; i < workers.Length; i++)
        {
            workers[i] = WorkAsync(result, done.Token);
        }

        _ = Task.WhenAll(workers).ContinueWith(
            _ => result.TrySetException(new IOException(FailedPeers == 0 ? "no peer to ask for the metadata" : $"none of {FailedPeers} peers sent the metadata (last: {LastFailure})")),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        try
        {
            return await result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await done.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(workers).ConfigureAwait(false);
            await dhtLookups.ConfigureAwait(false);
            // stopped: the torrent announces started anew.
            await Task.WhenAll(announcers.Select(a => a.DisposeAsync().AsTask())).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// get_peers for each of the magnet's swarm hashes (a hybrid has two) every 20 s until the metadata arrives;
    /// every peer found is asked, one found under a hybrid's v2 hash with that hash in the handshake.
    /// </summary>
    private Task LookUpInDhtAsync(PeerNet.Discovery.Dht.DhtNode dht, CancellationToken cancellationToken)
        => Task.WhenAll(_hashes.SwarmHashes.Select(hash => DhtPeerSearch.RunAsync(
            token => dht.GetPeersAsync(hash, token),
            peer => AddPeerFoundUnder(peer, hash),
            TimeSpan.FromSeconds(20),
            _session.Time,
            cancellationToken)));

    /// <summary>Offers a peer that trackers or the DHT named under <paramref name="hash"/>.</summary>
    private void AddPeerFoundUnder(IPEndPoint peer, Sha1Hash hash)
    {
        _handshakeHashes.FoundUnder(peer, hash);
        AddPeer(peer);
    }

    /// <summary>Announces the magnet's swarm hashes to its trackers (when enabled); every peer they name is asked.</summary>
    private TrackerAnnouncer[] StartTrackers()
    {
        if (!AnnounceToTrackers || Trackers.Count == 0 || _session.ListenPort == 0)
        {
            return [];
        }

        TrackerClient client = _session.Trackers;
        return [.. _hashes.SwarmHashes.Select(hash => client.StartAnnouncer(TrackerTiersOf(Trackers), new Random(), trackerEvent => new AnnounceRequest
        {
            InfoHash = hash,
            PeerId = _session.LocalPeerId,
            Port = _session.ListenPort,
            Left = Math.Max(1, ExactLength ?? 1), // unknown until the metadata arrives, but certainly not 0 (not a seed)
            Event = trackerEvent,
            NumWant = client.Options.NumWant,
            Key = _session.TrackerKey,
            ExternalIPv4 = _session.Connectivity.ExternalAddress(AddressFamily.InterNetwork),
            ExternalIPv6 = _session.Connectivity.ExternalAddress(AddressFamily.InterNetworkV6),
        }, peers =>
        {
            foreach (IPEndPoint peer in peers)
            {
                AddPeerFoundUnder(peer, hash);
            }
        })).OfType<TrackerAnnouncer>()];
    }

    /// <summary>A magnet's <c>tr</c> list as BEP 12 tiers: one tracker per tier, in the link's order.</summary>
    private static IReadOnlyList<IReadOnlyList<string>> TrackerTiersOf(IReadOnlyList<string> trackers) => [.. trackers.Select(t => (IReadOnlyList<string>)[t])];

    private async Task WorkAsync(TaskCompletionSource<TorrentMetainfo> result, CancellationToken cancellationToken)
    {
        try
        {
            while (!result.Task.IsCompleted && await _candidates.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!_candidates.Reader.TryRead(out IPEndPoint? endpoint))
                {
                    continue;
                }

                try
                {
                    TorrentMetainfo metainfo = await FetchFromAsync(endpoint, cancellationToken).ConfigureAwait(false);
                    SwarmLog.MetadataFetched(_session.Logger, _hashes.ToString(), metainfo.InfoBytes.Length, endpoint);
                    result.TrySetResult(metainfo);
                    return;
                }
                catch (Exception e) when (e is IOException or InvalidDataException or TimeoutException or System.Net.Sockets.SocketException
                    || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    Interlocked.Increment(ref _failed);
                    LastFailure = $"{endpoint}: {e.Message}";
                    SwarmLog.MetadataPeerFailed(_session.Logger, _hashes.ToString(), endpoint, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task<TorrentMetainfo> FetchFromAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_session.Options.ConnectTimeout + _session.Options.HandshakeTimeout + TimeSpan.FromSeconds(30));
        (IDuplexConnection connection, Handshake remote) = await _session.OpenPeerAsync(endpoint, _hashes, _handshakeHashes.For(endpoint), timeout.Token).ConfigureAwait(false);
        try
        {

            if (!remote.SupportsExtensionProtocol)
            {
                throw new InvalidDataException("the peer does not speak the extension protocol, so it cannot send metadata");
            }

            var ours = new ExtensionHandshake
            {
                ClientName = SwarmSession.ClientName,
                Messages = new Dictionary<string, byte> { [TorrentSwarm.MetadataExtensionName] = LocalMetadataId },
            };
            var output = new ArrayBufferWriter<byte>(128);
            ours.WriteMessage(output);
            await connection.Output.WriteAsync(output.WrittenMemory, timeout.Token).ConfigureAwait(false);
            return await ExchangeAsync(connection, timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            connection.Abort();
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reads messages until the metadata is complete: their extension handshake, then data pieces.</summary>
    private async Task<TorrentMetainfo> ExchangeAsync(IDuplexConnection connection, CancellationToken cancellationToken)
    {
        PipeReader input = connection.Input;
        byte[]? metadata = null;
        bool[]? received = null;
        int remaining = 0;
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            try
            {
                while (true)
                {
                    OperationStatus status = PeerFrameReader.TryReadMessage(ref buffer, PeerWireLimits.BaseMaxMessageLength, out PeerMessage message, out PeerWireError error);
                    if (status == OperationStatus.NeedMoreData)
                    {
                        break;
                    }

                    if (status != OperationStatus.Done)
                    {
                        throw new InvalidDataException("bad message: " + error.Describe());
                    }

                    if (message.Id != PeerMessageId.Extended)
                    {
                        continue; // bitfield, have, choke...: nothing to do with metadata
                    }

                    if (message.ExtendedId == ExtensionHandshake.MessageId)
                    {
                        if (metadata is not null)
                        {
                            continue;
                        }

                        (metadata, received) = await StartAsync(connection, message, cancellationToken).ConfigureAwait(false);
                        remaining = received.Length;
                        continue;
                    }

                    if (message.ExtendedId != LocalMetadataId || metadata is null)
                    {
                        continue;
                    }

                    if (!MetadataMessage.TryParse(message.Payload, out MetadataMessage piece, out error))
                    {
                        throw new InvalidDataException("bad ut_metadata message: " + error.Describe());
                    }

                    if (piece.Type == MetadataMessageType.Reject)
                    {
                        throw new InvalidDataException($"the peer rejected metadata piece {piece.Piece}");
                    }

                    if (piece.Type != MetadataMessageType.Data)
                    {
                        continue;
                    }

                    // BEP 9: total_size must match what the handshake announced, and each piece its exact length.
                    if (piece.TotalSize != metadata.Length || (uint)piece.Piece >= (uint)received!.Length
                        || piece.Data.Length != MetadataMessage.GetPieceLength(metadata.Length, piece.Piece))
                    {
                        throw new InvalidDataException($"metadata piece {piece.Piece} does not fit {metadata.Length} bytes of metadata");
                    }

                    if (!received[piece.Piece])
                    {
                        piece.Data.CopyTo(metadata.AsSpan(piece.Piece * MetadataMessage.PieceLength));
                        received[piece.Piece] = true;
                        if (--remaining == 0)
                        {
                            return Verify(metadata);
                        }
                    }
                }
            }
            finally
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }

            if (result.IsCompleted)
            {
                throw new IOException("the peer closed the connection before sending the metadata");
            }
        }
    }

    /// <summary>Their extension handshake arrived: check its metadata size and request every piece.</summary>
    private async Task<(byte[] Metadata, bool[] Received)> StartAsync(IDuplexConnection connection, PeerMessage message, CancellationToken cancellationToken)
    {
        if (!ExtensionHandshake.TryParse(message.Payload, out ExtensionHandshake? theirs, out PeerWireError error))
        {
            throw new InvalidDataException("bad extension handshake: " + error.Describe());
        }

        byte remoteId = theirs.GetMessageId(TorrentSwarm.MetadataExtensionName);
        if (remoteId == 0 || theirs.MetadataSize is not int size)
        {
            throw new InvalidDataException("the peer does not offer ut_metadata");
        }

        if (size > _maxSize)
        {
            throw new InvalidDataException($"the peer announces {size} bytes of metadata; the limit is {_maxSize}");
        }

        int pieces = MetadataMessage.GetPieceCount(size);
        var requests = new ArrayBufferWriter<byte>(pieces * 40);
        for (int i = 0; i < pieces; i++)
        {
            MetadataMessage.WriteRequest(requests, remoteId, i);
        }

        await connection.Output.WriteAsync(requests.WrittenMemory, cancellationToken).ConfigureAwait(false);
        return (new byte[size], new bool[pieces]);
    }

    /// <summary>Accepts metadata only if it hashes to the magnet's info-hashes and parses as a safe info dictionary.</summary>
    private TorrentMetainfo Verify(byte[] metadata)
    {
        if (_hashes.V1 is { } v1 && Sha1Hash.Compute(metadata) != v1)
        {
            throw new InvalidDataException("the metadata does not match the v1 info-hash");
        }

        if (_hashes.V2 is { } v2 && Sha256Hash.Compute(metadata) != v2)
        {
            throw new InvalidDataException("the metadata does not match the v2 info-hash");
        }

        if (!TorrentMetainfo.TryParseInfoDictionary(metadata, out TorrentMetainfo? metainfo, out MetainfoError error))
        {
            throw new InvalidDataException("the metadata is not a usable info dictionary: " + error);
        }

        // A v1 magnet of a hybrid torrent: the dictionary proves its v2 half too, which the torrent then uses.
        metainfo.Trackers = TrackerTiersOf(Trackers);
        return metainfo;
    }
}
