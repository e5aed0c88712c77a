using System.Text;

namespace PeerNet.Metainfo;

/// <summary>
/// Turns path segments from a torrent into safe, portable relative paths, or refuses them.
/// </summary>
/// <remarks>
/// Refused: <c>..</c> (traversal), NUL, a segment over the byte limit, too deep or too long a path, a path with
/// no segments. Rewritten to <c>_</c>: path separators inside a segment (<c>/</c>, <c>\</c>), control
/// characters, characters Windows forbids (<c>&lt; &gt; : " | ? *</c>, which also defuses drive letters), invalid
/// UTF-8, and a trailing dot or space. Windows device names (<c>CON</c>, <c>NUL.txt</c>, <c>COM1</c>, <c>LPT¹</c>,
/// <c>CONOUT$</c>, …) get a leading <c>_</c>. Empty and <c>.</c> segments are dropped. A path that only needs
/// rewriting is kept; a path that cannot be made safe refuses the torrent.
/// </remarks>
internal static class PathSanitizer
{
    // "Naming Files, Paths, and Namespaces" reserves the superscript-digit ports too; CreateFile opens the
    // console for CONIN$ and CONOUT$.
    private static readonly string[] DeviceNames =
    [
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
        "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM\u00B9", "COM\u00B2", "COM\u00B3",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT\u00B9", "LPT\u00B2", "LPT\u00B3",
    ];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Sanitizes one segment. Returns null (and no error) for a segment to drop, null with an error for a
    /// segment that refuses the path, or the safe segment.
    /// </summary>
    public static string? SanitizeSegment(ReadOnlySpan<byte> raw, MetainfoLimits limits, out string? error)
    {
        error = null;
        if (raw.IndexOf((byte)0) >= 0)
        {
            error = "path segment contains a NUL byte";
            return null;
        }

        if (raw.Length == 0 || raw.SequenceEqual("."u8))
        {
            return null;
        }

        if (raw.SequenceEqual(".."u8))
        {
            error = "path segment '..' would escape the download folder";
            return null;
        }

        if (raw.Length > limits.MaxSegmentBytes)
        {
            error = $"path segment is longer than {limits.MaxSegmentBytes} bytes";
            return null;
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(raw);
        }
        catch (DecoderFallbackException)
        {
            text = DecodeLossy(raw);
        }

        var sb = new StringBuilder(text.Length + 1);
        foreach (char c in text)
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
            error = $"path segment is longer than {limits.MaxSegmentBytes} bytes";
            return null;
        }

        return result;
    }

    /// <summary>
    /// Sanitizes a whole path given as raw segments. On success the result has at least one segment. The
    /// path's length is counted as it will be stored: below <paramref name="prefix"/> (the torrent's name
    /// folder) when given, with '/' between segments, so <see cref="MetainfoLimits.MaxPathBytes"/> bounds the
    /// whole relative path exactly as the v2 file tree walk does.
    /// </summary>
    public static bool TrySanitizePath(IEnumerable<ReadOnlyMemory<byte>> rawSegments, MetainfoLimits limits, List<string> result, out string? error, string? prefix = null)
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

        if (result.Count == 0)
        {
            error = "path is empty";
            return false;
        }

        error = null;
        return true;
    }

    private static bool IsForbidden(char c) => c < 0x20 || c == 0x7F || c is '/' or '\\' or '<' or '>' or ':' or '"' or '|' or '?' or '*';

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

    private static string DecodeLossy(ReadOnlySpan<byte> raw)
    {
        var decoder = new UTF8Encoding(false, false);
        string s = decoder.GetString(raw);
        return s.Replace('\uFFFD', '_');
    }
}
