namespace PeerNet.Metainfo;

/// <summary>One file of a torrent, with its sanitized path and its place in the torrent's byte stream.</summary>
public sealed class TorrentFile
{
    internal TorrentFile(string path, long length, long offset)
    {
        Path = path;
        Length = length;
        Offset = offset;
    }

    /// <summary>
    /// Safe relative path, '/'-separated, as the file is stored under the download folder, and as libtorrent names
    /// it: the torrent's name followed by the file's path for a multi-file torrent, the name alone for a single-file
    /// one. A path that collides with an earlier file or a folder is renamed as libtorrent renames it
    /// (<c>bar.txt</c> becomes <c>bar.1.txt</c>). A BEP 47 pad file without a path is <c>.pad/LENGTH</c>, outside
    /// the name folder, as in libtorrent; pad files are never stored.
    /// </summary>
    public string Path { get; internal set; }

    /// <summary>Length in bytes.</summary>
    public long Length { get; }

    /// <summary>
    /// Offset of the file's first byte in the torrent's piece space: in the v1 concatenation for v1 and hybrid
    /// torrents (pad files included), and piece-aligned per file for v2-only ones.
    /// </summary>
    public long Offset { get; }

    /// <summary>A BEP 47 pad file (attribute <c>p</c>): zeros that keep the next file piece-aligned; never stored.</summary>
    public bool IsPadFile { get; internal init; }

    /// <summary>BEP 47 attribute <c>x</c>.</summary>
    public bool IsExecutable { get; internal init; }

    /// <summary>BEP 47 attribute <c>h</c>.</summary>
    public bool IsHidden { get; internal init; }

    /// <summary>
    /// BEP 47 attribute <c>l</c> with a target: a symbolic link to <see cref="SymlinkTarget"/>. It has no length and
    /// no bytes in the piece space; storage lists it and never creates or writes it.
    /// </summary>
    public bool IsSymlink => SymlinkTarget is not null;

    /// <summary>
    /// Sanitized target of a symlink, relative to the torrent's name folder, '/'-separated. As in libtorrent, a
    /// target that names no file or folder of the torrent (even through other links) is replaced by the link's own
    /// path: it points to itself.
    /// </summary>
    public string? SymlinkTarget { get; internal set; }

    /// <summary>BEP 52 <c>pieces root</c>: the merkle root of the file (v2 and hybrid, non-empty files).</summary>
    public Sha256Hash? PiecesRoot { get; internal init; }

    /// <summary>BEP 47 <c>mtime</c>, seconds since the Unix epoch, when present.</summary>
    public long? ModificationTime { get; internal init; }

    /// <summary>Index of the first piece holding this file's data (meaningless for empty files).</summary>
    public int FirstPiece { get; internal set; }

    /// <summary>Index of the last piece holding this file's data (meaningless for empty files).</summary>
    public int LastPiece { get; internal set; }

    /// <inheritdoc />
    public override string ToString() => $"{Path} ({Length} bytes)";

    /// <summary>The same file placed at <paramref name="offset"/> of the piece space.</summary>
    internal TorrentFile At(long offset) => new(Path, Length, offset)
    {
        IsPadFile = IsPadFile,
        IsExecutable = IsExecutable,
        IsHidden = IsHidden,
        SymlinkTarget = SymlinkTarget,
        PiecesRoot = PiecesRoot,
        ModificationTime = ModificationTime,
    };
}
