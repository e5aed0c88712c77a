namespace PeerNet.Metainfo;

internal sealed partial class MetainfoParser
{
    /// <summary>Most links one target may pass through (Linux's limit before <c>ELOOP</c>; libtorrent sets none).</summary>
    private const int MaxSymlinkHops = 40;

    /// <summary>
    /// libtorrent's <c>sanitize_symlinks</c>: a symlink may only point to a file or folder of this torrent, named
    /// from the name folder, or from the link's own folder (then it is rewritten so), or through other links of the
    /// torrent to one. Any other target is replaced by the link's own path, so the link points to itself. Run on
    /// the names before duplicates are renamed, as libtorrent runs it. Storage never creates links; this keeps the
    /// listed targets the ones libtorrent shows.
    /// </summary>
    private static void ResolveSymlinkTargets(List<TorrentFile> files, string folder)
    {
        if (!files.Exists(f => f.IsSymlink))
        {
            return;
        }

        string prefix = folder + "/";
        var inner = new string[files.Count];
        var parents = new string?[files.Count]; // null: a file with no folder at all (a single file)
        var fileMap = new Dictionary<string, int>(StringComparer.Ordinal);
        var folders = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < files.Count; i++)
        {
            string path = files[i].Path;
            inner[i] = path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : path;
            int slash = inner[i].LastIndexOf('/');
            parents[i] = slash >= 0 ? inner[i][..slash] : path.Contains('/', StringComparison.Ordinal) ? "" : null;
            fileMap.TryAdd(inner[i], i);
            string? folderOf = parents[i];
            while (!string.IsNullOrEmpty(folderOf) && folders.Add(folderOf))
            {
                folderOf = ParentOf(folderOf);
            }
        }

        var folderLinks = new Dictionary<string, string>(StringComparer.Ordinal);
        var unresolved = new List<int>();
        for (int i = 0; i < files.Count; i++)
        {
            if (files[i].SymlinkTarget is not { } target)
            {
                continue;
            }

            if (ResolvesDirectly(target, i) || (parents[i] is { } parent && ResolvesDirectly(parent.Length == 0 ? target : parent + "/" + target, i)))
            {
                continue;
            }

            // Its target may still lie behind other links: decided once every link is known. Meanwhile it counts
            // as a link to a folder, the conservative guess.
            folderLinks[inner[i]] = target;
            unresolved.Add(i);
        }

        foreach (int i in unresolved)
        {
            if (!ResolvesThroughLinks(files[i].SymlinkTarget!))
            {
                files[i].SymlinkTarget = inner[i];
            }
        }

        bool ResolvesDirectly(string target, int link)
        {
            bool isFile = fileMap.TryGetValue(target, out int file);
            if (!isFile && !folders.Contains(target))
            {
                return false;
            }

            files[link].SymlinkTarget = target;
            if (!isFile || files[file].IsSymlink)
            {
                folderLinks[inner[link]] = target;
            }

            return true;
        }

        bool ResolvesThroughLinks(string target)
        {
            var followed = new HashSet<string>(StringComparer.Ordinal);
            for (int slash = target.IndexOf('/'); slash >= 0; slash = target.IndexOf('/', slash + 1))
            {
                string branch = target[..slash];
                if (folders.Contains(branch))
                {
                    continue;
                }

                if (!folderLinks.TryGetValue(branch, out string? linked) || !followed.Add(branch) || followed.Count > MaxSymlinkHops)
                {
                    return false;
                }

                target = linked + "/" + target[(slash + 1)..];
                slash = -1; // start over on the substituted path
            }

            return fileMap.ContainsKey(target) || folders.Contains(target);
        }
    }

    private static string ParentOf(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? "" : path[..slash];
    }
}
