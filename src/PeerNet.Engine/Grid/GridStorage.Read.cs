using Google.Protobuf;
using PeerNet.Erasure;
using PeerNet.Grid.Protos;
using PeerNet.Libp2p;

namespace PeerNet.Grid;

/// <summary>Reading, auditing and repairing.</summary>
public sealed partial class GridStorage
{
    private readonly Dictionary<string, SemaphoreSlim> _checking = new(StringComparer.Ordinal);

    private sealed record Reader(GridSession Session, GridShareHeader Header);

    private sealed class Readers : IAsyncDisposable
    {
        public List<Reader> Active { get; } = [];

        public Queue<(Libp2pPeerId Peer, int Share)> Spare { get; } = new();

        public async ValueTask DisposeAsync() => await Task.WhenAll(Active.Select(r => r.Session.DisposeAsync().AsTask())).ConfigureAwait(false);
    }

    /// <summary>Which candidate holds which share of the file (asked in parallel; a peer that fails to answer is marked).</summary>
    private async Task<List<(Libp2pPeerId Peer, int Share)>> FindHoldersAsync(GridCapability capability, CancellationToken cancellationToken)
        => (await AskHoldersAsync(capability, cancellationToken).ConfigureAwait(false)).Holders;

    /// <summary>Which candidate holds which share of the file, and which candidates answered at all.</summary>
    private async Task<(List<(Libp2pPeerId Peer, int Share)> Holders, HashSet<Libp2pPeerId> Answered)> AskHoldersAsync(GridCapability capability, CancellationToken cancellationToken)
    {
        byte[] storageIndex = capability.StorageIndex.ToArray();
        List<Libp2pPeerId> candidates = await CandidatesAsync(storageIndex, [], new HashSet<Libp2pPeerId>(), cancellationToken).ConfigureAwait(false);
        var known = _records.Find(capability)?.Shares.Values.ToHashSet(StringComparer.Ordinal) ?? [];
        candidates = [.. candidates.OrderBy(p => known.Contains(p.ToString()) ? 0 : 1)];
        var answered = new HashSet<Libp2pPeerId>();
        IEnumerable<(Libp2pPeerId, int)>[] found = await Task.WhenAll(candidates.Select(async peer =>
        {
            try
            {
                GridSession session = await GridSession.OpenAsync(_libp2p, peer, RequestTimeout, cancellationToken).ConfigureAwait(false);
                await using (session.ConfigureAwait(false))
                {
                    StoreResponse answer = await session.RequestAsync(new StoreRequest { List = new ListShares { StorageIndex = ByteString.CopyFrom(storageIndex) } }, cancellationToken).ConfigureAwait(false);
                    if (answer.Ok)
                    {
                        lock (answered)
                        {
                            answered.Add(peer);
                        }
                    }

                    return answer.ShareNumbers.Where(n => n < capability.N).Select(n => (peer, (int)n)).ToArray();
                }
            }
            catch (GridProviderException)
            {
                MarkBad(peer);
                return [];
            }
        })).ConfigureAwait(false);
        return ([.. found.SelectMany(f => f)], answered);
    }

    /// <summary>Opens a reader of <paramref name="share"/> on <paramref name="peer"/>: its header fetched and checked against the capability.</summary>
    private async Task<Reader?> OpenReaderAsync(Libp2pPeerId peer, int share, GridCapability capability, GridDecoder decoder, CancellationToken cancellationToken)
    {
        GridSession? session = null;
        try
        {
            session = await GridSession.OpenAsync(_libp2p, peer, RequestTimeout, cancellationToken).ConfigureAwait(false);
            StoreResponse answer = await session.RequestAsync(new StoreRequest
            {
                ReadHeader = new ReadHeader { StorageIndex = ByteString.CopyFrom(capability.StorageIndex.Span), ShareNumber = (uint)share },
            }, cancellationToken).ConfigureAwait(false);
            if (answer.Ok && GridShareHeader.TryParse(answer.Header.Span, exact: true, out GridShareHeader? header, out _)
                && header!.ShareNumber == share && decoder.CheckHeader(header, out _))
            {
                return new Reader(session, header);
            }
        }
        catch (GridProviderException)
        {
        }

        MarkBad(peer);
        if (session is not null)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        return null;
    }

    private async Task<Readers> FindReadersAsync(GridCapability capability, GridDecoder decoder, CancellationToken cancellationToken)
    {
        var readers = new Readers();
        foreach ((Libp2pPeerId peer, int share) in (await FindHoldersAsync(capability, cancellationToken).ConfigureAwait(false)).OrderBy(h => h.Share))
        {
            readers.Spare.Enqueue((peer, share));
        }

        await RefillAsync(readers, capability, decoder, cancellationToken).ConfigureAwait(false);
        return readers;
    }

    /// <summary>Adds readers from the spares until k distinct shares are read; throws <see cref="IOException"/> when the spares run out.</summary>
    private async Task RefillAsync(Readers readers, GridCapability capability, GridDecoder decoder, CancellationToken cancellationToken)
    {
        var skipped = new List<(Libp2pPeerId, int)>();
        while (readers.Active.Count < capability.K && readers.Spare.TryDequeue(out (Libp2pPeerId Peer, int Share) next))
        {
            if (IsBad(next.Peer) || readers.Active.Any(r => r.Header.ShareNumber == next.Share))
            {
                skipped.Add(next);
                continue;
            }

            if (await OpenReaderAsync(next.Peer, next.Share, capability, decoder, cancellationToken).ConfigureAwait(false) is { } reader)
            {
                readers.Active.Add(reader);
            }
        }

        foreach ((Libp2pPeerId, int) s in skipped)
        {
            readers.Spare.Enqueue(s);
        }

        if (readers.Active.Count < capability.K)
        {
            throw new IOException($"Only {readers.Active.Count} good shares of {capability.N} were found; {capability.K} are needed to rebuild the file.");
        }
    }

    /// <summary>k checked blocks of segment <paramref name="segment"/>; readers that fail are marked, dropped and replaced.</summary>
    private async Task<(List<byte[]> Blocks, List<int> Numbers)> ReadSegmentAsync(Readers readers, GridCapability capability, int segment, CancellationToken cancellationToken)
    {
        var blocks = new Dictionary<int, byte[]>();
        while (true)
        {
            Reader[] pending = [.. readers.Active.Where(r => !blocks.ContainsKey(r.Header.ShareNumber))];
            (Reader Reader, byte[]? Block)[] results = await Task.WhenAll(pending.Select(async r => (r, await ReadBlockAsync(r, capability, segment, cancellationToken).ConfigureAwait(false)))).ConfigureAwait(false);
            foreach ((Reader reader, byte[]? block) in results)
            {
                if (block is not null)
                {
                    blocks[reader.Header.ShareNumber] = block;
                }
                else
                {
                    MarkBad(reader.Session.Peer);
                    readers.Active.Remove(reader);
                    await reader.Session.DisposeAsync().ConfigureAwait(false);
                }
            }

            if (readers.Active.Count >= capability.K && readers.Active.All(r => blocks.ContainsKey(r.Header.ShareNumber)))
            {
                List<int> numbers = [.. readers.Active.Select(r => r.Header.ShareNumber).Take(capability.K)];
                return ([.. numbers.Select(n => blocks[n])], numbers);
            }

            await RefillAsync(readers, capability, new GridDecoder(capability), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One block with its proof, checked; null when the provider failed (wrong bytes, refusal, silence).</summary>
    private static async Task<byte[]?> ReadBlockAsync(Reader reader, GridCapability capability, int segment, CancellationToken cancellationToken)
    {
        byte[][]? blocks = await ReadBlocksAsync(reader, capability, [segment], cancellationToken).ConfigureAwait(false);
        return blocks?[0];
    }

    private static async Task<byte[][]?> ReadBlocksAsync(Reader reader, GridCapability capability, int[] segments, CancellationToken cancellationToken)
    {
        try
        {
            var request = new ReadBlocks { StorageIndex = ByteString.CopyFrom(capability.StorageIndex.Span), ShareNumber = (uint)reader.Header.ShareNumber };
            request.Segments.AddRange(segments.Select(s => (uint)s));
            StoreResponse answer = await reader.Session.RequestAsync(new StoreRequest { ReadBlocks = request }, cancellationToken).ConfigureAwait(false);
            if (!answer.Ok || answer.Blocks.Count != segments.Length)
            {
                return null;
            }

            byte[][] blocks = new byte[segments.Length][];
            for (int i = 0; i < segments.Length; i++)
            {
                BlockWithProof b = answer.Blocks[i];
                if (b.Segment != segments[i] || !GridDecoder.CheckBlock(reader.Header, segments[i], b.Data.Span, b.Proof.Span))
                {
                    return null;
                }

                blocks[i] = b.Data.ToByteArray();
            }

            return blocks;
        }
        catch (GridProviderException)
        {
            return null;
        }
    }

    /// <summary>
    /// Audits every provider of the file: each share's header is checked against the capability and random blocks are
    /// asked for with their proofs. With <paramref name="repair"/>, shares missing or failed are regenerated from any k
    /// good ones and placed on peers that hold none of the file. A verify capability is enough. Providers that fail are
    /// marked and not used again.
    /// </summary>
    public Task<GridHealth> CheckAsync(GridCapability capability, bool repair = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(capability);
        return CheckCoreAsync(capability, repair, persist: true, cancellationToken);
    }

    /// <summary>
    /// The audit (and repair) behind <see cref="CheckAsync"/> and the maintenance rounds, one at a time per file. The
    /// record's shares, health and audit time are updated; written at once with <paramref name="persist"/> or when shares
    /// were repaired, else at the end of the round.
    /// </summary>
    private async Task<GridHealth> CheckCoreAsync(GridCapability capability, bool repair, bool persist, CancellationToken cancellationToken)
    {
        SemaphoreSlim gate;
        lock (_checking)
        {
            string key = Convert.ToHexString(capability.StorageIndex.Span);
            if (!_checking.TryGetValue(key, out gate!))
            {
                _checking[key] = gate = new SemaphoreSlim(1, 1);
            }
        }

        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await AuditAsync(capability, repair, persist, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<GridHealth> AuditAsync(GridCapability capability, bool repair, bool persist, CancellationToken cancellationToken)
    {
        var decoder = new GridDecoder(capability);
        (List<(Libp2pPeerId Peer, int Share)> holders, HashSet<Libp2pPeerId> answered) = await AskHoldersAsync(capability, cancellationToken).ConfigureAwait(false);
        var failed = new List<string>();

        // A provider that answers but no longer lists a share it acknowledged has dropped it: it fails the audit and is
        // not used again (one that cannot be reached may only be offline: its share is simply not counted).
        foreach ((int share, string provider) in _records.Find(capability)?.Shares ?? new Dictionary<int, string>())
        {
            Libp2pPeerId? dropper = answered.FirstOrDefault(p => p.ToString() == provider);
            if (dropper is not null && !holders.Contains((dropper, share)))
            {
                MarkBad(dropper);
                failed.Add(provider);
            }
        }

        (Libp2pPeerId Peer, int Share, GridShareHeader? Header)[] audited = await Task.WhenAll(holders.Select(async h =>
        {
            Reader? reader = await OpenReaderAsync(h.Peer, h.Share, capability, decoder, cancellationToken).ConfigureAwait(false);
            if (reader is null)
            {
                return (h.Peer, h.Share, (GridShareHeader?)null);
            }

            await using (reader.Session.ConfigureAwait(false))
            {
                int segments = reader.Header.Extension.SegmentCount;
                int[] challenge = [.. Enumerable.Range(0, Math.Min(3, segments)).Select(_ => Random.Shared.Next(segments)).Distinct()];
                if (await ReadBlocksAsync(reader, capability, challenge, cancellationToken).ConfigureAwait(false) is null)
                {
                    MarkBad(h.Peer);
                    return (h.Peer, h.Share, null);
                }

                return (h.Peer, h.Share, reader.Header);
            }
        })).ConfigureAwait(false);

        var healthy = new Dictionary<int, (Libp2pPeerId Peer, GridShareHeader Header)>();
        foreach ((Libp2pPeerId peer, int share, GridShareHeader? header) in audited)
        {
            if (header is null)
            {
                failed.Add(peer.ToString());
            }
            else
            {
                healthy.TryAdd(share, (peer, header));
            }
        }

        var repaired = new Dictionary<int, Libp2pPeerId>();
        if (repair && healthy.Count < capability.N && healthy.Count >= capability.K)
        {
            repaired = await RepairAsync(capability, healthy, audited.Select(a => a.Peer).ToHashSet(), cancellationToken).ConfigureAwait(false);
        }

        var shares = healthy.ToDictionary(h => h.Key, h => h.Value.Peer.ToString());
        foreach ((int share, Libp2pPeerId peer) in repaired)
        {
            shares[share] = peer.ToString();
        }

        if (_records.Find(capability) is { } record)
        {
            DateTimeOffset now = _time.GetUtcNow();
            _records.Update(record.Capability, r => r with { Shares = shares, HealthyShares = shares.Count, LastChecked = now }, persist || repaired.Count > 0);
        }

        return new GridHealth
        {
            K = capability.K,
            N = capability.N,
            HealthyShares = [.. shares.Keys.Order()],
            RepairedShares = [.. repaired.Keys.Order()],
            FailedProviders = [.. failed.Distinct()],
        };
    }

    private async Task<Dictionary<int, Libp2pPeerId>> RepairAsync(GridCapability capability, Dictionary<int, (Libp2pPeerId Peer, GridShareHeader Header)> healthy, HashSet<Libp2pPeerId> holding, CancellationToken cancellationToken)
    {
        var decoder = new GridDecoder(capability);
        GridExtensionBlock extension = healthy.Values.First().Header.Extension;
        var layout = new GridShareLayout(extension);
        byte[] storageIndex = capability.StorageIndex.ToArray();
        int[] missing = [.. Enumerable.Range(0, capability.N).Where(i => !healthy.ContainsKey(i))];
        var readers = new Readers();
        foreach ((int share, (Libp2pPeerId peer, _)) in healthy)
        {
            readers.Spare.Enqueue((peer, share));
        }

        await RefillAsync(readers, capability, decoder, cancellationToken).ConfigureAwait(false);
        List<Libp2pPeerId> candidates = await CandidatesAsync(storageIndex, [], holding, cancellationToken).ConfigureAwait(false);
        Dictionary<int, Upload> uploads = await PlaceAsync(storageIndex, missing, layout.TotalLength, Maintenance.Lease, candidates, holding, cancellationToken).ConfigureAwait(false);
        try
        {
            if (uploads.Count == 0)
            {
                return []; // no new peer took a share: nothing to regenerate for (the next audit tries again)
            }

            var code = new ReedSolomon(capability.K, capability.N);
            int segments = extension.SegmentCount;
            var hashes = missing.ToDictionary(m => m, _ => new byte[segments * GridHashes.Length]);
            for (int s = 0; s < segments; s++)
            {
                (List<byte[]> blocks, List<int> numbers) = await ReadSegmentAsync(readers, capability, s, cancellationToken).ConfigureAwait(false);
                byte[][] data = decoder.DataBlocks(s, blocks, numbers);
                byte[][] regenerated = [.. missing.Select(_ => new byte[extension.BlockLength(s)])];
                code.EncodeShares([.. data.Select(d => (ReadOnlyMemory<byte>)d)], missing, [.. regenerated.Select(r => (Memory<byte>)r)]);
                for (int i = 0; i < missing.Length; i++)
                {
                    GridHashes.Leaf(regenerated[i]).CopyTo(hashes[missing[i]].AsSpan(s * GridHashes.Length));
                }

                await WriteAllAsync(uploads, storageIndex, u => [(layout.BlockOffset(s), regenerated[Array.IndexOf(missing, u)])], 0, cancellationToken).ConfigureAwait(false);
            }

            byte[] leaves = new byte[capability.N * GridHashes.Length];
            for (int i = 0; i < capability.N; i++)
            {
                byte[] root = healthy.TryGetValue(i, out var h) ? h.Header.ShareRoot : new GridMerkle(hashes[i], segments).Root;
                GridHashes.Leaf(root).CopyTo(leaves.AsSpan(i * GridHashes.Length));
            }

            var rootTree = new GridMerkle(leaves, capability.N);
            if (!rootTree.Root.AsSpan().SequenceEqual(extension.ShareRootsRoot))
            {
                throw new InvalidDataException("The regenerated shares do not match the file's tree of share roots.");
            }

            await WriteAllAsync(uploads, storageIndex, u =>
            [
                (0, new GridShareHeader { ShareNumber = u, Extension = extension, ShareRoot = new GridMerkle(hashes[u], segments).Root, ShareRootProof = rootTree.Proof(u) }.Encode()),
                (layout.HashesOffset, hashes[u]),
            ], 0, cancellationToken).ConfigureAwait(false);
            return await CommitAllAsync(uploads, storageIndex, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await readers.DisposeAsync().ConfigureAwait(false);
            await Task.WhenAll(uploads.Values.Select(u => u.Session.DisposeAsync().AsTask())).ConfigureAwait(false);
        }
    }
}
