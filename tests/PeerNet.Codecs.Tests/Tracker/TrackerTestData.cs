using System.Buffers;
using System.Net;
using System.Text;
using PeerNet.Tracker;

namespace PeerNet.Codecs.Tests.Tracker;

/// <summary>Inputs written as Latin-1 strings (any byte can appear) and peer lists in compact form.</summary>
internal static class TrackerTestData
{
    public static byte[] Bytes(string latin1) => Encoding.Latin1.GetBytes(latin1);

    /// <summary><paramref name="count"/> distinct IPv4 peers 10.x.y.z:port, compact.</summary>
    public static byte[] CompactV4(int count)
    {
        var bytes = new byte[count * 6];
        for (int i = 0; i < count; i++)
        {
            bytes[(i * 6) + 0] = 10;
            bytes[(i * 6) + 1] = (byte)(i >> 16);
            bytes[(i * 6) + 2] = (byte)(i >> 8);
            bytes[(i * 6) + 3] = (byte)i;
            bytes[(i * 6) + 4] = 0x1A;
            bytes[(i * 6) + 5] = 0xE1;
        }

        return bytes;
    }

    /// <summary>A bencoded string: length, colon, bytes.</summary>
    public static byte[] BString(byte[] value) => [.. Bytes($"{value.Length}:"), .. value];

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    public static string Summary(AnnounceResponse r) =>
        $"fail={r.FailureReason} warn={r.WarningMessage} interval={r.Interval?.TotalSeconds} min={r.MinInterval?.TotalSeconds} id={r.TrackerId} "
        + $"complete={r.Complete} incomplete={r.Incomplete} peers={string.Join(",", r.Peers)}";

    public static string Summary(ScrapeResponse r) =>
        $"fail={r.FailureReason} files={string.Join(",", r.Files.OrderBy(f => f.Key).Select(f => $"{f.Key}:{f.Value}"))}";

    public static byte[] Write(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return output.WrittenSpan.ToArray();
    }

    public static IPEndPoint EndPoint(string text) => IPEndPoint.Parse(text);
}
