using System.Text;
using PeerNet.Metainfo;

namespace PeerNet.Fuzz;

/// <summary>What every path that leaves the sanitizer must be, whichever parser produced it.</summary>
internal static class PathRules
{
    /// <summary>A download root that exists nowhere; only string arithmetic is done under it.</summary>
    public static readonly string Root = Path.GetFullPath(Path.Combine(Path.GetTempPath(), "peernet-fuzz-root"));

    private static readonly string[] DeviceNames =
    [
        "CON", "PRN", "AUX", "NUL",
        "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];

    /// <summary>
    /// A relative, '/'-separated path: no empty, '.' or '..' segment, no NUL, backslash, control or
    /// Windows-forbidden character, no device name, no trailing dot or space, and
    /// <c>Path.GetFullPath(Path.Combine(root, path))</c> strictly under the root.
    /// </summary>
    public static void CheckRelativePath(string path, string what, int maxBytes)
    {
        Check.That(path.Length > 0, $"{what} is empty");
        Check.That(!Path.IsPathRooted(path) && !path.StartsWith('/'), $"{what} '{path}' is rooted");
        Check.That(Encoding.UTF8.GetByteCount(path) <= maxBytes, $"{what} is longer than {maxBytes} bytes");
        foreach (string segment in path.Split('/'))
        {
            CheckSegment(segment, what);
        }

        string full = Path.GetFullPath(Path.Combine(Root, path));
        Check.That(full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal) && full.Length > Root.Length + 1, $"{what} '{path}' resolves to '{full}', outside the root");
    }

    /// <summary>One segment of a safe path.</summary>
    public static void CheckSegment(string segment, string what)
    {
        Check.That(segment.Length > 0, $"{what} has an empty segment");
        Check.That(segment is not "." and not "..", $"{what} has a '{segment}' segment");
        Check.That(Encoding.UTF8.GetByteCount(segment) <= MetainfoLimits.Default.MaxSegmentBytes, $"{what} has a segment over {MetainfoLimits.Default.MaxSegmentBytes} bytes");
        foreach (char c in segment)
        {
            Check.That(c >= 0x20 && c != 0x7F && c is not ('/' or '\\' or '<' or '>' or ':' or '"' or '|' or '?' or '*'), $"{what} segment '{segment}' holds U+{(int)c:X4}");
        }

        Check.That(!segment.EndsWith('.') && !segment.EndsWith(' '), $"{what} segment '{segment}' ends with a dot or space");
        int dot = segment.IndexOf('.', StringComparison.Ordinal);
        string stem = (dot < 0 ? segment : segment[..dot]).TrimEnd(' ');
        Check.That(!DeviceNames.Contains(stem, StringComparer.OrdinalIgnoreCase), $"{what} segment '{segment}' is a Windows device name");
    }
}
