using System.Globalization;
using PeerNet.Magnet;
using PeerNet.Metainfo;

namespace PeerNet;

/// <summary>File priorities for <see cref="AddTorrentOptions.FilePriorities"/>: one per file, 0 skips it, 1 to 7 order it.</summary>
public static class FilePriorities
{
    /// <summary>A file not downloaded.</summary>
    public const int Skip = 0;

    /// <summary>The priority of every file unless told otherwise.</summary>
    public const int Normal = 4;

    /// <summary>The highest priority.</summary>
    public const int Highest = 7;

    /// <summary>
    /// Parses a selection as <c>peernet get --only</c> takes it (<c>0,2-4</c>: file indices as <c>peernet info</c> lists
    /// them, and inclusive ranges) into normal priority for the listed files and skip for the rest. Throws
    /// <see cref="FormatException"/> naming the part that is wrong, or when nothing is selected.
    /// </summary>
    public static int[] Parse(string selection, IReadOnlyList<TorrentFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        IReadOnlyList<FileIndexRange> ranges = ParseSelection(selection);
        foreach (FileIndexRange range in ranges)
        {
            if (range.Last >= files.Count)
            {
                throw new FormatException($"'{range}' is not a file index from 0 to {files.Count - 1} (see `peernet info`).");
            }
        }

        return FromSelection(ranges, files);
    }

    /// <summary>
    /// Parses <c>0,2-4</c> into file-index ranges without knowing the files yet (for a magnet link): the indices are checked
    /// against the torrent once its metadata arrives. Throws <see cref="FormatException"/> naming the part that is wrong.
    /// </summary>
    public static IReadOnlyList<FileIndexRange> ParseSelection(string selection)
    {
        ArgumentNullException.ThrowIfNull(selection);
        var ranges = new List<FileIndexRange>();
        foreach (string part in selection.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] bounds = part.Split('-', 2, StringSplitOptions.TrimEntries);
            int first = ParseIndex(bounds[0], part);
            int last = bounds.Length == 2 ? ParseIndex(bounds[1], part) : first;
            if (last < first)
            {
                throw new FormatException($"'{part}' is an empty range.");
            }

            ranges.Add(new FileIndexRange(first, last));
        }

        return ranges.Count > 0 ? ranges : throw new FormatException("the selection names no file.");
    }

    /// <summary>
    /// Normal priority for the files in <paramref name="selection"/> (a magnet's BEP 53 <c>so</c>, or parsed ranges), skip
    /// for the rest and for pad files. Throws <see cref="FormatException"/> when it selects no file of the torrent.
    /// </summary>
    public static int[] FromSelection(IReadOnlyList<FileIndexRange> selection, IReadOnlyList<TorrentFile> files)
    {
        ArgumentNullException.ThrowIfNull(selection);
        ArgumentNullException.ThrowIfNull(files);
        int[] priorities = new int[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            priorities[i] = !files[i].IsPadFile && selection.Any(r => r.Contains(i)) ? Normal : Skip;
        }

        return priorities.Any(p => p > Skip) ? priorities : throw new FormatException("the selection names no file of the torrent.");
    }

    private static int ParseIndex(string text, string part)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            ? index
            : throw new FormatException($"'{part}' is not a file index (see `peernet info`).");
}
