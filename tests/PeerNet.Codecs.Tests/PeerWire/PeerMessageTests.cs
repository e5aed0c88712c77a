using System.Buffers;
using System.Buffers.Binary;
using PeerNet.PeerWire;
using static PeerNet.Codecs.Tests.PeerWire.PeerFrameReaderTests;

namespace PeerNet.Codecs.Tests.PeerWire;

public sealed class PeerMessageTests
{
    private static readonly Sha256Hash Root = Sha256Hash.Compute("root"u8);
    private static readonly HashRequest SampleHashRequest = new(Root, 0, 512, 512, 7);

    private static byte[] Write(Func<byte[], int> write, int size)
    {
        var bytes = new byte[size];
        Assert.Equal(size, write(bytes));
        return bytes;
    }

    private static byte[] Write(Action<ArrayBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return output.WrittenSpan.ToArray();
    }

    public static TheoryData<string, byte[], string> RoundTrips()
    {
        byte[] block = [.. Enumerable.Range(0, 300).Select(i => (byte)i)];
        Sha256Hash[] hashes = [Sha256Hash.Compute("a"u8), Sha256Hash.Compute("b"u8)];
        string rootText = Root.ToString();
        return new TheoryData<string, byte[], string>
        {
            { "choke", PeerMessageWriter.Choke.ToArray(), "Choke" },
            { "unchoke", PeerMessageWriter.Unchoke.ToArray(), "Unchoke" },
            { "interested", PeerMessageWriter.Interested.ToArray(), "Interested" },
            { "not interested", PeerMessageWriter.NotInterested.ToArray(), "NotInterested" },
            { "have all", PeerMessageWriter.HaveAll.ToArray(), "HaveAll" },
            { "have none", PeerMessageWriter.HaveNone.ToArray(), "HaveNone" },
            { "keep-alive", PeerMessageWriter.KeepAlive.ToArray(), "KeepAlive" },
            { "have", Write(b => PeerMessageWriter.WriteHave(b, 0x01020304), 9), "Have 16909060" },
            { "have max", Write(b => PeerMessageWriter.WriteHave(b, int.MaxValue), 9), "Have 2147483647" },
            { "suggest", Write(b => PeerMessageWriter.WriteSuggest(b, 5), 9), "Suggest 5" },
            { "allowed fast", Write(b => PeerMessageWriter.WriteAllowedFast(b, 6), 9), "AllowedFast 6" },
            { "request", Write(b => PeerMessageWriter.WriteRequest(b, new BlockRequest(1, 16384, 16384)), 17), "Request 1 16384 16384" },
            { "cancel", Write(b => PeerMessageWriter.WriteCancel(b, new BlockRequest(2, 0, 100)), 17), "Cancel 2 0 100" },
            { "reject", Write(b => PeerMessageWriter.WriteReject(b, new BlockRequest(3, 32768, 1)), 17), "Reject 3 32768 1" },
            { "piece", [.. Write(b => PeerMessageWriter.WritePieceHeader(b, 9, 16384, block.Length), 13), .. block], $"Piece 9 16384 300 {Convert.ToHexStringLower(block)}" },
            { "empty piece", Write(b => PeerMessageWriter.WritePieceHeader(b, 9, 0, 0), 13), "Piece 9 0 0 " },
            { "port", Write(b => PeerMessageWriter.WritePort(b, 6881), 7), "Port 6881" },
            { "bitfield", Write(o => PeerMessageWriter.WriteBitfield(o, [0xF0, 0x0F, 0x80])), "Bitfield f00f80" },
            { "empty bitfield", Write(o => PeerMessageWriter.WriteBitfield(o, [])), "Bitfield " },
            { "extended", Write(o => PeerMessageWriter.WriteExtended(o, 3, "d1:ai1ee"u8)), "Extended 3 64313a6169316565" },
            { "extended empty", Write(o => PeerMessageWriter.WriteExtended(o, 0, [])), "Extended 0 " },
            { "hash request", Write(b => PeerMessageWriter.WriteHashRequest(b, SampleHashRequest), 53), $"HashRequest {rootText} 0 512 512 7" },
            { "hash reject", Write(b => PeerMessageWriter.WriteHashReject(b, SampleHashRequest), 53), $"HashReject {rootText} 0 512 512 7" },
            {
                "hashes",
                Write(o => PeerMessageWriter.WriteHashes(o, SampleHashRequest, hashes)),
                $"Hashes {rootText} 0 512 512 7 2 {hashes[0]}{hashes[1]}"
            },
            { "hashes none", Write(o => PeerMessageWriter.WriteHashes(o, SampleHashRequest, [])), $"Hashes {rootText} 0 512 512 7 0 " },
            { "unknown", [0, 0, 0, 3, 0xC8, 0xAB, 0xCD], "Unknown 200 abcd" },
            { "unknown v1 gap", [0, 0, 0, 1, 0x0A], "Unknown 10 " },
        };
    }

    [Theory]
    [MemberData(nameof(RoundTrips))]
    public void Message_RoundTripsInEveryShape(string name, byte[] encoded, string expected)
    {
        Assert.True(ReadOne(encoded) == expected, name);
    }

    [Fact]
    public void Singletons_HaveTheirDocumentedLengths()
    {
        Assert.Equal(PeerMessageWriter.KeepAliveLength, PeerMessageWriter.KeepAlive.Length);
        Assert.Equal(PeerMessageWriter.EmptyMessageLength, PeerMessageWriter.Choke.Length);
        Assert.Equal(new byte[] { 0, 0, 0, 1, 0x0E }, PeerMessageWriter.HaveAll.ToArray());
    }

    [Fact]
    public void WritePieceHeader_IsPrefixOfTheWholeMessage()
    {
        byte[] header = Write(b => PeerMessageWriter.WritePieceHeader(b, 1, 2, 16384), 13);
        Assert.Equal(new byte[] { 0, 0, 0x40, 0x09, 7, 0, 0, 0, 1, 0, 0, 0, 2 }, header);
    }

    [Fact]
    public void WriteBitfield_FromBitfield_MatchesRawBits()
    {
        var bits = new Bitfield(12);
        bits.Set(0);
        bits.Set(11);
        byte[] encoded = Write(o => PeerMessageWriter.WriteBitfield(o, bits));
        Assert.Equal(new byte[] { 0, 0, 0, 3, 5, 0x80, 0x10 }, encoded);
    }

    [Fact]
    public void Writers_RefuseSmallDestinationsAndNegativeValues()
    {
        Assert.Throws<ArgumentException>(() => PeerMessageWriter.WriteHave(new byte[8], 1));
        Assert.Throws<ArgumentException>(() => PeerMessageWriter.WriteRequest(new byte[16], default));
        Assert.Throws<ArgumentException>(() => PeerMessageWriter.WritePieceHeader(new byte[12], 0, 0, 0));
        Assert.Throws<ArgumentException>(() => PeerMessageWriter.WriteHashRequest(new byte[52], SampleHashRequest));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerMessageWriter.WriteHave(new byte[9], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerMessageWriter.WriteRequest(new byte[17], new BlockRequest(0, -1, 0)));
    }

    public static TheoryData<byte, int> FixedLengths() => new()
    {
        { 0, 0 }, { 1, 0 }, { 2, 0 }, { 3, 0 }, { 0x0E, 0 }, { 0x0F, 0 },
        { 4, 4 }, { 0x0D, 4 }, { 0x11, 4 },
        { 6, 12 }, { 8, 12 }, { 0x10, 12 },
        { 9, 2 },
        { 21, 48 }, { 23, 48 },
    };

    [Theory]
    [MemberData(nameof(FixedLengths))]
    public void FixedLengthMessage_OneByteShortOrLong_IsInvalidLength(byte id, int length)
    {
        ReadOne(Frame(id, new byte[length]));
        ReadInvalid(Frame(id, new byte[length + 1]), PeerWireError.InvalidMessageLength);
        if (length > 0)
        {
            ReadInvalid(Frame(id, new byte[length - 1]), PeerWireError.InvalidMessageLength);
        }
    }

    [Theory]
    [InlineData(7, 7)]
    [InlineData(7, 0)]
    [InlineData(20, 0)]
    [InlineData(22, 47)]
    [InlineData(22, 48 + 31)]
    [InlineData(22, 48 + 33)]
    public void VariableLengthMessage_BelowMinimumOrRagged_IsInvalidLength(byte id, int length)
    {
        ReadInvalid(Frame(id, new byte[length]), PeerWireError.InvalidMessageLength);
    }

    [Theory]
    [InlineData(4, 4, 0)]
    [InlineData(6, 12, 0)]
    [InlineData(6, 12, 4)]
    [InlineData(6, 12, 8)]
    [InlineData(7, 8, 4)]
    [InlineData(21, 48, 44)]
    public void ThirtyTwoBitField_AtOrAbove2Pow31_IsOutOfRange(byte id, int length, int offset)
    {
        var payload = new byte[length];
        payload[offset] = 0x80;
        ReadInvalid(Frame(id, payload), PeerWireError.ValueOutOfRange);
        payload[offset] = 0x7F;
        ReadOne(Frame(id, payload));
    }

    [Fact]
    public void TryParse_FailedMessage_CarriesItsId()
    {
        var frame = PeerFrame.Create(PeerMessageId.Have, new ReadOnlySequence<byte>(new byte[3]));
        Assert.False(PeerMessage.TryParse(frame, out PeerMessage message, out PeerWireError error));
        Assert.Equal(PeerMessageId.Have, message.Id);
        Assert.Equal(PeerWireError.InvalidMessageLength, error);
        Assert.False(string.IsNullOrEmpty(error.Describe()));
    }

    private static byte[] Frame(byte id, byte[] payload)
    {
        var bytes = new byte[5 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 1 + payload.Length);
        bytes[4] = id;
        payload.CopyTo(bytes, 5);
        return bytes;
    }
}
