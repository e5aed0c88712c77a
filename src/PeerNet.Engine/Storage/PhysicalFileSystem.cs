using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace PeerNet.Storage;

/// <summary>The real file system: <see cref="File.OpenHandle"/> and <see cref="RandomAccess"/>.</summary>
internal sealed class PhysicalFileSystem : IStorageFileSystem
{
    /// <summary>The one instance.</summary>
    public static PhysicalFileSystem Instance { get; } = new();

    private PhysicalFileSystem()
    {
    }

    /// <inheritdoc />
    public IStorageFile OpenFile(string path, FileMode mode, FileAccess access)
    {
        // Writers let others read (a media player previewing a download); readers let others do anything.
        FileShare share = access == FileAccess.Read ? FileShare.ReadWrite | FileShare.Delete : FileShare.Read;
        return new PhysicalFile(File.OpenHandle(path, mode, access, share));
    }

    /// <inheritdoc />
    public FileStatus GetStatus(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new FileStatus(true, info.Length, info.LastWriteTimeUtc) : FileStatus.Missing;
    }

    /// <inheritdoc />
    public string? ResolveLink(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is null)
        {
            return null;
        }

        FileSystemInfo? target = info.ResolveLinkTarget(returnFinalTarget: true);
        return target is null ? null : Path.GetFullPath(target.FullName);
    }

    /// <inheritdoc />
    public void CreateDirectory(string path) => Directory.CreateDirectory(path);

    /// <inheritdoc />
    public void MoveFile(string source, string destination) => File.Move(source, destination, overwrite: true);

    /// <inheritdoc />
    public void DeleteFile(string path) => File.Delete(path);

    /// <inheritdoc />
    public void FlushDirectory(string path)
    {
        // A rename is durable only once its folder is: fsync(2) on the folder (POSIX). .NET cannot open a
        // folder as a file, so this goes to libc; Windows has no equivalent and needs none (NTFS journals renames).
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, bytes);
        try
        {
            int fd = NativeMethods.open(bytes, 0 /* O_RDONLY */);
            if (fd < 0)
            {
                return;
            }

            _ = NativeMethods.fsync(fd);
            _ = NativeMethods.close(fd);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Best effort: the file itself was already flushed.
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
#pragma warning disable SYSLIB1054, CA1401, IDE1006 // plain blittable libc calls; names are libc's
        public static extern int open(byte[] path, int flags);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int close(int fd);
#pragma warning restore SYSLIB1054, CA1401, IDE1006
    }

    private sealed class PhysicalFile(SafeFileHandle handle) : IStorageFile
    {
        public long GetLength() => RandomAccess.GetLength(handle);

        public void SetLength(long length) => RandomAccess.SetLength(handle, length);

        public int Read(Span<byte> destination, long fileOffset)
        {
            int total = 0;
            while (total < destination.Length)
            {
                int n = RandomAccess.Read(handle, destination[total..], fileOffset + total);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }

            return total;
        }

        public void Write(ReadOnlySpan<byte> source, long fileOffset) => RandomAccess.Write(handle, source, fileOffset);

        public void FlushToDisk() => RandomAccess.FlushToDisk(handle);

        public void Dispose() => handle.Dispose();
    }
}
