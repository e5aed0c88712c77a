using System.Buffers;
using System.Buffers.Binary;

namespace PeerNet.PeerWire;

/// <summary>
/// Splits a receive buffer into length-prefixed peer-wire messages. BEP 3: after the handshake comes a stream
/// of messages, each a 4-byte big-endian length, then (unless the length is 0, a keep-alive) a one-byte type
/// and its payload.
/// </summary>
/// <remarks>
/// The PipeReader loop calls a read method until it stops returning <see cref="OperationStatus.Done"/>, then
/// calls <c>AdvanceTo(buffer.Start, buffer.End)</c>: consumed up to the last whole message, examined to the
/// end, so the pipe wakes the loop only when more bytes arrive.
/// </remarks>
internal static class PeerFrameReader
{
    /// <summary>Size of the length prefix.</summary>
    public const int LengthPrefixSize = 4;

    /// <summary>
    /// Reads one frame. The length prefix is checked against <paramref name="maxMessageLength"/> as soon as its
    /// 4 bytes are there, so an oversized message is refused (<see cref="PeerWireError.MessageTooLong"/>)
    /// before any of its payload is waited for or buffered. On <see cref="OperationStatus.Done"/>
    /// <paramref name="buffer"/> is advanced past the frame; otherwise it is unchanged.
    /// </summary>
    /// <param name="buffer">The unread bytes; advanced past the frame on success.</param>
    /// <param name="maxMessageLength">Largest length prefix accepted (id byte included); see <see cref="PeerWireLimits"/>.</param>
    /// <param name="frame">The frame, whose payload is a slice of <paramref name="buffer"/>.</param>
    /// <param name="error">Why the data is invalid, when it is.</param>
    public static OperationStatus TryRead(ref ReadOnlySequence<byte> buffer, int maxMessageLength, out PeerFrame frame, out PeerWireError error)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxMessageLength);
        frame = default;
        error = PeerWireError.None;
        if (buffer.Length < LengthPrefixSize)
        {
            return OperationStatus.NeedMoreData;
        }

        Span<byte> scratch = stackalloc byte[LengthPrefixSize];
        uint length = BinaryPrimitives.ReadUInt32BigEndian(SequenceReading.Head(buffer, scratch));
        if (length > (uint)maxMessageLength)
        {
            error = PeerWireError.MessageTooLong;
            return OperationStatus.InvalidData;
        }

        if (length == 0)
        {
            frame = PeerFrame.KeepAlive;
            buffer = buffer.Slice(LengthPrefixSize);
            return OperationStatus.Done;
        }

        long end = LengthPrefixSize + (long)length;
        if (buffer.Length < end)
        {
            return OperationStatus.NeedMoreData;
        }

        ReadOnlySequence<byte> body = buffer.Slice(LengthPrefixSize, length);
        var id = (PeerMessageId)SequenceReading.Head(body, scratch[..1])[0];
        frame = PeerFrame.Create(id, body.Slice(1));
        buffer = buffer.Slice(end);
        return OperationStatus.Done;
    }

    /// <summary>
    /// Reads one frame and parses it (<see cref="PeerMessage.TryParse"/>). A frame with a well-formed length
    /// prefix but an invalid payload is <see cref="OperationStatus.InvalidData"/>, with
    /// <paramref name="buffer"/> left unchanged. An unknown id is <see cref="OperationStatus.Done"/> with
    /// <see cref="PeerMessage.IsUnknown"/> set.
    /// </summary>
    public static OperationStatus TryReadMessage(ref ReadOnlySequence<byte> buffer, int maxMessageLength, out PeerMessage message, out PeerWireError error)
    {
        message = default;
        ReadOnlySequence<byte> rest = buffer;
        OperationStatus status = TryRead(ref rest, maxMessageLength, out PeerFrame frame, out error);
        if (status != OperationStatus.Done)
        {
            return status;
        }

        if (!PeerMessage.TryParse(frame, out message, out error))
        {
            return OperationStatus.InvalidData;
        }

        buffer = rest;
        return OperationStatus.Done;
    }
}
