using System.Globalization;
using System.Numerics;
using CsCheck;
using PeerNet.Bencode;

namespace PeerNet.Codecs.Tests.Bencode;

public sealed class BencodePropertyTests
{
    private static readonly Gen<BValue> Values = BModel.Value(4);

    [Fact]
    public void RoundTrip_WriteParseCompareAndReencode_IsIdentical() =>
        Values.Sample(model =>
        {
            byte[] encoded = model.Encode();
            using BencodeDocument document = BencodeDocument.Parse(encoded);
            Assert.Equal(model.TokenCount, document.TokenCount);
            Assert.Equal(encoded.Length, document.Source.Length);
            BModel.AssertMatches(model, document.Root);
            Assert.Equal(encoded, B.ReEncode(document.Root));
        }, iter: 2000);

    [Fact]
    public void EveryProperPrefixOfAValidEncoding_ReportsUnexpectedEndAtItsEnd() =>
        Values.Sample(model =>
        {
            byte[] encoded = model.Encode();
            for (int length = 0; length < encoded.Length; length++)
            {
                Assert.Equal(new BencodeError(BencodeErrorCode.UnexpectedEnd, length), B.Error(encoded.AsSpan(0, length).ToArray()));
            }
        }, iter: 300);

    [Fact]
    public void ValidEncodingFollowedByAnything_TryParsePrefixConsumesExactlyTheValue() =>
        Gen.Select(Values, Gen.Byte.Array[1, 8]).Sample((model, junk) =>
        {
            byte[] encoded = model.Encode();
            byte[] input = [.. encoded, .. junk];
            Assert.True(BencodeDocument.TryParsePrefix(input, out BencodeDocument? document, out int consumed, out BencodeError error), error.ToString());
            using (document)
            {
                Assert.Equal(encoded.Length, consumed);
                BModel.AssertMatches(model, document.Root);
            }

            Assert.Equal(new BencodeError(BencodeErrorCode.TrailingData, encoded.Length), B.Error(input));
        }, iter: 1000);

    /// <summary>Bytes that mean something to the parser, so random inputs get past the first byte.</summary>
    private static readonly Gen<byte> SyntaxByte = Gen.Frequency<byte>(
        (4, Gen.OneOf("ilde0123456789:-"u8.ToArray())),
        (1, Gen.Byte));

    [Fact]
    public void RandomBytes_NeverThrow() =>
        Gen.Frequency<byte[]>((3, SyntaxByte.Array[0, 40]), (1, Gen.Byte.Array[0, 40])).Sample(AssertParsesOrFailsCleanly, iter: 20_000);

    private static readonly Gen<(byte[] Encoded, int Kind, int Position, byte Value)> Mutations =
        Gen.Select(Values.Select(static v => v.Encode()), Gen.Int[0, 3], Gen.Int[0, int.MaxValue], SyntaxByte);

    [Fact]
    public void MutatedValidEncodings_NeverThrow() =>
        Mutations.Sample(static m => AssertParsesOrFailsCleanly(Mutate(m.Encoded, m.Kind, m.Position, m.Value)), iter: 20_000);

    private static byte[] Mutate(byte[] encoded, int kind, int position, byte value)
    {
        var bytes = new List<byte>(encoded);
        int at = position % (bytes.Count + 1);
        switch (kind)
        {
            case 0 when at < bytes.Count:
                bytes[at] = value;
                break;
            case 1 when at < bytes.Count:
                bytes.RemoveAt(at);
                break;
            case 2:
                bytes.Insert(at, value);
                break;
            default:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
        }

        return [.. bytes];
    }

    /// <summary>
    /// Whatever the input: no exception; the parser accepts exactly what <see cref="BencodeReference"/> accepts and
    /// finds the same values; a failure names a real code and an offset inside the input; a success re-encodes
    /// (document key order kept) to bytes that parse to the same encoding again.
    /// </summary>
    private static void AssertParsesOrFailsCleanly(byte[] input)
    {
        BValue? expected = BencodeReference.Read(input);
        if (BencodeDocument.TryParse(input, out BencodeDocument? document, out BencodeError error))
        {
            using (document)
            {
                Assert.Equal(BencodeErrorCode.None, error.Code);
                Assert.NotNull(expected);
                Assert.Equal(expected.TokenCount, document.TokenCount);
                BModel.AssertMatches(expected, document.Root);
                Assert.Equal(input.Length, document.Source.Length);
                byte[] again = B.ReEncode(document.Root);
                using BencodeDocument reparsed = BencodeDocument.Parse(again);
                Assert.Equal(again, B.ReEncode(reparsed.Root));
            }
        }
        else
        {
            Assert.Null(expected);
            Assert.Null(document);
            Assert.NotEqual(BencodeErrorCode.None, error.Code);
            Assert.True(Enum.IsDefined(error.Code));
            Assert.InRange(error.Offset, 0, input.Length);
        }
    }

    [Fact]
    public void Integers_WriterAndParserAgreeOnEveryLong() =>
        BModel.Integer.Sample(value =>
        {
            byte[] encoded = B.Write(w => w.WriteInteger(value));
            Assert.Equal("i" + value.ToString(CultureInfo.InvariantCulture) + "e", B.Text(encoded));
            using BencodeDocument document = BencodeDocument.Parse(encoded);
            Assert.True(document.Root.TryGetInt64(out long read));
            Assert.Equal(value, read);
        }, iter: 5000);

    /// <summary>Integer text: an optional '-' and 0 to 24 digits, biased to the 18-20 digit boundary.</summary>
    private static readonly Gen<(bool Negative, string Digits)> IntegerTexts = Gen.Select(
        Gen.Bool,
        Gen.Frequency<string>(
            (1, Gen.Char['0', '9'].Array[0, 24].Select(static c => new string(c))),
            (2, Gen.Char['0', '9'].Array[18, 20].Select(static c => new string(c))),
            (2, Gen.Char['8', '9'].Array[19, 20].Select(static c => new string(c))),
            (1, Gen.OneOf("9223372036854775807", "9223372036854775808", "9223372036854775809", "0", "00", "01"))));

    [Fact]
    public void IntegerText_ParserAgreesWithBigIntegerReference() =>
        IntegerTexts.Sample((negative, digits) =>
        {
            string text = "i" + (negative ? "-" : "") + digits + "e";
            BencodeErrorCode expected = ExpectedIntegerError(negative, digits);
            if (expected == BencodeErrorCode.None)
            {
                using BencodeDocument document = BencodeDocument.Parse(B.Bytes(text));
                Assert.True(document.Root.TryGetInt64(out long value));
                Assert.Equal(BigInteger.Parse((negative ? "-" : "") + digits, CultureInfo.InvariantCulture), new BigInteger(value));
            }
            else
            {
                Assert.Equal(new BencodeError(expected, 0), B.Error(text));
            }
        }, iter: 5000);

    /// <summary>BEP 3 plus the documented limits, written independently of the parser.</summary>
    private static BencodeErrorCode ExpectedIntegerError(bool negative, string digits)
    {
        if (digits.Length == 0)
        {
            return BencodeErrorCode.IntegerEmpty;
        }

        if (digits.Length > BencodeLimits.MaxIntegerDigits)
        {
            return BencodeErrorCode.IntegerTooLong;
        }

        if ((digits[0] == '0' && digits.Length > 1) || (negative && digits == "0"))
        {
            return BencodeErrorCode.IntegerNotCanonical;
        }

        BigInteger value = BigInteger.Parse((negative ? "-" : "") + digits, CultureInfo.InvariantCulture);
        return value < long.MinValue || value > long.MaxValue ? BencodeErrorCode.IntegerOverflow : BencodeErrorCode.None;
    }

    [Fact]
    public void UnsortedDictionaries_DuplicateDetectionMatchesModel() =>
        Gen.Select(BModel.Key, Gen.Int[0, 9]).Array[0, 8].Sample(entries =>
        {
            // Keys in arbitrary order; the parser must refuse exactly the inputs that repeat a key.
            var writer = new System.Buffers.ArrayBufferWriter<byte>();
            var w = new BencodeWriter(writer);
            w.WriteDictionaryStart();
            foreach ((byte[] key, int value) in entries)
            {
                w.WriteString(key);
                w.WriteInteger(value);
            }

            w.WriteEnd();
            bool hasDuplicate = entries.Select(static e => B.Text(e.Item1)).Distinct().Count() != entries.Length;
            BencodeError error = B.Error(writer.WrittenSpan.ToArray());
            Assert.Equal(hasDuplicate ? BencodeErrorCode.DuplicateKey : BencodeErrorCode.None, error.Code);
        }, iter: 5000);
}
