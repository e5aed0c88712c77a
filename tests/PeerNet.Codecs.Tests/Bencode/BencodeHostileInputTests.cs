using PeerNet.Bencode;

namespace PeerNet.Codecs.Tests.Bencode;

/// <summary>Inputs built to exhaust the stack, the heap or the CPU: each fails fast with a specific error.</summary>
public sealed class BencodeHostileInputTests
{
    private static readonly BencodeLimits Loosest = new() { MaxDepth = 4096, MaxStringLength = int.MaxValue, MaxTokens = int.MaxValue };

    [Fact]
    public void MillionNestedLists_DepthExceededWithoutStackOverflow()
    {
        byte[] input = B.Repeat("", "l", 1_000_000, "");
        B.AssertFails(input, BencodeErrorCode.DepthExceeded, 100);
        B.AssertFails(input, BencodeErrorCode.DepthExceeded, 4096, Loosest);
    }

    [Fact]
    public void MillionNestedListsClosed_DepthExceeded() =>
        B.AssertFails(B.Repeat(new string('l', 1_000_000), "", 0, new string('e', 1_000_000)), BencodeErrorCode.DepthExceeded, 100);

    [Fact]
    public void MillionNestedDictionaries_FailFast()
    {
        B.AssertFails(B.Repeat("", "d", 1_000_000, ""), BencodeErrorCode.KeyNotString, 1);
        B.AssertFails(B.Repeat("", "d1:a", 1_000_000, ""), BencodeErrorCode.DepthExceeded, 400);
    }

    [Theory]
    [InlineData("999999999:")]
    [InlineData("999999999:abc")]
    [InlineData("67108865:x")]
    [InlineData("99999999999999999999999999:x")]
    [InlineData("l999999999:")]
    public void HugeLengthPrefix_DefaultLimits_StringTooLongWithoutAllocating(string input)
    {
        byte[] bytes = B.Bytes(input);
        BencodeError error = AssertSmallAllocation(bytes, null);
        Assert.Equal(BencodeErrorCode.StringTooLong, error.Code);
        Assert.Equal(input.StartsWith('l') ? 1 : 0, error.Offset);
    }

    [Theory]
    [InlineData("999999999:", 10)]
    [InlineData("999999999:abc", 13)]
    [InlineData("2147483647:abc", 14)]
    [InlineData("d3:key2000000000:", 17)]
    public void HugeLengthPrefix_NoStringLimit_UnexpectedEndWithoutAllocating(string input, long offset)
    {
        byte[] bytes = B.Bytes(input);
        Assert.Equal(new BencodeError(BencodeErrorCode.UnexpectedEnd, offset), AssertSmallAllocation(bytes, Loosest));
    }

    [Fact]
    public void LengthBeyondInt32_NoStringLimit_StringTooLong() =>
        B.AssertFails("2147483648:x", BencodeErrorCode.StringTooLong, 0, Loosest);

    [Fact]
    public void MegabyteOfLengthZeros_StringLengthNotCanonical() =>
        B.AssertFails(B.Repeat("", "0", 1_000_000, ":"), BencodeErrorCode.StringLengthNotCanonical, 0);

    [Fact]
    public void MegabyteOfIntegerDigits_IntegerTooLongAtTheI() =>
        B.AssertFails(B.Repeat("i", "1", 1_000_000, "e"), BencodeErrorCode.IntegerTooLong, 0);

    [Fact]
    public void ManyUnsortedKeys_ParseInLinearishTime()
    {
        // 200,000 distinct keys in descending order force the sort-based duplicate check.
        const int Keys = 200_000;
        var keys = new string[Keys];
        for (int i = 0; i < Keys; i++)
        {
            keys[i] = (Keys - i).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
        }

        string body = string.Concat(keys.Select(static k => "6:" + k + "i0e"));
        using (BencodeDocument document = BencodeDocument.Parse(B.Bytes("d" + body + "e")))
        {
            Assert.Equal(Keys, document.Root.Count);
        }

        // The same with the first key repeated at the very end.
        B.AssertFails("d" + body + "6:" + keys[0] + "i0ee", BencodeErrorCode.DuplicateKey, 1 + body.Length);
    }

    [Fact]
    public void ManyEmptyStrings_TokenArrayGrowsWithinLimits()
    {
        const int Count = 1_000_000;
        using BencodeDocument document = BencodeDocument.Parse(B.Repeat("l", "0:", Count, "e"));
        Assert.Equal(Count + 1, document.TokenCount);
    }

    private static BencodeError AssertSmallAllocation(byte[] input, BencodeLimits? limits)
    {
        _ = B.Error(input, limits); // warm up pools and JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        BencodeError error = B.Error(input, limits);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 * 1024, $"parsing {input.Length} bytes allocated {allocated} bytes");
        return error;
    }
}
