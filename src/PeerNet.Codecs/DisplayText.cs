using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace PeerNet;

/// <summary>
/// Makes text from the network (a torrent's name or comment, a magnet's <c>dn</c>, a tracker's failure reason, a
/// peer's client name) safe to print on a terminal or write to a log, where a control character would be obeyed
/// rather than shown: ESC and the C1 CSI start escape sequences that clear the screen or retitle the window, BEL
/// rings, CR and LF forge lines, and the bidi controls reorder what is shown ("evil\u202Egpj.exe" reads as
/// "evilexe.jpg").
/// </summary>
/// <remarks>
/// Replaced: the C0 controls (U+0000–U+001F; a tab becomes a space, every other one <see cref="Replacement"/>),
/// DEL (U+007F), the C1 controls (U+0080–U+009F), the bidi controls U+061C, U+200E, U+200F, U+202A–U+202E and
/// U+2066–U+2069, and unpaired surrogates. The replacement is U+FFFD, not '?': it is the character Unicode reserves
/// for exactly this, invalid UTF-8 from the network already decodes to it, UTF-8 encoders already write it for an
/// unpaired surrogate, and unlike '?' it cannot be mistaken for the text's own punctuation. Each character is
/// replaced by one, so positions and lengths are kept. This is for display only: a name used as data (a file path,
/// a URL to fetch) stays exact.
/// </remarks>
public static class DisplayText
{
    /// <summary>What a replaced character shows as: U+FFFD REPLACEMENT CHARACTER.</summary>
    public const char Replacement = '\uFFFD';

    /// <summary>Ends text cut short by a maximum length: U+2026 HORIZONTAL ELLIPSIS, one character.</summary>
    public const char Ellipsis = '\u2026';

    // Built from ranges so the list is checkable against the remarks above; surrogates are in the set so one
    // vectorised search finds every candidate, and pairs are then let through.
    private static readonly SearchValues<char> Candidates = SearchValues.Create(
        [.. Range('\u0000', '\u001F'), .. Range('\u007F', '\u009F'), '\u061C', '\u200E', '\u200F', .. Range('\u202A', '\u202E'), .. Range('\u2066', '\u2069'), .. Range('\uD800', '\uDFFF')]);

    /// <summary>
    /// <paramref name="text"/> with every control, bidi control and unpaired surrogate replaced, cut to at most
    /// <paramref name="maxLength"/> characters (the last one then <see cref="Ellipsis"/>). Returns the same
    /// instance, allocating nothing, when nothing needs replacing or cutting; null for null.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is less than 1.</exception>
    [return: NotNullIfNotNull(nameof(text))]
    public static string? Sanitize(string? text, int maxLength = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        return text is null || (text.Length <= maxLength && IndexOfUnsafe(text) < 0) ? text : Sanitize(text.AsSpan(), maxLength);
    }

    /// <summary>
    /// A new string of <paramref name="text"/> with every control, bidi control and unpaired surrogate replaced, cut
    /// to at most <paramref name="maxLength"/> characters (the last one then <see cref="Ellipsis"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is less than 1.</exception>
    public static string Sanitize(ReadOnlySpan<char> text, int maxLength = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        int keep = text.Length;
        if (keep > maxLength)
        {
            keep = maxLength - 1;

            // Cutting between the halves of a pair would leave a lone high surrogate: cut before the pair instead.
            if (keep > 0 && char.IsHighSurrogate(text[keep - 1]) && char.IsLowSurrogate(text[keep]))
            {
                keep--;
            }
        }

        bool cut = keep < text.Length;
        int length = keep + (cut ? 1 : 0);
        char[]? rented = null;
        Span<char> buffer = length <= 256 ? stackalloc char[256] : (rented = ArrayPool<char>.Shared.Rent(length));
        try
        {
            Replace(text[..keep], buffer);
            if (cut)
            {
                buffer[keep] = Ellipsis;
            }

            return new string(buffer[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The index of the first character <see cref="Sanitize(string, int)"/> would replace, or -1 when there is none.</summary>
    public static int IndexOfUnsafe(ReadOnlySpan<char> text)
    {
        int offset = 0;
        while (true)
        {
            int found = text[offset..].IndexOfAny(Candidates);
            if (found < 0)
            {
                return -1;
            }

            int at = offset + found;
            if (!IsPairAt(text, at))
            {
                return at;
            }

            offset = at + 2;
        }
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> (as long or longer), one character for one, replacing.</summary>
    private static void Replace(ReadOnlySpan<char> source, Span<char> destination)
    {
        source.CopyTo(destination);
        int offset = 0;
        int found;
        while ((found = IndexOfUnsafe(source[offset..])) >= 0)
        {
            int at = offset + found;
            destination[at] = source[at] == '\t' ? ' ' : Replacement;
            offset = at + 1;
        }
    }

    private static bool IsPairAt(ReadOnlySpan<char> text, int index)
        => char.IsHighSurrogate(text[index]) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]);

    private static IEnumerable<char> Range(char first, char last)
    {
        for (int c = first; c <= last; c++)
        {
            yield return (char)c;
        }
    }
}
