using PeerNet.Storage;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>Called before every write to a file: may record it, or throw to fail it.</summary>
internal delegate void WriteHook(string path, ReadOnlySpan<byte> source, long fileOffset);

/// <summary>The physical file system with a hook on every write: a full disk, or a check of what storage writes.</summary>
internal sealed class HookedFileSystem(WriteHook beforeWrite) : IStorageFileSystem
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

    public IStorageFile OpenFile(string path, FileMode mode, FileAccess access) => new HookedFile(path, beforeWrite, PhysicalFileSystem.Instance.OpenFile(path, mode, access));

    public FileStatus GetStatus(string path) => PhysicalFileSystem.Instance.GetStatus(path);

    public string? ReadLink(string path) => PhysicalFileSystem.Instance.ReadLink(path);

    public void CreateDirectory(string path) => PhysicalFileSystem.Instance.CreateDirectory(path);

    public void MoveFile(string source, string destination) => PhysicalFileSystem.Instance.MoveFile(source, destination);

    public void DeleteFile(string path) => PhysicalFileSystem.Instance.DeleteFile(path);

    public void FlushDirectory(string path) => PhysicalFileSystem.Instance.FlushDirectory(path);

    private sealed class HookedFile(string path, WriteHook beforeWrite, IStorageFile inner) : IStorageFile
    {
        public long GetLength() => inner.GetLength();

        public void SetLength(long length) => inner.SetLength(length);

        public int Read(Span<byte> destination, long fileOffset) => inner.Read(destination, fileOffset);

        public void Write(ReadOnlySpan<byte> source, long fileOffset)
        {
            beforeWrite(path, source, fileOffset);
            inner.Write(source, fileOffset);
        }

        public void FlushToDisk() => inner.FlushToDisk();

        public void Dispose() => inner.Dispose();
    }
}
