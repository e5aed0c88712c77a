namespace PeerNet.Storage;

/// <summary>What loading resume data found, and how much of it can be trusted.</summary>
internal sealed class ResumeLoadResult
{
    /// <summary>Whether a resume file was found, decoded and matched this torrent.</summary>
    public required bool Loaded { get; init; }

    /// <summary>Why it was not loaded (missing, corrupt, another torrent); null when loaded.</summary>
    public string? Error { get; init; }

    /// <summary>Pieces to take as verified without reading them: empty unless loaded.</summary>
    public required PieceBitfield Trusted { get; init; }

    /// <summary>Pieces the resume data claimed whose files changed since (size or time): verify these.</summary>
    public required PieceBitfield Recheck { get; init; }

    /// <summary>Indices of files whose size or modification time no longer match the resume data.</summary>
    public IReadOnlyList<int> ChangedFiles { get; init; } = [];

    /// <summary>Whether nothing could be trusted, so the whole torrent needs a check.</summary>
    public bool NeedsFullCheck => !Loaded;
}

/// <summary>
/// Keeps one resume file per torrent in a folder. Saving is crash-safe: the new data is written to
/// <c>name.tmp</c>, flushed to the device, renamed over the old file (atomic), and the folder is flushed, so a
/// crash leaves either the old file or the new one, never a torn one. Loading trusts nothing: a corrupt or
/// foreign file is ignored with a reason, and pieces of files that changed on disk since must be rechecked.
/// </summary>
internal sealed class ResumeStore
{
    private readonly IStorageFileSystem _fileSystem;
    private readonly Lock _saveLock = new();

    /// <summary>Creates a store over <paramref name="directory"/>.</summary>
    public ResumeStore(string directory, IStorageFileSystem? fileSystem = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
        _fileSystem = fileSystem ?? PhysicalFileSystem.Instance;
    }

    /// <summary>The folder holding the resume files.</summary>
    public string Directory { get; }

    /// <summary>Path of the resume file for a torrent: its v1 info-hash in hex, or its full v2 one.</summary>
    public string GetPath(InfoHashes infoHashes)
        => Path.Combine(Directory, (infoHashes.V1?.ToString() ?? infoHashes.V2!.Value.ToString()) + ".resume");

    /// <summary>Saves <paramref name="data"/> atomically; throws <see cref="StorageException"/> (or <see cref="StorageFullException"/>).</summary>
    public void Save(ResumeData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        byte[] bytes = data.Encode();
        string path = GetPath(data.InfoHashes);
        string temp = path + ".tmp";
        lock (_saveLock)
        {
            try
            {
                _fileSystem.CreateDirectory(Directory);
                using (IStorageFile file = _fileSystem.OpenFile(temp, FileMode.Create, FileAccess.Write))
                {
                    file.Write(bytes, 0);
                    file.FlushToDisk();
                }

                _fileSystem.MoveFile(temp, path);
                _fileSystem.FlushDirectory(Directory);
            }
            catch (Exception e) when (StorageErrors.IsIOFailure(e))
            {
                TryDelete(temp);
                throw StorageErrors.Wrap(e, path, "save resume data to");
            }
        }
    }

    /// <summary>Deletes a torrent's resume file (when the torrent is removed).</summary>
    public void Delete(InfoHashes infoHashes)
    {
        string path = GetPath(infoHashes);
        try
        {
            _fileSystem.DeleteFile(path);
        }
        catch (Exception e) when (StorageErrors.IsIOFailure(e))
        {
            throw StorageErrors.Wrap(e, path, "delete");
        }
    }

    /// <summary>Loads the resume file of <paramref name="storage"/>'s torrent and checks it against the disk.</summary>
    public ResumeLoadResult Load(TorrentStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        PieceMap map = storage.Map;
        string path = GetPath(map.Metainfo.InfoHashes);
        long maxSize = 4096 + ((map.PieceCount + 7) / 8) + (map.FileCount * 64L);
        byte[] bytes;
        try
        {
            if (!_fileSystem.GetStatus(path).Exists)
            {
                return Rejected(map, "no resume file");
            }

            using IStorageFile file = _fileSystem.OpenFile(path, FileMode.Open, FileAccess.Read);
            long length = file.GetLength();
            if (length > maxSize)
            {
                return Rejected(map, $"the resume file is {length} bytes, more than this torrent could need ({maxSize})");
            }

            bytes = new byte[length];
            if (file.Read(bytes, 0) != length)
            {
                return Rejected(map, "the resume file changed while being read");
            }
        }
        catch (Exception e) when (StorageErrors.IsIOFailure(e))
        {
            return Rejected(map, $"the resume file cannot be read: {e.Message}");
        }

        if (!ResumeData.TryDecode(bytes, map.FileCount, map.PieceCount, out ResumeData? data, out string? error))
        {
            return Rejected(map, error);
        }

        return Validate(data, storage);
    }

    /// <summary>
    /// Decides how much of <paramref name="data"/> to trust for <paramref name="storage"/>: none if it is for
    /// another torrent or shape; otherwise every claimed piece except those touching a file whose size or
    /// modification time differ from the disk now (those go to <see cref="ResumeLoadResult.Recheck"/>).
    /// </summary>
    public static ResumeLoadResult Validate(ResumeData data, TorrentStorage storage)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(storage);
        PieceMap map = storage.Map;
        InfoHashes expected = map.Metainfo.InfoHashes;
        if (data.InfoHashes != expected)
        {
            return Rejected(map, $"it belongs to another torrent ({data.InfoHashes}, not {expected})");
        }

        if (data.PieceLength != map.PieceLength || data.Pieces.Count != map.PieceCount || data.Files.Count != map.FileCount)
        {
            return Rejected(map, $"its layout ({data.Pieces.Count} pieces of {data.PieceLength} bytes, {data.Files.Count} files) does not match the torrent ({map.PieceCount} of {map.PieceLength}, {map.FileCount} files)");
        }

        var trusted = new PieceBitfield(map.PieceCount);
        var recheck = new PieceBitfield(map.PieceCount);
        for (int i = 0; i < map.PieceCount; i++)
        {
            if (data.Pieces[i])
            {
                trusted.Set(i);
            }
        }

        var changed = new List<int>();
        for (int f = 0; f < map.FileCount; f++)
        {
            if (!map.IsStored(f))
            {
                continue;
            }

            ResumeFileState recorded = data.Files[f];
            ResumeFileState now = ResumeFileState.From(storage.GetFileStatus(f));

            // A claimed piece needs its file to have been whole-length then and unchanged since.
            if (recorded == now && recorded.Length >= map.Metainfo.Files[f].Length)
            {
                continue;
            }

            changed.Add(f);
            PieceRange range = map.GetPieceRange(f);
            for (int p = range.First; p <= range.Last; p++)
            {
                if (trusted[p])
                {
                    trusted.Clear(p);
                    recheck.Set(p);
                }
            }
        }

        return new ResumeLoadResult { Loaded = true, Trusted = trusted, Recheck = recheck, ChangedFiles = changed };
    }

    private static ResumeLoadResult Rejected(PieceMap map, string reason) => new()
    {
        Loaded = false,
        Error = reason,
        Trusted = new PieceBitfield(map.PieceCount),
        Recheck = new PieceBitfield(map.PieceCount),
    };

    private void TryDelete(string path)
    {
        try
        {
            _fileSystem.DeleteFile(path);
        }
        catch (Exception e) when (StorageErrors.IsIOFailure(e))
        {
            // The stale temporary file is overwritten by the next save.
        }
    }
}
