using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace PeerNet.Magnet;

public sealed partial class MagnetLink
{
    private const string SchemePrefix = "magnet:?";
    private const string BtihPrefix = "urn:btih:";
    private const string BtmhPrefix = "urn:btmh:";

    // Multihash header of a v2 info-hash: function sha2-256 (0x12), digest length 32 (0x20). BEP 52 puts the
    // full v2 info-hash in magnet links as xt=urn:btmh:<multihash, hex-encoded>, so always "1220" + 64 hex digits.
    private const string Sha256MultihashHeader = "1220";
    private const ulong Sha256MultihashCode = 0x12;

    // Enough of a multihash to read both varints of any header, and to say how long the digest is.
    private const int MaxMultihashBytes = 64;

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    private static readonly string[] KnownKeys = ["xt", "dn", "xl", "tr", "ws", "x.pe", "so"];

    /// <summary>
    /// Parses a magnet link, or throws <see cref="MagnetException"/> naming the parameter and the problem.
    /// Leading and trailing white space is ignored; unknown parameters are kept in <see cref="OtherParameters"/>.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="MagnetException">The link is malformed, has no BitTorrent info-hash, or exceeds a <see cref="MagnetLimits"/> limit.</exception>
    public static MagnetLink Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParseCore(text, out MagnetLink? link, out string? parameter, out string? problem)
            ? link
            : throw new MagnetException(parameter, problem);
    }

    /// <summary>Parses a magnet link; on failure <paramref name="error"/> is the message <see cref="Parse"/> would throw.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out MagnetLink? link, [NotNullWhen(false)] out string? error)
    {
        if (text is null)
        {
            link = null;
            error = MagnetException.FormatMessage(null, "is null");
            return false;
        }

        if (TryParseCore(text, out link, out string? parameter, out string? problem))
        {
            error = null;
            return true;
        }

        error = MagnetException.FormatMessage(parameter, problem);
        return false;
    }

    private static bool TryParseCore(string text, [NotNullWhen(true)] out MagnetLink? link, out string? parameter, [NotNullWhen(false)] out string? problem)
    {
        link = null;
        parameter = null;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.Length > MagnetLimits.MaxLength)
        {
            problem = $"is {s.Length} characters long; the limit is {MagnetLimits.MaxLength}";
            return false;
        }

        if (!s.StartsWith(SchemePrefix, StringComparison.OrdinalIgnoreCase))
        {
            problem = "must start with 'magnet:?'";
            return false;
        }

        var builder = new Builder();
        ReadOnlySpan<char> query = s[SchemePrefix.Length..];
        foreach (Range pairRange in query.Split('&'))
        {
            ReadOnlySpan<char> pair = query[pairRange];
            if (pair.IsEmpty)
            {
                continue;
            }

            int equals = pair.IndexOf('=');
            ReadOnlySpan<char> rawKey = equals < 0 ? pair : pair[..equals];
            ReadOnlySpan<char> rawValue = equals < 0 ? [] : pair[(equals + 1)..];
            if (!PercentEncoding.TryDecode(rawKey, plusIsSpace: false, out string? key, out problem))
            {
                parameter = MagnetException.Quote(rawKey);
                return false;
            }

            key = StripIndex(key);
            if (key.Length == 0)
            {
                continue;
            }

            string? known = KnownKey(key);
            parameter = known ?? MagnetException.Quote(key);

            // '+' for a space comes from HTML forms, not RFC 3986, but display names in the wild rely on it.
            // Elsewhere it is literal: tracker URLs may hold a '+'.
            if (!PercentEncoding.TryDecode(rawValue, plusIsSpace: known == "dn", out string? value, out problem))
            {
                return false;
            }

            if (known is null)
            {
                builder.AddOther(key, value);
                continue;
            }

            // An empty known parameter ("tr=", "dn=") says nothing; generators emit them for missing fields.
            if (value.Length == 0)
            {
                continue;
            }

            problem = known switch
            {
                "xt" => ReadExactTopic(builder, value),
                "dn" => builder.SetDisplayName(value),
                "xl" => ReadExactLength(builder, value),
                "tr" => builder.AddTracker(value),
                "ws" => builder.AddWebSeed(value),
                "x.pe" => ReadPeer(builder, value),
                _ => ReadSelectOnly(builder, value), // "so", the last of KnownKeys
            };
            if (problem is not null)
            {
                return false;
            }
        }

        // BEP 9: xt is the one mandatory parameter; without a BitTorrent info-hash there is no torrent to fetch.
        if (!builder.HasInfoHash)
        {
            parameter = "xt";
            problem = "with an urn:btih: or urn:btmh: info-hash is required";
            return false;
        }

        parameter = null;
        return builder.TryBuild(out link, out problem);
    }

    // Some clients number repeated parameters (xt.1, tr.2, x.pe.3); the number carries no meaning.
    private static string StripIndex(string key)
    {
        ReadOnlySpan<char> k = key;
        while (true)
        {
            int dot = k.LastIndexOf('.');
            if (dot < 0 || dot == k.Length - 1 || k[(dot + 1)..].ContainsAnyExceptInRange('0', '9'))
            {
                break;
            }

            k = k[..dot];
        }

        return k.Length == key.Length ? key : k.ToString();
    }

    // ASCII-only case folding: "XT" is "xt", but no non-ASCII look-alike is.
    private static string? KnownKey(string key)
    {
        foreach (string known in KnownKeys)
        {
            if (Ascii.EqualsIgnoreCase(key, known))
            {
                return known;
            }
        }

        return null;
    }

    private static string? ReadExactTopic(Builder builder, string value)
    {
        if (value.StartsWith(BtihPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return TryParseBtih(value.AsSpan(BtihPrefix.Length), out Sha1Hash v1, out string? problem) ? builder.SetV1(v1) : problem;
        }

        if (value.StartsWith(BtmhPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return TryParseBtmh(value.AsSpan(BtmhPrefix.Length), out Sha256Hash v2, out string? problem) ? builder.SetV2(v2) : problem;
        }

        // Multi-network links also carry urn:ed2k:, urn:tree:tiger: and the like; they are not ours to judge.
        builder.AddOther("xt", value);
        return null;
    }

    // BEP 9: "<info-hash> Is the info-hash hex encoded, for a total of 40 characters. For compatability with
    // existing links in the wild, clients should also support the 32 character base32 encoded info-hash."
    private static bool TryParseBtih(ReadOnlySpan<char> text, out Sha1Hash hash, [NotNullWhen(false)] out string? problem)
    {
        hash = default;
        problem = null;
        switch (text.Length)
        {
            case Sha1Hash.Length * 2:
                if (!Sha1Hash.TryParseHex(text, out hash))
                {
                    problem = $"has urn:btih: '{MagnetException.Quote(text)}', which is 40 characters but not hexadecimal";
                }

                break;
            case 32:
                Span<byte> bytes = stackalloc byte[Sha1Hash.Length];
                if (Base32.TryDecode(text, bytes, out int written) && written == Sha1Hash.Length)
                {
                    hash = new Sha1Hash(bytes);
                }
                else
                {
                    problem = $"has urn:btih: '{MagnetException.Quote(text)}', which is 32 characters but not base32";
                }

                break;
            default:
                problem = $"has a urn:btih: info-hash of {text.Length} characters; it must be 40 hexadecimal or 32 base32 characters";
                break;
        }

        return problem is null;
    }

    // BEP 52: the v2 info-hash is a multihash, hex-encoded. Only sha2-256 with a 32-byte digest is a v2
    // info-hash; any other function or length names a different thing, so it is refused rather than ignored.
    private static bool TryParseBtmh(ReadOnlySpan<char> text, out Sha256Hash hash, [NotNullWhen(false)] out string? problem)
    {
        hash = default;
        if (text.Length % 2 != 0 || text.ContainsAnyExcept(HexDigits))
        {
            problem = $"has urn:btmh: '{MagnetException.Quote(text)}', which is not a hexadecimal multihash";
            return false;
        }

        Span<byte> bytes = stackalloc byte[MaxMultihashBytes];
        int total = text.Length / 2;
        int decoded = Math.Min(total, MaxMultihashBytes);
        Convert.FromHexString(text[..(decoded * 2)], bytes, out _, out _);
        bytes = bytes[..decoded];

        int offset = 0;
        if (!TryReadVarint(bytes, ref offset, out ulong code) || !TryReadVarint(bytes, ref offset, out ulong length))
        {
            problem = "has a urn:btmh: multihash with an incomplete header";
            return false;
        }

        if (code != Sha256MultihashCode)
        {
            problem = $"has a urn:btmh: multihash of function 0x{code:x}; a v2 info-hash is sha2-256 (0x12)";
            return false;
        }

        if (length != Sha256Hash.Length)
        {
            problem = $"has a urn:btmh: sha2-256 multihash declaring a {length}-byte digest; a v2 info-hash is 32 bytes";
            return false;
        }

        if (total - offset != Sha256Hash.Length)
        {
            problem = $"has a urn:btmh: sha2-256 multihash with {total - offset} digest bytes; a v2 info-hash is 32 bytes";
            return false;
        }

        hash = new Sha256Hash(bytes.Slice(offset, Sha256Hash.Length));
        problem = null;
        return true;
    }

    // Unsigned LEB128, at most 9 bytes as the multiformats unsigned-varint spec allows.
    private static bool TryReadVarint(ReadOnlySpan<byte> data, ref int offset, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift <= 56 && offset < data.Length; shift += 7)
        {
            byte b = data[offset++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }

    private static string? ReadExactLength(Builder builder, string value)
        => long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long length)
            ? builder.SetExactLength(length)
            : $"is '{MagnetException.Quote(value)}'; it must be a byte count from 0 to {long.MaxValue}";

    private static string? ReadPeer(Builder builder, string value)
        => MagnetPeer.TryParse(value, out MagnetPeer peer, out string? problem)
            ? builder.AddPeer(peer)
            : $"has an invalid peer address '{MagnetException.Quote(value)}': {problem}";

    // BEP 53: so=0,2,4,6-8 — zero-based file indices and inclusive ranges, separated by commas.
    private static string? ReadSelectOnly(Builder builder, string value)
    {
        ReadOnlySpan<char> text = value;
        foreach (Range itemRange in text.Split(','))
        {
            ReadOnlySpan<char> item = text[itemRange];
            if (item.IsEmpty)
            {
                return $"has an empty item in '{MagnetException.Quote(text)}'; write indices and ranges like 0,2,4-6";
            }

            int dash = item.IndexOf('-');
            ReadOnlySpan<char> firstText = dash < 0 ? item : item[..dash];
            ReadOnlySpan<char> lastText = dash < 0 ? item : item[(dash + 1)..];
            if (dash == 0 || lastText.StartsWith('-'))
            {
                return $"has a negative index in '{MagnetException.Quote(item)}'";
            }

            string? problem = ReadIndex(firstText, item, out int first);
            int last = first;
            if (problem is null && dash > 0)
            {
                problem = ReadIndex(lastText, item, out last);
            }

            if (problem is not null)
            {
                return problem;
            }

            if (last < first)
            {
                return $"has the reversed range '{MagnetException.Quote(item)}'; a range goes from low to high";
            }

            if (builder.AddSelectOnly(new FileIndexRange(first, last)) is { } limitProblem)
            {
                return limitProblem;
            }
        }

        return null;
    }

    private static string? ReadIndex(ReadOnlySpan<char> text, ReadOnlySpan<char> item, out int index)
    {
        index = 0;
        if (text.IsEmpty || text.ContainsAnyExceptInRange('0', '9'))
        {
            return $"has '{MagnetException.Quote(item)}', which is neither an index nor a range like 4-6";
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out index)
            ? null
            : $"has the index '{MagnetException.Quote(text)}', larger than {int.MaxValue}";
    }
}
