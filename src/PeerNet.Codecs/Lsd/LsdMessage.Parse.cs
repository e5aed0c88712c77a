using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace PeerNet.Lsd;

internal static partial class LsdMessage
{
    /// <summary>
    /// Reads one datagram as a BEP 14 announce. Refuses, with the reason in <paramref name="error"/>, anything past
    /// <see cref="LsdLimits"/> (the datagram's length is checked before it is scanned, each line's before it is read,
    /// the header and info-hash counts before one more is kept), a first line other than
    /// <c>BT-SEARCH * HTTP/1.1</c>, a missing or bad <c>Port</c>, no <c>Infohash</c> or one that is not 40
    /// hexadecimal digits (either case), and headers that do not end with an empty line. Header names are matched
    /// ignoring case; unknown headers are skipped; a repeated info-hash is kept once; what follows the empty line is
    /// ignored. Lines end with CRLF or a bare LF.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, [NotNullWhen(true)] out LsdAnnounce? announce, out LsdError error)
    {
        announce = null;
        if (datagram.Length > LsdLimits.MaxMessageLength)
        {
            error = LsdError.MessageTooLong;
            return false;
        }

        error = ReadLine(ref datagram, out ReadOnlySpan<byte> line);
        if (error != LsdError.None)
        {
            return false;
        }

        if (!IsRequestLine(line))
        {
            error = LsdError.NotBtSearch;
            return false;
        }

        string? host = null;
        string? cookie = null;
        int port = 0;
        var hashes = new List<Sha1Hash>();
        int headers = 0;
        while (true)
        {
            error = ReadLine(ref datagram, out line);
            if (error != LsdError.None)
            {
                return false;
            }

            if (line.IsEmpty)
            {
                break;
            }

            if (++headers > LsdLimits.MaxHeaders)
            {
                error = LsdError.TooManyHeaders;
                return false;
            }

            int colon = line.IndexOf((byte)':');
            ReadOnlySpan<byte> name = colon < 0 ? default : Trim(line[..colon]);
            if (name.IsEmpty)
            {
                error = LsdError.MalformedHeader;
                return false;
            }

            error = ReadHeader(name, Trim(line[(colon + 1)..]), ref host, ref port, ref cookie, hashes);
            if (error != LsdError.None)
            {
                return false;
            }
        }

        error = port == 0 ? LsdError.MissingPort : hashes.Count == 0 ? LsdError.MissingInfoHash : LsdError.None;
        if (error != LsdError.None)
        {
            return false;
        }

        announce = new LsdAnnounce(host, port, hashes, cookie);
        return true;
    }

    private static LsdError ReadHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, ref string? host, ref int port, ref string? cookie, List<Sha1Hash> hashes)
    {
        if (Ascii.EqualsIgnoreCase(name, "Infohash"u8))
        {
            // BEP 14: "hex-encoded (40 character) infohash".
            Span<char> hex = stackalloc char[2 * Sha1Hash.Length];
            if (value.Length != hex.Length || Encoding.ASCII.GetChars(value, hex) != hex.Length || !Sha1Hash.TryParseHex(hex, out Sha1Hash hash))
            {
                return LsdError.BadInfoHash;
            }

            if (!hashes.Contains(hash))
            {
                if (hashes.Count == LsdLimits.MaxInfoHashes)
                {
                    return LsdError.TooManyInfoHashes;
                }

                hashes.Add(hash);
            }

            return LsdError.None;
        }

        if (Ascii.EqualsIgnoreCase(name, "Port"u8))
        {
            if (port != 0)
            {
                return LsdError.DuplicateHeader;
            }

            port = ParsePort(value);
            return port == 0 ? LsdError.BadPort : LsdError.None;
        }

        if (Ascii.EqualsIgnoreCase(name, "Host"u8))
        {
            return ReadText(value, LsdLimits.MaxLineLength - "Host: ".Length, ref host); // so that it writes back within a line
        }

        if (Ascii.EqualsIgnoreCase(name, "cookie"u8))
        {
            return value.Length > LsdLimits.MaxCookieLength ? LsdError.CookieTooLong : ReadText(value, LsdLimits.MaxCookieLength, ref cookie);
        }

        return LsdError.None; // unknown headers are ignored, as in HTTP
    }

    /// <summary>A Host or cookie value: once only, visible ASCII only (the line limit already bounds its length).</summary>
    private static LsdError ReadText(ReadOnlySpan<byte> value, int maxLength, ref string? field)
    {
        if (field is not null)
        {
            return LsdError.DuplicateHeader;
        }

        if (value.IsEmpty || value.Length > maxLength || value.ContainsAnyExceptInRange((byte)'!', (byte)'~'))
        {
            return LsdError.MalformedHeader;
        }

        field = Encoding.ASCII.GetString(value);
        return LsdError.None;
    }

    /// <summary>1 to 65535 in decimal ASCII (no sign, at most 5 digits), or 0.</summary>
    private static int ParsePort(ReadOnlySpan<byte> value)
    {
        if (value.Length is 0 or > 5 || value.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
        {
            return 0;
        }

        int port = 0;
        foreach (byte digit in value)
        {
            port = (port * 10) + (digit - '0');
        }

        return port <= System.Net.IPEndPoint.MaxPort ? port : 0;
    }

    /// <summary><c>BT-SEARCH * HTTP/1.1</c>; the method ignoring case (libtorrent compares it lower-cased), any HTTP/1.x.</summary>
    private static bool IsRequestLine(ReadOnlySpan<byte> line)
        => line.Length == "BT-SEARCH * HTTP/1.1".Length
            && Ascii.EqualsIgnoreCase(line[..10], "BT-SEARCH "u8)
            && line[10..].StartsWith("* HTTP/1."u8)
            && char.IsAsciiDigit((char)line[^1]);

    /// <summary>
    /// Takes the next line off <paramref name="rest"/>, without its LF or CRLF; looks for the line end only within
    /// <see cref="LsdLimits.MaxLineLength"/> bytes, so a longer line is refused without being scanned to its end.
    /// </summary>
    private static LsdError ReadLine(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> line)
    {
        ReadOnlySpan<byte> window = rest[..Math.Min(rest.Length, LsdLimits.MaxLineLength + 2)];
        int end = window.IndexOf((byte)'\n');
        if (end < 0)
        {
            line = default;
            return rest.Length > LsdLimits.MaxLineLength + 1 ? LsdError.LineTooLong : LsdError.Incomplete;
        }

        line = rest[..end];
        rest = rest[(end + 1)..];
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        return line.Length > LsdLimits.MaxLineLength ? LsdError.LineTooLong : LsdError.None;
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> text) => text.Trim(" \t"u8);
}
