using PeerNet.Bencode;

namespace PeerNet.Codecs.Tests.Bencode;

/// <summary>Every <see cref="BencodeErrorCode"/> with the exact byte offset it must name.</summary>
public sealed class BencodeReaderErrorTests
{
    [Theory]
    [InlineData("", 0)]
    [InlineData("i", 1)]
    [InlineData("i-", 2)]
    [InlineData("i12", 3)]
    [InlineData("3", 1)]
    [InlineData("12", 2)]
    [InlineData("3:ab", 4)]
    [InlineData("1:", 2)]
    [InlineData("l", 1)]
    [InlineData("li1e", 4)]
    [InlineData("d", 1)]
    [InlineData("d1:a", 4)]
    [InlineData("d1:ali1e", 8)]
    [InlineData("lld", 3)]
    public void Truncated_ReportsUnexpectedEndAtEndOfInput(string input, long offset) =>
        B.AssertFails(input, BencodeErrorCode.UnexpectedEnd, offset);

    [Theory]
    [InlineData("x", 0)]
    [InlineData("e", 0)]
    [InlineData(":", 0)]
    [InlineData("-1:a", 0)]
    [InlineData(" i1e", 0)]
    [InlineData("l x e", 1)]
    [InlineData("li1e:e", 4)]
    [InlineData("i1x", 2)]
    [InlineData("i 1e", 1)]
    [InlineData("i+1e", 1)]
    [InlineData("i--1e", 2)]
    [InlineData("i1.5e", 2)]
    [InlineData("i1-e", 2)]
    [InlineData("3x", 1)]
    [InlineData("3-:abc", 1)]
    [InlineData("d1:a\u00ffe", 4)]
    public void UnexpectedByte_ReportsTheByte(string input, long offset) =>
        B.AssertFails(input, BencodeErrorCode.UnexpectedByte, offset);

    [Theory]
    [InlineData("ie", 0)]
    [InlineData("i-e", 0)]
    [InlineData("li1eiee", 4)]
    [InlineData("d1:ai-ee", 4)]
    public void IntegerWithoutDigits_ReportsIntegerEmptyAtTheI(string input, long offset) =>
        B.AssertFails(input, BencodeErrorCode.IntegerEmpty, offset);

    [Theory]
    [InlineData("i03e", 0)]
    [InlineData("i00e", 0)]
    [InlineData("i-0e", 0)]
    [InlineData("i-00e", 0)]
    [InlineData("i-01e", 0)]
    [InlineData("i0123456789e", 0)]
    [InlineData("li1ei01ee", 4)]
    public void IntegerWithLeadingZeroOrMinusZero_ReportsIntegerNotCanonicalAtTheI(string input, long offset) =>
        B.AssertFails(input, BencodeErrorCode.IntegerNotCanonical, offset);

    [Theory]
    [InlineData("i12345678901234567890e", 0)]
    [InlineData("i-12345678901234567890e", 0)]
    [InlineData("i00000000000000000000e", 0)]
    [InlineData("i10000000000000000000e", 0)]
    [InlineData("i99999999999999999999e", 0)]
    [InlineData("i-99999999999999999999e", 0)]
    [InlineData("i92233720368547758070e", 0)]
    [InlineData("i123456789012345678901234567890e", 0)]
    [InlineData("li0ei12345678901234567890ee", 4)]
    public void IntegerWithMoreThan19Digits_ReportsIntegerTooLong(string input, long offset) =>
        B.AssertFails(input, BencodeErrorCode.IntegerTooLong, offset);

    [Theory]
    [InlineData("i9223372036854775808e", 0)]
    [InlineData("i-9223372036854775809e", 0)]
    [InlineData("i9999999999999999999e", 0)]
    [InlineData("i-9999999999999999999e", 0)]
    [InlineData("l0:i9223372036854775808ee", 3)]
    public void NineteenDigitIntegerOutOfRange_ReportsIntegerOverflow(string input, long offset) =>
        B.AssertFails(input, BencodeErrorCode.IntegerOverflow, offset);

    [Theory]
    [InlineData("03:abc", 0)]
    [InlineData("00:", 0)]
    [InlineData("01:a", 0)]
    [InlineData("l01:ae", 1)]
    [InlineData("d01:ai1ee", 1)]
    public void StringLengthWithLeadingZero_ReportsStringLengthNotCanonical(string input, long offset) =>
        B.AssertFails(input, BencodeErrorCode.StringLengthNotCanonical, offset);

    [Theory]
    [InlineData("di1ei2ee", 1)]
    [InlineData("dlee", 1)]
    [InlineData("ddee", 1)]
    [InlineData("dx", 1)]
    [InlineData("d1:ai1ei2ei3ee", 7)]
    [InlineData("ld1:ai1ei9ei9eee", 8)]
    public void DictionaryKeyNotAString_ReportsKeyNotString(string input, long offset) =>
        B.AssertFails(input, BencodeErrorCode.KeyNotString, offset);

    [Theory]
    [InlineData("d1:ae", 4)]
    [InlineData("d1:ai1e1:be", 10)]
    [InlineData("ld0:ee", 4)]
    public void DictionaryKeyWithoutValue_ReportsMissingValueAtTheClosingE(string input, long offset) =>
        B.AssertFails(input, BencodeErrorCode.MissingValue, offset);

    [Theory]
    [InlineData("d1:ai1e1:ai2ee", 7)]
    [InlineData("d0:i1e0:i2ee", 6)]
    [InlineData("d1:xd1:ai1e1:ai2eee", 11)]
    [InlineData("d1:bi1e1:ai2e1:bi3ee", 13)]
    [InlineData("d1:ai1e1:bi2e1:ai3ee", 13)]
    [InlineData("d1:bi1e1:ai2e1:ai3ee", 13)]
    [InlineData("d2:abi1e1:ai2e2:abi3ee", 14)]
    public void DuplicateKey_ReportsTheRepeatedKey(string input, long offset) =>
        B.AssertFails(input, BencodeErrorCode.DuplicateKey, offset);

    [Theory]
    [InlineData("i1ex", 3)]
    [InlineData("i1ei2e", 3)]
    [InlineData("lee", 2)]
    [InlineData("0:0:", 2)]
    [InlineData("dei1e", 2)]
    [InlineData("1:a ", 3)]
    public void BytesAfterRoot_ReportsTrailingDataAtTheFirstExtraByte(string input, long offset) =>
        B.AssertFails(input, BencodeErrorCode.TrailingData, offset);

    [Fact]
    public void StringLongerThanLimit_ReportsStringTooLongAtTheLengthPrefix() =>
        B.AssertFails("l4:abcde", BencodeErrorCode.StringTooLong, 1, new BencodeLimits { MaxStringLength = 3 });

    [Fact]
    public void UnsortedButDistinctKeys_Parse() =>
        B.AssertParses("d1:bi1e1:ai2e1:ci3ee");

    [Fact]
    public void SameKeyInDifferentDictionaries_IsNotADuplicate() =>
        B.AssertParses("d1:ad1:ai1ee1:bd1:ai2eee");

    [Fact]
    public void Parse_Malformed_ThrowsBencodeExceptionCarryingTheError()
    {
        BencodeException e = Assert.Throws<BencodeException>(() => BencodeDocument.Parse(B.Bytes("i03e")));
        Assert.Equal(new BencodeError(BencodeErrorCode.IntegerNotCanonical, 0), e.Error);
        Assert.Contains("byte 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParsePrefix_Malformed_ReportsNothingConsumed()
    {
        Assert.False(BencodeDocument.TryParsePrefix(B.Bytes("li1ex"), out BencodeDocument? document, out int consumed, out BencodeError error));
        Assert.Null(document);
        Assert.Equal(0, consumed);
        Assert.Equal(new BencodeError(BencodeErrorCode.UnexpectedByte, 4), error);
    }

    [Fact]
    public void EveryErrorCode_HasAMessageNamingTheOffset()
    {
        foreach (BencodeErrorCode code in Enum.GetValues<BencodeErrorCode>())
        {
            if (code == BencodeErrorCode.None)
            {
                continue;
            }

            var error = new BencodeError(code, 12345);
            Assert.Contains("at byte 12345", error.Message, StringComparison.Ordinal);
            Assert.StartsWith("bencode: ", error.ToString(), StringComparison.Ordinal);
        }
    }
}
