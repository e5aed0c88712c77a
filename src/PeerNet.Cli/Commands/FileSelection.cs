using System.Globalization;
using PeerNet.Magnet;
using PeerNet.Metainfo;

namespace PeerNet.Cli.Commands;

/// <summary>Parses <c>--only 0,2-4</c> into one priority per file: normal for the listed files, skip for the rest.</summary>
internal static class FileSelection
{
    private const int Normal = 4;

    public static int[] Parse(string list, IReadOnlyList<TorrentFile> files)
    {
        int[] priorities = new int[files.Count];
        foreach (string part in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] bounds = part.Split('-', 2, StringSplitOptions.TrimEntries);
            int first = ParseIndex(bounds[0], files.Count, part);
            int last = bounds.Length == 2 ? ParseIndex(bounds[1], files.Count, part) : first;
            if (last < first)
            {
                throw new FormatException($"--only: '{part}' is an empty range.");
            }

            for (int i = first; i <= last; i++)
            {
                priorities[i] = files[i].IsPadFile ? 0 : Normal;
            }
        }

        if (!priorities.Any(p => p > 0))
        {
            throw new FormatException("--only selects no file.");
        }

        return priorities;
    }

    /// <summary>BEP 53 <c>so</c>: the magnet's selected files get normal priority, the rest are skipped.</summary>
    public static int[] FromMagnet(MagnetLink magnet, IReadOnlyList<TorrentFile> files)
    {
        int[] priorities = new int[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            priorities[i] = magnet.IsFileSelected(i) && !files[i].IsPadFile ? Normal : 0;
        }

        return priorities.Any(p => p > 0) ? priorities : throw new FormatException("the magnet link's select-only (so) names no file of the torrent.");
    }

    private static int ParseIndex(string text, int count, string part)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index >= count)
        {
            throw new FormatException($"--only: '{part}' is not a file index from 0 to {count - 1} (see `peernet info`).");
        }

        return index;
    }
}
