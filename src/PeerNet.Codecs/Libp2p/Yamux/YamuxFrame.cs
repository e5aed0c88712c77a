using System.Buffers.Binary;

namespace PeerNet.Libp2p;

/// <summary>A yamux frame's type (hashicorp/yamux spec.md).</summary>
internal enum YamuxFrameType : byte
{
    /// <summary>Stream data; the length is the payload's.</summary>
    Data = 0,

    /// <summary>Grants the sender more window on a stream; the length is the increment. Also opens and closes streams by its flags.</summary>
    WindowUpdate = 1,

    /// <summary>Session ping (stream 0); the length is an opaque value echoed back with ACK.</summary>
    Ping = 2,

    /// <summary>Session end (stream 0); the length is a <see cref="YamuxGoAwayCode"/>.</summary>
    GoAway = 3,
}

/// <summary>A yamux frame's flags.</summary>
[Flags]
internal enum YamuxFlags : ushort
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>Opens a stream, or asks for a ping reply.</summary>
    Syn = 1,

    /// <summary>Acknowledges a stream's SYN, or answers a ping.</summary>
    Ack = 2,

    /// <summary>The sender will write no more on this stream (half-close).</summary>
    Fin = 4,

    /// <summary>The sender aborts the stream in both directions.</summary>
    Rst = 8,
}

/// <summary>The reason code a GoAway carries.</summary>
internal enum YamuxGoAwayCode : uint
{
    /// <summary>A normal end.</summary>
    Normal = 0,

    /// <summary>The peer broke the protocol.</summary>
    ProtocolError = 1,

    /// <summary>The sender failed.</summary>
    InternalError = 2,
}

/// <summary>One 12-byte yamux frame header: version, type, flags, stream ID, length (big-endian).</summary>
internal readonly record struct YamuxHeader(YamuxFrameType Type, YamuxFlags Flags, uint StreamId, uint Length)
{
    /// <summary>A header's size on the wire.</summary>
    public const int Size = 12;

    /// <summary>The only protocol version.</summary>
    public const byte Version = 0;

    /// <summary>Writes the header into the first 12 bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Size);
        destination[0] = Version;
        destination[1] = (byte)Type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)Flags);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], StreamId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Length);
    }

    /// <summary>The header as 12 bytes.</summary>
    public byte[] ToArray()
    {
        byte[] bytes = new byte[Size];
        Write(bytes);
        return bytes;
    }

    /// <summary>
    /// Reads and checks a header received from the remote side. Refused, with <paramref name="error"/>: another
    /// version, an unknown type or flag, a data frame longer than <paramref name="maxDataLength"/> (before its payload
    /// arrives), stream 0 for stream frames or another for session frames, a ping that is neither SYN nor ACK, SYN and
    /// ACK together, and a SYN opening a stream with the parity of this side's IDs (odd are the initiator's).
    /// </summary>
    /// <param name="input">At least 12 bytes.</param>
    /// <param name="localIsInitiator">Whether this side opened the connection (its streams are odd).</param>
    /// <param name="maxDataLength">The longest data payload accepted (this side's largest receive window).</param>
    /// <param name="header">The header, when valid.</param>
    /// <param name="error">Why not, when invalid.</param>
    public static bool TryParse(ReadOnlySpan<byte> input, bool localIsInitiator, uint maxDataLength, out YamuxHeader header, out string? error)
    {
        header = default;
        if (input.Length < Size)
        {
            throw new ArgumentException($"A yamux header is {Size} bytes.", nameof(input));
        }

        if (input[0] != Version)
        {
            error = $"yamux version {input[0]}, not {Version}";
            return false;
        }

        if (input[1] > (byte)YamuxFrameType.GoAway)
        {
            error = $"unknown frame type {input[1]}";
            return false;
        }

        var type = (YamuxFrameType)input[1];
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(input[2..]);
        uint streamId = BinaryPrimitives.ReadUInt32BigEndian(input[4..]);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(input[8..]);
        if ((flags & ~0xF) != 0)
        {
            error = $"unknown flags 0x{flags:x4}";
            return false;
        }

        var f = (YamuxFlags)flags;
        if ((f & (YamuxFlags.Syn | YamuxFlags.Ack)) == (YamuxFlags.Syn | YamuxFlags.Ack))
        {
            error = $"a {type} frame with both SYN and ACK";
            return false;
        }

        switch (type)
        {
            case YamuxFrameType.Data or YamuxFrameType.WindowUpdate:
                if (streamId == 0)
                {
                    error = $"a {type} frame on stream 0";
                    return false;
                }

                if (type == YamuxFrameType.Data && length > maxDataLength)
                {
                    error = $"a {length}-byte data frame, over the {maxDataLength}-byte window";
                    return false;
                }

                // The remote opens streams of the other parity: even when we are the initiator, odd otherwise.
                if ((f & YamuxFlags.Syn) != 0 && (streamId % 2 == 1) == localIsInitiator)
                {
                    error = $"the remote opened stream {streamId}, whose parity is this side's";
                    return false;
                }

                break;
            case YamuxFrameType.Ping:
                if (streamId != 0 || (f != YamuxFlags.Syn && f != YamuxFlags.Ack))
                {
                    error = streamId != 0 ? $"a ping on stream {streamId}" : $"a ping with flags {f}";
                    return false;
                }

                break;
            default:
                if (streamId != 0 || f != YamuxFlags.None)
                {
                    error = streamId != 0 ? $"a go-away on stream {streamId}" : $"a go-away with flags {f}";
                    return false;
                }

                break;
        }

        header = new YamuxHeader(type, f, streamId, length);
        error = null;
        return true;
    }
}
