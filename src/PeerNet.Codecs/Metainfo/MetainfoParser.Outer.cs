using PeerNet.Bencode;

namespace PeerNet.Metainfo;

internal sealed partial class MetainfoParser
{
    /// <summary>
    /// Refuses two files that would still land on the same path once <see cref="RenameDuplicates"/> has renamed
    /// those libtorrent renames: which leaves paths equal only ignoring non-ASCII case (<c>É</c> and <c>é</c>,
    /// distinct to libtorrent, one file on Windows and macOS), directly or as a file where another needs a folder.
    /// </summary>
    private static void CheckPathCollisions(List<TorrentFile> files, BencodeNode info)
    {
        var seen = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase); // path -> is a file
        Dictionary<string, bool>.AlternateLookup<ReadOnlySpan<char>> seenSpan = seen.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (TorrentFile file in files)
        {
            if (file.IsPadFile)
            {
                continue;
            }

            // Folders from the deepest up, stopping at the first one already known as a folder: the folders above
            // it were recorded with it. Checking every prefix of every file cost depth x length per file, which a
            // deep v2 tree turns into gigabytes for a few bytes of input per file.
            string path = file.Path;
            for (int slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
            {
                ReadOnlySpan<char> folder = path.AsSpan(0, slash);
                if (seenSpan.TryGetValue(folder, out bool isFile))
                {
                    if (isFile)
                    {
                        Fail(MetainfoErrorCode.DuplicatePath, info, $"'{folder}' is a file and also the folder of '{path}'");
                    }

                    break;
                }

                seenSpan[folder] = false;
            }

            if (seen.TryGetValue(path, out bool existingIsFile))
            {
                string existing = seen.Keys.First(k => string.Equals(k, path, StringComparison.OrdinalIgnoreCase));
                string why = !existingIsFile ? "is also a folder"
                    : existing == path ? "appears twice"
                    : $"differs from '{existing}' only in case";
                Fail(MetainfoErrorCode.DuplicatePath, info, $"file '{path}' {why}");
            }

            seen[path] = true;
        }
    }

    private void ReadOuterFields(TorrentMetainfo torrent)
    {
        var tiers = new List<IReadOnlyList<string>>();
        var known = new HashSet<string>(StringComparer.Ordinal);
        int total = 0;
        BencodeNode announceList = root["announce-list"u8];
        foreach (BencodeNode tierNode in announceList.Items)
        {
            var tier = new List<string>();
            foreach (BencodeNode url in tierNode.Items)
            {
                AddTracker(url, tier, known, ref total);
            }

            if (tier.Count > 0)
            {
                tiers.Add(tier);
            }
        }

        if (tiers.Count == 0)
        {
            var tier = new List<string>();
            AddTracker(root["announce"u8], tier, known, ref total);
            if (tier.Count > 0)
            {
                tiers.Add(tier);
            }
        }

        torrent.Trackers = tiers;

        var seeds = new List<string>();
        var knownSeeds = new HashSet<string>(StringComparer.Ordinal);
        BencodeNode urlList = root["url-list"u8];
        if (urlList.IsString)
        {
            AddUrl(urlList, seeds, knownSeeds);
        }
        else
        {
            foreach (BencodeNode url in urlList.Items)
            {
                if (seeds.Count >= limits.MaxTrackers)
                {
                    break;
                }

                AddUrl(url, seeds, knownSeeds);
            }
        }

        torrent.WebSeeds = seeds;
        BencodeNode comment = root["comment.utf-8"u8].IsString ? root["comment.utf-8"u8] : root["comment"u8];
        torrent.Comment = comment.GetString();
        torrent.CreatedBy = root["created by"u8].GetString();
        if (root["creation date"u8].TryGetInt64(out long seconds) && seconds is >= 0 and <= 253402300799)
        {
            torrent.CreationDate = DateTimeOffset.FromUnixTimeSeconds(seconds);
        }
    }

    private void AddTracker(BencodeNode url, List<string> tier, HashSet<string> known, ref int total)
    {
        string? text = url.GetString()?.Trim();
        if (string.IsNullOrEmpty(text) || total >= limits.MaxTrackers || !known.Add(text))
        {
            return;
        }

        tier.Add(text);
        total++;
    }

    private static void AddUrl(BencodeNode url, List<string> into, HashSet<string> known)
    {
        // A set, not into.Contains: that made the list quadratic (up to MaxTrackers distinct URLs, each checked
        // against all before it, and every duplicate after them against all of them).
        string? text = url.GetString()?.Trim();
        if (!string.IsNullOrEmpty(text) && known.Add(text))
        {
            into.Add(text);
        }
    }
}
