using PeerNet.Bencode;

namespace PeerNet.Codecs.Tests.Bencode;

/// <summary>
/// The parser takes a whole buffer, so "split at every offset" becomes: every proper prefix of a valid input is
/// refused as <see cref="BencodeErrorCode.UnexpectedEnd"/> at its own end (never an exception, never a bogus
/// success), the whole input parses, and a value followed by other bytes is found with its exact length.
/// </summary>
public sealed class BencodeSplitTests
{
    public static TheoryData<string> Samples =>
    [
        "i0e",
        "i-1e",
        "i9223372036854775807e",
        "i-9223372036854775808e",
        "0:",
        "1:e",
        "10:0123456789",
        "4:i1e:",
        "le",
        "de",
        "llelee",
        "li1e2:abl1:xdeee",
        "d1:ai1e1:bli2eee",
        "d1:bi1e1:ai2ee",
        "d0:0:1:e0:e",
        "d8:announce17:http://t.invalid/4:infod6:lengthi12e4:name5:a.txt12:piece lengthi16384e6:pieces20:\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u0065\u0069\u006c\u0064\u003a\u0030\u00ff\u00fe\u00fd\u00fcee",
    ];

    [Theory]
    [MemberData(nameof(Samples))]
    public void Whole_Parses(string sample)
    {
        byte[] input = B.Bytes(sample);
        using BencodeDocument document = BencodeDocument.Parse(input);
        Assert.Equal(sample, B.Text(document.Source.Span));
        Assert.Equal(sample, B.Text(document.Root.RawSpan));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void EveryProperPrefix_ReportsUnexpectedEndAtItsEnd(string sample)
    {
        byte[] input = B.Bytes(sample);
        for (int length = 0; length < input.Length; length++)
        {
            ReadOnlyMemory<byte> prefix = input.AsMemory(0, length);
            Assert.False(BencodeDocument.TryParse(prefix, out BencodeDocument? document, out BencodeError error));
            Assert.Null(document);
            Assert.Equal(new BencodeError(BencodeErrorCode.UnexpectedEnd, length), error);

            Assert.False(BencodeDocument.TryParsePrefix(prefix, out document, out int consumed, out error));
            Assert.Null(document);
            Assert.Equal(0, consumed);
            Assert.Equal(new BencodeError(BencodeErrorCode.UnexpectedEnd, length), error);
        }
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void SplitAtEveryOffset_FirstPartFailsAndRejoinedPartsParse(string sample)
    {
        byte[] input = B.Bytes(sample);
        for (int split = 0; split <= input.Length; split++)
        {
            // Copy the two halves into a fresh buffer at an odd offset, as a receive buffer would hold them.
            byte[] buffer = new byte[input.Length + 7];
            input.AsSpan(0, split).CopyTo(buffer.AsSpan(3));
            input.AsSpan(split).CopyTo(buffer.AsSpan(3 + split));
            using BencodeDocument document = BencodeDocument.Parse(buffer.AsMemory(3, input.Length));
            Assert.Equal(sample, B.Text(document.Root.RawSpan));
            Assert.Equal(sample, B.Text(B.ReEncode(document.Root)));
        }
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void TryParsePrefix_WithFollowingBytes_ReportsExactLength(string sample)
    {
        foreach (string junk in new[] { "x", "e", "i1e", "le", "0:", "\u0000", "d", ":" })
        {
            byte[] input = B.Bytes(sample + junk);
            Assert.True(BencodeDocument.TryParsePrefix(input, out BencodeDocument? document, out int consumed, out BencodeError error), error.ToString());
            using (document)
            {
                Assert.Equal(sample.Length, consumed);
                Assert.Equal(sample.Length, document.Source.Length);
                Assert.Equal(sample, B.Text(document.Root.RawSpan));
            }

            B.AssertFails(input, BencodeErrorCode.TrailingData, sample.Length);
        }
    }
}
