using System.Buffers;
using PeerNet.Bencode;

namespace PeerNet.PeerWire;

/// <summary>
/// A BEP 9 ut_metadata message: a bencoded <c>{msg_type, piece[, total_size]}</c> dictionary, followed for
/// data messages by the raw piece bytes. The metadata (the info dictionary) travels in 16 KiB pieces; every
/// piece but the last is exactly 16 KiB, which parsing checks.
/// </summary>
internal readonly struct MetadataMessage
{
    /// <summary>Size of every metadata piece but the last.</summary>
    public const int PieceLength = 16 * 1024;

    /// <summary>Most metadata pieces: <see cref="ExtensionHandshake.MaxMetadataSize"/> / 16 KiB.</summary>
    public const int MaxPieces = ExtensionHandshake.MaxMetadataSize / PieceLength;

    /// <summary>
    /// Longest dictionary accepted before the data. A real one is under 60 bytes; the bound keeps the
    /// dictionary parse small and independent of how the payload is segmented.
    /// </summary>
    public const int MaxHeaderLength = 512;

    private MetadataMessage(MetadataMessageType type, int piece, int totalSize, ReadOnlySequence<byte> data)
    {
        Type = type;
        Piece = piece;
        TotalSize = totalSize;
        Data = data;
    }

    /// <summary>Request, data, reject, or unknown (to be ignored).</summary>
    public MetadataMessageType Type { get; }

    /// <summary>The zero-based piece index (0 for an unknown type).</summary>
    public int Piece { get; }

    /// <summary>For data: the size of the whole metadata; otherwise 0.</summary>
    public int TotalSize { get; }

    /// <summary>For data: the piece's bytes, a slice of the payload; otherwise empty.</summary>
    public ReadOnlySequence<byte> Data { get; }

    /// <summary>Number of pieces metadata of <paramref name="totalSize"/> bytes is split into.</summary>
    public static int GetPieceCount(int totalSize) => (int)(((long)totalSize + PieceLength - 1) / PieceLength);

    /// <summary>Length of piece <paramref name="piece"/> of metadata of <paramref name="totalSize"/> bytes.</summary>
    public static int GetPieceLength(int totalSize, int piece) => Math.Min(PieceLength, totalSize - (piece * PieceLength));

    /// <summary>Parses the payload of a ut_metadata extended message (after the extended id byte).</summary>
    public static bool TryParse(in ReadOnlySequence<byte> payload, out MetadataMessage message, out PeerWireError error)
    {
        message = default;

        // Only the dictionary is made contiguous, never the piece data that follows it.
        int window = (int)Math.Min(payload.Length, MaxHeaderLength);
        ReadOnlyMemory<byte> head = SequenceReading.Contiguous(payload.Slice(0, window), out byte[]? rented);
        try
        {
            if (!ExtensionPayload.TryParseDictionary(head, out BencodeDocument? document, out int consumed, out error))
            {
                return false;
            }

            using (document)
            {
                return TryRead(document.Root, payload.Slice(consumed), out message, out error);
            }
        }
        finally
        {
            SequenceReading.Return(rented);
        }
    }

    /// <summary>Writes a whole request message (length prefix, id 20, <paramref name="extendedId"/>, dictionary).</summary>
    public static void WriteRequest(IBufferWriter<byte> output, byte extendedId, int piece) =>
        Write(output, extendedId, MetadataMessageType.Request, piece, 0, default);

    /// <summary>Writes a whole reject message.</summary>
    public static void WriteReject(IBufferWriter<byte> output, byte extendedId, int piece) =>
        Write(output, extendedId, MetadataMessageType.Reject, piece, 0, default);

    /// <summary>Writes a whole data message: the dictionary with <c>total_size</c>, then <paramref name="data"/>.</summary>
    public static void WriteData(IBufferWriter<byte> output, byte extendedId, int piece, int totalSize, ReadOnlySpan<byte> data)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(totalSize, ExtensionHandshake.MaxMetadataSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(piece, GetPieceCount(totalSize));
        if (data.Length != GetPieceLength(totalSize, piece))
        {
            ThrowHelper.ThrowArgument(nameof(data), "Metadata piece data must be exactly the piece's length.");
        }

        Write(output, extendedId, MetadataMessageType.Data, piece, totalSize, data);
    }

    private static bool TryRead(BencodeNode root, ReadOnlySequence<byte> rest, out MetadataMessage message, out PeerWireError error)
    {
        message = default;
        error = PeerWireError.None;
        if (!root["msg_type"u8].TryGetInt64(out long type))
        {
            error = PeerWireError.MetadataMessageInvalid;
            return false;
        }

        if (type is < 0 or > 2)
        {
            message = new MetadataMessage(MetadataMessageType.Unknown, 0, 0, default);
            return true;
        }

        if (!root["piece"u8].TryGetInt64(out long piece))
        {
            error = PeerWireError.MetadataMessageInvalid;
            return false;
        }

        if (piece is < 0 or >= MaxPieces)
        {
            error = PeerWireError.MetadataPieceOutOfRange;
            return false;
        }

        if (type != (long)MetadataMessageType.Data)
        {
            // Anything after a request's or reject's dictionary carries no meaning; ignore it.
            message = new MetadataMessage((MetadataMessageType)type, (int)piece, 0, default);
            return true;
        }

        if (!root["total_size"u8].TryGetInt64(out long totalSize))
        {
            error = PeerWireError.MetadataMessageInvalid;
            return false;
        }

        if (totalSize is < 1 or > ExtensionHandshake.MaxMetadataSize)
        {
            error = PeerWireError.MetadataSizeOutOfRange;
            return false;
        }

        if (piece >= GetPieceCount((int)totalSize))
        {
            error = PeerWireError.MetadataPieceOutOfRange;
            return false;
        }

        // BEP 9: "If it is not the last piece of the metadata, it MUST be 16kiB"; the last holds the remainder.
        if (rest.Length != GetPieceLength((int)totalSize, (int)piece))
        {
            error = PeerWireError.MetadataPieceWrongLength;
            return false;
        }

        message = new MetadataMessage(MetadataMessageType.Data, (int)piece, (int)totalSize, rest);
        return true;
    }

    private static void Write(IBufferWriter<byte> output, byte extendedId, MetadataMessageType type, int piece, int totalSize, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        using var dictionary = new PooledBufferWriter(64);
        var w = new BencodeWriter(dictionary);
        w.WriteDictionaryStart();
        w.WriteString("msg_type"u8);
        w.WriteInteger((int)type);
        w.WriteString("piece"u8);
        w.WriteInteger(piece);
        if (type == MetadataMessageType.Data)
        {
            w.WriteString("total_size"u8);
            w.WriteInteger(totalSize);
        }

        w.WriteEnd();
        int headerLength = dictionary.WrittenSpan.Length;
        Span<byte> span = output.GetSpan(PeerMessageWriter.ExtendedHeaderLength + headerLength + data.Length);
        PeerMessageWriter.WriteExtendedHeader(span, extendedId, headerLength + data.Length);
        dictionary.WrittenSpan.CopyTo(span[PeerMessageWriter.ExtendedHeaderLength..]);
        data.CopyTo(span[(PeerMessageWriter.ExtendedHeaderLength + headerLength)..]);
        output.Advance(PeerMessageWriter.ExtendedHeaderLength + headerLength + data.Length);
    }
}
