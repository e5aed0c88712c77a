using System.Buffers;
using System.Text;

namespace PeerNet.Bencode;

/// <summary>
/// Writes bencode into an <see cref="IBufferWriter{T}"/>. Callers write dictionary keys in sorted order
/// (BEP 3: "Keys must be strings and appear in sorted order (sorted as raw strings, not alphanumerics)").
/// </summary>
public readonly struct BencodeWriter
{
    private readonly IBufferWriter<byte> _output;

    /// <summary>Creates a writer over <paramref name="output"/>.</summary>
    public BencodeWriter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
    }

    /// <summary>Writes <c>i…e</c>.</summary>
    public void WriteInteger(long value)
    {
        Span<byte> span = _output.GetSpan(22);
        span[0] = (byte)'i';
        value.TryFormat(span[1..], out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        span[written + 1] = (byte)'e';
        _output.Advance(written + 2);
    }

    /// <summary>Writes a byte string <c>N:…</c>.</summary>
    public void WriteString(ReadOnlySpan<byte> value)
    {
        WriteLengthPrefix(value.Length);
        _output.Write(value);
    }

    /// <summary>Writes text as a UTF-8 byte string.</summary>
    public void WriteString(ReadOnlySpan<char> value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        WriteLengthPrefix(length);
        Span<byte> span = _output.GetSpan(length);
        int written = Encoding.UTF8.GetBytes(value, span);
        _output.Advance(written);
    }

    /// <summary>Writes text as a UTF-8 byte string.</summary>
    public void WriteString(string value) => WriteString(value.AsSpan());

    /// <summary>Writes <c>l</c>; close with <see cref="WriteEnd"/>.</summary>
    public void WriteListStart() => WriteByte((byte)'l');

    /// <summary>Writes <c>d</c>; close with <see cref="WriteEnd"/>.</summary>
    public void WriteDictionaryStart() => WriteByte((byte)'d');

    /// <summary>Writes <c>e</c>, closing the innermost list or dictionary.</summary>
    public void WriteEnd() => WriteByte((byte)'e');

    /// <summary>Copies already-encoded bytes (an info dictionary kept byte-exact for its hash).</summary>
    public void WriteRaw(ReadOnlySpan<byte> encoded) => _output.Write(encoded);

    private void WriteByte(byte b)
    {
        _output.GetSpan(1)[0] = b;
        _output.Advance(1);
    }

    private void WriteLengthPrefix(int length)
    {
        Span<byte> span = _output.GetSpan(12);
        length.TryFormat(span, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        span[written] = (byte)':';
        _output.Advance(written + 1);
    }
}
