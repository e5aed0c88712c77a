using System.Globalization;
using PeerNet.Bencode;

namespace PeerNet.Codecs.Tests.Bencode;

/// <summary>Every limit at the limit (accepted) and at limit + 1 (refused, at the offset where it was crossed).</summary>
public sealed class BencodeLimitsTests
{
    private static byte[] NestedLists(int depth) => B.Repeat(new string('l', depth), "", 0, new string('e', depth));

    private static byte[] NestedDictionaries(int depth) => B.Repeat("", "d1:a", depth, "i0e" + new string('e', depth));

    [Fact]
    public void Defaults_AreTheDocumentedValues()
    {
        BencodeLimits limits = BencodeLimits.Default;
        Assert.Equal(100, limits.MaxDepth);
        Assert.Equal(2_000_000, limits.MaxTokens);
        Assert.Equal(64 * 1024 * 1024, limits.MaxStringLength);
        Assert.Equal(19, BencodeLimits.MaxIntegerDigits);
    }

    [Fact]
    public void DefaultDepth_100NestedListsParse()
    {
        byte[] input = NestedLists(BencodeLimits.DefaultMaxDepth);
        using BencodeDocument document = BencodeDocument.Parse(input);
        Assert.Equal(100, document.TokenCount);
        Assert.Equal(input.Length, document.Root.RawSpan.Length);
    }

    [Fact]
    public void DefaultDepth_101NestedListsReportDepthExceededAtTheInnermostL() =>
        B.AssertFails(NestedLists(BencodeLimits.DefaultMaxDepth + 1), BencodeErrorCode.DepthExceeded, 100);

    [Fact]
    public void DefaultDepth_100NestedDictionariesParse() =>
        B.AssertParses(NestedDictionaries(BencodeLimits.DefaultMaxDepth));

    [Fact]
    public void DefaultDepth_101NestedDictionariesReportDepthExceeded() =>
        B.AssertFails(NestedDictionaries(BencodeLimits.DefaultMaxDepth + 1), BencodeErrorCode.DepthExceeded, 400);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(4096)]
    public void CustomDepth_AtLimitParsesAndOneMoreFails(int depth)
    {
        var limits = new BencodeLimits { MaxDepth = depth };
        B.AssertParses(NestedLists(depth), limits);
        B.AssertFails(NestedLists(depth + 1), BencodeErrorCode.DepthExceeded, depth, limits);
    }

    [Fact]
    public void DefaultTokens_TwoMillionValuesParse()
    {
        byte[] input = B.Repeat("l", "i0e", BencodeLimits.DefaultMaxTokens - 1, "e");
        using BencodeDocument document = BencodeDocument.Parse(input);
        Assert.Equal(BencodeLimits.DefaultMaxTokens, document.TokenCount);
        Assert.Equal(BencodeLimits.DefaultMaxTokens - 1, document.Root.Count);
    }

    [Fact]
    public void DefaultTokens_OneMoreValueReportsTooManyTokensAtThatValue() =>
        B.AssertFails(
            B.Repeat("l", "i0e", BencodeLimits.DefaultMaxTokens, "e"),
            BencodeErrorCode.TooManyTokens,
            1 + (3L * (BencodeLimits.DefaultMaxTokens - 1)));

    [Fact]
    public void CustomTokens_OneTokenAllowsOnlyAScalarOrEmptyContainer()
    {
        var limits = new BencodeLimits { MaxTokens = 1 };
        B.AssertParses("i7e", limits);
        B.AssertParses("le", limits);
        B.AssertParses("de", limits);
        B.AssertFails("li7ee", BencodeErrorCode.TooManyTokens, 1, limits);
    }

    [Fact]
    public void CustomTokens_KeysCount()
    {
        var limits = new BencodeLimits { MaxTokens = 3 };
        B.AssertParses("d1:ai1ee", limits);
        B.AssertFails("d1:ai1e1:bi2ee", BencodeErrorCode.TooManyTokens, 7, limits);
        B.AssertFails("d1:ali1eee", BencodeErrorCode.TooManyTokens, 5, limits);
    }

    [Fact]
    public void CustomTokens_BeyondThePooledArrayGrowTheTokenArray()
    {
        const int Tokens = 5000;
        var limits = new BencodeLimits { MaxTokens = Tokens };
        byte[] input = B.Repeat("l", "0:", Tokens - 1, "e");
        using (BencodeDocument document = BencodeDocument.Parse(input, limits))
        {
            Assert.Equal(Tokens, document.TokenCount);
            Assert.Equal(Tokens - 1, document.Root.Count);
        }

        B.AssertFails(B.Repeat("l", "0:", Tokens, "e"), BencodeErrorCode.TooManyTokens, 1 + (2 * (Tokens - 1)), limits);
    }

    [Fact]
    public void DefaultStringLength_64MiBParsesAndOneMoreByteFails()
    {
        int max = BencodeLimits.DefaultMaxStringLength;
        string atLimit = max.ToString(CultureInfo.InvariantCulture) + ":";
        string overLimit = (max + 1).ToString(CultureInfo.InvariantCulture) + ":";
        Assert.Equal(atLimit.Length, overLimit.Length);

        // One buffer serves both: the prefix is rewritten in place.
        byte[] buffer = new byte[overLimit.Length + max + 1];
        B.Bytes(atLimit).CopyTo(buffer, 0);
        ReadOnlyMemory<byte> exact = buffer.AsMemory(0, atLimit.Length + max);
        using (BencodeDocument document = BencodeDocument.Parse(exact))
        {
            Assert.Equal(max, document.Root.StringSpan.Length);
        }

        B.Bytes(overLimit).CopyTo(buffer, 0);
        B.AssertFails(buffer, BencodeErrorCode.StringTooLong, 0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(100)]
    public void CustomStringLength_AtLimitParsesAndOneMoreFails(int max)
    {
        var limits = new BencodeLimits { MaxStringLength = max };
        string ok = max.ToString(CultureInfo.InvariantCulture) + ":" + new string('x', max);
        string tooLong = (max + 1).ToString(CultureInfo.InvariantCulture) + ":" + new string('x', max + 1);
        B.AssertParses(ok, limits);
        B.AssertFails(tooLong, BencodeErrorCode.StringTooLong, 0, limits);

        // Keys obey the same limit.
        B.AssertParses("d" + ok + "i0ee", limits);
        B.AssertFails("d" + tooLong + "i0ee", BencodeErrorCode.StringTooLong, 1, limits);
    }

    [Theory]
    [InlineData("i9223372036854775807e", long.MaxValue)]
    [InlineData("i-9223372036854775808e", long.MinValue)]
    [InlineData("i1000000000000000000e", 1_000_000_000_000_000_000)]
    [InlineData("i-1000000000000000000e", -1_000_000_000_000_000_000)]
    [InlineData("i9000000000000000000e", 9_000_000_000_000_000_000)]
    public void Integers_19DigitsInRangeParse(string input, long expected)
    {
        using BencodeDocument document = BencodeDocument.Parse(B.Bytes(input));
        Assert.True(document.Root.TryGetInt64(out long value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("i9223372036854775808e", BencodeErrorCode.IntegerOverflow)]
    [InlineData("i-9223372036854775809e", BencodeErrorCode.IntegerOverflow)]
    [InlineData("i10000000000000000000e", BencodeErrorCode.IntegerTooLong)]
    [InlineData("i-10000000000000000000e", BencodeErrorCode.IntegerTooLong)]
    public void Integers_OneBeyondTheRangeOrDigitLimitFail(string input, BencodeErrorCode code) =>
        B.AssertFails(input, code, 0);

    [Theory]
    [InlineData(0)]
    [InlineData(4097)]
    [InlineData(-1)]
    public void MaxDepth_OutOfRange_Throws(int depth) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new BencodeLimits { MaxDepth = depth });

    [Fact]
    public void MaxTokens_Zero_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new BencodeLimits { MaxTokens = 0 });

    [Fact]
    public void MaxStringLength_Negative_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new BencodeLimits { MaxStringLength = -1 });
}
