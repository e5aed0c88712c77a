using System.Runtime.InteropServices;

namespace PeerNet.Daemon.Persistence;

/// <summary>
/// Files replaced whole or not at all: written to a temporary beside the target, flushed to the disk, renamed over it,
/// and the folder flushed so the rename itself survives a crash. A reader (or a restart after <c>kill -9</c>) sees the
/// old file or the new one, never a part.
/// </summary>
internal static partial class AtomicFile
{
    /// <summary>Writes <paramref name="contents"/> to <paramref name="path"/> atomically, readable by the owner only.</summary>
    public static void Write(string path, ReadOnlySpan<byte> contents)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temp, options))
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
            FlushFolder(folder);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Deletes <paramref name="path"/> if it is there, and flushes its folder.</summary>
    public static void Delete(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
            FlushFolder(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
    }

    /// <summary>Removes temporaries a crash left in <paramref name="folder"/>.</summary>
    public static void RemoveLeftovers(string folder)
    {
        if (Directory.Exists(folder))
        {
            foreach (string temp in Directory.EnumerateFiles(folder, ".*.tmp"))
            {
                TryDelete(temp);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>fsync(2) on a folder (POSIX): .NET cannot open a folder as a file. Windows journals renames and needs none.</summary>
    private static void FlushFolder(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int fd = Open(folder, 0 /* O_RDONLY */);
        if (fd >= 0)
        {
            _ = Fsync(fd);
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
