using System.Buffers;
using System.Text;
using PeerNet.PeerWire;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="PeerFrameReader"/> and <see cref="PeerMessage.TryParse"/> over a stream of frames (the first
/// input byte picks the message-length limit): every frame consumes its length prefix plus its length, never
/// more than the limit; the buffer is untouched unless a frame is read; <c>TryReadMessage</c> agrees with
/// <c>TryRead</c> + <c>TryParse</c>; every parsed message re-encodes (<see cref="PeerMessageWriter"/>) to its
/// exact frame; and the input in one-byte segments reads the same.
/// </summary>
public static class PeerWireTarget
{
    private static readonly int[] MaxLengths = [PeerWireLimits.BaseMaxMessageLength, PeerWireLimits.DefaultMaxMessageLength, 0, 1, 13, 49];

    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        int max = MaxLengths[data[0] % MaxLengths.Length];
        byte[] stream = data[1..].ToArray();
        string? first = null;
        foreach (ReadOnlySequence<byte> shape in Sequences.Shapes(stream))
        {
            string transcript = Read(shape, max);
            first ??= transcript;
            Check.Equal(first, transcript, "transcript with the input in segments");
        }
    }

    private static string Read(ReadOnlySequence<byte> buffer, int max)
    {
        var transcript = new StringBuilder();
        while (true)
        {
            ReadOnlySequence<byte> before = buffer;
            OperationStatus status = PeerFrameReader.TryRead(ref buffer, max, out PeerFrame frame, out PeerWireError error);
            ReadOnlySequence<byte> again = before;
            OperationStatus messageStatus = PeerFrameReader.TryReadMessage(ref again, max, out PeerMessage message, out PeerWireError messageError);
            if (status != OperationStatus.Done)
            {
                Check.Equal(before.Length, buffer.Length, $"buffer advanced on {status}");
                Check.Equal(status, messageStatus, "TryReadMessage status after a failed TryRead");
                Check.Equal(error, messageError, "TryReadMessage error after a failed TryRead");
                Check.That((status == OperationStatus.InvalidData) == (error != PeerWireError.None), $"{status} with error {error}");
                transcript.Append(status).Append(' ').Append(error);
                return transcript.ToString();
            }

            long consumed = before.Length - buffer.Length;
            Check.Equal(PeerFrameReader.LengthPrefixSize + (long)frame.Length, consumed, "bytes consumed by a frame");
            Check.That(frame.Length <= max, $"a frame of {frame.Length} bytes passed the limit {max}");
            byte[] frameBytes = before.Slice(0, consumed).ToArray();

            bool parsed = PeerMessage.TryParse(frame, out PeerMessage parsedMessage, out PeerWireError parseError);
            Check.Equal(parsed ? OperationStatus.Done : OperationStatus.InvalidData, messageStatus, "TryReadMessage status");
            Check.Equal(parseError, messageError, "TryReadMessage error");
            if (!parsed)
            {
                Check.That(parseError != PeerWireError.None, "refused with no error");
                Check.Equal(before.Length, again.Length, "TryReadMessage advanced on invalid data");
                transcript.Append("invalid ").Append(frame.Id).Append(' ').Append(parseError);
                return transcript.ToString();
            }

            Check.Equal(buffer.Length, again.Length, "TryReadMessage consumed");
            Check.Equal(parsedMessage.Id, message.Id, "TryReadMessage id");
            byte[]? encoded = Encode(parsedMessage);
            if (encoded is not null)
            {
                Check.Bytes(frameBytes, encoded, $"{parsedMessage.Id} re-encoded");
            }
            else
            {
                Check.That(parsedMessage.IsUnknown, $"{parsedMessage.Id} has no encoding");
            }

            transcript.Append(Convert.ToHexString(frameBytes)).Append('|');
        }
    }

    private static byte[]? Encode(in PeerMessage m)
    {
        if (m.IsKeepAlive)
        {
            return PeerMessageWriter.KeepAlive.ToArray();
        }

        if (m.IsUnknown)
        {
            return null;
        }

        var output = new ArrayBufferWriter<byte>();
        Span<byte> span = stackalloc byte[64];
        int n;
        switch (m.Id)
        {
            case PeerMessageId.Choke: return PeerMessageWriter.Choke.ToArray();
            case PeerMessageId.Unchoke: return PeerMessageWriter.Unchoke.ToArray();
            case PeerMessageId.Interested: return PeerMessageWriter.Interested.ToArray();
            case PeerMessageId.NotInterested: return PeerMessageWriter.NotInterested.ToArray();
            case PeerMessageId.HaveAll: return PeerMessageWriter.HaveAll.ToArray();
            case PeerMessageId.HaveNone: return PeerMessageWriter.HaveNone.ToArray();
            case PeerMessageId.Have: n = PeerMessageWriter.WriteHave(span, m.PieceIndex); break;
            case PeerMessageId.Suggest: n = PeerMessageWriter.WriteSuggest(span, m.PieceIndex); break;
            case PeerMessageId.AllowedFast: n = PeerMessageWriter.WriteAllowedFast(span, m.PieceIndex); break;
            case PeerMessageId.Request: n = PeerMessageWriter.WriteRequest(span, m.Block); break;
            case PeerMessageId.Cancel: n = PeerMessageWriter.WriteCancel(span, m.Block); break;
            case PeerMessageId.Reject: n = PeerMessageWriter.WriteReject(span, m.Block); break;
            case PeerMessageId.Port: n = PeerMessageWriter.WritePort(span, m.Port); break;
            case PeerMessageId.HashRequest: n = PeerMessageWriter.WriteHashRequest(span, m.HashRequest); break;
            case PeerMessageId.HashReject: n = PeerMessageWriter.WriteHashReject(span, m.HashRequest); break;
            case PeerMessageId.Bitfield:
                PeerMessageWriter.WriteBitfield(output, m.Payload.ToArray());
                return output.WrittenSpan.ToArray();
            case PeerMessageId.Extended:
                PeerMessageWriter.WriteExtended(output, m.ExtendedId, m.Payload.ToArray());
                return output.WrittenSpan.ToArray();
            case PeerMessageId.Piece:
                Check.Equal((long)m.Length, m.Payload.Length, "piece block length");
                n = PeerMessageWriter.WritePieceHeader(span, m.PieceIndex, m.Begin, m.Length);
                return [.. span[..n], .. m.Payload.ToArray()];
            case PeerMessageId.Hashes:
                Check.Equal((long)m.HashCount * Sha256Hash.Length, m.Payload.Length, "hash count");
                n = PeerMessageWriter.WriteHashesHeader(span, m.HashRequest, m.HashCount);
                return [.. span[..n], .. m.Payload.ToArray()];
            default:
                throw new FuzzInvariantException($"known id {m.Id} not handled by the target");
        }

        return span[..n].ToArray();
    }
}
