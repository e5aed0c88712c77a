using System.Buffers;
using PeerNet.Libp2p;

namespace PeerNet.Fuzz;

/// <summary>
/// A <see cref="MultistreamListener"/> fed what a dialer sends, whole and then a byte at a time: it never consumes more
/// than it is given, a failure names an error, a selection is a protocol it offered, and both feedings end the same.
/// </summary>
public static class MultistreamTarget
{
    private static readonly string[] Protocols = ["/noise", "/yamux/1.0.0"];

    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        var whole = new MultistreamListener(Protocols, maxLineLength: 64);
        var wholeOut = new ArrayBufferWriter<byte>();
        MultistreamStatus status = whole.Receive(data, wholeOut, out int consumed);
        Check.That(consumed >= 0 && consumed <= data.Length, $"consumed {consumed} of {data.Length}");
        Check.That(status != MultistreamStatus.Failed || !string.IsNullOrEmpty(whole.Error), "failed with no error");
        Check.That(status != MultistreamStatus.Selected || Array.IndexOf(Protocols, whole.Protocol) >= 0, $"selected '{whole.Protocol}'");

        var piecemeal = new MultistreamListener(Protocols, maxLineLength: 64);
        var piecemealOut = new ArrayBufferWriter<byte>();
        int start = 0;
        for (int end = 1; end <= data.Length && piecemeal.Status == MultistreamStatus.Pending; end++)
        {
            piecemeal.Receive(data[start..end], piecemealOut, out int used);
            start += used;
        }

        Check.Equal(whole.Status, piecemeal.Status, "status fed whole and byte by byte");
        Check.Equal(whole.Protocol, piecemeal.Protocol, "protocol fed whole and byte by byte");
        Check.Bytes(wholeOut.WrittenSpan.ToArray(), piecemealOut.WrittenSpan.ToArray(), "replies fed whole and byte by byte");
    }
}
