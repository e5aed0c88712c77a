using System.Buffers;
using Google.Protobuf;
using PeerNet.Grid.Protos;
using PeerNet.Libp2p;

namespace PeerNet.Grid;

/// <summary>
/// The messages of <c>/peernet/store/1.0.0</c>: a varint length then a protobuf <c>StoreRequest</c> or
/// <c>StoreResponse</c> (Grid/Protos/store.proto), each refused over its limit before it is read.
/// </summary>
internal static class GridStoreCodec
{
    /// <summary>The protocol ID.</summary>
    public const string ProtocolId = "/peernet/store/1.0.0";

    /// <summary>The most share bytes one write carries.</summary>
    public const int MaxWriteLength = 256 * 1024;

    /// <summary>The largest request: a write and its fields.</summary>
    public const int MaxRequestLength = MaxWriteLength + 1024;

    /// <summary>The largest answer: blocks (at most a segment and its tag with k = 1) and their proofs.</summary>
    public const int MaxResponseLength = 2 * GridExtensionBlock.MaxSegmentSize + 64 * 1024;

    /// <summary>The most segments one read asks for.</summary>
    public const int MaxSegmentsPerRead = 16;

    public static ReadOnlyMemory<byte> Frame(IMessage message)
    {
        var output = new ArrayBufferWriter<byte>();
        LengthPrefixedMessage.Write(message.ToByteArray(), output);
        return output.WrittenMemory;
    }

    /// <summary>Parses a request body; false with the reason for bytes that are not one, or a storage index that is not 32 bytes.</summary>
    public static bool TryParseRequest(ReadOnlySpan<byte> body, out StoreRequest? request, out string? error)
    {
        request = null;
        try
        {
            request = StoreRequest.Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException e)
        {
            error = $"not a store request ({e.Message})";
            return false;
        }

        ByteString? index = request.KindCase switch
        {
            StoreRequest.KindOneofCase.Allocate => request.Allocate.StorageIndex,
            StoreRequest.KindOneofCase.Write => request.Write.StorageIndex,
            StoreRequest.KindOneofCase.Commit => request.Commit.StorageIndex,
            StoreRequest.KindOneofCase.List => request.List.StorageIndex,
            StoreRequest.KindOneofCase.ReadHeader => request.ReadHeader.StorageIndex,
            StoreRequest.KindOneofCase.ReadBlocks => request.ReadBlocks.StorageIndex,
            StoreRequest.KindOneofCase.Renew => request.Renew.StorageIndex,
            _ => null,
        };
        if (index is null)
        {
            error = "a store request of no known kind";
            request = null;
            return false;
        }

        if (index.Length != GridHashes.Length)
        {
            error = $"a storage index of {index.Length} bytes, not {GridHashes.Length}";
            request = null;
            return false;
        }

        if (request.KindCase == StoreRequest.KindOneofCase.ReadBlocks && request.ReadBlocks.Segments.Count is 0 or > MaxSegmentsPerRead)
        {
            error = $"a read of {request.ReadBlocks.Segments.Count} segments (1..{MaxSegmentsPerRead})";
            request = null;
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Parses an answer body; false with the reason.</summary>
    public static bool TryParseResponse(ReadOnlySpan<byte> body, out StoreResponse? response, out string? error)
    {
        try
        {
            response = StoreResponse.Parser.ParseFrom(body);
            error = null;
            return true;
        }
        catch (InvalidProtocolBufferException e)
        {
            response = null;
            error = $"not a store answer ({e.Message})";
            return false;
        }
    }
}
