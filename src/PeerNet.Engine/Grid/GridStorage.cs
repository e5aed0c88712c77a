using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Google.Protobuf;
using PeerNet.Grid.Protos;
using PeerNet.Libp2p;

namespace PeerNet.Grid;

/// <summary>
/// Redundant storage across peers (docs/storage.md), the owner's side: <see cref="PutAsync"/> encrypts a file, codes it
/// into n shares of which any k rebuild it and places them on distinct peers that speak <c>/peernet/store/1.0.0</c>;
/// <see cref="GetAsync"/> fetches any k, checking every block; <see cref="CheckAsync"/> audits providers and repairs
/// lost shares on new peers. A provider that answers wrong bytes, stalls or fails an audit is not used again. In the
/// background, the <see cref="Maintenance"/> schedule renews the leases of the files this node put, audits their
/// providers and repairs them (<see cref="LastMaintenance"/>, <see cref="MaintenanceCompleted"/>).
/// </summary>
#pragma warning disable CA1001 // its semaphores' wait handles are never asked for; the schedule's cancellation source is disposed when the node stops it.
public sealed partial class GridStorage
#pragma warning restore CA1001
{
    private readonly Libp2pService _libp2p;
    private readonly GridProvider? _provider;
    private readonly TimeProvider _time;
    private readonly GridRecords _records;
    private readonly HashSet<Libp2pPeerId> _bad = [];

    internal GridStorage(Libp2pService libp2p, string? stateDirectory, GridProvider? provider, TimeProvider time, GridMaintenanceOptions? maintenance = null)
    {
        Maintenance = maintenance ?? new GridMaintenanceOptions();
        _libp2p = libp2p;
        _provider = provider;
        _time = time;
        _records = new GridRecords(stateDirectory is null ? null : Path.Combine(stateDirectory, "grid", "owned.txt"));
    }

    /// <summary>How long a provider has to answer each request. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The bytes this node lends at most (<see cref="PeerNetNodeOptions.StorageShareBytes"/>); 0 when it lends none.</summary>
    public long QuotaBytes => _provider?.Quota ?? 0;

    /// <summary>The bytes of other peers' shares this node holds or is receiving.</summary>
    public long LentBytes => _provider?.Used ?? 0;

    /// <summary>How many shares of other peers' files this node holds (committed ones; 0 when it lends nothing).</summary>
    public int SharesHeld => _provider?.SharesHeld ?? 0;

    /// <summary>The providers this node stopped using (wrong bytes, stalls, failed audits), in peer ID text.</summary>
    public IReadOnlyList<string> BadProviders
    {
        get
        {
            lock (_bad)
            {
                return [.. _bad.Select(p => p.ToString())];
            }
        }
    }

    /// <summary>The files this node put, with where their shares are.</summary>
    public IReadOnlyList<GridStoredFile> List() => _records.All();

    /// <summary>Encrypts, encodes and places the file at <paramref name="path"/>; returns its read capability.</summary>
    public async Task<GridCapability> PutFileAsync(string path, GridPutOptions? options = null, CancellationToken cancellationToken = default)
    {
        FileStream file = File.OpenRead(path);
        await using (file.ConfigureAwait(false))
        {
            return await PutAsync(file, options, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Encrypts <paramref name="content"/> (a seekable stream, read from its position to its end), codes it into n
    /// shares and places them; returns the read capability once at least k providers acknowledged their share (synced to
    /// their disk), and records the file for <see cref="List"/>. Fewer than k acknowledgements is an
    /// <see cref="IOException"/> and nothing is recorded.
    /// </summary>
    public async Task<GridCapability> PutAsync(Stream content, GridPutOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        options ??= new GridPutOptions();
        if (!content.CanSeek)
        {
            throw new ArgumentException("The content must be seekable (its size goes into the shares).", nameof(content));
        }

        long start = content.Position;
        long size = content.Length - start;
        if (GridExtensionBlock.CheckParameters(options.K, options.N, options.SegmentSize, size) is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        byte[] key = options.Convergent
            ? GridHashes.ConvergentKey(await SHA256.HashDataAsync(content, cancellationToken).ConfigureAwait(false), options.K, options.N, options.SegmentSize, options.ConvergenceSecret.Span)
            : RandomNumberGenerator.GetBytes(32);
        content.Position = start;
        var encoder = new GridEncoder(key, options.K, options.N, options.SegmentSize, size);
        byte[] storageIndex = GridHashes.StorageIndex(key);
        GridShareLayout layout = encoder.Layout;

        List<Libp2pPeerId> candidates = await CandidatesAsync(storageIndex, options.Peers, [], cancellationToken).ConfigureAwait(false);
        int[] all = [.. Enumerable.Range(0, options.N)];
        var refusals = new List<string>();
        Dictionary<int, Upload> uploads = await PlaceAsync(storageIndex, all, layout.TotalLength, options.Lease, candidates, [], cancellationToken, refusals).ConfigureAwait(false);
        try
        {
            if (uploads.Count < options.K)
            {
                string why = refusals.Count > 0 ? $" Refused by {string.Join("; ", refusals)}." : "";
                throw new IOException($"Only {uploads.Count} peers accepted a share; {options.K} are needed (connect to peers that lend storage).{why}");
            }

            byte[] segment = new byte[options.SegmentSize];
            for (int s = 0; s < encoder.SegmentCount; s++)
            {
                int length = encoder.PlainLength(s);
                await content.ReadExactlyAsync(segment.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                byte[][] blocks = encoder.EncodeSegment(segment.AsSpan(0, length));
                await WriteAllAsync(uploads, storageIndex, u => [(layout.BlockOffset(s), blocks[u])], options.K, cancellationToken).ConfigureAwait(false);
            }

            (_, GridShareHeader[] headers, byte[][] hashes) = encoder.Finish();
            await WriteAllAsync(uploads, storageIndex, u => [(0, headers[u].Encode()), (layout.HashesOffset, hashes[u])], options.K, cancellationToken).ConfigureAwait(false);
            Dictionary<int, Libp2pPeerId> acknowledged = await CommitAllAsync(uploads, storageIndex, cancellationToken).ConfigureAwait(false);
            if (acknowledged.Count < options.K)
            {
                throw new IOException($"Only {acknowledged.Count} shares were acknowledged; {options.K} are needed. Nothing was recorded.");
            }

            GridCapability capability = GridCapability.ForRead(key, headers[0].Extension.Hash(), options.K, options.N, size);
            DateTimeOffset now = _time.GetUtcNow();
            _records.Put(new GridStoredFile
            {
                Capability = capability.ToString(),
                Size = size,
                K = options.K,
                N = options.N,
                StoredAt = now,
                Shares = acknowledged.ToDictionary(p => p.Key, p => p.Value.ToString()),
                HealthyShares = acknowledged.Count,
                LastChecked = now, // every acknowledged share was checked whole by its provider
                LastRenewed = now, // and allocated with a lease
            });
            return capability;
        }
        finally
        {
            await Task.WhenAll(uploads.Values.Select(u => u.Session.DisposeAsync().AsTask())).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Fetches any k shares of the file, checks every block against the capability, decrypts and writes the file to
    /// <paramref name="destination"/>, segment by segment. A provider that sends a block that fails its proof, or stalls,
    /// is marked and another share is used. Throws <see cref="IOException"/> when fewer than k good shares are found.
    /// </summary>
    public async Task GetAsync(GridCapability capability, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(capability);
        ArgumentNullException.ThrowIfNull(destination);
        if (!capability.CanRead)
        {
            throw new ArgumentException("A verify capability cannot read the file; the read capability is needed.", nameof(capability));
        }

        var decoder = new GridDecoder(capability);
        Readers readers = await FindReadersAsync(capability, decoder, cancellationToken).ConfigureAwait(false);
        try
        {
            for (int s = 0; decoder.Extension is null || s < decoder.Extension.SegmentCount; s++)
            {
                (List<byte[]> blocks, List<int> numbers) = await ReadSegmentAsync(readers, capability, s, cancellationToken).ConfigureAwait(false);
                byte[] plaintext = decoder.DecodeSegment(s, blocks, numbers);
                await destination.WriteAsync(plaintext, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await readers.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void MarkBad(Libp2pPeerId peer)
    {
        lock (_bad)
        {
            _bad.Add(peer);
        }
    }

    private bool IsBad(Libp2pPeerId peer)
    {
        lock (_bad)
        {
            return _bad.Contains(peer);
        }
    }

    /// <summary>
    /// The peers that may take or hold shares: those given (connected first), the DHT's closest to the storage index and
    /// every connected peer that speaks the store protocol; not this node, not marked bad, not in <paramref name="exclude"/>;
    /// ordered so that consecutive picks come from different /24 (IPv4) or /48 (IPv6) networks where there are several.
    /// </summary>
    private async Task<List<Libp2pPeerId>> CandidatesAsync(byte[] storageIndex, IReadOnlyList<Multiaddr> peers, HashSet<Libp2pPeerId> exclude, CancellationToken cancellationToken)
    {
        foreach (Multiaddr address in peers)
        {
            try
            {
                await _libp2p.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or SocketException)
            {
                // An unreachable peer is simply not a candidate.
            }
        }

        var order = new List<Libp2pPeerId>();
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(RequestTimeout);
            order.AddRange(await _libp2p.Dht.GetClosestPeersAsync(storageIndex, deadline.Token).ConfigureAwait(false));
        }
        catch (Exception e) when (e is IOException or InvalidOperationException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // No DHT answer: the connected peers remain.
        }

        Dictionary<Libp2pPeerId, Libp2pPeerInfo> connected = _libp2p.ConnectedPeers
            .Where(p => p.Protocols.Contains(GridStoreCodec.ProtocolId))
            .GroupBy(p => p.PeerId).ToDictionary(g => g.Key, g => g.First());
        // The DHT's closest first, then every other connected provider in this file's own permutation of them (Tahoe's
        // permuted ring: SHA-256 of storage index and peer), so that files spread over all providers rather than each
        // landing on the same first n.
        IEnumerable<Libp2pPeerId> ordered = order.Where(connected.ContainsKey).Concat(connected.Keys.OrderBy(p => Permuted(storageIndex, p), PermutedOrder)).Distinct()
            .Where(p => !p.Equals(_libp2p.PeerId) && !IsBad(p) && !exclude.Contains(p));
        List<List<Libp2pPeerId>> groups = [.. ordered.GroupBy(p => NetworkOf(connected[p].RemoteEndPoint)).Select(g => g.ToList())];
        var result = new List<Libp2pPeerId>();
        for (int round = 0; groups.Any(g => g.Count > round); round++)
        {
            result.AddRange(groups.Where(g => g.Count > round).Select(g => g[round]));
        }

        return result;
    }

    private static readonly Comparer<byte[]> PermutedOrder = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    /// <summary>Where <paramref name="peer"/> stands in the file's permutation of the providers.</summary>
    private static byte[] Permuted(byte[] storageIndex, Libp2pPeerId peer)
    {
        byte[] input = [.. storageIndex, .. peer.Multihash.Span];
        return SHA256.HashData(input);
    }

    private static string NetworkOf(IPEndPoint? endPoint)
    {
        if (endPoint is null)
        {
            return "?";
        }

        IPAddress address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        byte[] bytes = address.GetAddressBytes();
        return Convert.ToHexString(bytes.AsSpan(0, bytes.Length == 4 ? 3 : 6));
    }

    private sealed record Upload(GridSession Session, int Share);

    /// <summary>Allocates each share on the next candidate that accepts it: distinct peers first, then again round the ones that accepted.</summary>
    private async Task<Dictionary<int, Upload>> PlaceAsync(byte[] storageIndex, IReadOnlyList<int> shares, long size, TimeSpan lease, List<Libp2pPeerId> candidates, HashSet<Libp2pPeerId> holding, CancellationToken cancellationToken, List<string>? refusals = null)
    {
        var uploads = new Dictionary<int, Upload>();
        var refused = new HashSet<Libp2pPeerId>();
        var used = new List<Libp2pPeerId>();
        foreach (int share in shares)
        {
            IEnumerable<Libp2pPeerId> order = candidates.Where(p => !used.Contains(p) && !holding.Contains(p)).Concat(used).Where(p => !refused.Contains(p) && !IsBad(p));
            foreach (Libp2pPeerId peer in order.ToArray())
            {
                GridSession? session = null;
                try
                {
                    session = await GridSession.OpenAsync(_libp2p, peer, RequestTimeout, cancellationToken).ConfigureAwait(false);
                    StoreResponse answer = await session.RequestAsync(new StoreRequest
                    {
                        Allocate = new Allocate { StorageIndex = ByteString.CopyFrom(storageIndex), ShareNumber = (uint)share, Size = (ulong)size, LeaseSeconds = (ulong)lease.TotalSeconds },
                    }, cancellationToken).ConfigureAwait(false);
                    if (!answer.Ok || answer.AlreadyHave)
                    {
                        // Refused (quota...), or held already from an earlier put of the same (convergent) file: another peer takes it.
                        refused.Add(peer);
                        if (!answer.Ok && refusals is not null && refusals.Count < 3)
                        {
                            refusals.Add($"{peer}: {DisplayText.Sanitize(answer.Error, 200)}");
                        }

                        await session.DisposeAsync().ConfigureAwait(false);
                        continue;
                    }

                    uploads[share] = new Upload(session, share);
                    used.Remove(peer);
                    used.Add(peer);
                    break;
                }
                catch (GridProviderException)
                {
                    MarkBad(peer);
                    if (session is not null)
                    {
                        await session.DisposeAsync().ConfigureAwait(false);
                    }
                }
            }
        }

        return uploads;
    }

    /// <summary>Writes each upload's parts (offset, bytes) in parallel; an upload that fails is dropped, fewer than k left fails the put.</summary>
    private async Task WriteAllAsync(Dictionary<int, Upload> uploads, byte[] storageIndex, Func<int, (long Offset, byte[] Bytes)[]> parts, int k, CancellationToken cancellationToken)
    {
        ByteString index = ByteString.CopyFrom(storageIndex);
        Upload[] current = [.. uploads.Values];
        bool[] ok = await Task.WhenAll(current.Select(async u =>
        {
            try
            {
                foreach ((long offset, byte[] bytes) in parts(u.Share))
                {
                    for (int o = 0; o < bytes.Length; o += GridStoreCodec.MaxWriteLength)
                    {
                        int length = Math.Min(GridStoreCodec.MaxWriteLength, bytes.Length - o);
                        StoreResponse answer = await u.Session.RequestAsync(new StoreRequest
                        {
                            Write = new WriteShare { StorageIndex = index, ShareNumber = (uint)u.Share, Offset = (ulong)(offset + o), Data = ByteString.CopyFrom(bytes, o, length) },
                        }, cancellationToken).ConfigureAwait(false);
                        if (!answer.Ok)
                        {
                            return false;
                        }
                    }
                }

                return true;
            }
            catch (GridProviderException)
            {
                MarkBad(u.Session.Peer);
                return false;
            }
        })).ConfigureAwait(false);
        for (int i = 0; i < current.Length; i++)
        {
            if (!ok[i])
            {
                uploads.Remove(current[i].Share);
                await current[i].Session.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (uploads.Count < k)
        {
            throw new IOException($"Only {uploads.Count} providers are still taking shares; {k} are needed.");
        }
    }

    private async Task<Dictionary<int, Libp2pPeerId>> CommitAllAsync(Dictionary<int, Upload> uploads, byte[] storageIndex, CancellationToken cancellationToken)
    {
        ByteString index = ByteString.CopyFrom(storageIndex);
        (int Share, Libp2pPeerId Peer, bool Ok)[] results = await Task.WhenAll(uploads.Values.Select(async u =>
        {
            try
            {
                StoreResponse answer = await u.Session.RequestAsync(new StoreRequest { Commit = new CommitShare { StorageIndex = index, ShareNumber = (uint)u.Share } }, cancellationToken).ConfigureAwait(false);
                return (u.Share, u.Session.Peer, answer.Ok);
            }
            catch (GridProviderException)
            {
                MarkBad(u.Session.Peer);
                return (u.Share, u.Session.Peer, false);
            }
        })).ConfigureAwait(false);
        return results.Where(r => r.Ok).ToDictionary(r => r.Share, r => r.Peer);
    }
}
