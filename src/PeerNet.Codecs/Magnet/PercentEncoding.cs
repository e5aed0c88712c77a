using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Unicode;

namespace PeerNet.Magnet;

/// <summary>RFC 3986 percent-encoding of magnet link keys and values, over UTF-8.</summary>
internal static class PercentEncoding
{
    private const string HexUpper = "0123456789ABCDEF";

    // RFC 3986 §2.3 unreserved characters: the only ones Uri.EscapeDataString leaves alone.
    private static readonly SearchValues<char> Unreserved =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~");

    /// <summary>
    /// Decodes <c>%XX</c> escapes as UTF-8 bytes. Characters that are not escaped are taken as they are (a pasted
    /// link may hold raw non-ASCII text). With <paramref name="plusIsSpace"/>, <c>+</c> is a space, as in HTML
    /// form encoding. Fails on a malformed escape, on bytes that are not UTF-8, and on an unpaired surrogate.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> text, bool plusIsSpace, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? problem)
    {
        value = null;
        if (!IsWellFormedUtf16(text))
        {
            problem = "contains an unpaired UTF-16 surrogate";
            return false;
        }

        bool hasPlus = plusIsSpace && text.Contains('+');
        if (!hasPlus && !text.Contains('%'))
        {
            value = text.ToString();
            problem = null;
            return true;
        }

        // A UTF-16 code unit is at most 3 UTF-8 bytes, and an escape is 3 characters for one byte.
        byte[] bytes = ArrayPool<byte>.Shared.Rent(text.Length * 3);
        char[]? chars = null;
        try
        {
            int n = 0;
            int i = 0;
            while (i < text.Length)
            {
                char c = text[i];
                if (c == '%')
                {
                    if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                    {
                        problem = $"has a malformed percent-escape '{MagnetException.Quote(text.Slice(i, Math.Min(3, text.Length - i)))}'";
                        return false;
                    }

                    bytes[n++] = (byte)((HexValue(text[i + 1]) << 4) | HexValue(text[i + 2]));
                    i += 3;
                }
                else if (c == '+' && plusIsSpace)
                {
                    bytes[n++] = (byte)' ';
                    i++;
                }
                else
                {
                    int run = text[i..].IndexOfAny('%', plusIsSpace ? '+' : '%');
                    if (run < 0)
                    {
                        run = text.Length - i;
                    }

                    n += Encoding.UTF8.GetBytes(text.Slice(i, run), bytes.AsSpan(n));
                    i += run;
                }
            }

            chars = ArrayPool<char>.Shared.Rent(n);
            if (Utf8.ToUtf16(bytes.AsSpan(0, n), chars, out _, out int written, replaceInvalidSequences: false) != OperationStatus.Done)
            {
                problem = "has percent-escapes that are not valid UTF-8";
                return false;
            }

            value = new string(chars, 0, written);
            problem = null;
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            if (chars is not null)
            {
                ArrayPool<char>.Shared.Return(chars);
            }
        }
    }

    /// <summary>Appends <paramref name="value"/> escaped as <see cref="Uri.EscapeDataString(string)"/> would: everything but unreserved ASCII becomes <c>%XX</c> of its UTF-8 bytes.</summary>
    public static void Append(StringBuilder builder, string value)
    {
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune rune in value.EnumerateRunes())
        {
            if (rune.IsAscii && Unreserved.Contains((char)rune.Value))
            {
                builder.Append((char)rune.Value);
                continue;
            }

            int count = rune.EncodeToUtf8(utf8);
            foreach (byte b in utf8[..count])
            {
                builder.Append('%').Append(HexUpper[b >> 4]).Append(HexUpper[b & 0xF]);
            }
        }
    }

    /// <summary>True when every surrogate in <paramref name="text"/> is half of a pair, so it has an exact UTF-8 form.</summary>
    public static bool IsWellFormedUtf16(ReadOnlySpan<char> text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
