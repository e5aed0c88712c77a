namespace PeerNet.Storage;

/// <summary>How a <see cref="TorrentStorage"/> finds and opens its files.</summary>
internal sealed record StorageOptions
{
    /// <summary>Default limit on open file handles.</summary>
    public const int DefaultMaxOpenFiles = 256;

    /// <summary>The defaults: read-write, files under the download folder.</summary>
    public static StorageOptions Default { get; } = new();

    /// <summary>Open files read-only and never create anything: seeding data that already exists.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>
    /// False (default): the path given is the download folder and each file is at <c>path/file.Path</c> (so a
    /// multi-file torrent lives in <c>path/Name/…</c>). True: the path is the content itself — the single file of a
    /// single-file torrent, or the folder that stands for <c>Name</c> of a multi-file one, whatever it is called
    /// (<c>peernet seed x.torrent ~/Videos/holiday</c>).
    /// </summary>
    public bool PathIsContent { get; init; }

    /// <summary>Most file handles kept open at once (least recently used are closed first).</summary>
    public int MaxOpenFiles
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxOpenFiles), value, "At least one handle.");
    } = DefaultMaxOpenFiles;

    /// <summary>
    /// True (default): page-aligned ranges of verified pieces are written with <c>O_DIRECT</c> on Linux, past the
    /// page cache (see <see cref="PhysicalFileSystem"/> for why); reads stay cached. False: every write goes through
    /// the page cache. Ignored when <see cref="FileSystem"/> is set.
    /// </summary>
    public bool DirectWrites { get; init; } = true;

    /// <summary>The file system to use; null for the real one. Tests inject faults here.</summary>
    public IStorageFileSystem? FileSystem { get; init; }
}
