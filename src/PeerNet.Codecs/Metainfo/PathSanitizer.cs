using System.Text;

namespace PeerNet.Metainfo;

/// <summary>
/// Turns path elements from a torrent into safe, portable relative paths: as libtorrent 2.0 (on Linux) names the
/// files, so a download moves between the two clients, then made safe on Windows too.
/// </summary>
/// <remarks>
/// libtorrent's rules (<c>sanitize_append_path_element</c>): <c>/</c>, <c>\</c>, NUL and the bidi controls
/// U+200E, U+200F, U+202A–U+202E are removed; each control character and each invalid UTF-8 sequence becomes
/// <c>_</c>; an element that grows past 240 bytes is cut there, keeping an extension found in its last 9 bytes;
/// an empty element becomes <c>_</c>; an element left as <c>.</c>, <c>..</c> or nothing is dropped. Then
/// PeerNet's, which libtorrent applies on Windows only or not at all, so a torrent safe here is safe everywhere:
/// DEL and <c>&lt; &gt; : " | ? *</c> become <c>_</c> (which also defuses drive letters), a trailing dot or space
/// becomes <c>_</c>, Windows device names (<c>CON</c>, <c>NUL.txt</c>, <c>COM1</c>, <c>LPT¹</c>, <c>CONOUT$</c>, …)
/// get a leading <c>_</c>. Refused: an element still over <see cref="MetainfoLimits.MaxSegmentBytes"/> (only
/// runs of <c>_</c> escape libtorrent's cut), a path too deep or too long.
/// </remarks>
internal static class PathSanitizer
{
    /// <summary>libtorrent cuts an element once it has written this many bytes ("not more than 255 characters").</summary>
    public const int CutBytes = 240;

    // "Naming Files, Paths, and Namespaces" reserves the superscript-digit ports too; CreateFile opens the
    // console for CONIN$ and CONOUT$.
    private static readonly string[] DeviceNames =
    [
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
        "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM\u00B9", "COM\u00B2", "COM\u00B3",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT\u00B9", "LPT\u00B2", "LPT\u00B3",
    ];

    /// <summary>
    /// Sanitizes one element. Returns the safe element; null and no error for an element libtorrent drops
    /// (<c>.</c>, <c>..</c>, or only removed characters); null with an error for one that refuses the path.
    /// </summary>
    public static string? SanitizeSegment(ReadOnlySpan<byte> raw, MetainfoLimits limits, out string? error)
    {
        error = null;
        if (raw.Length == 0)
        {
            return "_";
        }

        string? element = LibtorrentElement(raw, limits.MaxSegmentBytes);
        if (element is null)
        {
            return null;
        }

        var sb = new StringBuilder(element.Length + 1);
        foreach (char c in element)
        {
            sb.Append(IsForbidden(c) ? '_' : c);
        }

        // Windows silently strips a trailing dot or space, which would merge "a." with "a".
        int last = sb.Length - 1;
        if (sb[last] is '.' or ' ')
        {
            sb[last] = '_';
        }

        string result = sb.ToString();
        if (IsDeviceName(result))
        {
            result = "_" + result;
        }

        if (Encoding.UTF8.GetByteCount(result) > limits.MaxSegmentBytes)
        {
            error = $"path element is longer than {limits.MaxSegmentBytes} bytes";
            return null;
        }

        return result;
    }

    /// <summary>
    /// Sanitizes a whole path given as raw elements, dropping those libtorrent drops. A path left with no element
    /// becomes <c>_</c> when <paramref name="emptyIsUnderscore"/> (libtorrent's rule for a file's path), and is
    /// empty otherwise (a symlink target, which then makes no link). The path's length is counted as it will be
    /// stored: below <paramref name="prefix"/> (the torrent's name folder) when given, with '/' between elements,
    /// so <see cref="MetainfoLimits.MaxPathBytes"/> bounds the whole relative path exactly as the v2 file tree walk does.
    /// </summary>
    public static bool TrySanitizePath(IEnumerable<ReadOnlyMemory<byte>> rawSegments, MetainfoLimits limits, List<string> result, out string? error, string? prefix = null, bool emptyIsUnderscore = true)
    {
        result.Clear();
        int bytes = prefix is null ? -1 : Encoding.UTF8.GetByteCount(prefix); // -1: no separator before the first segment
        foreach (ReadOnlyMemory<byte> raw in rawSegments)
        {
            string? segment = SanitizeSegment(raw.Span, limits, out error);
            if (error is not null)
            {
                return false;
            }

            if (segment is null)
            {
                continue;
            }

            result.Add(segment);
            bytes += 1 + Encoding.UTF8.GetByteCount(segment);
            if (result.Count > limits.MaxPathDepth)
            {
                error = $"path is deeper than {limits.MaxPathDepth} folders";
                return false;
            }

            if (bytes > limits.MaxPathBytes)
            {
                error = $"path is longer than {limits.MaxPathBytes} bytes";
                return false;
            }
        }

        if (result.Count == 0 && emptyIsUnderscore)
        {
            result.Add("_");
        }

        error = null;
        return true;
    }

    /// <summary>
    /// libtorrent's element, byte for byte (Linux build): null if it drops the element or, once the result is over
    /// <paramref name="maxBytes"/>, since the caller would refuse it anyway (libtorrent cuts valid text at 240
    /// bytes, but never a run of replacement <c>_</c>).
    /// </summary>
    private static string? LibtorrentElement(ReadOnlySpan<byte> raw, int maxBytes)
    {
        var sb = new StringBuilder(Math.Min(raw.Length, CutBytes + 16));
        Span<char> utf16 = stackalloc char[2];
        int added = 0;
        int dots = 0;
        bool foundExtension = false;
        for (int i = 0; i < raw.Length;)
        {
            (int codePoint, int length) = Utf8CodePoint.Parse(raw[i..]);
            if (codePoint >= 0 && IsRemoved(codePoint))
            {
                i += length;
                continue;
            }

            if (codePoint < 0x20)
            {
                // An invalid sequence (-1) or a control character: one '_' for the whole sequence.
                sb.Append('_');
                added++;
            }
            else
            {
                sb.Append(utf16[..new Rune(codePoint).EncodeToUtf16(utf16)]);
                dots += codePoint == '.' ? 1 : 0;
                added += length;
                if (added >= CutBytes && !foundExtension)
                {
                    // Keep an extension whose dot is in the last 9 bytes and after this point; otherwise stop here.
                    int dot = raw[(Math.Max(raw.Length - 9, i + 1))..].LastIndexOf((byte)'.');
                    if (dot < 0)
                    {
                        break;
                    }

                    foundExtension = true;
                    i = Math.Max(raw.Length - 9, i + 1) + dot;
                    continue;
                }
            }

            if (added > maxBytes)
            {
                return sb.ToString(); // already too long; the caller refuses it
            }

            i += length;
        }

        // Nothing but dots, at most two of them (".", ".."), or nothing at all: libtorrent drops the element.
        return added == dots && added <= 2 ? null : sb.ToString();
    }

    /// <summary>Code points libtorrent removes from names: path separators, NUL, and bidi controls that disguise extensions.</summary>
    private static bool IsRemoved(int c) => c is 0 or '/' or '\\' or 0x200E or 0x200F or (>= 0x202A and <= 0x202E);

    private static bool IsForbidden(char c) => c == 0x7F || c is '<' or '>' or ':' or '"' or '|' or '?' or '*';

    private static bool IsDeviceName(string segment)
    {
        int dot = segment.IndexOf('.', StringComparison.Ordinal);
        ReadOnlySpan<char> stem = (dot < 0 ? segment : segment[..dot]).AsSpan().TrimEnd(' ');
        foreach (string device in DeviceNames)
        {
            if (stem.Equals(device, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
