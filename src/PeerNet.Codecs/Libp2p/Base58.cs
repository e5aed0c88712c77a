namespace PeerNet.Libp2p;

/// <summary>Base58btc (Bitcoin's alphabet), the text form of libp2p peer IDs: big-number conversion, leading zero bytes as '1's.</summary>
internal static class Base58
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    /// <summary>Longest input accepted either way: a peer ID is at most 44 bytes; this leaves room and keeps the quadratic conversion cheap.</summary>
    public const int MaxBytes = 256;

    private static readonly sbyte[] Digits = BuildDigits();

    private static sbyte[] BuildDigits()
    {
        var digits = new sbyte[128];
        Array.Fill(digits, (sbyte)-1);
        for (int i = 0; i < Alphabet.Length; i++)
        {
            digits[Alphabet[i]] = (sbyte)i;
        }

        return digits;
    }

    /// <summary>The base58btc text of <paramref name="data"/> (at most <see cref="MaxBytes"/> bytes).</summary>
    public static string Encode(ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxBytes)
        {
            throw new ArgumentException($"base58 input is {data.Length} bytes, over {MaxBytes}.", nameof(data));
        }

        int zeros = 0;
        while (zeros < data.Length && data[zeros] == 0)
        {
            zeros++;
        }

        // Base-58 digits, least significant first: each byte multiplies the number by 256 and adds itself.
        Span<byte> digits = stackalloc byte[(data.Length * 138 / 100) + 1];
        int used = 0;
        for (int i = zeros; i < data.Length; i++)
        {
            int carry = data[i];
            for (int j = 0; j < used; j++)
            {
                carry += digits[j] << 8;
                digits[j] = (byte)(carry % 58);
                carry /= 58;
            }

            while (carry > 0)
            {
                digits[used++] = (byte)(carry % 58);
                carry /= 58;
            }
        }

        return string.Create(zeros + used, (zeros, used, Digits: digits.ToArray()), static (chars, state) =>
        {
            chars[..state.zeros].Fill('1');
            for (int i = 0; i < state.used; i++)
            {
                chars[state.zeros + i] = Alphabet[state.Digits[state.used - 1 - i]];
            }
        });
    }

    /// <summary>Decodes base58btc text; null with <paramref name="error"/> for a character outside the alphabet or too long an input.</summary>
    public static byte[]? TryDecode(ReadOnlySpan<char> text, out string? error)
    {
        if (text.Length > MaxBytes * 2)
        {
            error = $"base58 text is {text.Length} characters, over {MaxBytes * 2}";
            return null;
        }

        int zeros = 0;
        while (zeros < text.Length && text[zeros] == '1')
        {
            zeros++;
        }

        // Bytes, least significant first: each digit multiplies the number by 58 and adds itself.
        Span<byte> bytes = stackalloc byte[(text.Length * 733 / 1000) + 1];
        int used = 0;
        for (int i = zeros; i < text.Length; i++)
        {
            char c = text[i];
            int digit = c < 128 ? Digits[c] : -1;
            if (digit < 0)
            {
                error = $"'{(char.IsControl(c) ? '?' : c)}' at {i} is not a base58btc character";
                return null;
            }

            int carry = digit;
            for (int j = 0; j < used; j++)
            {
                carry += bytes[j] * 58;
                bytes[j] = (byte)carry;
                carry >>= 8;
            }

            while (carry > 0)
            {
                bytes[used++] = (byte)carry;
                carry >>= 8;
            }
        }

        var result = new byte[zeros + used];
        for (int i = 0; i < used; i++)
        {
            result[zeros + i] = bytes[used - 1 - i];
        }

        error = null;
        return result;
    }
}
