using PeerNet.Metainfo;

namespace PeerNet.Daemon.Transmission;

/// <summary>
/// Transmission's file choices (<c>files-wanted</c>, <c>files-unwanted</c>, <c>priority-high/normal/low</c>, by file
/// number) as PeerNet's file priorities (0 skips a file; 1 to 7). Transmission numbers the files it lists, which are
/// the torrent's files without BEP 47 pad files; PeerNet's list has one entry per file of the metadata, pads included.
/// Transmission's three priorities are PeerNet's 1 (low), 4 (normal) and 7 (high). A file not wanted keeps no priority
/// of its own here: wanted again, it is normal.
/// </summary>
internal static class FilePriorityChange
{
    /// <summary>Transmission's low, normal and high file priorities, as PeerNet's.</summary>
    public const int Low = 1;

    /// <inheritdoc cref="Low"/>
    public const int High = FilePriorities.Highest;

    private static readonly string[] Keys = ["files-wanted", "files-unwanted", "priority-high", "priority-normal", "priority-low"];

    public static bool IsRequested(RpcArguments arguments) => Keys.Any(arguments.Has);

    /// <summary>Transmission's file numbers: the index in the metadata of each file that is not a pad file.</summary>
    public static int[] Numbered(TorrentMetainfo metainfo) => Service.FileChoices.Listed(metainfo);

    /// <summary>A PeerNet priority as Transmission's: -1 low, 0 normal, 1 high.</summary>
    public static int ToTransmission(int priority) => priority switch
    {
        >= 6 => 1,
        > FilePriorities.Skip and <= 2 => -1,
        _ => 0,
    };

    /// <summary>The priorities after the request's choices, from <paramref name="current"/> (null: every file normal).</summary>
    public static int[] Apply(RpcArguments arguments, TorrentMetainfo metainfo, IReadOnlyList<int>? current)
    {
        int[] numbered = Numbered(metainfo);
        int[] priorities = Service.FileChoices.Current(metainfo, current);
        foreach (int i in Files(arguments, "files-wanted", numbered))
        {
            priorities[i] = priorities[i] == FilePriorities.Skip ? FilePriorities.Normal : priorities[i];
        }

        foreach (int i in Files(arguments, "files-unwanted", numbered))
        {
            priorities[i] = FilePriorities.Skip;
        }

        foreach ((string key, int priority) in new[] { ("priority-high", High), ("priority-normal", FilePriorities.Normal), ("priority-low", Low) })
        {
            foreach (int i in Files(arguments, key, numbered))
            {
                priorities[i] = priorities[i] == FilePriorities.Skip ? FilePriorities.Skip : priority;
            }
        }

        return priorities;
    }

    /// <summary>The metadata indices of the files a key names by Transmission number; an empty list names them all.</summary>
    private static IEnumerable<int> Files(RpcArguments arguments, string key, int[] numbered)
    {
        IReadOnlyList<int>? list = arguments.GetIndices(key);
        if (list is null)
        {
            return [];
        }

        if (list.Count == 0)
        {
            return numbered;
        }

        return list.Select(n => n >= 0 && n < numbered.Length
            ? numbered[n]
            : throw new RpcException($"'{key}' names file {n}; this torrent's files are numbered 0 to {numbered.Length - 1}"));
    }
}
