using System.Collections.Concurrent;
using System.Globalization;
using Google.Protobuf;
using PeerNet.Grid.Protos;
using PeerNet.Libp2p;

namespace PeerNet.Grid;

/// <summary>
/// The provider side of <c>/peernet/store/1.0.0</c>: lends up to a quota of disk under the node's state folder
/// (<c>grid/shares/SI/N.share</c>, leases in <c>grid/shares/SI/lease</c>). A share is written to <c>grid/incoming</c>,
/// checked against its proofs when committed, synced and renamed into place before it is acknowledged, so a provider
/// killed at any point keeps every share it acknowledged. Expired leases are swept to reclaim space.
/// </summary>
internal sealed class GridProvider : IDisposable
{
    private readonly string _shares;
    private readonly string _incoming;
    private readonly long _quota;
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxLease;
    private readonly ConcurrentDictionary<(string Index, int Share), Allocation> _allocations = new();
    private readonly Lock _gate = new();
    private readonly ITimer _sweeper;
    private long _used;

    private sealed class Allocation(Libp2pPeerId owner, long size, string path, Microsoft.Win32.SafeHandles.SafeFileHandle file, DateTimeOffset leaseEnd)
    {
        public Libp2pPeerId Owner { get; } = owner;

        public long Size { get; } = size;

        public string Path { get; } = path;

        public Microsoft.Win32.SafeHandles.SafeFileHandle File { get; } = file;

        public DateTimeOffset LeaseEnd { get; } = leaseEnd;

        public Lock Gate { get; } = new();
    }

    public GridProvider(string stateDirectory, long quota, TimeProvider time, TimeSpan? maxLease = null)
    {
        string root = Path.GetFullPath(Path.Combine(stateDirectory, "grid"));
        _shares = Path.Combine(root, "shares");
        _incoming = Path.Combine(root, "incoming");
        Directory.CreateDirectory(_shares);
        if (Directory.Exists(_incoming))
        {
            Directory.Delete(_incoming, recursive: true); // unacknowledged uploads of an earlier run
        }

        Directory.CreateDirectory(_incoming);
        _quota = quota;
        _time = time;
        _maxLease = maxLease ?? TimeSpan.FromDays(62);
        Sweep();
        _used = Directory.EnumerateFiles(_shares, "*.share", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        _sweeper = time.CreateTimer(_ => SweepQuietly(), null, SweepInterval, SweepInterval);
    }

    /// <summary>How often expired leases are looked for (on the node's clock), besides at start.</summary>
    public static TimeSpan SweepInterval { get; } = TimeSpan.FromMinutes(1);

    /// <summary>The bytes lent: committed shares plus allocations in progress.</summary>
    public long Used => Interlocked.Read(ref _used);

    /// <summary>The quota in bytes.</summary>
    public long Quota => _quota;

    /// <summary>The shares held (committed; allocations in progress not counted), counted on disk.</summary>
    public int SharesHeld => Directory.EnumerateFiles(_shares, "*.share", SearchOption.AllDirectories).Count();

    /// <summary>Serves one stream: requests one after another until the peer half-closes.</summary>
    public async Task ServeAsync(Libp2pStream stream, Libp2pPeerId peer, CancellationToken cancellationToken)
    {
        var open = new List<(string, int)>();
        try
        {
            while (true)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(60));
                byte[]? body = await Libp2pNegotiation.ReadBodyAsync(stream, GridStoreCodec.MaxRequestLength, timeout.Token).ConfigureAwait(false);
                if (body is null)
                {
                    stream.CompleteWrites();
                    return;
                }

                StoreResponse answer = GridStoreCodec.TryParseRequest(body, out StoreRequest? request, out string? error)
                    ? Answer(peer, request!, open)
                    : new StoreResponse { Error = error };
                await stream.WriteAsync(GridStoreCodec.Frame(answer), timeout.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach ((string index, int share) in open)
            {
                Abandon(index, share); // the owner left before committing: nothing was acknowledged
            }
        }
    }

    internal StoreResponse Answer(Libp2pPeerId peer, StoreRequest request, List<(string, int)> open)
    {
        try
        {
            return request.KindCase switch
            {
                StoreRequest.KindOneofCase.Allocate => Allocate(peer, request.Allocate, open),
                StoreRequest.KindOneofCase.Write => Write(peer, request.Write),
                StoreRequest.KindOneofCase.Commit => Commit(peer, request.Commit, open),
                StoreRequest.KindOneofCase.List => List(request.List),
                StoreRequest.KindOneofCase.ReadHeader => ReadHeader(request.ReadHeader),
                StoreRequest.KindOneofCase.ReadBlocks => ReadBlocks(request.ReadBlocks),
                StoreRequest.KindOneofCase.Renew => Renew(request.Renew),
                _ => new StoreResponse { Error = "unknown request" },
            };
        }
        catch (IOException e)
        {
            return new StoreResponse { Error = $"the provider's disk failed: {e.Message}" };
        }
    }

    private static string Hex(ByteString index) => Convert.ToHexStringLower(index.Span);

    private string ShareDirectory(string index) => Path.Combine(_shares, index);

    private string SharePath(string index, int share) => Path.Combine(_shares, index, share.ToString(CultureInfo.InvariantCulture) + ".share");

    /// <summary>The peers that may allocate here; empty: any peer (within the quota).</summary>
    internal HashSet<Libp2pPeerId> AllowedPeers { get; init; } = [];

    private StoreResponse Allocate(Libp2pPeerId peer, Allocate request, List<(string, int)> open)
    {
        if (AllowedPeers.Count > 0 && !AllowedPeers.Contains(peer))
        {
            return new StoreResponse { Error = $"peer {peer} may not store here: this node lends space only to the peers it lists" };
        }

        string index = Hex(request.StorageIndex);
        int share = (int)Math.Min(request.ShareNumber, int.MaxValue);
        if (share >= 256)
        {
            return new StoreResponse { Error = $"share {request.ShareNumber} is out of range" };
        }

        lock (_gate)
        {
            if (File.Exists(SharePath(index, share)))
            {
                ExtendLease(index, Lease(request.LeaseSeconds));
                return new StoreResponse { Ok = true, AlreadyHave = true };
            }
        }

        if (request.Size == 0 || request.Size > (ulong)(_quota > 0 ? _quota : 0))
        {
            return new StoreResponse { Error = _quota <= 0 ? "this node lends no storage" : $"a {request.Size}-byte share is over the {_quota}-byte quota" };
        }

        long size = (long)request.Size;
        lock (_gate)
        {
            if (_used + size > _quota)
            {
                return new StoreResponse { Error = $"over quota: {_used} of {_quota} bytes lent, {size} more asked" };
            }

            if (_allocations.ContainsKey((index, share)))
            {
                return new StoreResponse { Error = $"share {share} is being uploaded already" };
            }

            string path = Path.Combine(_incoming, $"{index}.{share}.{Guid.NewGuid():N}");
            var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.None, size);
            _allocations[(index, share)] = new Allocation(peer, size, path, file, _time.GetUtcNow() + Lease(request.LeaseSeconds));
            _used += size;
        }

        open.Add((index, share));
        return new StoreResponse { Ok = true };
    }

    private TimeSpan Lease(ulong seconds) => seconds == 0 || seconds > _maxLease.TotalSeconds ? _maxLease : TimeSpan.FromSeconds(seconds);

    private StoreResponse Write(Libp2pPeerId peer, WriteShare request)
    {
        if (!_allocations.TryGetValue((Hex(request.StorageIndex), (int)Math.Min(request.ShareNumber, 256)), out Allocation? a) || !a.Owner.Equals(peer))
        {
            return new StoreResponse { Error = "no allocation of this share by this peer" };
        }

        if (request.Data.Length > GridStoreCodec.MaxWriteLength || request.Offset > (ulong)a.Size || (ulong)request.Data.Length > (ulong)a.Size - request.Offset)
        {
            return new StoreResponse { Error = "a write outside the allocation" };
        }

        lock (a.Gate)
        {
            RandomAccess.Write(a.File, request.Data.Span, (long)request.Offset);
        }

        return new StoreResponse { Ok = true };
    }

    private StoreResponse Commit(Libp2pPeerId peer, CommitShare request, List<(string, int)> open)
    {
        string index = Hex(request.StorageIndex);
        int share = (int)Math.Min(request.ShareNumber, 256);
        if (!_allocations.TryGetValue((index, share), out Allocation? a) || !a.Owner.Equals(peer))
        {
            return new StoreResponse { Error = "no allocation of this share by this peer" };
        }

        string? error;
        lock (a.Gate)
        {
            error = GridShareFile.Check(a.File, a.Size, share);
            if (error is null)
            {
                RandomAccess.FlushToDisk(a.File);
            }
        }

        if (error is not null)
        {
            Abandon(index, share);
            open.Remove((index, share));
            return new StoreResponse { Error = $"the share was refused: {error}" };
        }

        a.File.Dispose();
        Directory.CreateDirectory(ShareDirectory(index));
        ExtendLease(index, a.LeaseEnd - _time.GetUtcNow());
        File.Move(a.Path, SharePath(index, share), overwrite: true);
        GridShareFile.SyncDirectory(ShareDirectory(index));
        _allocations.TryRemove((index, share), out _);
        open.Remove((index, share));
        return new StoreResponse { Ok = true };
    }

    private void Abandon(string index, int share)
    {
        if (_allocations.TryRemove((index, share), out Allocation? a))
        {
            a.File.Dispose();
            File.Delete(a.Path);
            Interlocked.Add(ref _used, -a.Size);
        }
    }

    private StoreResponse List(ListShares request)
    {
        string directory = ShareDirectory(Hex(request.StorageIndex));
        var answer = new StoreResponse { Ok = true };
        if (Directory.Exists(directory))
        {
            foreach (string file in Directory.EnumerateFiles(directory, "*.share"))
            {
                if (uint.TryParse(Path.GetFileNameWithoutExtension(file), NumberStyles.None, CultureInfo.InvariantCulture, out uint n))
                {
                    answer.ShareNumbers.Add(n);
                }
            }
        }

        return answer;
    }

    private StoreResponse ReadHeader(ReadHeader request)
    {
        string path = SharePath(Hex(request.StorageIndex), (int)Math.Min(request.ShareNumber, 256));
        if (!File.Exists(path))
        {
            return new StoreResponse { Error = "no such share" };
        }

        using var file = File.OpenHandle(path);
        byte[] header = GridShareFile.ReadHeaderBytes(file, out _);
        return new StoreResponse { Ok = true, Header = ByteString.CopyFrom(header) };
    }

    private StoreResponse ReadBlocks(ReadBlocks request)
    {
        string path = SharePath(Hex(request.StorageIndex), (int)Math.Min(request.ShareNumber, 256));
        if (!File.Exists(path))
        {
            return new StoreResponse { Error = "no such share" };
        }

        using var file = File.OpenHandle(path);
        GridShareFile.ReadHeaderBytes(file, out GridShareHeader? header);
        if (header is null)
        {
            return new StoreResponse { Error = "the stored share is damaged" };
        }

        var layout = new GridShareLayout(header.Extension);
        int segments = header.Extension.SegmentCount;
        byte[] hashes = new byte[segments * GridHashes.Length];
        RandomAccess.Read(file, hashes, layout.HashesOffset);
        var tree = new GridMerkle(hashes, segments);
        var answer = new StoreResponse { Ok = true };
        foreach (uint segment in request.Segments)
        {
            if (segment >= segments)
            {
                return new StoreResponse { Error = $"segment {segment} of {segments}" };
            }

            byte[] block = new byte[header.Extension.BlockLength((int)segment)];
            RandomAccess.Read(file, block, layout.BlockOffset((int)segment));
            answer.Blocks.Add(new BlockWithProof { Segment = segment, Data = ByteString.CopyFrom(block), Proof = ByteString.CopyFrom(tree.Proof((int)segment)) });
        }

        return answer;
    }

    private StoreResponse Renew(RenewLease request)
    {
        string index = Hex(request.StorageIndex);
        lock (_gate) // not between a sweep's look at the lease and its deletion
        {
            if (!Directory.Exists(ShareDirectory(index)) || !Directory.EnumerateFiles(ShareDirectory(index), "*.share").Any())
            {
                return new StoreResponse { Error = "no shares of this storage index" };
            }

            ExtendLease(index, Lease(request.LeaseSeconds));
        }

        return new StoreResponse { Ok = true };
    }

    private void ExtendLease(string index, TimeSpan lease)
    {
        Directory.CreateDirectory(ShareDirectory(index));
        string path = Path.Combine(ShareDirectory(index), "lease");
        long end = (_time.GetUtcNow() + lease).ToUnixTimeSeconds();
        lock (_gate)
        {
            if (File.Exists(path) && long.TryParse(File.ReadAllText(path), NumberStyles.None, CultureInfo.InvariantCulture, out long old) && old >= end)
            {
                return;
            }

            string temporary = path + ".tmp";
            File.WriteAllText(temporary, end.ToString(CultureInfo.InvariantCulture));
            File.Move(temporary, path, overwrite: true);
        }
    }

    /// <summary>
    /// Deletes the storage indexes whose lease has ended (one without a readable lease counts as ended) and gives their
    /// bytes back to the quota; one being uploaded to is kept. Under the lease lock, so a renewal that lands during the
    /// sweep either comes first (and the shares stay) or finds them gone (and is refused).
    /// </summary>
    internal int Sweep()
    {
        int removed = 0;
        long now = _time.GetUtcNow().ToUnixTimeSeconds();
        foreach (string directory in Directory.EnumerateDirectories(_shares))
        {
            string index = Path.GetFileName(directory);
            lock (_gate)
            {
                string lease = Path.Combine(directory, "lease");
                bool alive = File.Exists(lease) && long.TryParse(File.ReadAllText(lease), NumberStyles.None, CultureInfo.InvariantCulture, out long end) && end > now;
                if (alive || _allocations.Keys.Any(k => k.Index == index))
                {
                    continue;
                }

                long bytes = Directory.EnumerateFiles(directory, "*.share").Sum(f => new FileInfo(f).Length);
                Directory.Delete(directory, recursive: true);
                Interlocked.Add(ref _used, -bytes);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>The timer's sweep: a disk error is tried again at the next one rather than taking the process down.</summary>
    private void SweepQuietly()
    {
        try
        {
            Sweep();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Tried again at the next sweep.
        }
    }

    public void Dispose()
    {
        _sweeper.Dispose();
        foreach ((string index, int share) in _allocations.Keys.ToArray())
        {
            Abandon(index, share);
        }
    }
}
