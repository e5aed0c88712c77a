namespace PeerNet.Storage;

/// <summary>
/// The part of a piece-space range that lies in one stored file: <paramref name="Length"/> bytes at
/// <paramref name="FileOffset"/> in file <paramref name="FileIndex"/> (an index into the torrent's files), which
/// are bytes <paramref name="BufferOffset"/>… of the caller's buffer for the range.
/// </summary>
internal readonly record struct FileSlice(int FileIndex, long FileOffset, int Length, int BufferOffset);

/// <summary>The pieces that hold a file's bytes; <see cref="Count"/> is 0 for a file with none (empty, pad).</summary>
internal readonly record struct PieceRange(int First, int Count)
{
    /// <summary>Index of the last piece (meaningless when <see cref="Count"/> is 0).</summary>
    public int Last => First + Count - 1;

    /// <summary>Whether <paramref name="piece"/> is in the range.</summary>
    public bool Contains(int piece) => piece >= First && piece < First + Count;
}

/// <summary>
/// Walks the stored-file slices of a piece-space range without allocating. Bytes between slices (pad files,
/// v2 alignment gaps) belong to no file and read as zeros.
/// </summary>
internal struct SliceEnumerator
{
    private readonly PieceMap _map;
    private readonly long _start;
    private readonly long _end;
    private int _next;

    internal SliceEnumerator(PieceMap map, long start, long end, int first)
    {
        _map = map;
        _start = start;
        _end = end;
        _next = first;
    }

    /// <summary>The current slice.</summary>
    public FileSlice Current { get; private set; }

    /// <summary>Returns this enumerator (so it works in <c>foreach</c>).</summary>
    public readonly SliceEnumerator GetEnumerator() => this;

    /// <summary>Advances to the next stored file overlapping the range.</summary>
    public bool MoveNext()
    {
        if (_next >= _map.StoredCount || _start == _end)
        {
            return false;
        }

        long fileStart = _map.StoredStart(_next);
        if (fileStart >= _end)
        {
            return false;
        }

        long s = Math.Max(fileStart, _start);
        long e = Math.Min(_map.StoredEnd(_next), _end);
        Current = new FileSlice(_map.StoredFileIndex(_next), s - fileStart, (int)(e - s), (int)(s - _start));
        _next++;
        return true;
    }
}
