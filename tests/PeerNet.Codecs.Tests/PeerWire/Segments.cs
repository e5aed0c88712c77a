using System.Buffers;

namespace PeerNet.Codecs.Tests.PeerWire;

/// <summary>Builds multi-segment sequences, the way a PipeReader hands over data that arrived in pieces.</summary>
internal static class Segments
{
    /// <summary>One segment per part; each part is copied into its own array.</summary>
    public static ReadOnlySequence<byte> Create(params ReadOnlySpan<byte[]> parts)
    {
        if (parts.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(parts[0].ToArray(), 0);
        Segment last = first;
        for (int i = 1; i < parts.Length; i++)
        {
            last = last.Append(parts[i].ToArray());
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary><paramref name="data"/> cut at the given offsets (ascending, 0 and data.Length allowed: empty segments).</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params ReadOnlySpan<int> cuts)
    {
        var parts = new List<byte[]>(cuts.Length + 1);
        int start = 0;
        foreach (int cut in cuts)
        {
            parts.Add(data[start..cut]);
            start = cut;
        }

        parts.Add(data[start..]);
        return Create([.. parts]);
    }

    /// <summary>
    /// Every shape a parser must treat alike: whole, split in two at every offset, one byte per segment, and
    /// one byte per segment with empty segments between.
    /// </summary>
    public static IEnumerable<(string Shape, ReadOnlySequence<byte> Sequence)> AllShapes(byte[] data)
    {
        yield return ("whole", new ReadOnlySequence<byte>(data));
        for (int cut = 0; cut <= data.Length; cut++)
        {
            yield return ($"split at {cut}", Split(data, cut));
        }

        yield return ("one byte per segment", Create([.. data.Select(b => new[] { b })]));
        yield return ("with empty segments", Create([.. data.SelectMany(b => new[] { Array.Empty<byte>(), [b] }).Append([])]));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
