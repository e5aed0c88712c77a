namespace PeerNet.Creation;

/// <summary>What a scan of the source found: the torrent's name and its files in canonical order.</summary>
internal sealed record ScannedSource(string Name, bool IsSingleFile, SourceFile[] Files, long TotalLength);

/// <summary>
/// Lists the files under a source path as libtorrent's <c>add_files</c> does: hidden files included, symlinks
/// to files followed, symlinks to folders not entered (no cycles), empty files kept.
/// </summary>
internal static class SourceScanner
{
    private static readonly EnumerationOptions Options = new()
    {
        // The default skips Hidden and System entries; a torrent of a folder holds its dot files too.
        AttributesToSkip = 0,
        IgnoreInaccessible = false,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
    };

    public static ScannedSource Scan(string sourcePath, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(sourcePath))
        {
            throw new ArgumentException("A source file or folder is required.", nameof(sourcePath));
        }

        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(sourcePath));
        if (File.Exists(full))
        {
            string name = Path.GetFileName(full);
            SourceFile file = Describe(new FileInfo(full), [name])
                ?? throw new IOException($"Cannot read the source '{sourcePath}': it is not a regular file.");
            return Checked(new ScannedSource(name, IsSingleFile: true, [file], file.Length), sourcePath);
        }

        if (!Directory.Exists(full))
        {
            throw new FileNotFoundException($"The source '{sourcePath}' does not exist.", sourcePath);
        }

        string rootName = Path.GetFileName(full);
        if (rootName.Length == 0)
        {
            throw new ArgumentException($"The source '{sourcePath}' has no name to give the torrent; pick a named folder.", nameof(sourcePath));
        }

        var files = new List<SourceFile>();
        var pending = new Stack<(DirectoryInfo Directory, string[] Prefix)>();
        pending.Push((new DirectoryInfo(full), []));
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            (DirectoryInfo directory, string[] prefix) = pending.Pop();
            foreach (FileSystemInfo entry in Enumerate(directory))
            {
                string[] segments = [.. prefix, entry.Name];
                if (entry.LinkTarget is null && entry is DirectoryInfo subdirectory)
                {
                    pending.Push((subdirectory, segments));
                }
                else if (Describe(entry, segments) is { } file)
                {
                    files.Add(file);
                }
            }
        }

        if (files.Count == 0)
        {
            throw new ArgumentException($"The source folder '{sourcePath}' contains no files.", nameof(sourcePath));
        }

        files.Sort(SourceFile.CompareCanonical);
        long total = 0;
        foreach (SourceFile file in files)
        {
            total = checked(total + file.Length);
        }

        return Checked(new ScannedSource(rootName, IsSingleFile: false, [.. files], total), sourcePath);
    }

    private static ScannedSource Checked(ScannedSource source, string sourcePath)
    {
        // libtorrent refuses a torrent without data ("invalid length of torrent"), and so do most clients.
        if (source.TotalLength == 0)
        {
            throw new ArgumentException($"The source '{sourcePath}' holds no data: every file in it is empty.", nameof(sourcePath));
        }

        return source;
    }

    private static IEnumerable<FileSystemInfo> Enumerate(DirectoryInfo directory)
    {
        try
        {
            // Materialized so that access errors surface here, with the folder's name.
            return [.. directory.EnumerateFileSystemInfos("*", Options)];
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new IOException($"Cannot list the folder '{directory.FullName}': {ex.Message}", ex);
        }
    }

    /// <summary>A regular file, or a symlink whose final target is one; null for anything else.</summary>
    private static SourceFile? Describe(FileSystemInfo entry, string[] segments)
    {
        FileSystemInfo target = entry;
        if (entry.LinkTarget is not null)
        {
            try
            {
                target = entry.ResolveLinkTarget(returnFinalTarget: true) ?? entry;
            }
            catch (IOException)
            {
                // A loop of links leads nowhere: leave it out, as a dangling link.
                return null;
            }

            target = new FileInfo(target.FullName);
            if (!target.Exists)
            {
                return null;
            }
        }

        if (target is not FileInfo file || !file.Exists)
        {
            return null;
        }

        bool executable = !OperatingSystem.IsWindows() && (file.UnixFileMode & UnixFileMode.UserExecute) != 0;
        return new SourceFile(file.FullName, segments, file.Length, executable);
    }
}
