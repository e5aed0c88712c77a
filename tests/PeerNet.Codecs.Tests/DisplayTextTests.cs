using CsCheck;

namespace PeerNet.Codecs.Tests;

public sealed class DisplayTextTests
{
    // Every class of character the rules name, plus ordinary text, astral pairs and stray surrogate halves.
    private static readonly Gen<string> AnyText = Gen.OneOf(
            Gen.Char['\u0000', '\u001F'],
            Gen.Char['\u007F', '\u009F'],
            Gen.OneOf(Gen.Const('\u061C'), Gen.Const('\u200E'), Gen.Const('\u200F')),
            Gen.Char['\u202A', '\u202E'],
            Gen.Char['\u2066', '\u2069'],
            Gen.Char['\uD800', '\uDFFF'],
            Gen.Char['\u2000', '\u2070'],
            Gen.Char['a', 'z'],
            Gen.Char)
        .Array[0, 30]
        .Select(chars => new string(chars))
        .SelectMany(text => Gen.OneOf(Gen.Const(text), Gen.Const(text + "😀"), Gen.Const("日本" + text)));

    private static readonly Gen<string> CleanText = Gen.OneOf(
            Gen.Char.Where(c => !IsForbidden(c) && !char.IsSurrogate(c)).Select(c => c.ToString()),
            Gen.OneOf(Gen.Const("😀"), Gen.Const("𝄞"), Gen.Const("é"), Gen.Const(" ")))
        .Array[0, 30]
        .Select(string.Concat);

    /// <summary>The rules, written out independently of the code under test.</summary>
    private static bool IsForbidden(char c)
        => c < 0x20 || c is >= '\u007f' and <= '\u009f' or '\u061c' or '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');

    private static bool IsLoneSurrogateAt(string text, int i)
        => char.IsHighSurrogate(text[i]) ? i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1])
            : char.IsLowSurrogate(text[i]) && (i == 0 || !char.IsHighSurrogate(text[i - 1]));

    private static void AssertSafe(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            Assert.False(IsForbidden(text[i]), $"U+{(int)text[i]:X4} at {i}");
            Assert.False(IsLoneSurrogateAt(text, i), $"lone surrogate U+{(int)text[i]:X4} at {i}");
        }
    }

    [Fact]
    public void Sanitize_AnyText_LeavesNoControlBidiControlOrLoneSurrogate()
        => AnyText.Sample(text =>
        {
            string result = DisplayText.Sanitize(text);
            AssertSafe(result);
            Assert.Equal(text.Length, result.Length);
            for (int i = 0; i < text.Length; i++)
            {
                char expected = text[i] == '\t' ? ' '
                    : IsForbidden(text[i]) || IsLoneSurrogateAt(text, i) ? DisplayText.Replacement
                    : text[i];
                Assert.Equal(expected, result[i]);
            }
        });

    [Fact]
    public void Sanitize_CleanText_ReturnsTheSameInstance()
        => CleanText.Sample(text =>
        {
            Assert.Same(text, DisplayText.Sanitize(text));
            Assert.Equal(-1, DisplayText.IndexOfUnsafe(text));
        });

    [Fact]
    public void Sanitize_Twice_IsTheSameAsOnce()
        => AnyText.Sample(text =>
        {
            string once = DisplayText.Sanitize(text);
            Assert.Same(once, DisplayText.Sanitize(once));
        });

    [Fact]
    public void Sanitize_Span_AgreesWithString()
        => Gen.Select(AnyText, Gen.Int[1, 40]).Sample((text, max) => Assert.Equal(DisplayText.Sanitize(text, max), DisplayText.Sanitize(text.AsSpan(), max)));

    [Fact]
    public void Sanitize_MaxLength_CutsWithAnEllipsisAndStaysSafe()
        => Gen.Select(AnyText, Gen.Int[1, 40]).Sample((text, max) =>
        {
            string result = DisplayText.Sanitize(text, max);
            AssertSafe(result);
            Assert.True(result.Length <= max, $"{result.Length} > {max}");
            string whole = DisplayText.Sanitize(text);
            if (text.Length <= max)
            {
                Assert.Equal(whole, result);
            }
            else
            {
                Assert.EndsWith(DisplayText.Ellipsis.ToString(), result, StringComparison.Ordinal);
                Assert.StartsWith(result[..^1], whole, StringComparison.Ordinal);
                Assert.True(result.Length >= max - 1, "cut more than a surrogate pair short");
            }
        });

    [Theory]
    [InlineData("evil\u202Egpj.exe", "evil\uFFFDgpj.exe")]
    [InlineData("\u001b[2J\u0007", "\uFFFD[2J\uFFFD")]
    [InlineData("\u009b31m", "\uFFFD31m")]
    [InlineData("a\tb\r\nc", "a b\uFFFD\uFFFDc")]
    [InlineData("\u061c\u200e\u200f\u202a\u2069\u007f", "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD")]
    public void Sanitize_Examples(string text, string expected) => Assert.Equal(expected, DisplayText.Sanitize(text));

    // Not [InlineData]: xUnit passes theory data through UTF-8, which turns a lone surrogate into U+FFFD before the test sees it.
    [Fact]
    public void Sanitize_LoneSurrogates_AreReplacedAndPairsKept()
        => Assert.Equal("lone \uFFFD high, lone \uFFFD low, pair \ud83d\ude00", DisplayText.Sanitize("lone \ud800 high, lone \udc00 low, pair \ud83d\ude00"));

    [Fact]
    public void Sanitize_CutInsideAPair_CutsBeforeThePair()
        => Assert.Equal("ab\u2026", DisplayText.Sanitize("ab\ud83d\ude00cd", 4));

    [Fact]
    public void Sanitize_Null_IsNull() => Assert.Null(DisplayText.Sanitize((string?)null));

    [Fact]
    public void Sanitize_MaxLengthBelowOne_Throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => DisplayText.Sanitize("x", 0));
}
