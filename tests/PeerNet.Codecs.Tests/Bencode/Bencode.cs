using System.Buffers;
using System.Text;
using PeerNet.Bencode;

namespace PeerNet.Codecs.Tests.Bencode;

/// <summary>Shared helpers: inputs are written as Latin-1 strings so any byte value can appear in a literal.</summary>
internal static class B
{
    public static byte[] Bytes(string latin1) => Encoding.Latin1.GetBytes(latin1);

    public static string Text(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>Parses the whole input and returns the error (None on success, disposing the document).</summary>
    public static BencodeError Error(byte[] input, BencodeLimits? limits = null)
    {
        if (BencodeDocument.TryParse(input, out BencodeDocument? document, out BencodeError error, limits))
        {
            Assert.Equal(BencodeErrorCode.None, error.Code);
            document.Dispose();
        }

        return error;
    }

    public static BencodeError Error(string latin1, BencodeLimits? limits = null) => Error(Bytes(latin1), limits);

    public static void AssertFails(byte[] input, BencodeErrorCode code, long offset, BencodeLimits? limits = null)
    {
        bool ok = BencodeDocument.TryParse(input, out BencodeDocument? document, out BencodeError error, limits);
        document?.Dispose();
        Assert.False(ok);
        Assert.Null(document);
        Assert.Equal(new BencodeError(code, offset), error);
    }

    public static void AssertFails(string latin1, BencodeErrorCode code, long offset, BencodeLimits? limits = null) =>
        AssertFails(Bytes(latin1), code, offset, limits);

    public static void AssertParses(byte[] input, BencodeLimits? limits = null)
    {
        bool ok = BencodeDocument.TryParse(input, out BencodeDocument? document, out BencodeError error, limits);
        document?.Dispose();
        Assert.True(ok, error.ToString());
        Assert.Equal(default, error);
    }

    public static void AssertParses(string latin1, BencodeLimits? limits = null) => AssertParses(Bytes(latin1), limits);

    public static byte[] Write(Action<BencodeWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new BencodeWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Re-encodes a node through <see cref="BencodeNode.WriteTo"/>.</summary>
    public static byte[] ReEncode(BencodeNode node) => Write(node.WriteTo);

    public static byte[] Repeat(string prefix, string unit, int count, string suffix)
    {
        var sb = new StringBuilder(prefix.Length + (unit.Length * count) + suffix.Length);
        sb.Append(prefix);
        sb.Insert(sb.Length, unit, count);
        sb.Append(suffix);
        return Bytes(sb.ToString());
    }
}
