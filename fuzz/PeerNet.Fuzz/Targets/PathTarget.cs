using System.Text;
using PeerNet.Metainfo;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="PathSanitizer"/> over the input split at '/' into raw segments: a sanitized path obeys
/// <see cref="PathRules"/>, stays under the root, and sanitizing any of its segments of at most 240 bytes again
/// changes nothing (a longer one, cut once, may be cut again elsewhere: libtorrent's cut is not idempotent, so only
/// safety and length are checked then). The whole input is also sanitized as one segment, whose result (if any)
/// holds no separator.
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
            Check.That(result.Count is > 0 and <= 64, $"{result.Count} segments"); // nothing left is "_", never empty
            string joined = string.Join('/', result);
            PathRules.CheckRelativePath(joined, "path", limits.MaxPathBytes);
            foreach (string segment in result)
            {
                string? again = PathSanitizer.SanitizeSegment(Encoding.UTF8.GetBytes(segment), limits, out string? againError);
                if (Encoding.UTF8.GetByteCount(segment) <= PathSanitizer.CutBytes)
                {
                    Check.Equal(segment, again, $"sanitizing '{segment}' again (error: {againError})");
                }
                else
                {
                    // libtorrent's cut is not idempotent past 240 bytes: a '_' that replaced an invalid sequence never
                    // triggered it, the same '_' read again does. The second reading is still a safe, no longer name.
                    Check.That(again is not null && again.Length <= segment.Length, $"sanitizing '{segment}' again gave '{again}' (error: {againError})");
                    PathRules.CheckSegment(again!, "segment sanitized again");
                }
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
