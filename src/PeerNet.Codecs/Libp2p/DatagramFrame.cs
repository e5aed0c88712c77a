using System.Buffers;
using System.Buffers.Binary;

namespace PeerNet.Libp2p;

/// <summary>What a <c>/peernet/datagram/1.0.0</c> frame carries.</summary>
internal enum DatagramFrameKind : byte
{
    /// <summary>A datagram: sequence number, send time, payload.</summary>
    Datagram = 0,

    /// <summary>Feedback: the highest sequence number the receiver has read (so the sender knows what is in flight).</summary>
    Ack = 1,
}

/// <summary>One frame read from a datagram stream.</summary>
/// <param name="Kind">Datagram or feedback.</param>
/// <param name="Sequence">The datagram's number (from 1, one more each), or the highest one read for feedback.</param>
/// <param name="SentUnixMicroseconds">When the datagram was sent, by the sender's clock (0 for feedback).</param>
/// <param name="Payload">The datagram's bytes (a slice of the input; empty for feedback).</param>
internal readonly record struct DatagramFrame(DatagramFrameKind Kind, ulong Sequence, long SentUnixMicroseconds, ReadOnlyMemory<byte> Payload);

/// <summary>
/// The frames of PeerNet's datagram channel (<c>/peernet/datagram/1.0.0</c>) on a yamux stream, each with a varint
/// length prefix: a datagram is kind 0, an 8-byte big-endian sequence number, the 8-byte big-endian send time in
/// microseconds since the Unix epoch and the payload; feedback is kind 1 and the 8-byte highest sequence number read.
/// </summary>
internal static class DatagramFrameCodec
{
    /// <summary>The protocol ID.</summary>
    public const string ProtocolId = "/peernet/datagram/1.0.0";

    /// <summary>Largest payload of one datagram: 8 KiB (more belongs on a reliable stream).</summary>
    public const int MaxPayloadLength = 8 * 1024;

    /// <summary>Bytes of a datagram frame's body before the payload.</summary>
    public const int DatagramHeaderLength = 1 + 8 + 8;

    /// <summary>Bytes of a feedback frame's body.</summary>
    public const int AckLength = 1 + 8;

    /// <summary>Largest frame body read.</summary>
    public const int MaxBodyLength = DatagramHeaderLength + MaxPayloadLength;

    /// <summary>Bytes a datagram of <paramref name="payloadLength"/> bytes takes on the stream, prefix included.</summary>
    public static int FramedLength(int payloadLength) =>
        UnsignedVarint.Length((ulong)(DatagramHeaderLength + payloadLength)) + DatagramHeaderLength + payloadLength;

    /// <summary>Appends a datagram frame with its length prefix.</summary>
    public static void WriteDatagram(ulong sequence, long sentUnixMicroseconds, ReadOnlySpan<byte> payload, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (payload.Length > MaxPayloadLength)
        {
            throw new ArgumentException($"a datagram carries at most {MaxPayloadLength} bytes, not {payload.Length}", nameof(payload));
        }

        UnsignedVarint.Write((ulong)(DatagramHeaderLength + payload.Length), output);
        Span<byte> span = output.GetSpan(DatagramHeaderLength + payload.Length);
        span[0] = (byte)DatagramFrameKind.Datagram;
        BinaryPrimitives.WriteUInt64BigEndian(span[1..], sequence);
        BinaryPrimitives.WriteInt64BigEndian(span[9..], sentUnixMicroseconds);
        payload.CopyTo(span[DatagramHeaderLength..]);
        output.Advance(DatagramHeaderLength + payload.Length);
    }

    /// <summary>Appends a feedback frame with its length prefix.</summary>
    public static void WriteAck(ulong highestSequence, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        UnsignedVarint.Write(AckLength, output);
        Span<byte> span = output.GetSpan(AckLength);
        span[0] = (byte)DatagramFrameKind.Ack;
        BinaryPrimitives.WriteUInt64BigEndian(span[1..], highestSequence);
        output.Advance(AckLength);
    }

    /// <summary>
    /// Reads the frame at the start of <paramref name="input"/>: Ok with the frame (its payload a slice of the input)
    /// and the bytes used, NeedMore, or Invalid with <paramref name="error"/> (too long, too short for its kind, an
    /// unknown kind).
    /// </summary>
    public static VarintStatus TryRead(ReadOnlyMemory<byte> input, out DatagramFrame frame, out int consumed, out string? error)
    {
        frame = default;
        VarintStatus status = LengthPrefixedMessage.TryRead(input.Span, MaxBodyLength, out ReadOnlySpan<byte> body, out consumed, out error);
        if (status != VarintStatus.Ok)
        {
            return status;
        }

        if (body.Length == 0)
        {
            error = "an empty frame";
            return VarintStatus.Invalid;
        }

        switch ((DatagramFrameKind)body[0])
        {
            case DatagramFrameKind.Datagram when body.Length >= DatagramHeaderLength:
                frame = new DatagramFrame(
                    DatagramFrameKind.Datagram,
                    BinaryPrimitives.ReadUInt64BigEndian(body[1..]),
                    BinaryPrimitives.ReadInt64BigEndian(body[9..]),
                    input.Slice(consumed - body.Length + DatagramHeaderLength, body.Length - DatagramHeaderLength));
                return VarintStatus.Ok;
            case DatagramFrameKind.Ack when body.Length == AckLength:
                frame = new DatagramFrame(DatagramFrameKind.Ack, BinaryPrimitives.ReadUInt64BigEndian(body[1..]), 0, ReadOnlyMemory<byte>.Empty);
                return VarintStatus.Ok;
            default:
                error = $"a frame of kind {body[0]} and {body.Length} bytes";
                return VarintStatus.Invalid;
        }
    }
}
