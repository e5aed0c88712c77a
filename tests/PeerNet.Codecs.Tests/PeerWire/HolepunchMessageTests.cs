using System.Buffers;
using System.Net;
using PeerNet.PeerWire;

namespace PeerNet.Codecs.Tests.PeerWire;

public sealed class HolepunchMessageTests
{
    private static HolepunchMessage Parse(byte[] payload)
    {
        HolepunchMessage? first = null;
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(payload))
        {
            Assert.True(HolepunchMessage.TryParse(sequence, out HolepunchMessage m, out HolepunchParseError error), $"{shape} {error}");
            first ??= m;
            Assert.Equal(first, m);
        }

        return first!.Value;
    }

    private static void Refuse(byte[] payload, HolepunchParseError expected)
    {
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(payload))
        {
            Assert.False(HolepunchMessage.TryParse(sequence, out _, out HolepunchParseError error), shape);
            Assert.Equal(expected, error);
        }
    }

    private static byte[] Written(HolepunchMessage message)
    {
        byte[] payload = new byte[message.Length];
        Assert.Equal(payload.Length, message.Write(payload));
        return payload;
    }

    [Fact]
    public void Rendezvous_IPv4_IsEightBytesAsLibtorrentWritesIt()
    {
        byte[] payload = Written(new HolepunchMessage(HolepunchMessageType.Rendezvous, IPEndPoint.Parse("11.22.33.1:6881")));
        Assert.Equal(new byte[] { 0, 0, 11, 22, 33, 1, 0x1a, 0xe1 }, payload);
        Assert.Equal(new HolepunchMessage(HolepunchMessageType.Rendezvous, IPEndPoint.Parse("11.22.33.1:6881")), Parse(payload));
    }

    [Fact]
    public void Connect_IPv6_RoundTrips()
    {
        var sent = new HolepunchMessage(HolepunchMessageType.Connect, IPEndPoint.Parse("[2001:db8::7]:51413"));
        byte[] payload = Written(sent);
        Assert.Equal(20, payload.Length);
        Assert.Equal(1, payload[1]);
        Assert.Equal(sent, Parse(payload));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Error_CarriesItsCode(uint value)
    {
        var code = (HolepunchError)value;
        var sent = new HolepunchMessage(HolepunchMessageType.Error, IPEndPoint.Parse("192.0.2.1:1"), code);
        byte[] payload = Written(sent);
        Assert.Equal(12, payload.Length);
        Assert.Equal(new byte[] { 0, 0, 0, (byte)code }, payload[8..]);
        Assert.Equal(sent, Parse(payload));
    }

    [Fact]
    public void Connect_IPv4MappedInAnIPv6Message_IsTheIPv4Peer_AndWrittenAsIPv4()
    {
        // Found by the holepunch fuzz target: ::ffff:127.255.0.7 came back from Write as an IPv4 message.
        byte[] payload = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127, 255, 0, 7, 0xC8, 0xD5];
        HolepunchMessage message = Parse(payload);
        Assert.Equal(IPEndPoint.Parse("127.255.0.7:51413"), message.EndPoint);
        Assert.Equal([1, 0, 127, 255, 0, 7, 0xC8, 0xD5], Written(message));
    }

    [Fact]
    public void Connect_WithAZeroErrorCode_IsAccepted()
    {
        // BEP 55's table lists err_code in every message: a client that always sends it is read too.
        Assert.Equal(new HolepunchMessage(HolepunchMessageType.Connect, IPEndPoint.Parse("10.0.0.1:2")), Parse([1, 0, 10, 0, 0, 1, 0, 2, 0, 0, 0, 0]));
    }

    [Fact]
    public void WholeMessage_HasTheExtendedHeader()
    {
        var output = new ArrayBufferWriter<byte>();
        new HolepunchMessage(HolepunchMessageType.Rendezvous, IPEndPoint.Parse("10.0.0.1:2")).WriteMessage(output, 4);
        Assert.Equal(new byte[] { 0, 0, 0, 10, 20, 4, 0, 0, 10, 0, 0, 1, 0, 2 }, output.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData(new byte[0], nameof(HolepunchParseError.WrongLength))]
    [InlineData(new byte[] { 0 }, nameof(HolepunchParseError.WrongLength))]
    [InlineData(new byte[] { 3, 0, 10, 0, 0, 1, 0, 2 }, nameof(HolepunchParseError.UnknownType))]
    [InlineData(new byte[] { 0, 2, 10, 0, 0, 1, 0, 2 }, nameof(HolepunchParseError.UnknownAddressType))]
    [InlineData(new byte[] { 0, 0, 10, 0, 0, 1, 0 }, nameof(HolepunchParseError.WrongLength))]
    [InlineData(new byte[] { 0, 0, 10, 0, 0, 1, 0, 2, 0 }, nameof(HolepunchParseError.WrongLength))]
    [InlineData(new byte[] { 0, 1, 10, 0, 0, 1, 0, 2 }, nameof(HolepunchParseError.WrongLength))]
    [InlineData(new byte[] { 0, 0, 10, 0, 0, 1, 0, 0 }, nameof(HolepunchParseError.PortZero))]
    [InlineData(new byte[] { 2, 0, 10, 0, 0, 1, 0, 2 }, nameof(HolepunchParseError.WrongLength))]
    [InlineData(new byte[] { 2, 0, 10, 0, 0, 1, 0, 2, 0, 0, 0, 0 }, nameof(HolepunchParseError.BadErrorCode))]
    [InlineData(new byte[] { 2, 0, 10, 0, 0, 1, 0, 2, 0, 0, 0, 5 }, nameof(HolepunchParseError.BadErrorCode))]
    [InlineData(new byte[] { 2, 0, 10, 0, 0, 1, 0, 2, 1, 0, 0, 1 }, nameof(HolepunchParseError.BadErrorCode))]
    [InlineData(new byte[] { 1, 0, 10, 0, 0, 1, 0, 2, 0, 0, 0, 1 }, nameof(HolepunchParseError.BadErrorCode))]
    public void Malformed_IsRefusedWithItsReason(byte[] payload, string expected) => Refuse(payload, Enum.Parse<HolepunchParseError>(expected));

    [Fact]
    public void Oversized_IsRefusedBeforeCopying() => Refuse(new byte[HolepunchMessage.MaxLength + 1], HolepunchParseError.WrongLength);

    [Fact]
    public void Write_ErrorCodeOnANonErrorMessage_Throws()
        => Assert.Throws<InvalidOperationException>(() => new HolepunchMessage(HolepunchMessageType.Connect, IPEndPoint.Parse("10.0.0.1:2"), HolepunchError.NoSelf).Write(new byte[24]));
}
