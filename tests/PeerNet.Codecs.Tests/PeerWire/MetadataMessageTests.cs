using System.Buffers;
using System.Text;
using PeerNet.PeerWire;

namespace PeerNet.Codecs.Tests.PeerWire;

public sealed class MetadataMessageTests
{
    private static byte[] Ascii(string s) => Encoding.Latin1.GetBytes(s);

    private static string Parse(byte[] payload)
    {
        string? first = null;
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(payload))
        {
            Assert.True(MetadataMessage.TryParse(sequence, out MetadataMessage m, out PeerWireError error), $"{shape} {error}");
            string text = $"{m.Type} {m.Piece} {m.TotalSize} {MessageText.Hex(m.Data)}";
            first ??= text;
            Assert.Equal(first, text);
        }

        return first!;
    }

    private static void Refuse(byte[] payload, PeerWireError expected)
    {
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(payload))
        {
            Assert.False(MetadataMessage.TryParse(sequence, out _, out PeerWireError error), shape);
            Assert.True(expected == error, $"{shape}: {error}");
        }
    }

    /// <summary>Writes a message and checks the frame, returning the ut_metadata payload.</summary>
    private static byte[] Payload(Action<ArrayBufferWriter<byte>> write, byte extendedId)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        byte[] message = output.WrittenSpan.ToArray();
        Assert.StartsWith($"Extended {extendedId} ", PeerFrameReaderTests.ReadOne(message), StringComparison.Ordinal);
        return message[6..];
    }

    [Fact]
    public void Request_RoundTrips()
    {
        byte[] payload = Payload(o => MetadataMessage.WriteRequest(o, 3, 7), 3);
        Assert.Equal("d8:msg_typei0e5:piecei7ee", Encoding.ASCII.GetString(payload));
        Assert.Equal("Request 7 0 ", Parse(payload));
    }

    [Fact]
    public void Reject_RoundTrips()
    {
        Assert.Equal("Reject 2 0 ", Parse(Payload(o => MetadataMessage.WriteReject(o, 3, 2), 3)));
    }

    [Theory]
    [InlineData(40000, 0, 16384)]
    [InlineData(40000, 2, 7232)]
    [InlineData(16384, 0, 16384)]
    [InlineData(1, 0, 1)]
    public void Data_RoundTripsWithTheRawPieceAfterTheDictionary(int totalSize, int piece, int length)
    {
        byte[] data = [.. Enumerable.Range(0, length).Select(i => (byte)(i * 7))];
        byte[] payload = Payload(o => MetadataMessage.WriteData(o, 1, piece, totalSize, data), 1);
        var sequence = new ReadOnlySequence<byte>(payload);
        Assert.True(MetadataMessage.TryParse(sequence, out MetadataMessage m, out _));
        Assert.Equal(MetadataMessageType.Data, m.Type);
        Assert.Equal(piece, m.Piece);
        Assert.Equal(totalSize, m.TotalSize);
        Assert.Equal(data, m.Data.ToArray());
        Assert.Equal(length, MetadataMessage.GetPieceLength(totalSize, piece));
        if (length < 64)
        {
            Assert.Equal($"Data {piece} {totalSize} {Convert.ToHexStringLower(data)}", Parse(payload));
        }
    }

    [Fact]
    public void Data_SplitEverywhere_GivesTheSameBytes()
    {
        byte[] data = [.. Enumerable.Range(0, 100).Select(i => (byte)i)];
        byte[] payload = Payload(o => MetadataMessage.WriteData(o, 1, 0, 100, data), 1);
        Assert.Equal($"Data 0 100 {Convert.ToHexStringLower(data)}", Parse(payload));
    }

    [Fact]
    public void UnknownMsgType_IsReportedNotRefused()
    {
        Assert.Equal("Unknown 0 0 ", Parse(Ascii("d8:msg_typei3e5:piecei0ee")));
        Assert.Equal("Unknown 0 0 ", Parse(Ascii("d8:msg_typei-1ee")));
    }

    [Theory]
    [InlineData("d5:piecei0ee", (int)PeerWireError.MetadataMessageInvalid)]
    [InlineData("d8:msg_type1:0e", (int)PeerWireError.MetadataMessageInvalid)]
    [InlineData("d8:msg_typei0ee", (int)PeerWireError.MetadataMessageInvalid)]
    [InlineData("d8:msg_typei0e5:piece1:0e", (int)PeerWireError.MetadataMessageInvalid)]
    [InlineData("d8:msg_typei0e5:piecei-1ee", (int)PeerWireError.MetadataPieceOutOfRange)]
    [InlineData("d8:msg_typei0e5:piecei4096ee", (int)PeerWireError.MetadataPieceOutOfRange)]
    [InlineData("d8:msg_typei1e5:piecei0eeab", (int)PeerWireError.MetadataMessageInvalid)]
    [InlineData("d8:msg_typei1e5:piecei0e10:total_sizei0eee", (int)PeerWireError.MetadataSizeOutOfRange)]
    [InlineData("d8:msg_typei1e5:piecei0e10:total_sizei67108865eee", (int)PeerWireError.MetadataSizeOutOfRange)]
    [InlineData("d8:msg_typei1e5:piecei1e10:total_sizei16384eee", (int)PeerWireError.MetadataPieceOutOfRange)]
    [InlineData("d8:msg_typei1e5:piecei0e10:total_sizei3eeab", (int)PeerWireError.MetadataPieceWrongLength)]
    [InlineData("d8:msg_typei1e5:piecei0e10:total_sizei3eeabcd", (int)PeerWireError.MetadataPieceWrongLength)]
    [InlineData("le", (int)PeerWireError.ExtensionPayloadNotDictionary)]
    [InlineData("", (int)PeerWireError.ExtensionPayloadInvalid)]
    [InlineData("d8:msg_typei0e", (int)PeerWireError.ExtensionPayloadInvalid)]
    public void Malformed_IsRefusedWithItsReason(string payload, int expected)
    {
        Refuse(Ascii(payload), (PeerWireError)expected);
    }

    [Fact]
    public void Limits_LastPieceAndLargestSize_Accepted()
    {
        Assert.Equal("Request 4095 0 ", Parse(Ascii("d8:msg_typei0e5:piecei4095ee")));
        byte[] data = new byte[16384];
        byte[] payload = Payload(o => MetadataMessage.WriteData(o, 1, 4095, ExtensionHandshake.MaxMetadataSize, data), 1);
        Assert.True(MetadataMessage.TryParse(new ReadOnlySequence<byte>(payload), out MetadataMessage m, out _));
        Assert.Equal(4095, m.Piece);
        Assert.Equal(16384, m.Data.Length);
    }

    [Fact]
    public void HeaderLength_AtLimitAccepted_OverLimitRefused()
    {
        // An ignored padding key makes the dictionary exactly the limit, then one byte more.
        static byte[] Header(int totalLength)
        {
            const string Prefix = "d8:msg_typei0e5:piecei0e1:x";
            int padding = totalLength - Prefix.Length - 4 - 1;
            return Ascii($"{Prefix}{padding:D3}:{new string('p', padding)}e");
        }

        Assert.Equal(MetadataMessage.MaxHeaderLength, Header(MetadataMessage.MaxHeaderLength).Length);
        Assert.Equal("Request 0 0 ", Parse(Header(MetadataMessage.MaxHeaderLength)));
        Refuse(Header(MetadataMessage.MaxHeaderLength + 1), PeerWireError.ExtensionPayloadInvalid);
    }

    [Fact]
    public void WriteData_WrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => MetadataMessage.WriteData(new ArrayBufferWriter<byte>(), 1, 0, 40000, new byte[100]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MetadataMessage.WriteData(new ArrayBufferWriter<byte>(), 1, 3, 40000, new byte[100]));
    }
}
