namespace PeerNet.Storage;

/// <summary>
/// The real file system: files opened without following a link at the path itself (<c>O_NOFOLLOW</c> on Linux),
/// <see cref="RandomAccess"/> on them, and on Linux direct writes (<c>O_DIRECT</c>) of page-aligned ranges.
/// </summary>
/// <remarks>
/// <para>
/// Why direct writes: storage writes whole verified pieces that it already holds in memory, and reads them back
/// only to upload them. Through the page cache each written byte also costs a freshly allocated cache page and,
/// later, writeback; a download larger than memory pushes everything else out of the cache. On a virtual machine
/// whose freed memory goes back to the host (virtio-balloon free page reporting), fresh cache pages are the dear
/// part: measured here with <c>dd</c>, writing 1 GiB through the cache took 1.6–1.8 s of system time against 0.1 s
/// with <c>O_DIRECT</c> (docs/performance.md). Reads stay buffered, so a piece uploaded to many peers is read from
/// the device once.
/// </para>
/// <para>
/// A write goes direct only for the part whose file offset, memory address and length are all
/// <see cref="AlignedBufferPool.Alignment"/>-aligned (pieces received into <see cref="AlignedBufferPool"/>
/// buffers, in single-file torrents and in v2 and hybrid files, which start on piece boundaries); the unaligned
/// head and tail of a write go through the cache. A file system that refuses <c>O_DIRECT</c> (at open or with
/// <c>EINVAL</c> at the first write) gets buffered writes for that file from then on.
/// </para>
/// </remarks>
internal sealed partial class PhysicalFileSystem : IStorageFileSystem
{
    private readonly bool _directWrites;
    private long _directBytes;
    private long _bufferedBytes;

    /// <summary>Creates a file system; <paramref name="directWrites"/> allows <c>O_DIRECT</c> writes where supported.</summary>
    internal PhysicalFileSystem(bool directWrites)
    {
        _directWrites = directWrites && DirectFlag != 0;
    }

    /// <summary>The real file system, writing aligned ranges directly where the platform allows.</summary>
    public static PhysicalFileSystem Instance { get; } = new(directWrites: true);

    /// <summary>The real file system, every write through the page cache.</summary>
    public static PhysicalFileSystem Buffered { get; } = new(directWrites: false);

    /// <summary>Bytes written with <c>O_DIRECT</c> so far.</summary>
    public long DirectBytesWritten => Interlocked.Read(ref _directBytes);

    /// <summary>Bytes written through the page cache so far.</summary>
    public long BufferedBytesWritten => Interlocked.Read(ref _bufferedBytes);

    /// <inheritdoc />
    public IStorageFile OpenFile(string path, FileMode mode, FileAccess access)
    {
        // Writers let others read (a media player previewing a download); readers let others do anything.
        FileShare share = access == FileAccess.Read ? FileShare.ReadWrite | FileShare.Delete : FileShare.Read;
        return new PhysicalFile(this, OpenHandleNoFollow(path, mode, access, share), _directWrites && access != FileAccess.Read);
    }

    /// <inheritdoc />
    public FileStatus GetStatus(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new FileStatus(true, info.Length, info.LastWriteTimeUtc) : FileStatus.Missing;
    }

    /// <inheritdoc />
    public string? ReadLink(string path) => new FileInfo(path).LinkTarget;

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

        try
        {
            int fd = NativeMethods.open(NativePath(path), 0 /* O_RDONLY */);
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
}
