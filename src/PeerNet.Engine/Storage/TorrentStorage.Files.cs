namespace PeerNet.Storage;

internal sealed partial class TorrentStorage
{
    private void WriteSlice(FileSlice slice, ReadOnlySpan<byte> data)
    {
        string path = _paths[slice.FileIndex];
        try
        {
            using FileHandleCache.Lease lease = _handles.Acquire(slice.FileIndex, forWrite: true);
            lease.MarkWritten();
            lease.File.Write(data, slice.FileOffset);
        }
        catch (Exception e) when (StorageErrors.IsIOFailure(e))
        {
            throw StorageErrors.Wrap(e, path, "write");
        }
    }

    private void ReadSlice(FileSlice slice, Span<byte> destination)
    {
        string path = _paths[slice.FileIndex];
        int read;
        try
        {
            using FileHandleCache.Lease lease = _handles.Acquire(slice.FileIndex, forWrite: false);
            read = lease.File.Read(destination, slice.FileOffset);
        }
        catch (Exception e) when (StorageErrors.IsIOFailure(e))
        {
            throw StorageErrors.Wrap(e, path, "read");
        }

        if (read < destination.Length)
        {
            throw new StorageException(StorageErrorCode.FileTruncated, path, $"'{path}' ends before byte {slice.FileOffset + destination.Length}: it is shorter than the torrent says.");
        }
    }

    private void FlushFile(int fileIndex)
    {
        string path = _paths[fileIndex];
        try
        {
            using FileHandleCache.Lease lease = _handles.Acquire(fileIndex, forWrite: false);
            lease.File.FlushToDisk();
        }
        catch (Exception e) when (StorageErrors.IsIOFailure(e))
        {
            throw StorageErrors.Wrap(e, path, "flush");
        }
    }

    /// <summary>The cache's opener: runs under its lock, so each file is opened once.</summary>
    private IStorageFile OpenFile(int fileIndex, bool forWrite)
    {
        if (IsReadOnly)
        {
            return OpenChecked(fileIndex, FileMode.Open, FileAccess.Read);
        }

        if (!forWrite)
        {
            // Reading never creates: a missing file is reported, not conjured as zeros.
            return OpenChecked(fileIndex, FileMode.Open, FileAccess.ReadWrite);
        }

        IStorageFile file = OpenChecked(fileIndex, FileMode.OpenOrCreate, FileAccess.ReadWrite);
        try
        {
            PrepareForWrite(fileIndex, file);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The one way storage opens a torrent's file: by its real path, proven inside the real save folder
    /// (<see cref="StoragePaths.GetRealPath"/>), creating its folders first unless <paramref name="mode"/> only
    /// opens. The file system never follows a link at the file itself, so one planted there after the check is
    /// refused rather than written through.
    /// </summary>
    private IStorageFile OpenChecked(int fileIndex, FileMode mode, FileAccess access)
    {
        // Checked before any folder is created, so no folder is made through a link that leads out; checked again
        // after, in case one was planted meanwhile.
        string real = _paths.GetRealPath(fileIndex);
        if (mode != FileMode.Open && Path.GetDirectoryName(real) is { } folder)
        {
            _fileSystem.CreateDirectory(folder);
            real = _paths.GetRealPath(fileIndex);
        }

        return _fileSystem.OpenFile(real, mode, access);
    }

    /// <summary>
    /// Gives a file its full length before the first write, so the file system can lay it out at once; on Linux
    /// extending with ftruncate makes a sparse file, so unwritten ranges cost no space. Longer files are left
    /// alone: the bytes past the torrent's end are the user's.
    /// </summary>
    private void PrepareForWrite(int fileIndex, IStorageFile file)
    {
        long length = Metainfo.Files[fileIndex].Length;
        if (file.GetLength() < length)
        {
            file.SetLength(length);
        }
    }
}
