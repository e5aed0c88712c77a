using System.Globalization;
using System.Text;
using PeerNet.Bencode;

namespace PeerNet.Metainfo;

internal sealed partial class MetainfoParser
{
    /// <summary>
    /// Renames files whose path is taken, as libtorrent's <c>resolve_duplicate_filenames</c> does, so both clients
    /// store the same torrent under the same names: every folder is taken first (so no file can be one), then each
    /// file in order takes its path, or, if that equals (ignoring ASCII case) a folder or an earlier file, the first
    /// free <c>base.N.ext</c> (<c>bar.txt</c> → <c>bar.1.txt</c>, <c>.bashrc</c> → <c>.1.bashrc</c>). Two pad files of
    /// the same length may share a path (they are never stored). Unlike libtorrent, the torrent's own folder is
    /// always taken, not only when a file lies directly in it, so a v2 file whose key is dropped (<c>..</c>) never
    /// becomes that folder.
    /// </summary>
    private void RenameDuplicates(List<TorrentFile> files, string folder, BencodeNode info)
    {
        var taken = new Dictionary<string, Taken>(AsciiIgnoreCase.Instance);
        Dictionary<string, Taken>.AlternateLookup<ReadOnlySpan<char>> takenSpan = taken.GetAlternateLookup<ReadOnlySpan<char>>();
        taken[folder] = Taken.Folder;
        string prefix = folder + "/";
        foreach (TorrentFile file in files)
        {
            // libtorrent keeps the folders of a file outside the name folder (a pad without a path, ".pad/N") as if
            // they were inside it.
            string path = file.Path.StartsWith(prefix, StringComparison.Ordinal) ? file.Path : prefix + file.Path;

            // Folders from the deepest up, stopping at one already taken: the folders above it were taken with it.
            // Taking every prefix of every file cost depth x length per file, which a deep v2 tree turns into
            // gigabytes for a few bytes of input per file.
            for (int slash = path.LastIndexOf('/'); slash > folder.Length; slash = path.LastIndexOf('/', slash - 1))
            {
                if (!takenSpan.TryAdd(path.AsSpan(0, slash), Taken.Folder))
                {
                    break;
                }
            }
        }

        // The next suffix to try per base and extension: every smaller one was found taken, and stays taken, so
        // starting there finds what libtorrent's search from 1 finds without its quadratic cost.
        var nextSuffix = new Dictionary<string, int>(AsciiIgnoreCase.Instance);
        foreach (TorrentFile file in files)
        {
            if (taken.TryGetValue(file.Path, out Taken other))
            {
                if (file.IsPadFile && other.IsPad && other.Length == file.Length)
                {
                    continue;
                }

                file.Path = FreeName(file.Path, taken, nextSuffix, info);
            }

            taken[file.Path] = new Taken(IsFolder: false, file.IsPadFile, file.Length);
        }
    }

    private string FreeName(string path, Dictionary<string, Taken> taken, Dictionary<string, int> nextSuffix, BencodeNode info)
    {
        (string stem, string extension) = SplitExtension(path);
        string key = stem + "/" + extension; // '/' cannot be in an extension, so the pair is unambiguous
        int n = nextSuffix.GetValueOrDefault(key, 1);
        string candidate;
        while (taken.ContainsKey(candidate = stem + "." + n.ToString(CultureInfo.InvariantCulture) + extension))
        {
            n++;
        }

        nextSuffix[key] = n + 1;
        int segmentStart = candidate.LastIndexOf('/') + 1;
        if (Encoding.UTF8.GetByteCount(candidate.AsSpan(segmentStart)) > limits.MaxSegmentBytes || Encoding.UTF8.GetByteCount(candidate) > limits.MaxPathBytes)
        {
            Fail(MetainfoErrorCode.UnsafePath, info, $"'{path}' is taken, and its free name '{candidate}' is too long");
        }

        return candidate;
    }

    /// <summary>
    /// libtorrent's <c>remove_extension</c> and <c>extension</c>: the extension starts at the last dot of the last
    /// element (so <c>.bashrc</c> is all extension); a path without one has an empty extension. Kept literally,
    /// quirk included: a path that starts with its only dot is both stem and extension.
    /// </summary>
    private static (string Stem, string Extension) SplitExtension(string path)
    {
        int dot = path.LastIndexOf('.');
        int slash = path.LastIndexOf('/');
        return (dot <= 0 || dot < slash ? path : path[..dot], dot > slash ? path[dot..] : "");
    }

    /// <summary>What holds a path: a folder, or a file (a pad file of some length may share it with another).</summary>
    private readonly record struct Taken(bool IsFolder, bool IsPad, long Length)
    {
        public static Taken Folder => new(IsFolder: true, IsPad: false, 0);
    }

    /// <summary>Paths equal ignoring ASCII case only, as libtorrent compares them (<c>to_lower</c>).</summary>
    private sealed class AsciiIgnoreCase : IEqualityComparer<string>, IAlternateEqualityComparer<ReadOnlySpan<char>, string>
    {
        public static readonly AsciiIgnoreCase Instance = new();

        public bool Equals(string? x, string? y) => x is null || y is null ? x == y : Equals(x.AsSpan(), y);

        public int GetHashCode(string obj) => GetHashCode(obj.AsSpan());

        public bool Equals(ReadOnlySpan<char> alternate, string other)
        {
            if (alternate.Length != other.Length)
            {
                return false;
            }

            for (int i = 0; i < alternate.Length; i++)
            {
                if (Lower(alternate[i]) != Lower(other[i]))
                {
                    return false;
                }
            }

            return true;
        }

        public int GetHashCode(ReadOnlySpan<char> alternate)
        {
            var hash = new HashCode();
            foreach (char c in alternate)
            {
                hash.Add(Lower(c));
            }

            return hash.ToHashCode();
        }

        public string Create(ReadOnlySpan<char> alternate) => alternate.ToString();

        private static char Lower(char c) => c is >= 'A' and <= 'Z' ? (char)(c | 0x20) : c;
    }
}
