using System.Buffers;
using PeerNet.Bencode;
using PeerNet.Dht;
using PeerNet.PeerWire;

namespace PeerNet.Codecs.Tests.Bencode;

/// <summary>
/// <see cref="BencodeDocument.TryParseTorrent"/>: a .torrent's bencode as libtorrent 2.0.8 reads it (checked with
/// python3-libtorrent), while every wire format keeps refusing the same bytes.
/// </summary>
public sealed class BencodeTorrentModeTests
{
    [Theory]
    [InlineData("i01e", 1)]
    [InlineData("i-0e", 0)]
    [InlineData("i-007e", -7)]
    [InlineData("i00000000000000000010e", 10)] // 20 digits, libtorrent's most
    public void Integer_NotCanonical_IsReadAsLibtorrentReadsIt(string input, long expected)
    {
        using BencodeDocument document = ParseTorrent(input);
        Assert.True(document.Root.TryGetInt64(out long value));
        Assert.Equal(expected, value);
        Assert.NotEqual(BencodeErrorCode.None, B.Error(input).Code);
    }

    [Theory]
    [InlineData("i99999999999999999999e")]
    [InlineData("i9223372036854775808e")]
    public void Integer_Past64Bits_IsKeptButIsNoInteger(string input)
    {
        // libtorrent keeps the token and reads it as 0; PeerNet keeps it and reads nothing, so a key that matters
        // (a length) is refused as the wrong type rather than silently read as zero.
        using BencodeDocument document = ParseTorrent(input);
        Assert.True(document.Root.IsInteger);
        Assert.False(document.Root.TryGetInt64(out _));
    }

    [Fact]
    public void Integer_Of21Digits_IsRefusedAsLibtorrentRefusesIt()
        => AssertTorrentFails("i000000000000000000001e", BencodeErrorCode.IntegerTooLong, 0);

    [Theory]
    [InlineData("ie", BencodeErrorCode.IntegerEmpty, 0)]
    [InlineData("i-e", BencodeErrorCode.IntegerEmpty, 0)]
    [InlineData("i+1e", BencodeErrorCode.UnexpectedByte, 1)]
    [InlineData("d1:ae", BencodeErrorCode.MissingValue, 4)]
    [InlineData("di1ei1ee", BencodeErrorCode.KeyNotString, 1)]
    public void Lenient_StillRefusesWhatLibtorrentRefuses(string input, BencodeErrorCode code, long offset)
        => AssertTorrentFails(input, code, offset);

    [Fact]
    public void StringLength_WithLeadingZeros_IsRead_UpTo16Digits()
    {
        using BencodeDocument document = ParseTorrent("06:abcdef");
        Assert.Equal("abcdef"u8.ToArray(), document.Root.StringSpan.ToArray());
        AssertTorrentFails("00000000000000001:a", BencodeErrorCode.StringLengthNotCanonical, 0);
        B.AssertFails("06:abcdef", BencodeErrorCode.StringLengthNotCanonical, 0);
    }

    [Fact]
    public void RepeatedKey_IsKept_AndLookupsFindTheFirst()
    {
        using BencodeDocument document = ParseTorrent("d4:name1:a4:name1:b1:xi1ee");
        Assert.Equal("a", document.Root["name"u8].GetString());
        Assert.Equal(3, document.Root.Count);
        B.AssertFails("d4:name1:a4:name1:b1:xi1ee", BencodeErrorCode.DuplicateKey, 10);
    }

    [Fact]
    public void BytesAfterTheRoot_AreLeftUnread()
    {
        byte[] input = B.Bytes("d1:ai1eegarbage\xff");
        Assert.True(BencodeDocument.TryParseTorrent(input, out BencodeDocument? document, out int consumed, out BencodeError error), error.ToString());
        using (document)
        {
            Assert.Equal(8, consumed);
            Assert.Equal(8, document.Source.Length);
        }
    }

    [Fact]
    public void Limits_StillHold()
    {
        var limits = new BencodeLimits { MaxDepth = 2, MaxTokens = 4, MaxStringLength = 3 };
        AssertTorrentFails("lll", BencodeErrorCode.DepthExceeded, 2, limits);
        AssertTorrentFails("li1ei2ei3ei4ee", BencodeErrorCode.TooManyTokens, 10, limits);
        AssertTorrentFails("4:abcd", BencodeErrorCode.StringTooLong, 0, limits);
    }

    [Theory]
    [InlineData("d1:ai1e1:bi2ee", -1)]
    [InlineData("d1:ai-0ee", -1)] // libtorrent lets -0 through
    [InlineData("d1:ai01ee", 4)]
    [InlineData("d1:a01:xe", 4)]
    [InlineData("d1:bi1e1:ai2ee", 7)]
    [InlineData("d1:ai1e1:ai2ee", 7)]
    [InlineData("ld1:ai1eed1:bi1e1:ai1eee", 16)]
    public void FindSoftError_NamesTheFirstOne(string input, int offset)
    {
        using BencodeDocument document = ParseTorrent(input);
        Assert.Equal(offset, document.Root.FindSoftError());
    }

    [Theory]
    [InlineData("1:t2:aa", "1:t02:aa")]
    [InlineData("1:t2:aa", "1:t2:aa1:vi01e")]
    [InlineData("1:t2:aa", "1:t2:aa1:vi-0e")]
    [InlineData("1:y1:q", "1:y1:q1:y1:r")]
    [InlineData("1:y1:qe", "1:y1:qex")]
    public void WireFormats_KeepRefusingWhatATorrentMayHold(string part, string lax)
    {
        // A well-formed KRPC ping and extension handshake, each spoiled by one thing a .torrent may hold.
        string ping = "d1:ad2:id20:" + new string('a', 20) + "e1:q4:ping1:t2:aa1:y1:qe";
        Assert.True(KrpcMessage.TryDecode(B.Bytes(ping), out _, out _));
        Assert.False(KrpcMessage.TryDecode(B.Bytes(ping.Replace(part, lax, StringComparison.Ordinal)), out _, out _));
        Assert.True(BencodeDocument.TryParseTorrent(B.Bytes(ping.Replace(part, lax, StringComparison.Ordinal)), out BencodeDocument? torrent, out _, out _));
        torrent.Dispose();

        // An extension payload may carry raw bytes after its dictionary (BEP 9), so only the rest applies there.
        string handshake = "d1:md11:ut_metadatai2ee1:pi6881e1:t2:aa1:y1:qe";
        Assert.True(ExtensionHandshake.TryParse(new ReadOnlySequence<byte>(B.Bytes(handshake)), out _, out _));
        Assert.True(lax.EndsWith('x') || !ExtensionHandshake.TryParse(new ReadOnlySequence<byte>(B.Bytes(handshake.Replace(part, lax, StringComparison.Ordinal))), out _, out _));
    }

    private static BencodeDocument ParseTorrent(string latin1)
    {
        byte[] input = B.Bytes(latin1);
        Assert.True(BencodeDocument.TryParseTorrent(input, out BencodeDocument? document, out int consumed, out BencodeError error), error.ToString());
        Assert.Equal(input.Length, consumed);
        return document;
    }

    private static void AssertTorrentFails(string latin1, BencodeErrorCode code, long offset, BencodeLimits? limits = null)
    {
        Assert.False(BencodeDocument.TryParseTorrent(B.Bytes(latin1), out BencodeDocument? document, out _, out BencodeError error, limits));
        Assert.Null(document);
        Assert.Equal(new BencodeError(code, offset), error);
    }
}
