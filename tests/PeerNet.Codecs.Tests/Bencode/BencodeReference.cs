using System.Globalization;
using System.Numerics;
using PeerNet.Bencode;

namespace PeerNet.Codecs.Tests.Bencode;

/// <summary>
/// A deliberately naive recursive reader written straight from BEP 3 and the documented default limits, used as
/// an oracle: the real parser must accept exactly what this accepts, and find the same values.
/// </summary>
internal static class BencodeReference
{
    public static BValue? Read(ReadOnlySpan<byte> input)
    {
        int pos = 0;
        BValue? value = ReadValue(input, ref pos, 0);
        return value is not null && pos == input.Length ? value : null;
    }

    private static BValue? ReadValue(ReadOnlySpan<byte> s, ref int pos, int depth)
    {
        if (pos >= s.Length)
        {
            return null;
        }

        return s[pos] switch
        {
            (byte)'i' => ReadInteger(s, ref pos),
            (byte)'l' => ReadList(s, ref pos, depth),
            (byte)'d' => ReadDictionary(s, ref pos, depth),
            _ => ReadString(s, ref pos),
        };
    }

    private static BInt? ReadInteger(ReadOnlySpan<byte> s, ref int pos)
    {
        int end = s[pos..].IndexOf((byte)'e');
        if (end < 0)
        {
            return null;
        }

        string text = B.Text(s.Slice(pos + 1, end - 1));
        pos += end + 1;
        string digits = text.StartsWith('-') ? text[1..] : text;
        if (digits.Length is 0 or > 19 || !digits.All(char.IsAsciiDigit) || (digits[0] == '0' && text != "0"))
        {
            return null;
        }

        BigInteger n = BigInteger.Parse(text, CultureInfo.InvariantCulture);
        return n >= long.MinValue && n <= long.MaxValue ? new BInt((long)n) : null;
    }

    private static BStr? ReadString(ReadOnlySpan<byte> s, ref int pos)
    {
        int colon = s[pos..].IndexOf((byte)':');
        if (colon <= 0)
        {
            return null;
        }

        string text = B.Text(s.Slice(pos, colon));
        if (text.Length > 9 || !text.All(char.IsAsciiDigit) || (text[0] == '0' && text.Length > 1))
        {
            return null;
        }

        int length = int.Parse(text, CultureInfo.InvariantCulture);
        int start = pos + colon + 1;
        if (length > BencodeLimits.DefaultMaxStringLength || length > s.Length - start)
        {
            return null;
        }

        pos = start + length;
        return new BStr(s.Slice(start, length).ToArray());
    }

    private static BList? ReadList(ReadOnlySpan<byte> s, ref int pos, int depth)
    {
        if (depth == BencodeLimits.DefaultMaxDepth)
        {
            return null;
        }

        pos++;
        var items = new List<BValue>();
        while (pos < s.Length && s[pos] != (byte)'e')
        {
            BValue? item = ReadValue(s, ref pos, depth + 1);
            if (item is null)
            {
                return null;
            }

            items.Add(item);
        }

        pos++;
        return pos <= s.Length ? new BList([.. items]) : null;
    }

    /// <summary>Keys must be strings and distinct; their order is not checked (readers accept unsorted keys).</summary>
    private static BDict? ReadDictionary(ReadOnlySpan<byte> s, ref int pos, int depth)
    {
        if (depth == BencodeLimits.DefaultMaxDepth)
        {
            return null;
        }

        pos++;
        var entries = new List<(byte[] Key, BValue Value)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pos < s.Length && s[pos] != (byte)'e')
        {
            if (ReadValue(s, ref pos, depth + 1) is not BStr key || !seen.Add(B.Text(key.Value)))
            {
                return null;
            }

            BValue? value = ReadValue(s, ref pos, depth + 1);
            if (value is null)
            {
                return null;
            }

            entries.Add((key.Value, value));
        }

        pos++;
        return pos <= s.Length ? new BDict([.. entries]) : null;
    }
}
