using System.Buffers;
using BenchmarkDotNet.Attributes;
using PeerNet.PeerWire;

namespace PeerNet.Benchmarks;

/// <summary>
/// The peer-wire codec on a download's hot path: splitting a receive buffer of 64 <c>piece</c> messages
/// (16 KiB blocks, 1 MiB of payload) into parsed messages as the connection's reader does
/// (<see cref="PeerFrameReader.TryReadMessage"/>), once from one segment and once from 4 KiB segments (the
/// shape a socket pipe hands over); and writing what a peer sends per block: a <c>piece</c> header and a
/// <c>request</c>.
/// </summary>
[MemoryDiagnoser]
public class PeerWireBenchmarks
{
    private const int BlockLength = 16 * 1024;
    private const int Blocks = 64;
    private const int SegmentSize = 4096;

    private readonly byte[] _output = new byte[PeerMessageWriter.PieceHeaderLength + PeerMessageWriter.RequestLength];
    private ReadOnlySequence<byte> _contiguous;
    private ReadOnlySequence<byte> _segmented;

    [GlobalSetup]
    public void Setup()
    {
        int frame = PeerMessageWriter.PieceHeaderLength + BlockLength;
        byte[] data = new byte[Blocks * frame];
        new Random(7).NextBytes(data);
        for (int i = 0; i < Blocks; i++)
        {
            PeerMessageWriter.WritePieceHeader(data.AsSpan(i * frame), i / 16, i % 16 * BlockLength, BlockLength);
        }

        _contiguous = new ReadOnlySequence<byte>(data);
        _segmented = Segments.Split(data, SegmentSize);
    }

    /// <summary>Parses the 64 piece messages from one contiguous buffer; returns the payload bytes seen.</summary>
    [Benchmark]
    public long ReadPieces_Contiguous() => ReadAll(_contiguous);

    /// <summary>The same bytes in 4 KiB segments: every header straddles or follows a segment boundary.</summary>
    [Benchmark]
    public long ReadPieces_Segmented() => ReadAll(_segmented);

    /// <summary>One piece header and one request, as sent per 16 KiB block.</summary>
    [Benchmark]
    public int WritePieceHeaderAndRequest()
    {
        Span<byte> span = _output;
        int n = PeerMessageWriter.WritePieceHeader(span, 1234, 5 * BlockLength, BlockLength);
        return n + PeerMessageWriter.WriteRequest(span[n..], new BlockRequest(1234, 6 * BlockLength, BlockLength));
    }

    private static long ReadAll(ReadOnlySequence<byte> buffer)
    {
        long payload = 0;
        while (PeerFrameReader.TryReadMessage(ref buffer, PeerWireLimits.BaseMaxMessageLength, out PeerMessage message, out _) == OperationStatus.Done)
        {
            payload += message.Payload.Length;
        }

        return payload;
    }

    /// <summary>A <see cref="ReadOnlySequence{T}"/> over fixed-size segments of an array.</summary>
    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Split(byte[] data, int size)
        {
            var first = new Segments(data.AsMemory(0, Math.Min(size, data.Length)), 0);
            Segments last = first;
            for (int offset = size; offset < data.Length; offset += size)
            {
                var next = new Segments(data.AsMemory(offset, Math.Min(size, data.Length - offset)), offset);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
