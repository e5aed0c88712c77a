namespace PeerNet.Storage;

/// <summary>What the file system reports about one path.</summary>
/// <param name="Exists">Whether a regular file is there.</param>
/// <param name="Length">Its length in bytes (0 when missing).</param>
/// <param name="LastWriteUtc">Its modification time (default when missing).</param>
internal readonly record struct FileStatus(bool Exists, long Length, DateTime LastWriteUtc)
{
    /// <summary>The status of a path with no file.</summary>
    public static FileStatus Missing => default;
}

/// <summary>
/// The file operations storage needs, behind an interface so tests can inject faults (a full disk, a failing
/// read) that a real file system will not produce on demand. <see cref="PhysicalFileSystem"/> is the real one.
/// Implementations throw the usual <see cref="IOException"/>s; callers translate them.
/// </summary>
internal interface IStorageFileSystem
{
    /// <summary>
    /// Opens a file for positional I/O without following a symbolic link at <paramref name="path"/> itself (links
    /// in the folders above are followed: callers pass a real path, see <see cref="StoragePaths.GetRealPath"/>). A
    /// link there fails the open with a <see cref="StorageException"/> (<see cref="StorageErrorCode.PathEscapesRoot"/>),
    /// so a link planted after the check is never written through.
    /// </summary>
    IStorageFile OpenFile(string path, FileMode mode, FileAccess access);

    /// <summary>Stats a path without following a final symbolic link's absence into an exception.</summary>
    FileStatus GetStatus(string path);

    /// <summary>
    /// When <paramref name="path"/> is a symbolic link, its target text as stored (relative to the link's folder
    /// unless rooted), not resolved any further; null when it is not a link or does not exist.
    /// </summary>
    string? ReadLink(string path);

    /// <summary>Creates a folder and its parents.</summary>
    void CreateDirectory(string path);

    /// <summary>Renames <paramref name="source"/> over <paramref name="destination"/> (atomic on one volume).</summary>
    void MoveFile(string source, string destination);

    /// <summary>Deletes a file if it exists.</summary>
    void DeleteFile(string path);

    /// <summary>Makes a folder's entries (a rename) durable, where the platform allows; otherwise does nothing.</summary>
    void FlushDirectory(string path);
}

/// <summary>An open file: positional reads and writes, safe to call from several threads at once.</summary>
internal interface IStorageFile : IDisposable
{
    /// <summary>Current length.</summary>
    long GetLength();

    /// <summary>Sets the length (extending creates a sparse file where the file system supports it).</summary>
    void SetLength(long length);

    /// <summary>Reads at <paramref name="fileOffset"/>; returns the count read, less than asked only at the end of the file.</summary>
    int Read(Span<byte> destination, long fileOffset);

    /// <summary>Writes all of <paramref name="source"/> at <paramref name="fileOffset"/>.</summary>
    void Write(ReadOnlySpan<byte> source, long fileOffset);

    /// <summary>Flushes the file's data to the device (fsync).</summary>
    void FlushToDisk();
}
