using System.Collections.ObjectModel;
using System.Globalization;
using System.Text;

namespace PeerNet.Magnet;

/// <summary>
/// A magnet link: a torrent's identity (BEP 9 <c>urn:btih:</c>, BEP 52 <c>urn:btmh:</c>, or both for a hybrid
/// torrent) with hints for finding it — name, trackers, web seeds, peers — and the BEP 53 file selection.
/// Immutable. Build one with <see cref="Parse"/> or <see cref="Create"/>; <see cref="ToString"/> gives the
/// canonical link, which parses back to an equal one.
/// </summary>
public sealed partial class MagnetLink
{
    private readonly string _canonical;

    private MagnetLink(
        InfoHashes infoHashes,
        string? displayName,
        long? exactLength,
        IReadOnlyList<string> trackers,
        IReadOnlyList<string> webSeeds,
        IReadOnlyList<MagnetPeer> peers,
        IReadOnlyList<FileIndexRange> selectOnly,
        IReadOnlyDictionary<string, IReadOnlyList<string>> otherParameters)
    {
        InfoHashes = infoHashes;
        DisplayName = displayName;
        ExactLength = exactLength;
        Trackers = trackers;
        WebSeeds = webSeeds;
        Peers = peers;
        SelectOnly = selectOnly;
        OtherParameters = otherParameters;
        _canonical = Format();
    }

    /// <summary>The torrent's v1 info-hash (<c>xt=urn:btih:</c>), v2 info-hash (<c>xt=urn:btmh:</c>), or both.</summary>
    public InfoHashes InfoHashes { get; }

    /// <summary>The suggested name (<c>dn</c>), or null. Only a hint: the name in the metadata is authoritative.</summary>
    public string? DisplayName { get; }

    /// <summary>The total size in bytes (<c>xl</c>), or null.</summary>
    public long? ExactLength { get; }

    /// <summary>Tracker URLs (<c>tr</c>) in the order given, without duplicates. Not checked beyond being non-empty.</summary>
    public IReadOnlyList<string> Trackers { get; }

    /// <summary>Web seed URLs (<c>ws</c>, BEP 19) in the order given, without duplicates.</summary>
    public IReadOnlyList<string> WebSeeds { get; }

    /// <summary>Peer addresses (<c>x.pe</c>) in the order given, without duplicates.</summary>
    public IReadOnlyList<MagnetPeer> Peers { get; }

    /// <summary>
    /// The files to download (<c>so</c>, BEP 53) as inclusive ranges of zero-based file indices, in the order
    /// given. Empty when the link selects nothing, which means every file.
    /// </summary>
    public IReadOnlyList<FileIndexRange> SelectOnly { get; }

    /// <summary>
    /// Parameters this type does not interpret, by name (a <c>.N</c> index suffix removed), each with its values
    /// in order. Exact topics other than <c>urn:btih:</c> and <c>urn:btmh:</c> (such as <c>urn:ed2k:</c>) are kept
    /// under <c>xt</c>.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> OtherParameters { get; }

    /// <summary>True when file <paramref name="index"/> should be downloaded: no <c>so</c> was given, or a range holds it.</summary>
    public bool IsFileSelected(int index)
    {
        if (SelectOnly.Count == 0)
        {
            return index >= 0;
        }

        foreach (FileIndexRange range in SelectOnly)
        {
            if (range.Contains(index))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Creates a magnet link, for example to print one for a torrent.</summary>
    /// <param name="infoHashes">The torrent's identity; a hybrid torrent gets both <c>xt</c> parameters.</param>
    /// <param name="displayName">The name to suggest; null or empty for none.</param>
    /// <param name="trackers">Tracker URLs; duplicates are dropped, order is kept.</param>
    /// <param name="webSeeds">Web seed URLs; duplicates are dropped, order is kept.</param>
    /// <param name="peers">Peer addresses; duplicates are dropped, order is kept.</param>
    /// <param name="selectOnly">The files to download (BEP 53); null or empty for all.</param>
    /// <param name="exactLength">The total size in bytes, or null.</param>
    /// <exception cref="ArgumentException">
    /// A value is empty or not well-formed UTF-16, a <see cref="MagnetLimits"/> limit is exceeded, or
    /// <paramref name="infoHashes"/> is <c>default</c>.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="exactLength"/> is negative.</exception>
    public static MagnetLink Create(
        InfoHashes infoHashes,
        string? displayName = null,
        IEnumerable<string>? trackers = null,
        IEnumerable<string>? webSeeds = null,
        IEnumerable<MagnetPeer>? peers = null,
        IEnumerable<FileIndexRange>? selectOnly = null,
        long? exactLength = null)
    {
        var builder = new Builder();
        if (infoHashes.V1 is { } v1)
        {
            builder.SetV1(v1);
        }

        if (infoHashes.V2 is { } v2)
        {
            builder.SetV2(v2);
        }

        if (!builder.HasInfoHash)
        {
            ThrowHelper.ThrowArgument(nameof(infoHashes), "A magnet link needs a v1 or a v2 info-hash.");
        }

        if (!string.IsNullOrEmpty(displayName))
        {
            CheckText(displayName, nameof(displayName));
            builder.SetDisplayName(displayName);
        }

        if (exactLength is { } length)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(length, nameof(exactLength));
            builder.SetExactLength(length);
        }

        foreach (string tracker in trackers ?? [])
        {
            CheckText(tracker, nameof(trackers));
            ThrowIfProblem(builder.AddTracker(tracker), "tr", nameof(trackers));
        }

        foreach (string webSeed in webSeeds ?? [])
        {
            CheckText(webSeed, nameof(webSeeds));
            ThrowIfProblem(builder.AddWebSeed(webSeed), "ws", nameof(webSeeds));
        }

        foreach (MagnetPeer peer in peers ?? [])
        {
            if (peer.Port == 0)
            {
                ThrowHelper.ThrowArgument(nameof(peers), "A peer is default(MagnetPeer), which has no address.");
            }

            ThrowIfProblem(builder.AddPeer(peer), "x.pe", nameof(peers));
        }

        foreach (FileIndexRange range in selectOnly ?? [])
        {
            ThrowIfProblem(builder.AddSelectOnly(range), "so", nameof(selectOnly));
        }

        // Only the length of the whole link can fail here, and no single argument is to blame for it.
        return builder.TryBuild(out MagnetLink? link, out string? problem)
            ? link
            : throw new ArgumentException(MagnetException.FormatMessage(null, problem));

        static void CheckText(string? value, string paramName)
        {
            if (string.IsNullOrEmpty(value))
            {
                ThrowHelper.ThrowArgument(paramName, "Values must not be null or empty.");
            }

            if (!PercentEncoding.IsWellFormedUtf16(value))
            {
                ThrowHelper.ThrowArgument(paramName, "Values must not contain unpaired UTF-16 surrogates.");
            }
        }

        static void ThrowIfProblem(string? problem, string parameter, string paramName)
        {
            if (problem is not null)
            {
                ThrowHelper.ThrowArgument(paramName, MagnetException.FormatMessage(parameter, problem));
            }
        }
    }

    /// <summary>
    /// The canonical link: <c>magnet:?xt=urn:btih:&lt;hex&gt;&amp;xt=urn:btmh:1220&lt;hex&gt;&amp;dn=…&amp;xl=…&amp;tr=…&amp;ws=…&amp;x.pe=…&amp;so=…</c>,
    /// then any <see cref="OtherParameters"/>. Hashes are lower-case hex; values are percent-encoded as
    /// <see cref="Uri.EscapeDataString(string)"/> does.
    /// </summary>
    public override string ToString() => _canonical;

    private string Format()
    {
        var sb = new StringBuilder(256);
        sb.Append(SchemePrefix);
        if (InfoHashes.V1 is { } v1)
        {
            sb.Append("xt=").Append(BtihPrefix).Append(v1.ToString());
        }

        if (InfoHashes.V2 is { } v2)
        {
            if (InfoHashes.V1 is not null)
            {
                sb.Append('&');
            }

            sb.Append("xt=").Append(BtmhPrefix).Append(Sha256MultihashHeader).Append(v2.ToString());
        }

        if (DisplayName is not null)
        {
            AppendEscaped(sb, "dn", DisplayName);
        }

        if (ExactLength is { } length)
        {
            sb.Append("&xl=").Append(length.ToString(CultureInfo.InvariantCulture));
        }

        foreach (string tracker in Trackers)
        {
            AppendEscaped(sb, "tr", tracker);
        }

        foreach (string webSeed in WebSeeds)
        {
            AppendEscaped(sb, "ws", webSeed);
        }

        foreach (MagnetPeer peer in Peers)
        {
            AppendEscaped(sb, "x.pe", peer.ToString());
        }

        // Digits, ',' and '-' need no escaping in a query.
        if (SelectOnly.Count > 0)
        {
            sb.Append("&so=").AppendJoin(',', SelectOnly);
        }

        foreach ((string key, IReadOnlyList<string> values) in OtherParameters)
        {
            foreach (string value in values)
            {
                sb.Append('&');
                PercentEncoding.Append(sb, key);
                sb.Append('=');
                PercentEncoding.Append(sb, value);
            }
        }

        return sb.ToString();

        static void AppendEscaped(StringBuilder sb, string key, string value)
        {
            sb.Append('&').Append(key).Append('=');
            PercentEncoding.Append(sb, value);
        }
    }

    private static ReadOnlyCollection<T> Freeze<T>(List<T> items) => items.Count == 0 ? ReadOnlyCollection<T>.Empty : items.AsReadOnly();
}
