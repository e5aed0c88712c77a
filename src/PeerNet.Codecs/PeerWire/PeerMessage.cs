using System.Buffers;
using System.Buffers.Binary;

namespace PeerNet.PeerWire;

/// <summary>
/// A parsed peer-wire message. One struct covers every id so the connection can switch on <see cref="Id"/>
/// without allocating; only the fields the id defines are set. Payload slices point into the receive buffer
/// and are valid until it is advanced.
/// </summary>
internal readonly struct PeerMessage
{
    /// <summary>The message id (when <see cref="IsKeepAlive"/> is false).</summary>
    public PeerMessageId Id { get; private init; }

    /// <summary>True for a keep-alive.</summary>
    public bool IsKeepAlive { get; private init; }

    /// <summary>
    /// True for an id this codec does not know. Not an error: the connection ignores it or drops the peer, per
    /// its policy. <see cref="Payload"/> holds everything after the id.
    /// </summary>
    public bool IsUnknown { get; private init; }

    /// <summary>Piece index: have, suggest, allowed fast, request, cancel, reject, piece.</summary>
    public int PieceIndex { get; private init; }

    /// <summary>Offset within the piece: request, cancel, reject, piece.</summary>
    public int Begin { get; private init; }

    /// <summary>Block length: request, cancel, reject; for piece, the length of the block in <see cref="Payload"/>.</summary>
    public int Length { get; private init; }

    /// <summary>The DHT port of a BEP 5 <c>port</c> message.</summary>
    public ushort Port { get; private init; }

    /// <summary>The extended message id of a BEP 10 <c>extended</c> message (0 = extension handshake).</summary>
    public byte ExtendedId { get; private init; }

    /// <summary>The fields of a BEP 52 hash request, hashes or hash reject message.</summary>
    public HashRequest HashRequest { get; private init; }

    /// <summary>
    /// Variable-length data, as a slice of the receive buffer: the bits of a bitfield, the block of a piece,
    /// the payload of an extended message (after its id), the hashes of a hashes message (32 bytes each), or
    /// everything after the id of an unknown message.
    /// </summary>
    public ReadOnlySequence<byte> Payload { get; private init; }

    /// <summary>The request, cancel or reject fields as one value.</summary>
    public BlockRequest Block => new(PieceIndex, Begin, Length);

    /// <summary>Number of 32-byte hashes in a hashes message's <see cref="Payload"/>.</summary>
    public int HashCount => Id == PeerMessageId.Hashes ? (int)(Payload.Length / Sha256Hash.Length) : 0;

    /// <summary>
    /// Parses a frame, checking the payload length each id requires. Returns false with the reason in
    /// <paramref name="error"/>; <paramref name="message"/> then carries only the id.
    /// </summary>
    public static bool TryParse(in PeerFrame frame, out PeerMessage message, out PeerWireError error)
    {
        error = PeerWireError.None;
        if (frame.IsKeepAlive)
        {
            message = new PeerMessage { IsKeepAlive = true };
            return true;
        }

        PeerMessageId id = frame.Id;
        ReadOnlySequence<byte> payload = frame.Payload;
        long length = payload.Length;
        message = new PeerMessage { Id = id };
        Span<byte> scratch = stackalloc byte[HashRequest.WireLength];
        switch (id)
        {
            case PeerMessageId.Choke:
            case PeerMessageId.Unchoke:
            case PeerMessageId.Interested:
            case PeerMessageId.NotInterested:
            case PeerMessageId.HaveAll:
            case PeerMessageId.HaveNone:
                return length == 0 || Fail(out error, PeerWireError.InvalidMessageLength);

            case PeerMessageId.Have:
            case PeerMessageId.Suggest:
            case PeerMessageId.AllowedFast:
                {
                    if (length != 4)
                    {
                        return Fail(out error, PeerWireError.InvalidMessageLength);
                    }

                    ReadOnlySpan<byte> p = SequenceReading.Head(payload, scratch[..4]);
                    if (!TryReadInt32(p, out int index))
                    {
                        return Fail(out error, PeerWireError.ValueOutOfRange);
                    }

                    message = new PeerMessage { Id = id, PieceIndex = index };
                    return true;
                }

            case PeerMessageId.Bitfield:
                // Its length can only be checked against the piece count, which the metadata gives
                // (Bitfield.TryReadWire); before metadata (a magnet link) the connection keeps the bits.
                message = new PeerMessage { Id = id, Payload = payload };
                return true;

            case PeerMessageId.Request:
            case PeerMessageId.Cancel:
            case PeerMessageId.Reject:
                {
                    if (length != 12)
                    {
                        return Fail(out error, PeerWireError.InvalidMessageLength);
                    }

                    ReadOnlySpan<byte> p = SequenceReading.Head(payload, scratch[..12]);
                    if (!TryReadInt32(p, out int index) || !TryReadInt32(p[4..], out int begin) || !TryReadInt32(p[8..], out int blockLength))
                    {
                        return Fail(out error, PeerWireError.ValueOutOfRange);
                    }

                    message = new PeerMessage { Id = id, PieceIndex = index, Begin = begin, Length = blockLength };
                    return true;
                }

            case PeerMessageId.Piece:
                {
                    if (length < 8)
                    {
                        return Fail(out error, PeerWireError.InvalidMessageLength);
                    }

                    ReadOnlySpan<byte> p = SequenceReading.Head(payload, scratch[..8]);
                    if (!TryReadInt32(p, out int index) || !TryReadInt32(p[4..], out int begin))
                    {
                        return Fail(out error, PeerWireError.ValueOutOfRange);
                    }

                    message = new PeerMessage { Id = id, PieceIndex = index, Begin = begin, Length = (int)(length - 8), Payload = payload.Slice(8) };
                    return true;
                }

            case PeerMessageId.Port:
                if (length != 2)
                {
                    return Fail(out error, PeerWireError.InvalidMessageLength);
                }

                message = new PeerMessage { Id = id, Port = BinaryPrimitives.ReadUInt16BigEndian(SequenceReading.Head(payload, scratch[..2])) };
                return true;

            case PeerMessageId.Extended:
                if (length < 1)
                {
                    return Fail(out error, PeerWireError.InvalidMessageLength);
                }

                message = new PeerMessage { Id = id, ExtendedId = SequenceReading.Head(payload, scratch[..1])[0], Payload = payload.Slice(1) };
                return true;

            case PeerMessageId.HashRequest:
            case PeerMessageId.HashReject:
            case PeerMessageId.Hashes:
                {
                    // BEP 52: hash request and hash reject are exactly the five fields; hashes adds 32 bytes per hash.
                    bool lengthOk = id == PeerMessageId.Hashes
                        ? length >= HashRequest.WireLength && (length - HashRequest.WireLength) % Sha256Hash.Length == 0
                        : length == HashRequest.WireLength;
                    if (!lengthOk)
                    {
                        return Fail(out error, PeerWireError.InvalidMessageLength);
                    }

                    if (!TryReadHashRequest(SequenceReading.Head(payload, scratch), out HashRequest request))
                    {
                        return Fail(out error, PeerWireError.ValueOutOfRange);
                    }

                    message = new PeerMessage
                    {
                        Id = id,
                        HashRequest = request,
                        Payload = id == PeerMessageId.Hashes ? payload.Slice(HashRequest.WireLength) : default,
                    };
                    return true;
                }

            default:
                message = new PeerMessage { Id = id, IsUnknown = true, Payload = payload };
                return true;
        }
    }

    private static bool Fail(out PeerWireError error, PeerWireError reason)
    {
        error = reason;
        return false;
    }

    // The wire carries unsigned 32-bit values; none that a valid torrent needs reaches 2^31 (pieces are capped
    // at 2^24 and piece lengths at 128 MiB), so larger ones are refused rather than wrapped negative.
    private static bool TryReadInt32(ReadOnlySpan<byte> source, out int value)
    {
        uint raw = BinaryPrimitives.ReadUInt32BigEndian(source);
        value = (int)raw;
        return raw <= int.MaxValue;
    }

    private static bool TryReadHashRequest(ReadOnlySpan<byte> p, out HashRequest request)
    {
        request = default;
        ReadOnlySpan<byte> fields = p[Sha256Hash.Length..];
        if (!TryReadInt32(fields, out int baseLayer) || !TryReadInt32(fields[4..], out int index)
            || !TryReadInt32(fields[8..], out int count) || !TryReadInt32(fields[12..], out int proofLayers))
        {
            return false;
        }

        request = new HashRequest(new Sha256Hash(p[..Sha256Hash.Length]), baseLayer, index, count, proofLayers);
        return true;
    }
}
