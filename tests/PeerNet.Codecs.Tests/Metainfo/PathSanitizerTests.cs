using System.Text;
using PeerNet.Metainfo;

namespace PeerNet.Codecs.Tests.Metainfo;

/// <summary>
/// <see cref="PathSanitizer"/>: libtorrent 2.0.8's element rules (each expectation marked so was read back from
/// python3-libtorrent), then PeerNet's Windows rules, which libtorrent applies on Windows only or not at all.
/// </summary>
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
    [InlineData("a/b", "ab")]
    [InlineData("/etc", "etc")]
    [InlineData("a\\b", "ab")]
    [InlineData("\\\\server\\share", "servershare")]
    [InlineData("../../etc/passwd", "....etcpasswd")]
    [InlineData("a\0b", "ab")]
    [InlineData("x\u202Egpj.exe", "xgpj.exe")]
    [InlineData("a\u200Eb\u200Fc\u202Ad\u202Be\u202Cf\u202Dg", "abcdefg")]
    [InlineData("a\u2066b", "a\u2066b")] // not in libtorrent's list: kept (displays are cleaned by DisplayText)
    public void SanitizeSegment_RemovesSeparatorsNulAndBidiControls_AsLibtorrent(string raw, string expected) => Assert.Equal(expected, Safe(raw));

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
    [InlineData(new byte[] { (byte)'a', 0xE6, 0x97 }, "a_")] // truncated: the rest is one '_'
    [InlineData(new byte[] { 0xC0, 0xAF }, "_")] // overlong: one '_' for the sequence
    [InlineData(new byte[] { 0xC4, 0xE3, 0xBA, 0xC3 }, "___")] // C4 E3 (bad continuation) | BA | C3 (truncated)
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "_")] // a surrogate
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 }, "_")] // past U+10FFFF
    [InlineData(new byte[] { 0xF8, 0x80, 0x80, 0x80, 0x80, (byte)'z' }, "_z")] // a five-byte lead skips five bytes
    public void SanitizeSegment_InvalidUtf8BecomesOneUnderscorePerSequence_AsLibtorrent(byte[] raw, string expected)
    {
        string? result = Sanitize(raw, out string? error);
        Assert.Null(error);
        Assert.Equal(expected, result);
    }

    [Fact]
    public void SanitizeSegment_ValidReplacementCharacterIsKept() => Assert.Equal("a\uFFFDb", Safe("a\uFFFDb"));

    [Fact]
    public void SanitizeSegment_EmptyBecomesUnderscore_AsLibtorrent() => Assert.Equal("_", Safe(""));

    [Theory]
    [InlineData(new byte[] { (byte)'.' })]
    [InlineData(new byte[] { (byte)'.', (byte)'.' })]
    [InlineData(new byte[] { 0 })]
    [InlineData(new byte[] { (byte)'/' })]
    [InlineData(new byte[] { (byte)'.', (byte)'.', 0 })]
    [InlineData(new byte[] { (byte)'.', (byte)'/' })]
    [InlineData(new byte[] { (byte)'/', (byte)'.', (byte)'.', (byte)'\\' })]
    [InlineData(new byte[] { 0xE2, 0x80, 0xAE })]
    public void SanitizeSegment_DotDotDotAndNothingLeft_AreDropped_AsLibtorrent(byte[] raw)
    {
        Assert.Null(Sanitize(raw, out string? error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData(300, "", 240)]
    [InlineData(300, ".txt", 244)] // the extension is kept after the cut
    [InlineData(240, ".abcdefghijk", 240)] // a dot further than 9 bytes from the end is no extension
    [InlineData(255, "", 240)]
    [InlineData(240, "", 240)]
    [InlineData(239, "", 239)]
    public void SanitizeSegment_OverLongNames_AreCutAt240Bytes_AsLibtorrent(int stem, string extension, int expectedLength)
    {
        string result = Safe(new string('a', stem) + extension);
        Assert.Equal(expectedLength, result.Length);
        Assert.StartsWith(new string('a', Math.Min(stem, 240)), result, StringComparison.Ordinal);
        Assert.EndsWith(expectedLength > 240 ? extension : "a", result, StringComparison.Ordinal);
    }

    [Fact]
    public void SanitizeSegment_CutCountsUtf8Bytes_AndKeepsWholeCharacters()
    {
        // 239 bytes, then 'é' (2 bytes) crosses 240: the cut comes after it, never inside it.
        string result = Safe(new string('a', 239) + string.Concat(Enumerable.Repeat("é", 20)) + ".mkv");
        Assert.Equal(new string('a', 239) + "é.mkv", result);
        Assert.Equal(string.Concat(Enumerable.Repeat("日", 80)) + ".txt", Safe(string.Concat(Enumerable.Repeat("日", 100)) + ".txt"));
    }

    [Fact]
    public void SanitizeSegment_RunsOfReplacementsEscapeTheCut_SoTheLimitStillRefusesThem()
    {
        // libtorrent only cuts after a valid character, so 256 invalid bytes stay 256 '_'.
        Assert.Equal(new string('_', 255), Sanitize([.. Enumerable.Repeat((byte)0xFF, 255)], out _));
        Assert.Null(Sanitize([.. Enumerable.Repeat((byte)0xFF, 256)], out string? error));
        Assert.NotNull(error);
    }

    [Fact]
    public void SanitizeSegment_DevicePrefixOnACutName_StaysWithinTheLimit()
        => Assert.Equal("_CON." + new string('a', 236), Safe("CON." + new string('a', 251)));

    [Fact]
    public void SanitizeSegment_HonoursACustomLimit()
    {
        var limits = new MetainfoLimits { MaxSegmentBytes = 3 };
        Assert.Equal("abc", PathSanitizer.SanitizeSegment("abc"u8, limits, out _));
        Assert.Null(PathSanitizer.SanitizeSegment("abcd"u8, limits, out string? error));
        Assert.NotNull(error);
    }

    [Fact]
    public void TrySanitizePath_DropsDotsAndKeepsEmptyAsUnderscore_AsLibtorrent()
    {
        var result = new List<string>();
        Assert.True(PathSanitizer.TrySanitizePath(Segments("", "a", ".", "", "b/c", "..", "d\0"), Limits, result, out string? error));
        Assert.Null(error);
        Assert.Equal(["_", "a", "_", "bc", "d"], result);
    }

    [Theory]
    [InlineData]
    [InlineData(".")]
    [InlineData("..", ".", "..")]
    public void TrySanitizePath_NothingLeft_IsUnderscoreForAFile_EmptyForALinkTarget(params string[] segments)
    {
        var result = new List<string>();
        Assert.True(PathSanitizer.TrySanitizePath(Segments(segments), Limits, result, out string? error));
        Assert.Null(error);
        Assert.Equal(["_"], result);
        Assert.True(PathSanitizer.TrySanitizePath(Segments(segments), Limits, result, out error, emptyIsUnderscore: false));
        Assert.Empty(result);
    }

    [Fact]
    public void TrySanitizePath_DepthLimitCountsKeptSegments()
    {
        var result = new List<string>();
        string[] deep = [.. Enumerable.Repeat("d", 64)];
        Assert.True(PathSanitizer.TrySanitizePath(Segments(deep), Limits, result, out _));
        Assert.True(PathSanitizer.TrySanitizePath(Segments([.. deep, ".", ".."]), Limits, result, out _));
        Assert.False(PathSanitizer.TrySanitizePath(Segments([.. deep, "x"]), Limits, result, out string? error));
        Assert.NotNull(error);
        Assert.False(PathSanitizer.TrySanitizePath(Segments([.. deep, ""]), Limits, result, out error));
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
        Assert.True(PathSanitizer.TrySanitizePath(Segments(".", "é", "..", "abcdefg"), limits, result, out _)); // "é/abcdefg"
        Assert.False(PathSanitizer.TrySanitizePath(Segments("é", "abcdefgh"), limits, result, out _));
    }

    private static List<ReadOnlyMemory<byte>> Segments(params string[] segments) => [.. segments.Select(s => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(s))];
}
