using PeerNet.Metainfo;

namespace PeerNet.Storage;

/// <summary>
/// A torrent's files on disk, addressed in piece space. Files open lazily through a bounded LRU handle cache and
/// are created sparse at their full length on first write. Reads and writes are positional
/// (<see cref="RandomAccess"/>), so any number may run at once on different ranges; they run synchronously on the
/// calling thread (a page-cache copy), leaving the engine to choose which threads do disk work.
/// </summary>
internal sealed partial class TorrentStorage : IAsyncDisposable, IDisposable
{
    private readonly StoragePaths _paths;
    private readonly IStorageFileSystem _fileSystem;
    private readonly FileHandleCache _handles;

    // One write at a time per torrent: concurrent pwrites to one file spin on its inode lock in the kernel
    // (perf: 8% of a 1 GiB download's samples in rwsem_spin_on_owner/rwsem_down_write_slowpath).
    private readonly Lock _writeLock = new();
    private volatile bool _disposed;

    private TorrentStorage(PieceMap map, StoragePaths paths, StorageOptions options, IStorageFileSystem fileSystem)
    {
        Map = map;
        _paths = paths;
        _fileSystem = fileSystem;
        IsReadOnly = options.ReadOnly;
        _handles = new FileHandleCache(options.MaxOpenFiles, OpenFile, PrepareForWrite);
    }

    /// <summary>The torrent.</summary>
    public TorrentMetainfo Metainfo => Map.Metainfo;

    /// <summary>The piece-space map of the torrent's files.</summary>
    public PieceMap Map { get; }

    /// <summary>Whether writes are refused (seeding in place).</summary>
    public bool IsReadOnly { get; }

    /// <summary>The folder every file stays under.</summary>
    public string Root => _paths.Root;

    /// <summary>File handles open now.</summary>
    public int OpenHandleCount => _handles.OpenCount;

    /// <summary>
    /// Opens storage for <paramref name="map"/>'s torrent at <paramref name="path"/> (see
    /// <see cref="StorageOptions.PathIsContent"/> for what the path names). Nothing is created yet. Throws
    /// <see cref="StorageException"/> (<see cref="StorageErrorCode.PathEscapesRoot"/>) if any file's path, or an
    /// existing symbolic link on the way to it, leads outside the root.
    /// </summary>
    public static TorrentStorage Open(PieceMap map, string path, StorageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        options ??= StorageOptions.Default;
        IStorageFileSystem fs = options.FileSystem ?? (options.DirectWrites ? PhysicalFileSystem.Instance : PhysicalFileSystem.Buffered);
        var paths = new StoragePaths(map.Metainfo, path, options.PathIsContent, fs);
        for (int i = 0; i < map.FileCount; i++)
        {
            if (map.IsStored(i))
            {
                try
                {
                    paths.GetRealPath(i);
                }
                catch (Exception e) when (StorageErrors.IsIOFailure(e))
                {
                    throw StorageErrors.Wrap(e, paths[i], "open");
                }
            }
        }

        return new TorrentStorage(map, paths, options, fs);
    }

    /// <summary>Opens storage for <paramref name="metainfo"/> at <paramref name="path"/>.</summary>
    public static TorrentStorage Open(TorrentMetainfo metainfo, string path, StorageOptions? options = null)
        => Open(new PieceMap(metainfo), path, options);

    /// <summary>Full path of file <paramref name="fileIndex"/>.</summary>
    public string GetFullPath(int fileIndex) => _paths[fileIndex];

    /// <summary>What is on disk for file <paramref name="fileIndex"/>.</summary>
    public FileStatus GetFileStatus(int fileIndex)
    {
        string path = _paths[fileIndex];
        try
        {
            return _fileSystem.GetStatus(path);
        }
        catch (Exception e) when (StorageErrors.IsIOFailure(e))
        {
            throw StorageErrors.Wrap(e, path, "inspect");
        }
    }

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="begin"/> in piece <paramref name="piece"/>, scattering it
    /// over the files it spans; bytes that fall on pad files or alignment gaps are dropped. Faults with
    /// <see cref="StorageFullException"/> when the disk is full, <see cref="StorageException"/> on other failures.
    /// </summary>
    public ValueTask WriteBlockAsync(int piece, int begin, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        SliceEnumerator slices = Map.GetSlices(piece, begin, data.Length);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            ThrowIfDisposed();
            if (IsReadOnly)
            {
                throw new StorageException(StorageErrorCode.ReadOnly, null, "This storage is read-only (seeding data in place); it cannot be written.");
            }

            ReadOnlySpan<byte> span = data.Span;
            lock (_writeLock)
            {
                foreach (FileSlice slice in slices)
                {
                    WriteSlice(slice, span.Slice(slice.BufferOffset, slice.Length));
                }
            }

            return ValueTask.CompletedTask;
        }
        catch (Exception e) when (e is StorageException or ObjectDisposedException)
        {
            return ValueTask.FromException(e);
        }
    }

    /// <summary>
    /// Reads into <paramref name="destination"/> from <paramref name="begin"/> in piece <paramref name="piece"/>,
    /// up to the end of the piece; pad and gap bytes read as zeros. Returns the count read. Faults with
    /// <see cref="StorageException"/> (<see cref="StorageErrorCode.FileMissing"/>,
    /// <see cref="StorageErrorCode.FileTruncated"/>) when the bytes are not on disk.
    /// </summary>
    public ValueTask<int> ReadBlockAsync(int piece, int begin, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        int size = Map.GetPieceSize(piece);
        if (begin < 0 || begin > size)
        {
            throw new ArgumentOutOfRangeException(nameof(begin), begin, $"Piece {piece} is {size} bytes.");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        int length = Math.Min(destination.Length, size - begin);
        try
        {
            Read(Map.GetPieceOffset(piece) + begin, destination.Span[..length]);
            return ValueTask.FromResult(length);
        }
        catch (Exception e) when (e is StorageException or ObjectDisposedException)
        {
            return ValueTask.FromException<int>(e);
        }
    }

    /// <summary>
    /// Reads exactly <paramref name="destination"/>.Length piece-space bytes at <paramref name="offset"/>
    /// synchronously (the verifier's path); zeros where no file is. Throws <see cref="StorageException"/>.
    /// </summary>
    public void Read(long offset, Span<byte> destination)
    {
        ThrowIfDisposed();
        int covered = 0;
        foreach (FileSlice slice in Map.GetSlices(offset, destination.Length))
        {
            destination[covered..slice.BufferOffset].Clear();
            ReadSlice(slice, destination.Slice(slice.BufferOffset, slice.Length));
            covered = slice.BufferOffset + slice.Length;
        }

        destination[covered..].Clear();
    }

    /// <summary>
    /// Creates the torrent's empty files (which no block ever writes), with their folders. Call once the
    /// download completes, or at start to lay out the tree.
    /// </summary>
    public void CreateEmptyFiles()
    {
        ThrowIfDisposed();
        if (IsReadOnly)
        {
            throw new StorageException(StorageErrorCode.ReadOnly, null, "This storage is read-only; it cannot create files.");
        }

        IReadOnlyList<TorrentFile> files = Metainfo.Files;
        for (int i = 0; i < files.Count; i++)
        {
            TorrentFile f = files[i];
            if (f.Length != 0 || f.IsPadFile || f.IsSymlink)
            {
                continue;
            }

            string path = _paths[i];
            try
            {
                OpenChecked(i, FileMode.OpenOrCreate, FileAccess.Write).Dispose();
            }
            catch (Exception e) when (StorageErrors.IsIOFailure(e))
            {
                throw StorageErrors.Wrap(e, path, "create");
            }
        }
    }

    /// <summary>
    /// Flushes every file written since the last flush to the device (fsync through
    /// <see cref="RandomAccess.FlushToDisk"/>), reopening ones the cache has closed since.
    /// </summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            ThrowIfDisposed();
            List<int> dirty = _handles.TakeDirty();
            for (int i = 0; i < dirty.Count; i++)
            {
                try
                {
                    FlushFile(dirty[i]);
                }
                catch
                {
                    for (int j = i; j < dirty.Count; j++)
                    {
                        _handles.MarkDirty(dirty[j]);
                    }

                    throw;
                }
            }

            return ValueTask.CompletedTask;
        }
        catch (Exception e) when (e is StorageException or ObjectDisposedException)
        {
            return ValueTask.FromException(e);
        }
    }

    /// <summary>Closes every idle handle at once and each in-use one as its operation ends.</summary>
    public void Dispose()
    {
        _disposed = true;
        _handles.Dispose();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
