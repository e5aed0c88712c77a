using System.Buffers;
using PeerNet.Libp2p;

namespace PeerNet.Codecs.Tests.Libp2p;

public sealed class YamuxFrameTests
{
    [Fact]
    public void Headers_are_twelve_big_endian_bytes_and_read_back()
    {
        var header = new YamuxHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn | YamuxFlags.Fin, 3, 0x01020304);
        Assert.Equal("000100050000000301020304", Convert.ToHexStringLower(header.ToArray()));
        Assert.True(YamuxHeader.TryParse(header.ToArray(), localIsInitiator: false, 1024, out YamuxHeader read, out string? error), error);
        Assert.Equal(header, read);
    }

    [Theory]
    [InlineData("010200010000000000000001", "version 1")]
    [InlineData("000400000000000000000000", "unknown frame type 4")]
    [InlineData("000000100000000100000000", "unknown flags")]
    [InlineData("000000000000000000000001", "stream 0")]
    [InlineData("000000000000000100000401", "over the 1024-byte window")]
    [InlineData("000100010000000100000000", "parity")] // odd SYN from the remote while we are the initiator
    [InlineData("000100030000000200000000", "both SYN and ACK")]
    [InlineData("000200010000000100000000", "a ping on stream 1")]
    [InlineData("000200000000000000000000", "a ping with flags")]
    [InlineData("000300010000000000000000", "a go-away with flags")]
    public void Strict_checks_refuse_with_a_reason(string hex, string reason)
    {
        Assert.False(YamuxHeader.TryParse(Convert.FromHexString(hex), localIsInitiator: true, 1024, out _, out string? error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Length_prefixed_messages_are_capped_before_the_body_arrives()
    {
        var output = new ArrayBufferWriter<byte>();
        LengthPrefixedMessage.Write(new byte[300], output);
        byte[] framed = output.WrittenSpan.ToArray();
        Assert.Equal(302, framed.Length);
        Assert.Equal(VarintStatus.Ok, LengthPrefixedMessage.TryRead(framed, 300, out ReadOnlySpan<byte> message, out int consumed, out _));
        Assert.Equal(300, message.Length);
        Assert.Equal(302, consumed);
        Assert.Equal(VarintStatus.NeedMore, LengthPrefixedMessage.TryRead(framed.AsSpan(0, 100), 300, out _, out _, out _));
        Assert.Equal(VarintStatus.Invalid, LengthPrefixedMessage.TryRead(framed.AsSpan(0, 2), 299, out _, out _, out string? error));
        Assert.Contains("over the 299-byte limit", error, StringComparison.Ordinal);

        // An unfinished prefix that can only end up too long is refused at once; a non-minimal one is refused.
        Assert.Equal(VarintStatus.Invalid, LengthPrefixedMessage.TryReadLength([0xFF, 0xFF], 8192, out _, out _, out _));
        Assert.Equal(VarintStatus.NeedMore, LengthPrefixedMessage.TryReadLength([0xFF], 8192, out _, out _, out _));
        Assert.Equal(VarintStatus.Invalid, LengthPrefixedMessage.TryReadLength([0x81, 0x00], 8192, out _, out _, out _));
    }

    [Fact]
    public void Identify_messages_round_trip_and_a_foreign_key_is_refused()
    {
        byte[] key = Libp2pKeys.EncodeEd25519PublicKey(new byte[32]);
        Libp2pPeerId id = Libp2pPeerId.FromPublicKey(key);
        var addr = Multiaddr.Parse("/ip4/127.0.0.1/tcp/4001");
        byte[] message = IdentifyMessage.Encode(key, "peernet/1.0", [addr], addr, ["/ipfs/ping/1.0.0", "bad id"]);
        Assert.True(IdentifyMessage.TryDecode(message, id, isPush: false, out IdentifyInfo? info, out string? error), error);
        Assert.Equal("peernet/1.0", info.AgentVersion);
        Assert.Equal([addr], info.ListenAddrs);
        Assert.Equal(["/ipfs/ping/1.0.0"], info.Protocols); // the invalid ID is skipped

        Libp2pPeerId other = Libp2pPeerId.FromEd25519PublicKey(Enumerable.Repeat((byte)1, 32).ToArray());
        Assert.False(IdentifyMessage.TryDecode(message, other, isPush: false, out _, out error));
        Assert.Contains("not " + other, error, StringComparison.Ordinal);
        Assert.False(IdentifyMessage.TryDecode(new byte[IdentifyMessage.MaxMessageLength + 1], id, isPush: false, out _, out error));
        Assert.False(IdentifyMessage.TryDecode([0x0A, 0xFF], id, isPush: false, out _, out error));
    }
}
