namespace PeerNet.Storage;

/// <summary>One symbolic link followed while resolving a path: where it is and its target text, as stored.</summary>
internal readonly record struct LinkHop(string Link, string Target)
{
    /// <inheritdoc />
    public override string ToString() => $"'{Link}' → '{Target}'";
}

/// <summary>
/// Resolves a path the way the kernel does when it opens one: component by component, every symbolic link
/// followed where it stands (a link in the middle, a chain of links, a relative target taken from the link's real
/// folder, <c>..</c> taken from where a link really leads), at most <see cref="MaxLinks"/> links in all. The result
/// is the real path of every component that exists, followed by the rest as written; it is what the check
/// against the save folder compares, because a link's target text says nothing about the links it passes through.
/// </summary>
internal static class RealPaths
{
    /// <summary>
    /// The links one lookup may follow, as Linux's <c>MAXSYMLINKS</c> (40): past it the kernel fails with
    /// <c>ELOOP</c>, and so do we, so a loop cannot spin and no path is accepted that the kernel would not open.
    /// </summary>
    public const int MaxLinks = 40;

    private static readonly char[] Separators = [Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar];

    /// <summary>
    /// Resolves <paramref name="path"/>: absolute, or relative to <paramref name="realFolder"/> (itself already real).
    /// Each link followed is added to <paramref name="trail"/>; false when that would pass <see cref="MaxLinks"/>.
    /// </summary>
    public static bool TryResolve(IStorageFileSystem fileSystem, string realFolder, string path, List<LinkHop> trail, out string real)
    {
        var pending = new Stack<string>();
        string current = Push(pending, path, realFolder);
        while (pending.TryPop(out string? name))
        {
            if (name is "" or ".")
            {
                continue;
            }

            if (name == "..")
            {
                // From the real folder, not from the text that led here: x/.. is not '.' when x is a link.
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            string next = Path.Join(current, name);
            string? target = fileSystem.ReadLink(next);
            if (target is null)
            {
                current = next; // not a link, or missing: then the rest does not exist either and stays as written
                continue;
            }

            trail.Add(new LinkHop(next, target));
            if (trail.Count > MaxLinks)
            {
                real = next;
                return false;
            }

            // Windows applies '..' in a link's target to the text (the link's folder joined with it) before it
            // follows anything; POSIX takes each '..' from wherever the walk really is, as the loop above does.
            current = Push(pending, OperatingSystem.IsWindows() ? Path.GetFullPath(target, current) : target, current);
        }

        real = current;
        return true;
    }

    /// <summary>Pushes <paramref name="path"/>'s components, first on top; returns the folder they start from.</summary>
    private static string Push(Stack<string> pending, string path, string relativeTo)
    {
        // A rooted path starts again from its root: '/', or 'C:\' and '\\server\share' on Windows.
        string? root = Path.IsPathRooted(path) ? Path.GetPathRoot(path) : null;
        string[] names = path[(root?.Length ?? 0)..].Split(Separators);
        for (int i = names.Length - 1; i >= 0; i--)
        {
            pending.Push(names[i]);
        }

        return root is null ? relativeTo : Path.GetPathRoot(Path.GetFullPath(path))!;
    }
}
