using PeerNet.Metainfo;

namespace PeerNet.Storage;

/// <summary>
/// Where each file of a torrent lives, and the checks that keep every write inside the download folder even if
/// a sanitized path or a symbolic link planted in the folder tries to lead elsewhere. Links are judged by where
/// they really lead (<see cref="RealPaths"/>), never by the text of their targets: a target that reads as inside
/// can pass through another link that leads out.
/// </summary>
internal sealed class StoragePaths
{
    private static readonly StringComparison PathComparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
        ? StringComparison.OrdinalIgnoreCase
        : StringComparison.Ordinal;

    private readonly string[] _fullPaths;
    private readonly string _rootWithSeparator;
    private readonly string _realRoot;
    private readonly string _realRootWithSeparator;
    private readonly IStorageFileSystem _fileSystem;

    /// <summary>Resolves every file's full path under <paramref name="path"/>; throws <see cref="StorageException"/> on an escape.</summary>
    public StoragePaths(TorrentMetainfo metainfo, string path, bool pathIsContent, IStorageFileSystem fileSystem)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _fileSystem = fileSystem;
        string full = Path.GetFullPath(path);
        IReadOnlyList<TorrentFile> files = metainfo.Files;
        string prefix = metainfo.Name + "/";
        if (pathIsContent && !metainfo.IsMultiFile)
        {
            // The data is exactly this file: its folder is the root that contains it.
            Root = Path.GetDirectoryName(full) ?? full;
        }
        else
        {
            Root = Path.TrimEndingDirectorySeparator(full);
        }

        _rootWithSeparator = WithSeparator(Root);

        // Decided once: the save folder is where its path leads now, links above it (the user's own) included.
        _realRoot = ResolveRoot();
        _realRootWithSeparator = WithSeparator(_realRoot);

        _fullPaths = new string[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            string relative = files[i].Path;
            if (pathIsContent)
            {
                relative = !metainfo.IsMultiFile ? Path.GetFileName(full)
                    : relative.StartsWith(prefix, StringComparison.Ordinal) ? relative[prefix.Length..]
                    : relative;
            }

            _fullPaths[i] = Resolve(Root, relative);
        }
    }

    /// <summary>The folder every file must stay under.</summary>
    public string Root { get; }

    /// <summary>Full path of file <paramref name="fileIndex"/>.</summary>
    public string this[int fileIndex] => _fullPaths[fileIndex];

    /// <summary>
    /// Combines <paramref name="root"/> and a relative, '/'-separated path and proves with
    /// <see cref="Path.GetFullPath(string)"/> that the result is strictly inside the root.
    /// </summary>
    public static string Resolve(string root, string relative)
    {
        string rootFull = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        string candidate = Path.GetFullPath(Path.Combine(rootFull, relative));
        if (Path.IsPathRooted(relative) || !IsStrictlyUnder(candidate, WithSeparator(rootFull)))
        {
            throw new StorageException(StorageErrorCode.PathEscapesRoot, candidate, $"Refusing '{relative}': it resolves to '{candidate}', outside '{rootFull}'.");
        }

        return candidate;
    }

    /// <summary>
    /// The real path of file <paramref name="fileIndex"/>, to open without following a link at the file itself.
    /// Every component below the root that exists is resolved (links in the middle, chains, <c>..</c> in targets)
    /// and must lie inside the real save folder — the file itself strictly inside — and the save folder must still
    /// resolve where it did when the torrent was opened. Throws <see cref="StorageException"/>
    /// (<see cref="StorageErrorCode.PathEscapesRoot"/>) naming the links followed and where they lead. Run before
    /// creating folders, so no folder is ever created through a link that leads out, and again after.
    /// </summary>
    public string GetRealPath(int fileIndex)
    {
        string path = _fullPaths[fileIndex];
        string real = ResolveRoot();
        if (!string.Equals(real, _realRoot, PathComparison))
        {
            throw new StorageException(StorageErrorCode.PathEscapesRoot, path, $"Refusing '{path}': the save folder '{Root}' now leads to '{real}', not to '{_realRoot}' as when the torrent was opened.");
        }

        var trail = new List<LinkHop>();
        int index = _rootWithSeparator.Length;
        while (true)
        {
            int slash = path.IndexOf(Path.DirectorySeparatorChar, index);
            string component = slash < 0 ? path : path[..slash];
            string name = slash < 0 ? path[index..] : path[index..slash];
            int followed = trail.Count;
            if (!RealPaths.TryResolve(_fileSystem, real, name, trail, out real))
            {
                throw TooManyLinks(path, trail);
            }

            // A folder on the way may be the save folder itself (a link to '.'); the file must be below it.
            bool folderIsRoot = slash >= 0 && string.Equals(real, _realRoot, PathComparison);
            if (!folderIsRoot && !IsStrictlyUnder(real, _realRootWithSeparator))
            {
                throw new StorageException(StorageErrorCode.PathEscapesRoot, path, $"Refusing '{path}': '{component}' leads through symbolic links ({string.Join(", ", trail.Skip(followed))}) to '{real}', outside the save folder '{_realRoot}'.");
            }

            if (slash < 0)
            {
                return real;
            }

            index = slash + 1;
        }
    }

    private string ResolveRoot()
    {
        var trail = new List<LinkHop>();
        return RealPaths.TryResolve(_fileSystem, Root, Root, trail, out string real) ? real : throw TooManyLinks(Root, trail);
    }

    private static StorageException TooManyLinks(string path, List<LinkHop> trail)
        => new(StorageErrorCode.PathEscapesRoot, path, $"Refusing '{path}': resolving it follows more than {RealPaths.MaxLinks} symbolic links (a loop?), starting {string.Join(", ", trail.Take(3))}.");

    private static string WithSeparator(string path)
    {
        string trimmed = Path.TrimEndingDirectorySeparator(path);
        return trimmed.EndsWith(Path.DirectorySeparatorChar) ? trimmed : trimmed + Path.DirectorySeparatorChar;
    }

    private static bool IsStrictlyUnder(string path, string rootWithSeparator)
        => path.Length > rootWithSeparator.Length && path.StartsWith(rootWithSeparator, PathComparison);
}
