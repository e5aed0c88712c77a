using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

/// <summary>
/// The real file system with counters and injectable faults: the seam that makes a full disk or a failing
/// device testable without a tiny volume.
/// </summary>
internal sealed class FakeFileSystem : IStorageFileSystem
{
    private readonly PhysicalFileSystem _inner = PhysicalFileSystem.Instance;
    private int _open;
    private int _opens;

    /// <summary>Thrown by every write when set (after <see cref="WritesBeforeFault"/> succeed).</summary>
    public Func<string, Exception>? WriteFault { get; set; }

    public int WritesBeforeFault { get; set; }

    /// <summary>Thrown by every read when set.</summary>
    public Func<string, Exception>? ReadFault { get; set; }

    /// <summary>Thrown by moves when set.</summary>
    public Func<string, Exception>? MoveFault { get; set; }

    /// <summary>Runs just before each open with the path about to be opened: a race planted between check and open.</summary>
    public Action<string>? BeforeOpen { get; set; }

    public int OpenHandles => Volatile.Read(ref _open);

    public int TotalOpens => Volatile.Read(ref _opens);

    public int DirectoryFlushes { get; private set; }

    public List<string> Log { get; } = [];

    public IStorageFile OpenFile(string path, FileMode mode, FileAccess access)
    {
        BeforeOpen?.Invoke(path);
        IStorageFile file = _inner.OpenFile(path, mode, access);
        Interlocked.Increment(ref _open);
        Interlocked.Increment(ref _opens);
        lock (Log)
        {
            Log.Add($"open {Path.GetFileName(path)}");
        }

        return new FakeFile(this, path, file);
    }

    public FileStatus GetStatus(string path) => _inner.GetStatus(path);

    public string? ReadLink(string path) => _inner.ReadLink(path);

    public void CreateDirectory(string path) => _inner.CreateDirectory(path);

    public void MoveFile(string source, string destination)
    {
        if (MoveFault is { } fault)
        {
            throw fault(destination);
        }

        _inner.MoveFile(source, destination);
    }

    public void DeleteFile(string path) => _inner.DeleteFile(path);

    public void FlushDirectory(string path)
    {
        DirectoryFlushes++;
        _inner.FlushDirectory(path);
    }

    /// <summary>The IOException .NET raises on Linux for ENOSPC.</summary>
    public static IOException DiskFull(string path) => new($"No space left on device : '{path}'", 28);

    private sealed class FakeFile(FakeFileSystem owner, string path, IStorageFile inner) : IStorageFile
    {
        private int _disposed;

        public long GetLength() => inner.GetLength();

        public void SetLength(long length) => inner.SetLength(length);

        public int Read(Span<byte> destination, long fileOffset)
        {
            if (owner.ReadFault is { } fault)
            {
                throw fault(path);
            }

            return inner.Read(destination, fileOffset);
        }

        public void Write(ReadOnlySpan<byte> source, long fileOffset)
        {
            if (owner.WriteFault is { } fault)
            {
                lock (owner)
                {
                    if (owner.WritesBeforeFault-- <= 0)
                    {
                        throw fault(path);
                    }
                }
            }

            inner.Write(source, fileOffset);
        }

        public void FlushToDisk() => inner.FlushToDisk();

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._open);
                lock (owner.Log)
                {
                    owner.Log.Add($"close {Path.GetFileName(path)}");
                }

                inner.Dispose();
            }
        }
    }
}
