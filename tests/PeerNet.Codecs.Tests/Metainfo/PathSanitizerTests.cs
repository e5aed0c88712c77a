using System.Text;
using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

public sealed class PathSanitizerTests
{
    private static readonly MetainfoLimits Limits = MetainfoLimits.Default;

    private static string? Sanitize(byte[] raw, out string? error) => PathSanitizer.SanitizeSegment(raw, Limits, out error);

    private static string Safe(string raw)
    {
        string? result = Sanitize(Encoding.UTF8.GetBytes(raw), out string? error);
        Assert.Null(error);
        Assert.NotNull(result);
        return result;
    }

    [Theory]
    [InlineData("plain.txt", "plain.txt")]
    [InlineData("日本語のファイル.txt", "日本語のファイル.txt")]
    [InlineData("emoji 😀 e\u0301", "emoji 😀 e\u0301")]
    [InlineData(".hidden", ".hidden")]
    [InlineData("...x", "...x")]
    [InlineData("a/b", "a_b")]
    [InlineData("/etc", "_etc")]
    [InlineData("a\\b", "a_b")]
    [InlineData("\\\\server", "__server")]
    [InlineData("C:", "C_")]
    [InlineData("c:evil", "c_evil")]
    [InlineData("file:stream", "file_stream")]
    [InlineData("<>:\"|?*", "_______")]
    [InlineData("a\u0001b\u001fc\u007f", "a_b_c_")]
    [InlineData("tab\there", "tab_here")]
    [InlineData("new\nline", "new_line")]
    [InlineData("trailing.", "trailing_")]
    [InlineData("trailing ", "trailing_")]
    [InlineData("a..", "a._")]
    [InlineData("...", ".._")]
    [InlineData(" ", "_")]
    [InlineData(" lead", " lead")]
    public void SanitizeSegment_RewritesUnsafeCharacters(string raw, string expected) => Assert.Equal(expected, Safe(raw));

    [Theory]
    [InlineData("CON", "_CON")]
    [InlineData("con", "_con")]
    [InlineData("nul.txt", "_nul.txt")]
    [InlineData("NUL.tar.gz", "_NUL.tar.gz")]
    [InlineData("PRN", "_PRN")]
    [InlineData("aux.c", "_aux.c")]
    [InlineData("COM1", "_COM1")]
    [InlineData("com9.log", "_com9.log")]
    [InlineData("LPT1", "_LPT1")]
    [InlineData("LPT9", "_LPT9")]
    [InlineData("CON .txt", "_CON .txt")]
    [InlineData("CONSOLE", "CONSOLE")]
    [InlineData("COM10", "COM10")]
    [InlineData("COM0", "COM0")]
    [InlineData("LPT", "LPT")]
    [InlineData("xCON", "xCON")]
    [InlineData("CON.", "CON_")]
    public void SanitizeSegment_PrefixesWindowsDeviceNames(string raw, string expected) => Assert.Equal(expected, Safe(raw));

    [Theory]
    [InlineData("COM¹", "_COM¹")]
    [InlineData("com².txt", "_com².txt")]
    [InlineData("LPT³", "_LPT³")]
    [InlineData("lpt¹.log", "_lpt¹.log")]
    [InlineData("CONIN$", "_CONIN$")]
    [InlineData("conout$.txt", "_conout$.txt")]
    [InlineData("COM⁴", "COM⁴")]
    public void SanitizeSegment_PrefixesTheOtherReservedWindowsNames(string raw, string expected)
    {
        // Windows also reserves COM and LPT with a superscript 1 to 3 ("Naming Files, Paths, and Namespaces"),
        // and opens the console for CONIN$ and CONOUT$ (CreateFile, "Consoles").
        Assert.Equal(expected, Safe(raw));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, (byte)'a' }, "_a")]
    [InlineData(new byte[] { (byte)'a', 0xE6, 0x97 }, "a_")]
    [InlineData(new byte[] { 0xC0, 0xAF }, "__")]
    [InlineData(new byte[] { 0xC4, 0xE3, 0xBA, 0xC3 }, "___")] // maximal invalid subparts: C4 | E3 BA | C3
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "___")]
    public void SanitizeSegment_InvalidUtf8BecomesUnderscores(byte[] raw, string expected)
    {
        string? result = Sanitize(raw, out string? error);
        Assert.Null(error);
        Assert.Equal(expected, result);
    }

    [Fact]
    public void SanitizeSegment_ValidReplacementCharacterIsKept() => Assert.Equal("a\uFFFDb", Safe("a\uFFFDb"));

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    public void SanitizeSegment_EmptyAndDotAreDropped(string raw)
    {
        Assert.Null(Sanitize(Encoding.UTF8.GetBytes(raw), out string? error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'.', (byte)'.' })]
    [InlineData(new byte[] { 0 })]
    [InlineData(new byte[] { (byte)'a', 0, (byte)'b' })]
    [InlineData(new byte[] { (byte)'.', (byte)'.', 0 })]
    [InlineData(new byte[] { (byte)'.', 0 })]
    public void SanitizeSegment_TraversalAndNulAreRefused(byte[] raw)
    {
        Assert.Null(Sanitize(raw, out string? error));
        Assert.NotNull(error);
    }

    [Fact]
    public void SanitizeSegment_LengthLimitIsInUtf8Bytes()
    {
        Assert.Equal(255, Safe(new string('a', 255)).Length);
        Assert.Equal(85, Safe(string.Concat(Enumerable.Repeat("日", 85))).Length); // 255 bytes

        Assert.Null(Sanitize(Encoding.UTF8.GetBytes(new string('a', 256)), out string? error));
        Assert.NotNull(error);
        Assert.Null(Sanitize(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("日", 85)) + "a"), out error));
        Assert.NotNull(error);
    }

    [Fact]
    public void SanitizeSegment_DevicePrefixCannotPushPastTheLimit()
    {
        string raw = "CON." + new string('a', 251);
        Assert.Equal(255, raw.Length);
        Assert.Null(Sanitize(Encoding.UTF8.GetBytes(raw), out string? error));
        Assert.NotNull(error);
        Assert.Equal("_CON." + new string('a', 250), Safe("CON." + new string('a', 250)));
    }

    [Fact]
    public void SanitizeSegment_HonoursACustomLimit()
    {
        var limits = new MetainfoLimits { MaxSegmentBytes = 3 };
        Assert.Equal("abc", PathSanitizer.SanitizeSegment("abc"u8, limits, out _));
        Assert.Null(PathSanitizer.SanitizeSegment("abcd"u8, limits, out string? error));
        Assert.NotNull(error);
    }

    [Fact]
    public void TrySanitizePath_DropsEmptyAndDotSegments()
    {
        var result = new List<string>();
        Assert.True(PathSanitizer.TrySanitizePath(Segments("", "a", ".", "", "b/c"), Limits, result, out string? error));
        Assert.Null(error);
        Assert.Equal(["a", "b_c"], result);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("a", "..")]
    [InlineData("a", "..", "b")]
    [InlineData("a", "b\0")]
    public void TrySanitizePath_RefusesTraversalAndNul(params string[] segments)
    {
        var result = new List<string>();
        Assert.False(PathSanitizer.TrySanitizePath(Segments(segments), Limits, result, out string? error));
        Assert.NotNull(error);
    }

    [Theory]
    [InlineData]
    [InlineData("")]
    [InlineData(".", "", ".")]
    public void TrySanitizePath_RefusesAPathWithNoSegments(params string[] segments)
    {
        var result = new List<string>();
        Assert.False(PathSanitizer.TrySanitizePath(Segments(segments), Limits, result, out string? error));
        Assert.NotNull(error);
    }

    [Fact]
    public void TrySanitizePath_DepthLimitCountsKeptSegments()
    {
        var result = new List<string>();
        string[] deep = [.. Enumerable.Repeat("d", 64)];
        Assert.True(PathSanitizer.TrySanitizePath(Segments(deep), Limits, result, out _));
        Assert.True(PathSanitizer.TrySanitizePath(Segments([.. deep, ".", ""]), Limits, result, out _));
        Assert.False(PathSanitizer.TrySanitizePath(Segments([.. deep, "x"]), Limits, result, out string? error));
        Assert.NotNull(error);
    }

    [Fact]
    public void TrySanitizePath_LengthLimitIsTheJoinedPathUnderThePrefix()
    {
        var limits = new MetainfoLimits { MaxPathBytes = 10 };
        var result = new List<string>();
        Assert.True(PathSanitizer.TrySanitizePath(Segments("abcd", "ef"), limits, result, out _, "ab")); // "ab/abcd/ef"
        Assert.False(PathSanitizer.TrySanitizePath(Segments("abcd", "efg"), limits, result, out _, "ab"));
        Assert.True(PathSanitizer.TrySanitizePath(Segments("abcd", "efghi"), limits, result, out _)); // "abcd/efghi"
        Assert.False(PathSanitizer.TrySanitizePath(Segments("abcd", "efghij"), limits, result, out _));
        Assert.True(PathSanitizer.TrySanitizePath(Segments("", "é", ".", "abcdefg"), limits, result, out _)); // "é/abcdefg"
        Assert.False(PathSanitizer.TrySanitizePath(Segments("é", "abcdefgh"), limits, result, out _));
    }

    private static List<ReadOnlyMemory<byte>> Segments(params string[] segments) => [.. segments.Select(s => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(s))];
}
