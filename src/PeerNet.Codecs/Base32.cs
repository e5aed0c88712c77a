namespace PeerNet;

/// <summary>RFC 4648 base32 (alphabet A–Z, 2–7), without padding, as used by <c>urn:btih:</c> in magnet links.</summary>
public static class Base32
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    /// <summary>Encodes bytes as upper-case base32 without padding.</summary>
    public static string Encode(ReadOnlySpan<byte> data)
    {
        int chars = (data.Length * 8 + 4) / 5;
        return string.Create(chars, data.ToArray(), static (dest, bytes) =>
        {
            int buffer = 0;
            int bits = 0;
            int o = 0;
            foreach (byte b in bytes)
            {
                buffer = (buffer << 8) | b;
                bits += 8;
                while (bits >= 5)
                {
                    bits -= 5;
                    dest[o++] = Alphabet[(buffer >> bits) & 31];
                }
            }

            if (bits > 0)
            {
                dest[o] = Alphabet[(buffer << (5 - bits)) & 31];
            }
        });
    }

    /// <summary>
    /// Decodes base32 (either case, optional trailing '=' padding) into <paramref name="destination"/>.
    /// Fails on any other character, on a length that is not a whole number of bytes, or on non-zero trailing bits.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> text, Span<byte> destination, out int bytesWritten)
    {
        bytesWritten = 0;
        text = text.TrimEnd('=');
        int outLength = text.Length * 5 / 8;
        if (outLength > destination.Length)
        {
            return false;
        }

        int buffer = 0;
        int bits = 0;
        int o = 0;
        foreach (char c in text)
        {
            int v = c switch
            {
                >= 'A' and <= 'Z' => c - 'A',
                >= 'a' and <= 'z' => c - 'a',
                >= '2' and <= '7' => c - '2' + 26,
                _ => -1,
            };
            if (v < 0)
            {
                return false;
            }

            buffer = ((buffer << 5) | v) & 0xFFFF;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                destination[o++] = (byte)(buffer >> bits);
            }
        }

        // Leftover bits must be zero padding shorter than one character, or the text was not canonical.
        if (bits >= 5 || (buffer & ((1 << bits) - 1)) != 0)
        {
            return false;
        }

        bytesWritten = o;
        return true;
    }
}
