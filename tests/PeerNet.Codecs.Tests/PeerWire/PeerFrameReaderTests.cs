using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using PeerNet.PeerWire;

namespace PeerNet.Codecs.Tests.PeerWire;

public sealed class PeerFrameReaderTests
{
    private const int Max = PeerWireLimits.DefaultMaxMessageLength;

    /// <summary>Reads exactly one message from every shape of <paramref name="bytes"/>; all must agree.</summary>
    internal static string ReadOne(byte[] bytes, int max = Max)
    {
        string? expected = null;
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(bytes))
        {
            ReadOnlySequence<byte> buffer = sequence;
            OperationStatus status = PeerFrameReader.TryReadMessage(ref buffer, max, out PeerMessage message, out PeerWireError error);
            Assert.True(status == OperationStatus.Done, $"{shape}: {status} {error}");
            Assert.True(buffer.Length == 0, shape);
            string text = MessageText.Describe(message);
            expected ??= text;
            Assert.Equal(expected, text);
        }

        return expected!;
    }

    /// <summary>Reads every shape of <paramref name="bytes"/> expecting the same refusal.</summary>
    internal static void ReadInvalid(byte[] bytes, PeerWireError expected, int max = Max)
    {
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(bytes))
        {
            ReadOnlySequence<byte> buffer = sequence;
            OperationStatus status = PeerFrameReader.TryReadMessage(ref buffer, max, out _, out PeerWireError error);
            Assert.True(status == OperationStatus.InvalidData, $"{shape}: {status}");
            Assert.Equal(expected, error);
            Assert.Equal(bytes.Length, buffer.Length);
        }
    }

    private static byte[] Frame(byte id, params byte[] payload)
    {
        var bytes = new byte[5 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 1 + payload.Length);
        bytes[4] = id;
        payload.CopyTo(bytes, 5);
        return bytes;
    }

    [Fact]
    public void KeepAlive_IsReadAsKeepAlive()
    {
        Assert.Equal("KeepAlive", ReadOne(PeerMessageWriter.KeepAlive.ToArray()));
    }

    [Fact]
    public void TryRead_FrameExposesIdAndPayloadSlice()
    {
        byte[] bytes = Frame(7, 0, 0, 0, 1, 0, 0, 0, 2, 9, 9, 9);
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(OperationStatus.Done, PeerFrameReader.TryRead(ref buffer, Max, out PeerFrame frame, out _));
        Assert.Equal(PeerMessageId.Piece, frame.Id);
        Assert.Equal(12, frame.Length);
        Assert.Equal(bytes[5..], frame.Payload.ToArray());
    }

    [Fact]
    public void TryRead_LengthAtLimit_IsRead()
    {
        byte[] bytes = Frame(99, new byte[99]);
        Assert.Equal($"Unknown 99 {new string('0', 198)}", ReadOne(bytes, max: 100));
    }

    [Fact]
    public void TryRead_LengthOverLimit_IsRefusedBeforeThePayloadArrives()
    {
        // Only the prefix: the payload has not arrived and must not be waited for.
        var prefix = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(prefix, 101);
        ReadInvalid(prefix, PeerWireError.MessageTooLong, max: 100);
        ReadInvalid(Frame(99, new byte[100]), PeerWireError.MessageTooLong, max: 100);
    }

    [Fact]
    public void TryRead_HugePrefix_IsRefusedNotWrapped()
    {
        ReadInvalid([0xFF, 0xFF, 0xFF, 0xFF], PeerWireError.MessageTooLong);
        ReadInvalid([0x80, 0, 0, 0], PeerWireError.MessageTooLong, max: int.MaxValue);
    }

    [Fact]
    public void TryRead_EveryTruncation_NeedsMoreDataAndConsumesNothing()
    {
        byte[] bytes = Frame(4, 0, 0, 0, 7);
        for (int length = 0; length < bytes.Length; length++)
        {
            foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(bytes[..length]))
            {
                ReadOnlySequence<byte> buffer = sequence;
                Assert.True(PeerFrameReader.TryReadMessage(ref buffer, Max, out _, out _) == OperationStatus.NeedMoreData, $"{length} {shape}");
                Assert.Equal(length, buffer.Length);
            }
        }
    }

    [Fact]
    public void TryRead_SeveralFrames_AdvancesOneAtATime()
    {
        byte[] bytes = [.. PeerMessageWriter.Unchoke.Span, .. PeerMessageWriter.KeepAlive.Span, .. Frame(4, 0, 0, 1, 0)];
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(bytes))
        {
            ReadOnlySequence<byte> buffer = sequence;
            var seen = new List<string>();
            while (PeerFrameReader.TryReadMessage(ref buffer, Max, out PeerMessage m, out _) == OperationStatus.Done)
            {
                seen.Add(MessageText.Describe(m));
            }

            Assert.Equal(["Unchoke", "KeepAlive", "Have 256"], seen);
            Assert.True(buffer.Length == 0, shape);
        }
    }

    [Fact]
    public void PieceBlock_IsASliceOfTheReceiveBuffer()
    {
        byte[] bytes = Frame(7, 0, 0, 0, 3, 0, 0, 0x40, 0, 1, 2, 3, 4);
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.Equal(OperationStatus.Done, PeerFrameReader.TryReadMessage(ref buffer, Max, out PeerMessage m, out _));
        Assert.True(MemoryMarshal.TryGetArray(m.Payload.First, out ArraySegment<byte> segment));
        Assert.Same(bytes, segment.Array);
        Assert.Equal(13, segment.Offset);
    }

    [Fact]
    public void MaxMessageLengthFor_CoversTheBitfield()
    {
        Assert.Equal(PeerWireLimits.BaseMaxMessageLength, PeerWireLimits.MaxMessageLengthFor(1000));
        Assert.Equal(1 + (1 << 21), PeerWireLimits.MaxMessageLengthFor(1 << 24));
        Assert.Equal(PeerWireLimits.DefaultMaxMessageLength, PeerWireLimits.MaxMessageLengthFor(1 << 24));
    }

    [Fact]
    public void HotPath_ReadsAndWritesWithoutAllocating()
    {
        byte[] stream = new byte[9 + 17 + 13 + 16384];
        int at = PeerMessageWriter.WriteHave(stream, 1);
        at += PeerMessageWriter.WriteRequest(stream.AsSpan(at), new BlockRequest(1, 0, 16384));
        at += PeerMessageWriter.WritePieceHeader(stream.AsSpan(at), 1, 0, 16384);
        ReadOnlySequence<byte> split = Segments.Split(stream, 5, 20, 40);

        static int ReadAll(ReadOnlySequence<byte> buffer)
        {
            int count = 0;
            while (PeerFrameReader.TryReadMessage(ref buffer, Max, out PeerMessage m, out _) == OperationStatus.Done)
            {
                count += m.Length >= 0 ? 1 : 0;
            }

            return count;
        }

        Span<byte> scratch = stackalloc byte[32];
        Assert.Equal(3, ReadAll(split));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            ReadAll(split);
            PeerMessageWriter.WriteHave(scratch, i);
            PeerMessageWriter.WriteRequest(scratch, new BlockRequest(i, 0, 16384));
            PeerMessageWriter.WritePieceHeader(scratch, i, 0, 16384);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
