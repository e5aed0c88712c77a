using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace PeerNet.Storage;

internal sealed partial class PhysicalFileSystem
{
    // Linux open(2) flags shared by x86-64 and Arm64 (O_NOFOLLOW is not: see NoFollowFlag).
    private const int ORdwr = 2;
    private const int OCreat = 0x40; // 0100
    private const int OExcl = 0x80; // 0200

    // 0666, as File.OpenHandle creates files; the process umask takes its share.
    private const int CreateMode = 0x1B6;

    private const int LockShared = 1;
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;

    private const int Eperm = 1;
    private const int Enoent = 2;
    private const int Eagain = 11;
    private const int Eacces = 13;
    private const int Eisdir = 21;
    private const int Eloop = 40;

    /// <summary>
    /// Linux's <c>O_NOFOLLOW</c> for this architecture, or 0 where files are opened by the managed fallback (other
    /// systems, and 32-bit processes, whose <c>open</c> would need <c>O_LARGEFILE</c> too). A property for the same
    /// reason as <see cref="DirectFlag"/>.
    /// </summary>
    private static int NoFollowFlag => !OperatingSystem.IsLinux() ? 0 : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 0x20000, // 0400000
        Architecture.Arm64 => 0x8000, // 0100000
        _ => 0,
    };

    /// <summary>
    /// Opens <paramref name="path"/> as <see cref="File.OpenHandle"/> would, except that a symbolic link at the path
    /// itself is refused, not followed. On Linux that is the kernel's answer (<c>O_NOFOLLOW</c>: <c>ELOOP</c>), so
    /// a link planted after storage checked the path cannot slip in; elsewhere the path is looked at first, which
    /// leaves a narrow window between the look and the open.
    /// </summary>
    private static SafeFileHandle OpenHandleNoFollow(string path, FileMode mode, FileAccess access, FileShare share)
    {
        if (NoFollowFlag == 0)
        {
            return new FileInfo(path).LinkTarget is { } target ? throw LinkRefused(path, target) : File.OpenHandle(path, mode, access, share);
        }

        int flags = NoFollowFlag | OCloexec | (access switch { FileAccess.Read => 0, FileAccess.Write => OWronly, _ => ORdwr }) | mode switch
        {
            FileMode.Open or FileMode.Truncate => 0,
            FileMode.OpenOrCreate or FileMode.Create => OCreat, // Create truncates after the lock below, as .NET does
            FileMode.CreateNew => OCreat | OExcl,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Positional I/O has no append mode."),
        };
        byte[] native = NativePath(path);
        int fd;
        int errno;
        do
        {
            fd = NativeMethods.open(native, flags, CreateMode);
            errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
        while (errno == Eintr);

        if (fd < 0)
        {
            throw OpenFailed(path, errno);
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            // What File.OpenHandle does after open(2): a folder is not a file (O_RDONLY opens one), and FileShare is
            // an advisory flock, taken before Create truncates so a file someone holds exclusively is not emptied.
            if ((File.GetAttributes(handle) & FileAttributes.Directory) != 0)
            {
                throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.");
            }

            if (NativeMethods.flock(fd, (share == FileShare.None ? LockExclusive : LockShared) | LockNonBlocking) < 0
                && Marshal.GetLastPInvokeError() == Eagain)
            {
                throw new IOException($"The process cannot access the file '{path}' because it is being used by another process.", Eagain);
            }

            if (mode is FileMode.Create or FileMode.Truncate)
            {
                RandomAccess.SetLength(handle, 0);
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The exceptions <see cref="File.OpenHandle"/> raises for the same errno, and the refusal for ELOOP.</summary>
    private static Exception OpenFailed(string path, int errno) => errno switch
    {
        Eloop => LinkRefused(path, new FileInfo(path).LinkTarget),
        Enoent => new FileNotFoundException($"Could not find file '{path}'.", path),
        Eacces or Eperm or Eisdir => new UnauthorizedAccessException($"Access to the path '{path}' is denied."),
        _ => new IOException($"{Marshal.GetPInvokeErrorMessage(errno)} : '{path}'", errno),
    };

    private static StorageException LinkRefused(string path, string? target) => new(
        StorageErrorCode.PathEscapesRoot,
        path,
        target is null
            ? $"Refusing '{path}': opening it meets a symbolic link, and storage follows none it has not checked."
            : $"Refusing '{path}': it is a symbolic link to '{target}', and storage never follows a link at the file it opens.");

    /// <summary>A path as libc takes it: UTF-8, NUL-terminated.</summary>
    private static byte[] NativePath(string path)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, bytes);
        return bytes;
    }

    private static partial class NativeMethods
    {
#pragma warning disable SYSLIB1054, CA1401, IDE1006 // plain blittable libc calls; names are libc's
        // open(2) is variadic; the mode is read only with O_CREAT. Passing it as a fixed argument is sound on the
        // Linux x86-64 and Arm64 ABIs, the only ones NoFollowFlag lets through (not on Apple's Arm64).
        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int open(byte[] path, int flags, int mode);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int flock(int fd, int operation);
#pragma warning restore SYSLIB1054, CA1401, IDE1006
    }
}
