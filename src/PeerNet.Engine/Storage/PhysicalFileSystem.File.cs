using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace PeerNet.Storage;

internal sealed partial class PhysicalFileSystem
{
    private const int Mask = AlignedBufferPool.Alignment - 1;

    /// <summary>
    /// Linux's <c>O_DIRECT</c> for this architecture, or 0 where direct writes are not used. A property, not a
    /// static field: <see cref="Instance"/>, in the other part of this class, is built from it, and C# does not
    /// order static initializers across the parts of a partial class.
    /// </summary>
    private static int DirectFlag => !OperatingSystem.IsLinux() ? 0 : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x4000, // 040000
        Architecture.Arm64 or Architecture.Arm => 0x10000, // 0200000
        _ => 0,
    };

    private sealed class PhysicalFile(PhysicalFileSystem owner, SafeFileHandle handle, bool mayWriteDirect) : IStorageFile
    {
        private const int Untried = 0;
        private const int Open = 1;
        private const int Unavailable = 2;

        private readonly Lock _directLock = new();
        private SafeFileHandle? _direct;
        private volatile int _directState = mayWriteDirect ? Untried : Unavailable;

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

        public void Write(ReadOnlySpan<byte> source, long fileOffset)
        {
            int head = (int)(-fileOffset & Mask);
            int middle = (source.Length - head) & ~Mask; // whole pages after the head; 0 or less when there are none
            int direct = _directState != Unavailable && middle > 0 ? WriteDirect(source.Slice(head, middle), fileOffset + head) : 0;
            if (direct == 0)
            {
                WriteBuffered(source, fileOffset);
                return;
            }

            WriteBuffered(source[..head], fileOffset);
            WriteBuffered(source[(head + direct)..], fileOffset + head + direct);
        }

        public void FlushToDisk() => RandomAccess.FlushToDisk(handle); // fsync covers the inode, whichever descriptor wrote

        public void Dispose()
        {
            _direct?.Dispose();
            handle.Dispose();
        }

        private void WriteBuffered(ReadOnlySpan<byte> source, long fileOffset)
        {
            if (source.IsEmpty)
            {
                return;
            }

            RandomAccess.Write(handle, source, fileOffset);
            Interlocked.Add(ref owner._bufferedBytes, source.Length);
        }

        /// <summary>
        /// Writes an aligned range with <c>O_DIRECT</c> if its memory is aligned too; returns the bytes written that
        /// way (0: none, the caller writes it all through the cache; less than all after a short write).
        /// </summary>
        private unsafe int WriteDirect(ReadOnlySpan<byte> range, long fileOffset)
        {
            fixed (byte* start = range)
            {
                if (((nint)start & Mask) != 0)
                {
                    return 0; // Memory not from AlignedBufferPool, or a slice of it that is not.
                }

                SafeFileHandle? direct = GetDirectHandle();
                if (direct is null)
                {
                    return 0;
                }

                bool added = false;
                int total = 0;
                try
                {
                    direct.DangerousAddRef(ref added);
                    int fd = (int)direct.DangerousGetHandle();
                    while (total < range.Length)
                    {
                        nint n = NativeMethods.pwrite(fd, start + total, range.Length - total, fileOffset + total);
                        if (n > 0)
                        {
                            total += (int)n;
                            if ((n & Mask) != 0)
                            {
                                break; // A short, unaligned write: the rest goes through the cache.
                            }

                            continue;
                        }

                        int errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
                        if (errno == Eintr)
                        {
                            continue;
                        }

                        if (errno == Einval)
                        {
                            // The file system takes O_DIRECT at open but not these writes (an alignment larger than
                            // 4 KiB, or no direct I/O at all): this file is written through the cache from now on.
                            _directState = Unavailable;
                            break;
                        }

                        if (n == 0)
                        {
                            break;
                        }

                        throw new IOException(Marshal.GetPInvokeErrorMessage(errno), errno);
                    }
                }
                finally
                {
                    if (added)
                    {
                        direct.DangerousRelease();
                    }

                    Interlocked.Add(ref owner._directBytes, total);
                }

                return total;
            }
        }

        private SafeFileHandle? GetDirectHandle()
        {
            if (_directState == Open)
            {
                return _direct;
            }

            lock (_directLock)
            {
                if (_directState == Untried)
                {
                    _direct = OpenDirect(handle);
                    _directState = _direct is null ? Unavailable : Open;
                }

                return _directState == Open ? _direct : null;
            }
        }

        /// <summary>
        /// A second descriptor on the same open file, with <c>O_DIRECT</c>. Reopened through <c>/proc/self/fd</c>, not
        /// by path, so it is the very file the storage layer checked and opened (no rename or link can slip between);
        /// null where that or <c>O_DIRECT</c> is refused (no /proc, tmpfs before Linux 6.6, some FUSE file systems).
        /// </summary>
        private static SafeFileHandle? OpenDirect(SafeFileHandle file)
        {
            bool added = false;
            try
            {
                file.DangerousAddRef(ref added);
                byte[] path = System.Text.Encoding.ASCII.GetBytes($"/proc/self/fd/{(int)file.DangerousGetHandle()}\0");
                int fd = NativeMethods.open(path, OWronly | DirectFlag | OCloexec);
                return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return null;
            }
            finally
            {
                if (added)
                {
                    file.DangerousRelease();
                }
            }
        }
    }

    private const int OWronly = 1;
    private const int OCloexec = 0x80000; // 02000000, the same on x86 and Arm
    private const int Eintr = 4;
    private const int Einval = 22;

    private static partial class NativeMethods
    {
#pragma warning disable SYSLIB1054, CA1401, IDE1006 // plain blittable libc calls; names are libc's
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int open(byte[] path, int flags);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int close(int fd);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern unsafe nint pwrite(int fd, byte* buffer, nint count, long offset);
#pragma warning restore SYSLIB1054, CA1401, IDE1006
    }
}
