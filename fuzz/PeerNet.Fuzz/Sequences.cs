using System.Buffers;

namespace PeerNet.Fuzz;

/// <summary>Multi-segment sequences, as a PipeReader hands over data that arrived in pieces.</summary>
internal static class Sequences
{
    /// <summary><paramref name="data"/> cut into segments of <paramref name="size"/> bytes (the last may be shorter).</summary>
    public static ReadOnlySequence<byte> Chunked(ReadOnlyMemory<byte> data, int size)
    {
        if (data.Length <= size)
        {
            return new ReadOnlySequence<byte>(data);
        }

        var first = new Segment(data[..size], 0);
        Segment last = first;
        for (int start = size; start < data.Length; start += size)
        {
            last = last.Append(data[start..Math.Min(start + size, data.Length)]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>The shapes every sequence parser must treat alike: whole, then cut small (one byte for short input).</summary>
    public static IEnumerable<ReadOnlySequence<byte>> Shapes(ReadOnlyMemory<byte> data)
    {
        yield return new ReadOnlySequence<byte>(data);
        yield return Chunked(data, data.Length <= 512 ? 1 : 7);
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
