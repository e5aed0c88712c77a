namespace PeerNet.Storage;

/// <summary>
/// Keeps at most a fixed number of files open, closing the least recently used first. Handles are leased:
/// a handle evicted while a read or write is using it closes when that lease ends, so I/O never meets a handle
/// closed under it (the limit is therefore exceeded briefly by at most the number of leases in flight).
/// </summary>
internal sealed class FileHandleCache : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, Entry> _entries = [];
    private readonly LinkedList<Entry> _lru = new();
    private readonly HashSet<int> _dirtyClosed = [];
    private readonly int _capacity;
    private readonly Func<int, bool, IStorageFile> _open;
    private readonly Action<int, IStorageFile> _prepareForWrite;
    private int _pendingClose;
    private bool _disposed;

    /// <summary>
    /// Creates a cache of <paramref name="capacity"/> handles. <paramref name="open"/> opens file <c>i</c>
    /// (for writing when the flag is set, creating it if needed); <paramref name="prepareForWrite"/> readies a
    /// handle first opened for reading before its first write (sizing it).
    /// </summary>
    public FileHandleCache(int capacity, Func<int, bool, IStorageFile> open, Action<int, IStorageFile> prepareForWrite)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _open = open;
        _prepareForWrite = prepareForWrite;
    }

    /// <summary>Handles open now (leased ones that were evicted included until released).</summary>
    public int OpenCount
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count + _pendingClose;
            }
        }
    }

    /// <summary>Leases the handle of file <paramref name="fileIndex"/>, opening it if needed.</summary>
    public Lease Acquire(int fileIndex, bool forWrite)
    {
        List<Entry>? toClose = null;
        Entry entry;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_entries.TryGetValue(fileIndex, out Entry? found))
            {
                entry = found;
                _lru.Remove(entry.Node);
                _lru.AddFirst(entry.Node);
            }
            else
            {
                // Opening under the lock keeps two threads from opening one file twice; an open is a few
                // microseconds on a local disk.
                IStorageFile file = _open(fileIndex, forWrite);
                // A file closed with unflushed writes carries its mark over to the new handle.
                entry = new Entry(fileIndex, file) { Prepared = forWrite, Dirty = _dirtyClosed.Remove(fileIndex) };
                entry.Node = _lru.AddFirst(entry);
                _entries.Add(fileIndex, entry);
                while (_entries.Count > _capacity)
                {
                    Entry victim = _lru.Last!.Value;
                    Evict(victim, ref toClose);
                }
            }

            if (forWrite && !entry.Prepared)
            {
                _prepareForWrite(fileIndex, entry.File);
                entry.Prepared = true;
            }

            entry.Refs++;
        }

        CloseAll(toClose);
        return new Lease(this, entry);
    }

    /// <summary>Files written since the last call (open or since closed); clears the marks.</summary>
    public List<int> TakeDirty()
    {
        var dirty = new List<int>();
        lock (_lock)
        {
            foreach (Entry e in _entries.Values)
            {
                if (e.Dirty)
                {
                    e.Dirty = false;
                    dirty.Add(e.FileIndex);
                }
            }

            dirty.AddRange(_dirtyClosed);
            _dirtyClosed.Clear();
        }

        return dirty;
    }

    /// <summary>Marks a file as still needing a flush (after a failed one).</summary>
    public void MarkDirty(int fileIndex)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(fileIndex, out Entry? e))
            {
                e.Dirty = true;
            }
            else
            {
                _dirtyClosed.Add(fileIndex);
            }
        }
    }

    /// <summary>Closes every idle handle now and every leased one as its lease ends; later acquires throw.</summary>
    public void Dispose()
    {
        List<Entry>? toClose = null;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (Entry e in _entries.Values.ToList())
            {
                Evict(e, ref toClose);
            }
        }

        CloseAll(toClose);
    }

    private void Evict(Entry victim, ref List<Entry>? toClose)
    {
        _lru.Remove(victim.Node);
        _entries.Remove(victim.FileIndex);
        victim.Closed = true;
        if (victim.Dirty)
        {
            _dirtyClosed.Add(victim.FileIndex);
        }

        if (victim.Refs == 0)
        {
            (toClose ??= []).Add(victim);
        }
        else
        {
            _pendingClose++;
        }
    }

    private void Release(Entry entry)
    {
        bool close;
        lock (_lock)
        {
            entry.Refs--;
            close = entry.Closed && entry.Refs == 0;
            if (close)
            {
                _pendingClose--;
            }
        }

        if (close)
        {
            entry.File.Dispose();
        }
    }

    private static void CloseAll(List<Entry>? entries)
    {
        if (entries is null)
        {
            return;
        }

        foreach (Entry e in entries)
        {
            e.File.Dispose();
        }
    }

    /// <summary>A leased handle; dispose to return it.</summary>
    internal readonly struct Lease : IDisposable
    {
        private readonly FileHandleCache _cache;
        private readonly Entry _entry;

        internal Lease(FileHandleCache cache, Entry entry)
        {
            _cache = cache;
            _entry = entry;
        }

        /// <summary>The open file.</summary>
        public IStorageFile File => _entry.File;

        /// <summary>Records that the file was written, so the next flush covers it.</summary>
        public void MarkWritten() => _entry.Dirty = true;

        /// <summary>Returns the handle to the cache.</summary>
        public void Dispose() => _cache?.Release(_entry);
    }

    internal sealed class Entry(int fileIndex, IStorageFile file)
    {
        public int FileIndex { get; } = fileIndex;

        public IStorageFile File { get; } = file;

        public LinkedListNode<Entry> Node { get; set; } = null!;

        public int Refs { get; set; }

        public bool Closed { get; set; }

        public bool Prepared { get; set; }

        public bool Dirty { get; set; }
    }
}
