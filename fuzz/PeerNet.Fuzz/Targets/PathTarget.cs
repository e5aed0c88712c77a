using System.Text;
using PeerNet.Metainfo;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="PathSanitizer"/> over the input split at '/' into raw segments: a sanitized path obeys
/// <see cref="PathRules"/>, stays under the root, and sanitizing any of its segments again changes nothing. The
/// whole input is also sanitized as one segment, whose result (if any) holds no separator.
/// </summary>
public static class PathTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        MetainfoLimits limits = MetainfoLimits.Default;
        var raw = new List<ReadOnlyMemory<byte>>();
        byte[] input = data.ToArray();
        int start = 0;
        for (int i = 0; i <= input.Length; i++)
        {
            if (i == input.Length || input[i] == (byte)'/')
            {
                raw.Add(input.AsMemory(start, i - start));
                start = i + 1;
            }
        }

        var result = new List<string>();
        if (PathSanitizer.TrySanitizePath(raw, limits, result, out string? error))
        {
            Check.That(error is null, "success with an error");
            Check.That(result.Count is > 0 and <= 64, $"{result.Count} segments");
            string joined = string.Join('/', result);
            PathRules.CheckRelativePath(joined, "path", limits.MaxPathBytes);
            foreach (string segment in result)
            {
                string? again = PathSanitizer.SanitizeSegment(Encoding.UTF8.GetBytes(segment), limits, out string? againError);
                Check.Equal(segment, again, $"sanitizing '{segment}' again (error: {againError})");
            }
        }
        else
        {
            Check.That(!string.IsNullOrEmpty(error), "refused with no error");
        }

        string? whole = PathSanitizer.SanitizeSegment(input, limits, out string? wholeError);
        if (whole is not null)
        {
            Check.That(wholeError is null, "a segment with an error");
            PathRules.CheckSegment(whole, "segment");
        }
    }
}
