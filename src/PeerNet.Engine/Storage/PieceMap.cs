using PeerNet.Metainfo;

namespace PeerNet.Storage;

/// <summary>
/// Maps the torrent's piece space to its files. Piece <c>i</c> spans <c>[i·PieceLength, min((i+1)·PieceLength,
/// PieceSpaceSize))</c>; v1 and hybrid files sit at their offset in the concatenation (pad files are zeros and never
/// stored), v2 files each start on a piece boundary with implicit zeros in the gap. Only stored files (non-empty,
/// not pad, not symlink) are indexed, sorted by offset, so a lookup is a binary search: O(log files).
/// </summary>
internal sealed class PieceMap
{
    private readonly long[] _starts;
    private readonly long[] _ends;
    private readonly int[] _fileIndices;
    private readonly bool[] _stored;

    /// <summary>Indexes <paramref name="metainfo"/>'s files.</summary>
    public PieceMap(TorrentMetainfo metainfo)
    {
        ArgumentNullException.ThrowIfNull(metainfo);
        Metainfo = metainfo;
        PieceLength = metainfo.PieceLength;
        PieceCount = metainfo.PieceCount;
        SpaceSize = metainfo.PieceSpaceSize;
        BlocksPerPiece = (int)Math.Max(1, PieceLength / MerkleTree.BlockSize);

        IReadOnlyList<TorrentFile> files = metainfo.Files;
        _stored = new bool[files.Count];
        var indices = new List<int>(files.Count);
        long previousEnd = 0;
        for (int i = 0; i < files.Count; i++)
        {
            TorrentFile f = files[i];
            if (f.Length == 0 || f.IsPadFile || f.IsSymlink)
            {
                continue;
            }

            // The parser lays files out in order without overlap; a map built on anything else would scatter
            // one file's bytes into another, so refuse it outright.
            if (f.Offset < previousEnd || f.Offset > SpaceSize - f.Length)
            {
                throw new ArgumentException($"File '{f.Path}' overlaps another or lies outside the piece space.", nameof(metainfo));
            }

            previousEnd = f.Offset + f.Length;
            _stored[i] = true;
            indices.Add(i);
        }

        _fileIndices = [.. indices];
        _starts = new long[_fileIndices.Length];
        _ends = new long[_fileIndices.Length];
        for (int k = 0; k < _fileIndices.Length; k++)
        {
            TorrentFile f = files[_fileIndices[k]];
            _starts[k] = f.Offset;
            _ends[k] = f.Offset + f.Length;
        }
    }

    /// <summary>The torrent.</summary>
    public TorrentMetainfo Metainfo { get; }

    /// <summary>Bytes per piece.</summary>
    public long PieceLength { get; }

    /// <summary>Number of pieces.</summary>
    public int PieceCount { get; }

    /// <summary>Size of the piece space.</summary>
    public long SpaceSize { get; }

    /// <summary>16 KiB blocks in a full piece (BEP 52 leaves per piece-layer node).</summary>
    public int BlocksPerPiece { get; }

    /// <summary>Number of files with bytes on disk.</summary>
    public int StoredCount => _fileIndices.Length;

    /// <summary>Number of files in the torrent, pad files included.</summary>
    public int FileCount => _stored.Length;

    /// <summary>Whether file <paramref name="fileIndex"/> has bytes on disk (non-empty, not pad, not symlink).</summary>
    public bool IsStored(int fileIndex) => _stored[fileIndex];

    /// <summary>Offset of piece <paramref name="piece"/> in the piece space.</summary>
    public long GetPieceOffset(int piece) => piece * PieceLength;

    /// <summary>Length of piece <paramref name="piece"/>; only the last may be short.</summary>
    public int GetPieceSize(int piece)
    {
        CheckPiece(piece);
        return (int)Math.Min(PieceLength, SpaceSize - GetPieceOffset(piece));
    }

    /// <summary>Slices of <paramref name="length"/> bytes at <paramref name="begin"/> in piece <paramref name="piece"/>; the range must lie inside the piece.</summary>
    public SliceEnumerator GetSlices(int piece, int begin, int length)
    {
        int size = GetPieceSize(piece);
        if (begin < 0 || length < 0 || begin > size - length)
        {
            throw new ArgumentOutOfRangeException(nameof(begin), $"Range {begin}+{length} is outside piece {piece} of {size} bytes.");
        }

        return GetSlices(GetPieceOffset(piece) + begin, length);
    }

    /// <summary>Slices of <paramref name="length"/> bytes at <paramref name="offset"/> in the piece space.</summary>
    public SliceEnumerator GetSlices(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > SpaceSize - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Range {offset}+{length} is outside the piece space of {SpaceSize} bytes.");
        }

        return new SliceEnumerator(this, offset, offset + length, FirstOverlapping(offset));
    }

    /// <summary>The slices of a range as a list (convenient outside hot paths).</summary>
    public List<FileSlice> Map(int piece, int begin, int length)
    {
        var list = new List<FileSlice>();
        foreach (FileSlice slice in GetSlices(piece, begin, length))
        {
            list.Add(slice);
        }

        return list;
    }

    /// <summary>The pieces holding file <paramref name="fileIndex"/>'s bytes (none for empty and pad files).</summary>
    public PieceRange GetPieceRange(int fileIndex)
    {
        if (!_stored[fileIndex])
        {
            return default;
        }

        TorrentFile f = Metainfo.Files[fileIndex];
        int first = (int)(f.Offset / PieceLength);
        int last = (int)((f.Offset + f.Length - 1) / PieceLength);
        return new PieceRange(first, last - first + 1);
    }

    /// <summary>Index of the stored file holding piece-space byte <paramref name="offset"/>, or -1 (pad, gap, outside).</summary>
    public int FindFile(long offset)
    {
        int k = FirstOverlapping(offset);
        return k >= 0 && k < _starts.Length && _starts[k] <= offset && offset < _ends[k] ? _fileIndices[k] : -1;
    }

    /// <summary>
    /// The v2 file whose merkle tree covers piece <paramref name="piece"/>, or -1. In v2 and hybrid torrents every
    /// file starts on a piece boundary, so each piece belongs to the one file holding its first byte.
    /// </summary>
    public int GetV2File(int piece)
    {
        int file = FindFile(GetPieceOffset(piece));
        return file >= 0 && Metainfo.Files[file].PiecesRoot is not null ? file : -1;
    }

    /// <summary>Bytes of v2 file data in piece <paramref name="piece"/> (its size less any trailing pad or gap).</summary>
    public int GetV2DataLength(int piece)
    {
        int file = GetV2File(piece);
        if (file < 0)
        {
            return 0;
        }

        TorrentFile f = Metainfo.Files[file];
        return (int)Math.Min(GetPieceSize(piece), f.Offset + f.Length - GetPieceOffset(piece));
    }

    /// <summary>
    /// Bytes of piece <paramref name="piece"/> worth requesting from peers: up to the end of its last stored
    /// file data, rounded up to a 16 KiB block. Trailing BEP 47 pad files and the zero gap after a v2 file are
    /// zeros by definition, so they are never requested (0 for a piece wholly inside pad files).
    /// </summary>
    public int GetRequestableLength(int piece)
    {
        int size = GetPieceSize(piece);
        int end = 0;
        foreach (FileSlice slice in GetSlices(piece, 0, size))
        {
            end = Math.Max(end, slice.BufferOffset + slice.Length);
        }

        return (int)Math.Min(size, (end + (long)MerkleTree.BlockSize - 1) / MerkleTree.BlockSize * MerkleTree.BlockSize);
    }

    internal long StoredStart(int k) => _starts[k];

    internal long StoredEnd(int k) => _ends[k];

    internal int StoredFileIndex(int k) => _fileIndices[k];

    /// <summary>Position in the stored list of the first file ending after <paramref name="offset"/>.</summary>
    private int FirstOverlapping(long offset)
    {
        // Ends are strictly increasing (files are non-empty and do not overlap): find the first end > offset.
        int lo = 0;
        int hi = _ends.Length;
        while (lo < hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (_ends[mid] <= offset)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private void CheckPiece(int piece)
    {
        if ((uint)piece >= (uint)PieceCount)
        {
            throw new ArgumentOutOfRangeException(nameof(piece), piece, $"The torrent has {PieceCount} pieces.");
        }
    }
}
