using PeerNet.Storage;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>Called before every write to a file: may record it, or throw to fail it.</summary>
internal delegate void WriteHook(string path, ReadOnlySpan<byte> source, long fileOffset);

/// <summary>Called after every read from a file with the bytes read: may change them.</summary>
internal delegate void ReadHook(string path, Span<byte> read, long fileOffset);

/// <summary>
/// The physical file system with a hook on every write and, optionally, on every read: a full disk, a check of what
/// storage writes, or a disk that lies about what it holds.
/// </summary>
internal sealed class HookedFileSystem(WriteHook beforeWrite, ReadHook? afterRead = null) : IStorageFileSystem
{
    /// <summary>A file system that fails writes with ENOSPC once <paramref name="byteBudget"/> bytes are written.</summary>
    public static HookedFileSystem WithByteBudget(long byteBudget)
    {
        long remaining = byteBudget;
        return new HookedFileSystem((_, source, _) =>
        {
            if (Interlocked.Add(ref remaining, -source.Length) < 0)
            {
                throw new IOException("No space left on device", 28);
            }
        });
    }

    /// <summary>
    /// A corrupt seeder's file system: once <paramref name="armed"/> says so, every read of at most one block (16 KiB: what
    /// an upload reads) has its middle byte flipped. Reads of a whole piece (the seeder's own check, its BEP 52 block-hash
    /// answers) stay true, so the seeder lies in the blocks it sends only, as a peer that corrupts what it uploads.
    /// </summary>
    public static HookedFileSystem CorruptingUploads(Func<bool> armed) => new((_, _, _) => { }, (_, read, _) =>
    {
        if (armed() && read.Length is > 0 and <= 16 * 1024)
        {
            read[read.Length / 2] ^= 0xFF;
        }
    });

    public IStorageFile OpenFile(string path, FileMode mode, FileAccess access) => new HookedFile(path, beforeWrite, afterRead, PhysicalFileSystem.Instance.OpenFile(path, mode, access));

    public FileStatus GetStatus(string path) => PhysicalFileSystem.Instance.GetStatus(path);

    public string? ReadLink(string path) => PhysicalFileSystem.Instance.ReadLink(path);

    public void CreateDirectory(string path) => PhysicalFileSystem.Instance.CreateDirectory(path);

    public void MoveFile(string source, string destination) => PhysicalFileSystem.Instance.MoveFile(source, destination);

    public void DeleteFile(string path) => PhysicalFileSystem.Instance.DeleteFile(path);

    public void FlushDirectory(string path) => PhysicalFileSystem.Instance.FlushDirectory(path);

    private sealed class HookedFile(string path, WriteHook beforeWrite, ReadHook? afterRead, IStorageFile inner) : IStorageFile
    {
        public long GetLength() => inner.GetLength();

        public void SetLength(long length) => inner.SetLength(length);

        public int Read(Span<byte> destination, long fileOffset)
        {
            int read = inner.Read(destination, fileOffset);
            afterRead?.Invoke(path, destination[..read], fileOffset);
            return read;
        }

        public void Write(ReadOnlySpan<byte> source, long fileOffset)
        {
            beforeWrite(path, source, fileOffset);
            inner.Write(source, fileOffset);
        }

        public void FlushToDisk() => inner.FlushToDisk();

        public void Dispose() => inner.Dispose();
    }
}
