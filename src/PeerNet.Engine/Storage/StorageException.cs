namespace PeerNet.Storage;

/// <summary>What went wrong with a torrent's files.</summary>
public enum StorageErrorCode
{
    /// <summary>An I/O error not covered by a more specific code.</summary>
    IOError = 0,

    /// <summary>The volume is full (ENOSPC, EDQUOT, ERROR_DISK_FULL): free space or move the download.</summary>
    DiskFull,

    /// <summary>A file's path resolves outside the download folder (lexically or through a symbolic link).</summary>
    PathEscapesRoot,

    /// <summary>A file the torrent needs does not exist.</summary>
    FileMissing,

    /// <summary>A file is shorter than the torrent says, so the requested bytes are not there.</summary>
    FileTruncated,

    /// <summary>The operating system refused access to a file.</summary>
    AccessDenied,

    /// <summary>A write to storage opened read-only (seeding data in place).</summary>
    ReadOnly,
}

/// <summary>A failure reading or writing a torrent's files, naming the file involved.</summary>
public class StorageException : IOException
{
    /// <summary>Creates an exception for <paramref name="code"/> on <paramref name="filePath"/>.</summary>
    public StorageException(StorageErrorCode code, string? filePath, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        FilePath = filePath;
    }

    /// <summary>Creates an empty exception.</summary>
    public StorageException()
        : this(StorageErrorCode.IOError, null, "storage error")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public StorageException(string message)
        : this(StorageErrorCode.IOError, null, message)
    {
    }

    /// <summary>Creates an exception with a message and inner exception.</summary>
    public StorageException(string message, Exception innerException)
        : this(StorageErrorCode.IOError, null, message, innerException)
    {
    }

    /// <summary>What went wrong.</summary>
    public StorageErrorCode Code { get; }

    /// <summary>Full path of the file involved, when one is.</summary>
    public string? FilePath { get; }
}

/// <summary>
/// The volume holding the download is full. Distinct from <see cref="StorageException"/> so the engine can pause
/// the torrent and tell the user, rather than treat it as a corrupt file.
/// </summary>
public sealed class StorageFullException : StorageException
{
    /// <summary>Creates the exception for a write to <paramref name="filePath"/> that found no space.</summary>
    public StorageFullException(string? filePath, string message, Exception? innerException)
        : base(StorageErrorCode.DiskFull, filePath, message, innerException)
    {
    }

    /// <summary>Creates an empty exception.</summary>
    public StorageFullException()
        : this(null, "No space left on the device.", null)
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public StorageFullException(string message)
        : this(null, message, null)
    {
    }

    /// <summary>Creates an exception with a message and inner exception.</summary>
    public StorageFullException(string message, Exception innerException)
        : this(null, message, innerException)
    {
    }

    /// <summary>The exception for a write to <paramref name="filePath"/> that found the volume full.</summary>
    internal static StorageFullException ForFile(string filePath, Exception innerException)
        => new(filePath, $"No space left on the device holding '{filePath}': free some space or move the download, then resume.", innerException);
}

/// <summary>Maps operating-system exceptions to <see cref="StorageException"/>s that name the file.</summary>
internal static class StorageErrors
{
    // errno values (Linux; macOS shares ENOSPC = 28 and uses 69 for EDQUOT) and Win32 error codes.
    private const int Enospc = 28;
    private const int EdquotLinux = 122;
    private const int EdquotDarwin = 69;
    private const int ErrorHandleDiskFull = 39;
    private const int ErrorDiskFull = 112;

    /// <summary>
    /// Whether <paramref name="e"/> reports a full volume. On Unix .NET puts the raw errno in
    /// <see cref="Exception.HResult"/>; on Windows it is an HRESULT wrapping the Win32 code.
    /// </summary>
    public static bool IsDiskFull(IOException e)
    {
        int h = e.HResult;
        if (OperatingSystem.IsWindows())
        {
            int code = h & 0xFFFF;
            return (h & unchecked((int)0xFFFF0000)) == unchecked((int)0x80070000) && code is ErrorHandleDiskFull or ErrorDiskFull;
        }

        if (h is Enospc || (h is EdquotLinux && OperatingSystem.IsLinux()) || (h is EdquotDarwin && OperatingSystem.IsMacOS()))
        {
            return true;
        }

        return e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
            || e.Message.Contains("Disk quota exceeded", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Wraps <paramref name="e"/> as the right <see cref="StorageException"/>; passes one through unchanged.</summary>
    public static StorageException Wrap(Exception e, string path, string operation) => e switch
    {
        StorageException s => s,
        FileNotFoundException or DirectoryNotFoundException => new StorageException(StorageErrorCode.FileMissing, path, $"Cannot {operation} '{path}': it does not exist.", e),
        UnauthorizedAccessException => new StorageException(StorageErrorCode.AccessDenied, path, $"Cannot {operation} '{path}': access denied.", e),
        IOException io when IsDiskFull(io) => StorageFullException.ForFile(path, e),
        _ => new StorageException(StorageErrorCode.IOError, path, $"Cannot {operation} '{path}': {e.Message}", e),
    };

    /// <summary>Whether <paramref name="e"/> is an operating-system failure <see cref="Wrap"/> should translate.</summary>
    public static bool IsIOFailure(Exception e) => e is IOException or UnauthorizedAccessException;
}
