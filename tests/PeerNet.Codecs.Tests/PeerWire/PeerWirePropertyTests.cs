using System.Buffers;
using System.Buffers.Binary;
using CsCheck;
using PeerNet.PeerWire;

namespace PeerNet.Codecs.Tests.PeerWire;

/// <summary>
/// Random message sequences, encoded back to back and delivered in random pieces as a PipeReader would: the
/// reader must see every message, in order, whatever the segmentation and however it arrives.
/// </summary>
public sealed class PeerWirePropertyTests
{
    private static readonly Gen<int> Index = Gen.Int[0, int.MaxValue];
    private static readonly Gen<byte[]> Bytes = Gen.Byte.Array[0, 40];

    private static readonly Gen<(byte[] Bytes, string Text)> AnyMessage = Gen.OneOf(
        Gen.OneOf(
            Gen.Const((PeerMessageWriter.KeepAlive.ToArray(), "KeepAlive")),
            Gen.Const((PeerMessageWriter.Choke.ToArray(), "Choke")),
            Gen.Const((PeerMessageWriter.Unchoke.ToArray(), "Unchoke")),
            Gen.Const((PeerMessageWriter.Interested.ToArray(), "Interested")),
            Gen.Const((PeerMessageWriter.NotInterested.ToArray(), "NotInterested")),
            Gen.Const((PeerMessageWriter.HaveAll.ToArray(), "HaveAll")),
            Gen.Const((PeerMessageWriter.HaveNone.ToArray(), "HaveNone"))),
        Index.Select(i => (Fixed(9, b => PeerMessageWriter.WriteHave(b, i)), $"Have {i}")),
        Index.Select(i => (Fixed(9, b => PeerMessageWriter.WriteSuggest(b, i)), $"Suggest {i}")),
        Index.Select(i => (Fixed(9, b => PeerMessageWriter.WriteAllowedFast(b, i)), $"AllowedFast {i}")),
        Gen.Select(Index, Index, Index, Gen.Int[0, 2], (i, b, l, kind) =>
        {
            var request = new BlockRequest(i, b, l);
            return kind switch
            {
                0 => (Fixed(17, s => PeerMessageWriter.WriteRequest(s, request)), $"Request {i} {b} {l}"),
                1 => (Fixed(17, s => PeerMessageWriter.WriteCancel(s, request)), $"Cancel {i} {b} {l}"),
                _ => (Fixed(17, s => PeerMessageWriter.WriteReject(s, request)), $"Reject {i} {b} {l}"),
            };
        }),
        Gen.Select(Index, Index, Bytes, (i, b, block) =>
            ((byte[])[.. Fixed(13, s => PeerMessageWriter.WritePieceHeader(s, i, b, block.Length)), .. block],
             $"Piece {i} {b} {block.Length} {Convert.ToHexStringLower(block)}")),
        Bytes.Select(bits => (Buffered(o => PeerMessageWriter.WriteBitfield(o, bits)), $"Bitfield {Convert.ToHexStringLower(bits)}")),
        Gen.UShort.Select(p => (Fixed(7, b => PeerMessageWriter.WritePort(b, p)), $"Port {p}")),
        Gen.Select(Gen.Byte, Bytes, (id, payload) =>
            (Buffered(o => PeerMessageWriter.WriteExtended(o, id, payload)), $"Extended {id} {Convert.ToHexStringLower(payload)}")),
        Gen.Select(Gen.Byte.Array[32], Index, Index, Gen.Int[0, 3], (root, b, i, n) =>
        {
            var request = new HashRequest(new Sha256Hash(root), b & 31, i, n, n);
            string fields = MessageText.Hash(request);
            Sha256Hash[] hashes = [.. Enumerable.Range(0, n).Select(k => Sha256Hash.Compute([(byte)k]))];
            return (n % 3) switch
            {
                0 => (Fixed(53, s => PeerMessageWriter.WriteHashRequest(s, request)), $"HashRequest {fields}"),
                1 => (Fixed(53, s => PeerMessageWriter.WriteHashReject(s, request)), $"HashReject {fields}"),
                _ => (Buffered(o => PeerMessageWriter.WriteHashes(o, request, hashes)),
                      $"Hashes {fields} {n} {string.Concat(hashes.Select(h => h.ToString()))}"),
            };
        }),
        Gen.Select(Gen.Byte[24, 255], Bytes, (id, payload) =>
        {
            var bytes = new byte[5 + payload.Length];
            BinaryPrimitives.WriteInt32BigEndian(bytes, 1 + payload.Length);
            bytes[4] = id;
            payload.CopyTo(bytes, 5);
            return (bytes, $"Unknown {id} {Convert.ToHexStringLower(payload)}");
        }));

    [Fact]
    public void RandomSequences_RandomlySegmented_ParseToTheSameMessages()
    {
        Gen<((byte[] Bytes, string Text)[] Messages, int[] Cuts)> gen =
            from messages in AnyMessage.Array[0, 12]
            let length = messages.Sum(m => m.Bytes.Length)
            from cuts in Gen.Int[0, length].Array[0, 16]
            select (messages, cuts);

        gen.Sample(t =>
        {
            byte[] data = [.. t.Messages.SelectMany(m => m.Bytes)];
            int[] cuts = [.. t.Cuts.Order()];
            ReadOnlySequence<byte> all = Segments.Split(data, cuts);

            // Deliver the stream up to each cut in turn, parsing what has arrived, the way a PipeReader
            // loop sees it: consumed up to the last whole message, the rest examined and kept.
            var seen = new List<string>();
            SequencePosition consumed = all.Start;
            foreach (int arrived in cuts.Append(data.Length))
            {
                ReadOnlySequence<byte> buffer = all.Slice(consumed, all.GetPosition(arrived));
                OperationStatus status;
                PeerWireError error;
                while ((status = PeerFrameReader.TryReadMessage(ref buffer, PeerWireLimits.DefaultMaxMessageLength, out PeerMessage m, out error)) == OperationStatus.Done)
                {
                    seen.Add(MessageText.Describe(m));
                }

                Assert.True(status == OperationStatus.NeedMoreData, $"{status} {error}");
                consumed = buffer.Start;
            }

            Assert.Equal(t.Messages.Select(m => m.Text), seen);
            Assert.Equal(data.Length, all.Slice(all.Start, consumed).Length);
        }, iter: 2000);
    }

    private static byte[] Fixed(int size, Func<byte[], int> write)
    {
        var bytes = new byte[size];
        write(bytes);
        return bytes;
    }

    private static byte[] Buffered(Action<ArrayBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return output.WrittenSpan.ToArray();
    }
}
