using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace PeerNet.PeerWire;

/// <summary>
/// Encodes peer-wire messages, length prefix included. Fixed-size messages are written into a caller's span
/// (the <c>…Length</c> constants say how much room each needs) and return the bytes written; the stateless
/// ones are preencoded singletons. Large payloads (a piece's block, an extension payload) are never copied
/// through here: write the header, then hand the payload to the transport as it is.
/// </summary>
internal static class PeerMessageWriter
{
    /// <summary>Size of a keep-alive.</summary>
    public const int KeepAliveLength = 4;

    /// <summary>Size of a message without payload (choke, unchoke, interested, not interested, have all, have none).</summary>
    public const int EmptyMessageLength = 5;

    /// <summary>Size of have, suggest and allowed fast.</summary>
    public const int HaveLength = 9;

    /// <summary>Size of request, cancel and reject.</summary>
    public const int RequestLength = 17;

    /// <summary>Size of a piece message's header, before its block.</summary>
    public const int PieceHeaderLength = 13;

    /// <summary>Size of port.</summary>
    public const int PortLength = 7;

    /// <summary>Size of an extended message's header (prefix, id 20, extended id), before its payload.</summary>
    public const int ExtendedHeaderLength = 6;

    /// <summary>Size of a bitfield message's header, before its bits.</summary>
    public const int BitfieldHeaderLength = 5;

    /// <summary>Size of hash request and hash reject; also of a hashes message's header, before its hashes.</summary>
    public const int HashRequestLength = 5 + HashRequest.WireLength;

    /// <summary>Keep-alive: a zero length prefix.</summary>
    public static readonly ReadOnlyMemory<byte> KeepAlive = new byte[] { 0, 0, 0, 0 };

    /// <summary>Choke.</summary>
    public static readonly ReadOnlyMemory<byte> Choke = Empty(PeerMessageId.Choke);

    /// <summary>Unchoke.</summary>
    public static readonly ReadOnlyMemory<byte> Unchoke = Empty(PeerMessageId.Unchoke);

    /// <summary>Interested.</summary>
    public static readonly ReadOnlyMemory<byte> Interested = Empty(PeerMessageId.Interested);

    /// <summary>Not interested.</summary>
    public static readonly ReadOnlyMemory<byte> NotInterested = Empty(PeerMessageId.NotInterested);

    /// <summary>BEP 6 have all.</summary>
    public static readonly ReadOnlyMemory<byte> HaveAll = Empty(PeerMessageId.HaveAll);

    /// <summary>BEP 6 have none.</summary>
    public static readonly ReadOnlyMemory<byte> HaveNone = Empty(PeerMessageId.HaveNone);

    /// <summary>Writes <c>have</c>; returns <see cref="HaveLength"/>.</summary>
    public static int WriteHave(Span<byte> destination, int pieceIndex) => WriteIndex(destination, PeerMessageId.Have, pieceIndex);

    /// <summary>Writes BEP 6 <c>suggest piece</c>; returns <see cref="HaveLength"/>.</summary>
    public static int WriteSuggest(Span<byte> destination, int pieceIndex) => WriteIndex(destination, PeerMessageId.Suggest, pieceIndex);

    /// <summary>Writes BEP 6 <c>allowed fast</c>; returns <see cref="HaveLength"/>.</summary>
    public static int WriteAllowedFast(Span<byte> destination, int pieceIndex) => WriteIndex(destination, PeerMessageId.AllowedFast, pieceIndex);

    /// <summary>Writes <c>request</c>; returns <see cref="RequestLength"/>.</summary>
    public static int WriteRequest(Span<byte> destination, BlockRequest request) => WriteBlock(destination, PeerMessageId.Request, request);

    /// <summary>Writes <c>cancel</c>; returns <see cref="RequestLength"/>.</summary>
    public static int WriteCancel(Span<byte> destination, BlockRequest request) => WriteBlock(destination, PeerMessageId.Cancel, request);

    /// <summary>Writes BEP 6 <c>reject request</c>; returns <see cref="RequestLength"/>.</summary>
    public static int WriteReject(Span<byte> destination, BlockRequest request) => WriteBlock(destination, PeerMessageId.Reject, request);

    /// <summary>
    /// Writes the 13-byte header of a <c>piece</c> message carrying <paramref name="blockLength"/> bytes; the
    /// block itself follows from wherever it lives (a disk buffer), uncopied. Returns <see cref="PieceHeaderLength"/>.
    /// </summary>
    public static int WritePieceHeader(Span<byte> destination, int pieceIndex, int begin, int blockLength)
    {
        EnsureRoom(destination, PieceHeaderLength);
        ArgumentOutOfRangeException.ThrowIfNegative(pieceIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(begin);
        ArgumentOutOfRangeException.ThrowIfNegative(blockLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockLength, int.MaxValue - 9);
        WriteHeader(destination, 9 + blockLength, PeerMessageId.Piece);
        BinaryPrimitives.WriteInt32BigEndian(destination[5..], pieceIndex);
        BinaryPrimitives.WriteInt32BigEndian(destination[9..], begin);
        return PieceHeaderLength;
    }

    /// <summary>Writes BEP 5 <c>port</c>; returns <see cref="PortLength"/>.</summary>
    public static int WritePort(Span<byte> destination, ushort port)
    {
        EnsureRoom(destination, PortLength);
        WriteHeader(destination, 3, PeerMessageId.Port);
        BinaryPrimitives.WriteUInt16BigEndian(destination[5..], port);
        return PortLength;
    }

    /// <summary>Writes the 5-byte header of a bitfield of <paramref name="bitsLength"/> bytes; returns <see cref="BitfieldHeaderLength"/>.</summary>
    public static int WriteBitfieldHeader(Span<byte> destination, int bitsLength)
    {
        EnsureRoom(destination, BitfieldHeaderLength);
        ArgumentOutOfRangeException.ThrowIfNegative(bitsLength);
        ArgumentOutOfRangeException.ThrowIfEqual(bitsLength, int.MaxValue);
        WriteHeader(destination, 1 + bitsLength, PeerMessageId.Bitfield);
        return BitfieldHeaderLength;
    }

    /// <summary>Writes a <c>bitfield</c> message with already-encoded bits.</summary>
    public static void WriteBitfield(IBufferWriter<byte> output, ReadOnlySpan<byte> bits)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> span = output.GetSpan(BitfieldHeaderLength + bits.Length);
        WriteBitfieldHeader(span, bits.Length);
        bits.CopyTo(span[BitfieldHeaderLength..]);
        output.Advance(BitfieldHeaderLength + bits.Length);
    }

    /// <summary>Writes a <c>bitfield</c> message, encoding <paramref name="bitfield"/> straight into the output.</summary>
    public static void WriteBitfield(IBufferWriter<byte> output, Bitfield bitfield)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(bitfield);
        int bitsLength = bitfield.WireLength;
        Span<byte> span = output.GetSpan(BitfieldHeaderLength + bitsLength);
        WriteBitfieldHeader(span, bitsLength);
        bitfield.WriteWire(span[BitfieldHeaderLength..]);
        output.Advance(BitfieldHeaderLength + bitsLength);
    }

    /// <summary>
    /// Writes the 6-byte header of a BEP 10 <c>extended</c> message whose payload (after the extended id) is
    /// <paramref name="payloadLength"/> bytes; returns <see cref="ExtendedHeaderLength"/>.
    /// </summary>
    public static int WriteExtendedHeader(Span<byte> destination, byte extendedId, int payloadLength)
    {
        EnsureRoom(destination, ExtendedHeaderLength);
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payloadLength, int.MaxValue - 2);
        WriteHeader(destination, 2 + payloadLength, PeerMessageId.Extended);
        destination[5] = extendedId;
        return ExtendedHeaderLength;
    }

    /// <summary>Writes a whole BEP 10 <c>extended</c> message: header, then <paramref name="payload"/> (bencode and any raw tail).</summary>
    public static void WriteExtended(IBufferWriter<byte> output, byte extendedId, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> span = output.GetSpan(ExtendedHeaderLength + payload.Length);
        WriteExtendedHeader(span, extendedId, payload.Length);
        payload.CopyTo(span[ExtendedHeaderLength..]);
        output.Advance(ExtendedHeaderLength + payload.Length);
    }

    /// <summary>Writes BEP 52 <c>hash request</c>; returns <see cref="HashRequestLength"/>.</summary>
    public static int WriteHashRequest(Span<byte> destination, in HashRequest request) => WriteHashFields(destination, PeerMessageId.HashRequest, request, 0);

    /// <summary>Writes BEP 52 <c>hash reject</c>; returns <see cref="HashRequestLength"/>.</summary>
    public static int WriteHashReject(Span<byte> destination, in HashRequest request) => WriteHashFields(destination, PeerMessageId.HashReject, request, 0);

    /// <summary>
    /// Writes the header of a BEP 52 <c>hashes</c> message that will carry <paramref name="hashCount"/>
    /// 32-byte hashes (the requested ones, then the proof); returns <see cref="HashRequestLength"/>.
    /// </summary>
    public static int WriteHashesHeader(Span<byte> destination, in HashRequest request, int hashCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(hashCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hashCount, (int.MaxValue - HashRequestLength) / Sha256Hash.Length);
        return WriteHashFields(destination, PeerMessageId.Hashes, request, hashCount * Sha256Hash.Length);
    }

    /// <summary>Writes a whole BEP 52 <c>hashes</c> message.</summary>
    public static void WriteHashes(IBufferWriter<byte> output, in HashRequest request, ReadOnlySpan<Sha256Hash> hashes)
    {
        ArgumentNullException.ThrowIfNull(output);
        int total = HashRequestLength + (hashes.Length * Sha256Hash.Length);
        Span<byte> span = output.GetSpan(total);
        WriteHashesHeader(span, request, hashes.Length);
        Span<byte> rest = span[HashRequestLength..];
        foreach (Sha256Hash hash in hashes)
        {
            hash.CopyTo(rest);
            rest = rest[Sha256Hash.Length..];
        }

        output.Advance(total);
    }

    private static byte[] Empty(PeerMessageId id) => [0, 0, 0, 1, (byte)id];

    private static int WriteIndex(Span<byte> destination, PeerMessageId id, int pieceIndex)
    {
        EnsureRoom(destination, HaveLength);
        ArgumentOutOfRangeException.ThrowIfNegative(pieceIndex);
        WriteHeader(destination, 5, id);
        BinaryPrimitives.WriteInt32BigEndian(destination[5..], pieceIndex);
        return HaveLength;
    }

    private static int WriteBlock(Span<byte> destination, PeerMessageId id, BlockRequest request)
    {
        EnsureRoom(destination, RequestLength);
        ArgumentOutOfRangeException.ThrowIfNegative(request.PieceIndex, nameof(request));
        ArgumentOutOfRangeException.ThrowIfNegative(request.Begin, nameof(request));
        ArgumentOutOfRangeException.ThrowIfNegative(request.Length, nameof(request));
        WriteHeader(destination, 13, id);
        BinaryPrimitives.WriteInt32BigEndian(destination[5..], request.PieceIndex);
        BinaryPrimitives.WriteInt32BigEndian(destination[9..], request.Begin);
        BinaryPrimitives.WriteInt32BigEndian(destination[13..], request.Length);
        return RequestLength;
    }

    private static int WriteHashFields(Span<byte> destination, PeerMessageId id, in HashRequest request, int extraLength)
    {
        EnsureRoom(destination, HashRequestLength);
        ArgumentOutOfRangeException.ThrowIfNegative(request.BaseLayer, nameof(request));
        ArgumentOutOfRangeException.ThrowIfNegative(request.Index, nameof(request));
        ArgumentOutOfRangeException.ThrowIfNegative(request.Length, nameof(request));
        ArgumentOutOfRangeException.ThrowIfNegative(request.ProofLayers, nameof(request));
        WriteHeader(destination, 1 + HashRequest.WireLength + extraLength, id);
        request.PiecesRoot.CopyTo(destination[5..]);
        Span<byte> fields = destination[(5 + Sha256Hash.Length)..];
        BinaryPrimitives.WriteInt32BigEndian(fields, request.BaseLayer);
        BinaryPrimitives.WriteInt32BigEndian(fields[4..], request.Index);
        BinaryPrimitives.WriteInt32BigEndian(fields[8..], request.Length);
        BinaryPrimitives.WriteInt32BigEndian(fields[12..], request.ProofLayers);
        return HashRequestLength;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteHeader(Span<byte> destination, int length, PeerMessageId id)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, length);
        destination[4] = (byte)id;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EnsureRoom(Span<byte> destination, int needed)
    {
        if (destination.Length < needed)
        {
            ThrowHelper.ThrowArgument(nameof(destination), "The destination is too small for the message.");
        }
    }
}
