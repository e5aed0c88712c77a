using PeerNet.Metainfo;

namespace PeerNet.Storage;

/// <summary>
/// Where each file of a torrent lives, and the checks that keep every write inside the download folder even if
/// a sanitized path or a symbolic link planted in the folder tries to lead elsewhere.
/// </summary>
internal sealed class StoragePaths
{
    private static readonly StringComparison PathComparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
        ? StringComparison.OrdinalIgnoreCase
        : StringComparison.Ordinal;

    private readonly string[] _fullPaths;
    private readonly string _rootWithSeparator;
    private readonly string? _realRootWithSeparator;
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
        string? realRoot = fileSystem.ResolveLink(Root);
        _realRootWithSeparator = realRoot is null ? null : WithSeparator(realRoot);

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
    /// Refuses a file whose existing parent folders (below the root) or the file itself are symbolic links that
    /// lead outside the root. Links that stay inside are fine. Run before creating folders, so no folder is ever
    /// created through an escaping link.
    /// </summary>
    public void CheckLinks(int fileIndex)
    {
        string path = _fullPaths[fileIndex];
        int index = _rootWithSeparator.Length;
        while (true)
        {
            int slash = path.IndexOf(Path.DirectorySeparatorChar, index);
            string component = slash < 0 ? path : path[..slash];
            string? target = _fileSystem.ResolveLink(component);
            if (target is not null && !IsInside(target))
            {
                throw new StorageException(StorageErrorCode.PathEscapesRoot, path, $"Refusing '{path}': '{component}' is a symbolic link to '{target}', outside '{Root}'.");
            }

            if (slash < 0)
            {
                return;
            }

            index = slash + 1;
        }
    }

    private bool IsInside(string target)
    {
        string t = WithSeparator(target);
        return t.StartsWith(_rootWithSeparator, PathComparison)
            || (_realRootWithSeparator is not null && t.StartsWith(_realRootWithSeparator, PathComparison));
    }

    private static string WithSeparator(string path)
    {
        string trimmed = Path.TrimEndingDirectorySeparator(path);
        return trimmed.EndsWith(Path.DirectorySeparatorChar) ? trimmed : trimmed + Path.DirectorySeparatorChar;
    }

    private static bool IsStrictlyUnder(string path, string rootWithSeparator)
        => path.Length > rootWithSeparator.Length && path.StartsWith(rootWithSeparator, PathComparison);
}
