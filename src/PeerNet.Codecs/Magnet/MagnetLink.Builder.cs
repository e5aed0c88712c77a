using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;

namespace PeerNet.Magnet;

public sealed partial class MagnetLink
{
    /// <summary>
    /// Collects the parts of a link for both <see cref="Parse"/> and <see cref="Create"/>, so the two apply the
    /// same duplicate rules and limits. Each method returns null, or the problem as a phrase that follows
    /// "parameter 'tr'".
    /// </summary>
    private sealed class Builder
    {
        private readonly List<string> _trackers = [];
        private readonly HashSet<string> _trackerSet = new(StringComparer.Ordinal);
        private readonly List<string> _webSeeds = [];
        private readonly HashSet<string> _webSeedSet = new(StringComparer.Ordinal);
        private readonly List<MagnetPeer> _peers = [];
        private readonly HashSet<MagnetPeer> _peerSet = [];
        private readonly List<FileIndexRange> _selectOnly = [];
        private OrderedDictionary<string, List<string>>? _other;
        private Sha1Hash? _v1;
        private Sha256Hash? _v2;
        private string? _displayName;
        private long? _exactLength;

        public bool HasInfoHash => _v1 is not null || _v2 is not null;

        // BEP 9 allows one info-hash per link; the same one twice (hex and base32, say) is harmless, two
        // different ones would leave the client guessing which torrent is meant.
        public string? SetV1(Sha1Hash hash) => Set(ref _v1, hash) ? null : "has two different urn:btih: info-hashes";

        public string? SetV2(Sha256Hash hash) => Set(ref _v2, hash) ? null : "has two different urn:btmh: info-hashes";

        public string? SetDisplayName(string name) => Set(ref _displayName, name) ? null : "is given twice with different values";

        public string? SetExactLength(long length) => Set(ref _exactLength, length) ? null : "is given twice with different values";

        public string? AddTracker(string url) => Add(_trackers, _trackerSet, url, MagnetLimits.MaxTrackers, "trackers");

        public string? AddWebSeed(string url) => Add(_webSeeds, _webSeedSet, url, MagnetLimits.MaxWebSeeds, "web seeds");

        public string? AddPeer(MagnetPeer peer) => Add(_peers, _peerSet, peer, MagnetLimits.MaxPeers, "peer addresses");

        public string? AddSelectOnly(FileIndexRange range)
        {
            if (_selectOnly.Count == MagnetLimits.MaxSelectOnlyRanges)
            {
                return $"has more than {MagnetLimits.MaxSelectOnlyRanges} indices and ranges";
            }

            _selectOnly.Add(range);
            return null;
        }

        public void AddOther(string key, string value)
        {
            _other ??= new OrderedDictionary<string, List<string>>(StringComparer.Ordinal);
            if (!_other.TryGetValue(key, out List<string>? values))
            {
                values = [];
                _other.Add(key, values);
            }

            values.Add(value);
        }

        /// <summary>Makes the link, unless its canonical form is longer than <see cref="MagnetLimits.MaxLength"/>.</summary>
        public bool TryBuild([NotNullWhen(true)] out MagnetLink? link, [NotNullWhen(false)] out string? problem)
        {
            IReadOnlyDictionary<string, IReadOnlyList<string>> other = ReadOnlyDictionary<string, IReadOnlyList<string>>.Empty;
            if (_other is not null)
            {
                var frozen = new OrderedDictionary<string, IReadOnlyList<string>>(_other.Count, StringComparer.Ordinal);
                foreach ((string key, List<string> values) in _other)
                {
                    frozen.Add(key, values.AsReadOnly());
                }

                other = new ReadOnlyDictionary<string, IReadOnlyList<string>>(frozen);
            }

            var candidate = new MagnetLink(
                new InfoHashes(_v1, _v2),
                _displayName,
                _exactLength,
                Freeze(_trackers),
                Freeze(_webSeeds),
                Freeze(_peers),
                Freeze(_selectOnly),
                other);

            // Escaping can make the canonical form longer than the input (a raw 'é' becomes '%C3%A9'); refusing
            // such links keeps the promise that every link's ToString() parses again.
            if (candidate._canonical.Length > MagnetLimits.MaxLength)
            {
                link = null;
                problem = $"is {candidate._canonical.Length} characters long in canonical form; the limit is {MagnetLimits.MaxLength}";
                return false;
            }

            link = candidate;
            problem = null;
            return true;
        }

        private static bool Set<T>(ref T? field, T value)
            where T : struct
        {
            if (field is { } existing)
            {
                return existing.Equals(value);
            }

            field = value;
            return true;
        }

        private static bool Set(ref string? field, string value)
        {
            if (field is not null)
            {
                return string.Equals(field, value, StringComparison.Ordinal);
            }

            field = value;
            return true;
        }

        private static string? Add<T>(List<T> list, HashSet<T> seen, T item, int limit, string what)
        {
            if (seen.Contains(item))
            {
                return null;
            }

            if (list.Count == limit)
            {
                return $"has more than {limit} distinct {what}";
            }

            seen.Add(item);
            list.Add(item);
            return null;
        }
    }
}
