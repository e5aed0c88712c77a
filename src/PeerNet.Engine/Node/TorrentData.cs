using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet;

/// <summary>A torrent's files on disk, as a whole: deleted or moved for its handle, never outside its save path.</summary>
internal static class TorrentData
{
    /// <summary>Deletes the torrent's files (not pad files) and the folders under the save path that are left empty.</summary>
    public static void Delete(TorrentMetainfo metainfo, string savePath, bool pathIsContent)
    {
        var paths = new StoragePaths(metainfo, savePath, pathIsContent, PhysicalFileSystem.Instance);
        for (int i = 0; i < metainfo.Files.Count; i++)
        {
            if (!metainfo.Files[i].IsPadFile)
            {
                string path = paths.GetRealPath(i);
                if (File.Exists(path))
                {
                    File.Delete(path);
                }
            }
        }

        RemoveEmptyFolders(metainfo, paths);
    }

    /// <summary>
    /// Moves the torrent's files from under <paramref name="from"/> to under <paramref name="to"/> (a rename where the
    /// file system allows, else a copy): a file missing at the source is left missing, one present at the destination
    /// is replaced.
    /// </summary>
    public static void Move(TorrentMetainfo metainfo, string from, string to, bool pathIsContent)
    {
        var source = new StoragePaths(metainfo, from, pathIsContent, PhysicalFileSystem.Instance);
        var target = new StoragePaths(metainfo, to, pathIsContent, PhysicalFileSystem.Instance);
        if (string.Equals(source.Root, target.Root, StringComparison.Ordinal))
        {
            return;
        }

        for (int i = 0; i < metainfo.Files.Count; i++)
        {
            if (metainfo.Files[i].IsPadFile)
            {
                continue;
            }

            string path = source.GetRealPath(i);
            if (File.Exists(path))
            {
                string destination = target[i];
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                File.Move(path, target.GetRealPath(i), overwrite: true);
            }
        }

        RemoveEmptyFolders(metainfo, source);
    }

    /// <summary>Removes, deepest first, the folders of the torrent's files under its root that hold nothing now.</summary>
    private static void RemoveEmptyFolders(TorrentMetainfo metainfo, StoragePaths paths)
    {
        string root = Path.TrimEndingDirectorySeparator(paths.Root);
        IEnumerable<string> folders = Enumerable.Range(0, metainfo.Files.Count)
            .SelectMany(i => Ancestors(Path.GetDirectoryName(paths[i]), root))
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(f => f.Length);
        foreach (string folder in folders)
        {
            if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
            {
                Directory.Delete(folder);
            }
        }
    }

    private static IEnumerable<string> Ancestors(string? folder, string root)
    {
        for (string? f = folder; f is not null && f.Length > root.Length && f.StartsWith(root, StringComparison.Ordinal); f = Path.GetDirectoryName(f))
        {
            yield return f;
        }
    }
}
