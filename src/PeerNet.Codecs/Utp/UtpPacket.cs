using System.Buffers.Binary;

namespace PeerNet.Utp;

/// <summary>The type of a uTP packet (BEP 29), the high nibble of its first byte.</summary>
public enum UtpPacketType : byte
{
    /// <summary>A regular packet with payload.</summary>
    Data = 0,

    /// <summary>The last packet of the sender: its sequence number is the end of the stream.</summary>
    Fin = 1,

    /// <summary>An acknowledgement, no payload; it does not use a sequence number.</summary>
    State = 2,

    /// <summary>Ends the connection at once.</summary>
    Reset = 3,

    /// <summary>Opens a connection.</summary>
    Syn = 4,
}

/// <summary>Why <see cref="UtpPacket.TryParse"/> refused a datagram.</summary>
public enum UtpParseError
{
    /// <summary>Nothing wrong.</summary>
    None,

    /// <summary>Shorter than the 20-byte header.</summary>
    TooShort,

    /// <summary>The version (low nibble of the first byte) is not 1.</summary>
    BadVersion,

    /// <summary>The type (high nibble) is above <see cref="UtpPacketType.Syn"/>.</summary>
    BadType,

    /// <summary>An extension's header or body runs past the end of the datagram.</summary>
    TruncatedExtension,

    /// <summary>More extensions than <see cref="UtpPacket.MaxExtensions"/>.</summary>
    TooManyExtensions,

    /// <summary>A selective ACK whose bitmask is empty or longer than <see cref="UtpPacket.MaxSelectiveAckBytes"/>, or a second one.</summary>
    BadSelectiveAck,

    /// <summary>The large-datagram extension has not exactly 4 bytes, or its value is out of range, or comes twice.</summary>
    BadMaxDatagram,

    /// <summary>A state or reset packet or a SYN carrying payload.</summary>
    UnexpectedPayload,
}

/// <summary>Thrown by <see cref="UtpPacket.Parse"/> for a datagram that is not a valid uTP packet.</summary>
public sealed class UtpFormatException : FormatException
{
    /// <summary>Creates the exception for <paramref name="error"/>.</summary>
    public UtpFormatException(UtpParseError error)
        : base($"invalid uTP packet: {error}") => Error = error;

    /// <summary>Creates an exception with a message of its own.</summary>
    public UtpFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an empty exception.</summary>
    public UtpFormatException()
        : base("invalid uTP packet")
    {
    }

    /// <summary>Creates an exception with a message and inner exception.</summary>
    public UtpFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>What was wrong.</summary>
    public UtpParseError Error { get; }
}

/// <summary>The fixed 20-byte header of a uTP packet (BEP 29), without its extension chain.</summary>
/// <param name="Type">The packet type.</param>
/// <param name="ConnectionId">The connection id (the receiver's receive id; a SYN's is the initiator's).</param>
/// <param name="TimestampMicroseconds">The sender's clock when it sent the packet, in microseconds (wrapping).</param>
/// <param name="TimestampDifferenceMicroseconds">The sender's clock minus the timestamp of the last packet it received (the one-way delay plus clock offset).</param>
/// <param name="WindowSize">Bytes the sender can still receive (its advertised receive window).</param>
/// <param name="SequenceNumber">This packet's sequence number (a state packet carries the next one without using it).</param>
/// <param name="AckNumber">The last sequence number the sender received in order.</param>
public readonly record struct UtpHeader(
    UtpPacketType Type,
    ushort ConnectionId,
    uint TimestampMicroseconds,
    uint TimestampDifferenceMicroseconds,
    uint WindowSize,
    ushort SequenceNumber,
    ushort AckNumber)
{
    /// <summary>Bytes of the fixed header.</summary>
    public const int Length = 20;

    /// <summary>The protocol version this codec speaks (BEP 29: 1).</summary>
    public const int Version = 1;

    /// <summary>Writes the header with <paramref name="firstExtension"/> as the start of the extension chain (0 for none).</summary>
    public void WriteTo(Span<byte> destination, byte firstExtension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Length);
        destination[0] = (byte)(((int)Type << 4) | Version);
        destination[1] = firstExtension;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], ConnectionId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], TimestampMicroseconds);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], TimestampDifferenceMicroseconds);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], WindowSize);
        BinaryPrimitives.WriteUInt16BigEndian(destination[16..], SequenceNumber);
        BinaryPrimitives.WriteUInt16BigEndian(destination[18..], AckNumber);
    }
}

/// <summary>
/// One parsed uTP packet (BEP 29): its header, the selective-ACK bitmask if it had one, PeerNet's large-datagram
/// offer if it had one, and the payload, as slices of the datagram. Extensions other than those two are skipped.
/// </summary>
public readonly ref struct UtpPacket
{
    /// <summary>Extension type of the selective ACK (BEP 29).</summary>
    public const byte SelectiveAckExtension = 1;

    /// <summary>
    /// Extension type of PeerNet's large-datagram offer: 4 bytes, big-endian, the largest uTP datagram the sender can
    /// receive. Other implementations skip unknown extensions (BEP 29's chain says how long each one is) when they are
    /// not first: libutp drops a packet whose first extension is not 0, 1 or 2, so <see cref="Write"/> never puts it first.
    /// </summary>
    public const byte MaxDatagramExtension = 0x50;

    /// <summary>
    /// Extension type of libutp's extension bits: 8 bytes, all 0 from PeerNet. Written first, before a large-datagram
    /// offer that follows no selective ACK, because libutp (BitTorrent Inc.'s uTP, in µTorrent, Transmission and
    /// WebTorrent's utp-native) takes a packet whose first extension type is 3 or more for another protocol and drops
    /// it; libutp requires it to be 8 bytes long, and libtorrent and PeerNet skip it.
    /// </summary>
    public const byte ExtensionBitsExtension = 2;

    /// <summary>Length of <see cref="ExtensionBitsExtension"/>'s body.</summary>
    public const int ExtensionBitsLength = 8;

    /// <summary>Most extensions read in one packet; a longer chain is refused.</summary>
    public const int MaxExtensions = 8;

    /// <summary>Longest selective-ACK bitmask accepted (bytes): 1,024 packets past the ack.</summary>
    public const int MaxSelectiveAckBytes = 128;

    /// <summary>Smallest datagram size a large-datagram offer may name (anything lower is not an offer).</summary>
    public const int MinOfferedDatagram = 576;

    /// <summary>Largest UDP payload, the most a large-datagram offer may name.</summary>
    public const int MaxOfferedDatagram = 65_507;

    private UtpPacket(UtpHeader header, ReadOnlySpan<byte> selectiveAck, int maxDatagram, ReadOnlySpan<byte> payload)
    {
        Header = header;
        SelectiveAck = selectiveAck;
        MaxDatagram = maxDatagram;
        Payload = payload;
    }

    /// <summary>The fixed header.</summary>
    public UtpHeader Header { get; }

    /// <summary>The selective-ACK bitmask (bit i of byte i/8, least significant first, stands for ack_nr + 2 + i), or empty.</summary>
    public ReadOnlySpan<byte> SelectiveAck { get; }

    /// <summary>The largest datagram the sender can receive, from <see cref="MaxDatagramExtension"/>; 0 when it made no offer.</summary>
    public int MaxDatagram { get; }

    /// <summary>The payload after the header and extensions.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>Whether a datagram starts like a uTP packet (version 1, type 0-4): how a shared UDP port tells uTP apart.</summary>
    public static bool LooksLikeUtp(ReadOnlySpan<byte> datagram) => datagram.Length >= UtpHeader.Length && (datagram[0] & 0x0F) == UtpHeader.Version && datagram[0] >> 4 <= (int)UtpPacketType.Syn;

    /// <summary>Parses <paramref name="datagram"/> strictly; never throws.</summary>
    public static UtpParseError TryParse(ReadOnlySpan<byte> datagram, out UtpPacket packet)
    {
        packet = default;
        if (datagram.Length < UtpHeader.Length)
        {
            return UtpParseError.TooShort;
        }

        if ((datagram[0] & 0x0F) != UtpHeader.Version)
        {
            return UtpParseError.BadVersion;
        }

        int type = datagram[0] >> 4;
        if (type > (int)UtpPacketType.Syn)
        {
            return UtpParseError.BadType;
        }

        var header = new UtpHeader(
            (UtpPacketType)type,
            BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(datagram[12..]),
            BinaryPrimitives.ReadUInt16BigEndian(datagram[16..]),
            BinaryPrimitives.ReadUInt16BigEndian(datagram[18..]));

        int position = UtpHeader.Length;
        byte extension = datagram[1];
        ReadOnlySpan<byte> sack = default;
        bool hasSack = false;
        int maxDatagram = 0;
        for (int count = 0; extension != 0; count++)
        {
            if (count == MaxExtensions)
            {
                return UtpParseError.TooManyExtensions;
            }

            if (datagram.Length - position < 2)
            {
                return UtpParseError.TruncatedExtension;
            }

            byte next = datagram[position];
            int length = datagram[position + 1];
            position += 2;
            if (datagram.Length - position < length)
            {
                return UtpParseError.TruncatedExtension;
            }

            ReadOnlySpan<byte> body = datagram.Slice(position, length);
            switch (extension)
            {
                case SelectiveAckExtension:
                    // BEP 29 asks for a multiple of 4 bytes, and that is what Write makes; libtorrent sends any length from
                    // 1 to 32 (as many bytes as its reorder buffer spans), so any length up to the limit is read.
                    if (hasSack || length == 0 || length > MaxSelectiveAckBytes)
                    {
                        return UtpParseError.BadSelectiveAck;
                    }

                    hasSack = true;
                    sack = body;
                    break;
                case MaxDatagramExtension:
                    if (maxDatagram != 0 || length != 4)
                    {
                        return UtpParseError.BadMaxDatagram;
                    }

                    uint offered = BinaryPrimitives.ReadUInt32BigEndian(body);
                    if (offered is < MinOfferedDatagram or > MaxOfferedDatagram)
                    {
                        return UtpParseError.BadMaxDatagram;
                    }

                    maxDatagram = (int)offered;
                    break;
                default:
                    break; // unknown: skipped, its length says how far
            }

            position += length;
            extension = next;
        }

        ReadOnlySpan<byte> payload = datagram[position..];
        if (!payload.IsEmpty && header.Type is UtpPacketType.State or UtpPacketType.Reset or UtpPacketType.Syn)
        {
            return UtpParseError.UnexpectedPayload;
        }

        packet = new UtpPacket(header, sack, maxDatagram, payload);
        return UtpParseError.None;
    }

    /// <summary>Parses <paramref name="datagram"/> strictly.</summary>
    /// <exception cref="UtpFormatException">It is not a valid uTP packet.</exception>
    public static UtpPacket Parse(ReadOnlySpan<byte> datagram)
    {
        UtpParseError error = TryParse(datagram, out UtpPacket packet);
        return error == UtpParseError.None ? packet : throw new UtpFormatException(error);
    }

    /// <summary>Bytes <see cref="Write"/> needs for these parts.</summary>
    public static int GetLength(int selectiveAckBytes, bool offerMaxDatagram, int payloadBytes)
        => UtpHeader.Length + (selectiveAckBytes > 0 ? 2 + selectiveAckBytes : 0)
            + (offerMaxDatagram ? 6 + (selectiveAckBytes > 0 ? 0 : 2 + ExtensionBitsLength) : 0) + payloadBytes;

    /// <summary>
    /// Writes a packet: <paramref name="header"/>, then a selective ACK if <paramref name="selectiveAck"/> is not empty
    /// (a multiple of 4 bytes, at most <see cref="MaxSelectiveAckBytes"/>), then the large-datagram offer if
    /// <paramref name="maxDatagram"/> is not 0 (after 8 zero extension bits when there is no selective ACK, so that the
    /// first extension is one libutp knows), then <paramref name="payload"/>. Returns the bytes written.
    /// </summary>
    public static int Write(Span<byte> destination, in UtpHeader header, ReadOnlySpan<byte> selectiveAck, int maxDatagram, ReadOnlySpan<byte> payload)
    {
        if (!selectiveAck.IsEmpty && (selectiveAck.Length % 4 != 0 || selectiveAck.Length > MaxSelectiveAckBytes))
        {
            throw new ArgumentException("a selective ACK is a multiple of 4 bytes, at most 128", nameof(selectiveAck));
        }

        if (maxDatagram != 0 && maxDatagram is < MinOfferedDatagram or > MaxOfferedDatagram)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDatagram), maxDatagram, "not a datagram size one may offer");
        }

        int length = GetLength(selectiveAck.Length, maxDatagram != 0, payload.Length);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, length);
        byte first = !selectiveAck.IsEmpty ? SelectiveAckExtension : maxDatagram != 0 ? ExtensionBitsExtension : (byte)0;
        header.WriteTo(destination, first);
        int position = UtpHeader.Length;
        if (first == ExtensionBitsExtension)
        {
            destination[position] = MaxDatagramExtension;
            destination[position + 1] = ExtensionBitsLength;
            destination.Slice(position + 2, ExtensionBitsLength).Clear();
            position += 2 + ExtensionBitsLength;
        }

        if (!selectiveAck.IsEmpty)
        {
            destination[position] = maxDatagram != 0 ? MaxDatagramExtension : (byte)0;
            destination[position + 1] = (byte)selectiveAck.Length;
            selectiveAck.CopyTo(destination[(position + 2)..]);
            position += 2 + selectiveAck.Length;
        }

        if (maxDatagram != 0)
        {
            destination[position] = 0;
            destination[position + 1] = 4;
            BinaryPrimitives.WriteUInt32BigEndian(destination[(position + 2)..], (uint)maxDatagram);
            position += 6;
        }

        payload.CopyTo(destination[position..]);
        return position + payload.Length;
    }
}

/// <summary>uTP's 16-bit sequence and ack numbers wrap: comparisons and distances modulo 2^16.</summary>
public static class UtpSequence
{
    /// <summary>Whether <paramref name="a"/> comes before <paramref name="b"/> (within half the number space).</summary>
    public static bool IsBefore(ushort a, ushort b) => a != b && (ushort)(b - a) < 0x8000;

    /// <summary>Steps from <paramref name="from"/> forward to <paramref name="to"/> (0 to 65,535).</summary>
    public static int Distance(ushort from, ushort to) => (ushort)(to - from);

    /// <summary>Whether <paramref name="a"/> is after <paramref name="b"/>, or the same.</summary>
    public static bool IsAtOrAfter(ushort a, ushort b) => !IsBefore(a, b);
}
