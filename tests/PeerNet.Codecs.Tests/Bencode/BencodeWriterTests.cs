using System.Buffers;
using PeerNet.Bencode;

namespace PeerNet.Codecs.Tests.Bencode;

public sealed class BencodeWriterTests
{
    [Theory]
    [InlineData(0L, "i0e")]
    [InlineData(1L, "i1e")]
    [InlineData(-1L, "i-1e")]
    [InlineData(1234567890L, "i1234567890e")]
    [InlineData(long.MaxValue, "i9223372036854775807e")]
    [InlineData(long.MinValue, "i-9223372036854775808e")]
    public void WriteInteger_WritesCanonicalDecimal(long value, string expected) =>
        Assert.Equal(expected, B.Text(B.Write(w => w.WriteInteger(value))));

    [Fact]
    public void WriteString_Empty_WritesZeroLength()
    {
        Assert.Equal("0:", B.Text(B.Write(w => w.WriteString(ReadOnlySpan<byte>.Empty))));
        Assert.Equal("0:", B.Text(B.Write(w => w.WriteString(""))));
        Assert.Equal("0:", B.Text(B.Write(w => w.WriteString(ReadOnlySpan<char>.Empty))));
    }

    [Fact]
    public void WriteString_Bytes_WritesLengthThenBytesVerbatim()
    {
        byte[] bytes = [0, (byte)'e', (byte)':', 0xFF, (byte)'9'];
        Assert.Equal("5:\u0000e:\u00ff9", B.Text(B.Write(w => w.WriteString(bytes))));
    }

    [Theory]
    [InlineData("abc", "3:abc")]
    [InlineData("h\u00e9", "3:h\u00c3\u00a9")]
    [InlineData("\u65e5\u672c", "6:\u00e6\u0097\u00a5\u00e6\u009c\u00ac")]
    [InlineData("\U0001F600", "4:\u00f0\u009f\u0098\u0080")]
    public void WriteString_Text_WritesUtf8ByteLength(string text, string expected) =>
        Assert.Equal(expected, B.Text(B.Write(w => w.WriteString(text))));

    [Fact]
    public void WriteString_LongText_UsesMultiDigitLength()
    {
        string text = new('\u00e9', 600);
        byte[] encoded = B.Write(w => w.WriteString(text));
        Assert.StartsWith("1200:", B.Text(encoded), StringComparison.Ordinal);
        using BencodeDocument document = BencodeDocument.Parse(encoded);
        Assert.Equal(text, document.Root.GetString());
    }

    [Fact]
    public void Containers_NestAndClose()
    {
        byte[] encoded = B.Write(static w =>
        {
            w.WriteDictionaryStart();
            w.WriteString("a");
            w.WriteListStart();
            w.WriteInteger(1);
            w.WriteListStart();
            w.WriteEnd();
            w.WriteDictionaryStart();
            w.WriteEnd();
            w.WriteEnd();
            w.WriteString("b");
            w.WriteString("c");
            w.WriteEnd();
        });
        Assert.Equal("d1:ali1eledee1:b1:ce", B.Text(encoded));
        B.AssertParses(encoded);
    }

    [Fact]
    public void WriteRaw_CopiesBytesVerbatim()
    {
        byte[] info = B.Bytes("d4:name1:x6:lengthi1ee");
        byte[] encoded = B.Write(w =>
        {
            w.WriteDictionaryStart();
            w.WriteString("info");
            w.WriteRaw(info);
            w.WriteEnd();
        });
        Assert.Equal("d4:infod4:name1:x6:lengthi1eee", B.Text(encoded));
        using BencodeDocument document = BencodeDocument.Parse(encoded);
        Assert.True(document.Root["info"u8].RawSpan.SequenceEqual(info));
    }

    [Fact]
    public void Writer_IntoSmallSegments_WritesTheSameBytes()
    {
        // A buffer writer that hands out only what it is asked for, so every GetSpan size hint matters.
        var output = new TightBufferWriter();
        var writer = new BencodeWriter(output);
        writer.WriteListStart();
        writer.WriteInteger(long.MinValue);
        writer.WriteString("\u65e5\u672c");
        writer.WriteString(new byte[1000]);
        writer.WriteEnd();
        var expected = new ArrayBufferWriter<byte>();
        var reference = new BencodeWriter(expected);
        reference.WriteListStart();
        reference.WriteInteger(long.MinValue);
        reference.WriteString("\u65e5\u672c");
        reference.WriteString(new byte[1000]);
        reference.WriteEnd();
        Assert.Equal(expected.WrittenSpan.ToArray(), output.Written.ToArray());
    }

    [Fact]
    public void Constructor_NullOutput_Throws() =>
        Assert.Throws<ArgumentNullException>(() => new BencodeWriter(null!));

    private sealed class TightBufferWriter : IBufferWriter<byte>
    {
        private readonly List<byte> _written = [];
        private byte[] _pending = [];

        public IReadOnlyList<byte> Written => _written;

        public void Advance(int count)
        {
            Assert.InRange(count, 0, _pending.Length);
            _written.AddRange(_pending.AsSpan(0, count));
            _pending = [];
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            _pending = new byte[Math.Max(sizeHint, 1)];
            return _pending;
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }
}
