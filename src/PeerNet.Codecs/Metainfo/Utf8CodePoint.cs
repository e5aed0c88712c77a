namespace PeerNet.Metainfo;

/// <summary>
/// Decodes one UTF-8 sequence exactly as libtorrent's <c>parse_utf8_codepoint</c> does, so a name that is not
/// UTF-8 gets the same <c>_</c> replacements (one per failed sequence, not one per byte) as it does in libtorrent.
/// </summary>
internal static class Utf8CodePoint
{
    /// <summary>
    /// The code point at the start of <paramref name="text"/> (not empty) and the bytes it takes, or -1 and the
    /// bytes libtorrent skips: one for a byte that cannot start a sequence, the whole announced length for a
    /// sequence with a bad continuation byte, an overlong form, a surrogate or a value past U+10FFFF, and the
    /// rest of the text (or five bytes for a five-byte lead) for a truncated one.
    /// </summary>
    public static (int CodePoint, int Length) Parse(ReadOnlySpan<byte> text)
    {
        byte lead = text[0];
        int length = lead < 0x80 ? 1
            : (lead >> 5) == 0b110 ? 2
            : (lead >> 4) == 0b1110 ? 3
            : (lead >> 3) == 0b11110 ? 4
            : (lead >> 2) == 0b111110 ? 5 // no such sequence, but libtorrent skips five bytes for it
            : 0;
        switch (length)
        {
            case 1:
                return (lead, 1);
            case 0:
                return (-1, 1);
            case > 4:
                return (-1, length);
        }

        if (length > text.Length)
        {
            return (-1, text.Length);
        }

        int codePoint = lead & (0x7F >> length);
        for (int i = 1; i < length; i++)
        {
            byte b = text[i];
            if ((b & 0xC0) != 0x80)
            {
                return (-1, length);
            }

            codePoint = (codePoint << 6) | (b & 0x3F);
        }

        int smallest = length switch { 2 => 0x80, 3 => 0x800, _ => 0x10000 };
        bool valid = codePoint >= smallest && codePoint <= 0x10FFFF && codePoint is not (>= 0xD800 and <= 0xDFFF);
        return (valid ? codePoint : -1, length);
    }
}
