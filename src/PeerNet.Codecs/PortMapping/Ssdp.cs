using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace PeerNet.PortMapping;

/// <summary>An answer to an SSDP search (UPnP Device Architecture 1.1, section 1.3.3): where the device describes itself.</summary>
/// <param name="Location">The device description's URL: absolute, <c>http</c>, with a host.</param>
/// <param name="SearchTarget">The <c>ST</c> header: the device or service type that answered.</param>
/// <param name="UniqueServiceName">The <c>USN</c> header, or null when the device sent none.</param>
internal sealed record SsdpResponse(Uri Location, string SearchTarget, string? UniqueServiceName);

/// <summary>Why a datagram was not taken as an answer to an SSDP search.</summary>
internal enum SsdpError
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>Longer than <see cref="Ssdp.MaxResponseLength"/>.</summary>
    TooLong,

    /// <summary>A line longer than <see cref="Ssdp.MaxLineLength"/>.</summary>
    LineTooLong,

    /// <summary>The headers do not end with an empty line.</summary>
    Incomplete,

    /// <summary>The first line is not <c>HTTP/1.x 200</c>.</summary>
    NotOk,

    /// <summary>More header lines than <see cref="Ssdp.MaxHeaders"/>.</summary>
    TooManyHeaders,

    /// <summary>A header line without a name and a colon, or a value with characters outside visible ASCII and space.</summary>
    MalformedHeader,

    /// <summary>A second <c>LOCATION</c>, <c>ST</c> or <c>USN</c> header.</summary>
    DuplicateHeader,

    /// <summary>No <c>LOCATION</c>, or one that is not an absolute <c>http</c> URL with a host.</summary>
    BadLocation,

    /// <summary>No <c>ST</c> header.</summary>
    MissingSearchTarget,
}

/// <summary>
/// SSDP, the discovery half of UPnP: the multicast <c>M-SEARCH</c> request for an Internet gateway device and the
/// parsing of the unicast answers, HTTP headers over UDP. Pure: no I/O. Every answer is bounded before it is scanned.
/// </summary>
internal static class Ssdp
{
    /// <summary>The SSDP multicast group, IPv4.</summary>
    public const string MulticastAddress = "239.255.255.250";

    /// <summary>The SSDP port.</summary>
    public const int Port = 1900;

    /// <summary>The device type of an Internet gateway (IGD version 1; IGD:2 devices answer it too).</summary>
    public const string InternetGatewayDevice = "urn:schemas-upnp-org:device:InternetGatewayDevice:1";

    /// <summary>Longest answer read: 2,048 bytes (real ones are 250 to 500). Longer ones are refused unread.</summary>
    public const int MaxResponseLength = 2048;

    /// <summary>Longest header line: 512 characters.</summary>
    public const int MaxLineLength = 512;

    /// <summary>Most header lines: 24.</summary>
    public const int MaxHeaders = 24;

    /// <summary>
    /// The <c>M-SEARCH</c> request for <paramref name="searchTarget"/>, devices to answer within <paramref name="mx"/>
    /// seconds (1 to 5, as the architecture asks).
    /// </summary>
    public static byte[] CreateSearch(string searchTarget = InternetGatewayDevice, int mx = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mx, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mx, 5);
        if (string.IsNullOrEmpty(searchTarget) || searchTarget.AsSpan().ContainsAnyExceptInRange('!', '~'))
        {
            ThrowHelper.ThrowArgument(nameof(searchTarget), "a search target is visible ASCII without spaces");
        }

        return Encoding.ASCII.GetBytes(
            "M-SEARCH * HTTP/1.1\r\n"
            + $"HOST: {MulticastAddress}:{Port}\r\n"
            + "MAN: \"ssdp:discover\"\r\n"
            + $"MX: {mx}\r\n"
            + $"ST: {searchTarget}\r\n"
            + "\r\n");
    }

    /// <summary>
    /// Reads an answer to a search: <c>HTTP/1.x 200</c>, then headers up to an empty line, of which <c>LOCATION</c>
    /// (required, an absolute <c>http</c> URL), <c>ST</c> (required) and <c>USN</c> are kept; names match ignoring case;
    /// other headers are skipped. Lines end with CRLF or a bare LF.
    /// </summary>
    public static bool TryParseResponse(ReadOnlySpan<byte> datagram, [NotNullWhen(true)] out SsdpResponse? response, out SsdpError error)
    {
        response = null;
        if (datagram.Length > MaxResponseLength)
        {
            error = SsdpError.TooLong;
            return false;
        }

        error = ReadLine(ref datagram, out ReadOnlySpan<byte> line);
        if (error != SsdpError.None)
        {
            return false;
        }

        if (!IsOkStatusLine(line))
        {
            error = SsdpError.NotOk;
            return false;
        }

        string? location = null, st = null, usn = null;
        for (int headers = 0; ; headers++)
        {
            error = ReadLine(ref datagram, out line);
            if (error != SsdpError.None)
            {
                return false;
            }

            if (line.IsEmpty)
            {
                break;
            }

            if (headers == MaxHeaders)
            {
                error = SsdpError.TooManyHeaders;
                return false;
            }

            int colon = line.IndexOf((byte)':');
            ReadOnlySpan<byte> name = colon < 0 ? default : line[..colon].Trim(" \t"u8);
            ReadOnlySpan<byte> value = colon < 0 ? default : line[(colon + 1)..].Trim(" \t"u8);
            if (name.IsEmpty || value.ContainsAnyExceptInRange((byte)' ', (byte)'~'))
            {
                error = SsdpError.MalformedHeader;
                return false;
            }

            if (Ascii.EqualsIgnoreCase(name, "LOCATION"u8))
            {
                error = Keep(ref location, value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "ST"u8))
            {
                error = Keep(ref st, value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "USN"u8))
            {
                error = Keep(ref usn, value);
            }

            if (error != SsdpError.None)
            {
                return false;
            }
        }

        if (location is null || !Uri.TryCreate(location, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttp
            || string.IsNullOrEmpty(uri.Host) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            error = SsdpError.BadLocation;
            return false;
        }

        if (string.IsNullOrEmpty(st))
        {
            error = SsdpError.MissingSearchTarget;
            return false;
        }

        response = new SsdpResponse(uri, st, string.IsNullOrEmpty(usn) ? null : usn);
        return true;
    }

    private static SsdpError Keep(ref string? field, ReadOnlySpan<byte> value)
    {
        if (field is not null)
        {
            return SsdpError.DuplicateHeader;
        }

        field = Encoding.ASCII.GetString(value);
        return SsdpError.None;
    }

    /// <summary><c>HTTP/1.x 200</c> and any reason phrase.</summary>
    private static bool IsOkStatusLine(ReadOnlySpan<byte> line)
        => line.Length >= "HTTP/1.1 200".Length
            && line.StartsWith("HTTP/1."u8)
            && char.IsAsciiDigit((char)line[7])
            && line[8..12].SequenceEqual(" 200"u8)
            && (line.Length == 12 || line[12] == (byte)' ');

    /// <summary>Takes the next line off <paramref name="rest"/>, looking for its end only within the line limit.</summary>
    private static SsdpError ReadLine(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> line)
    {
        ReadOnlySpan<byte> window = rest[..Math.Min(rest.Length, MaxLineLength + 2)];
        int end = window.IndexOf((byte)'\n');
        if (end < 0)
        {
            line = default;
            return rest.Length > MaxLineLength + 1 ? SsdpError.LineTooLong : SsdpError.Incomplete;
        }

        line = rest[..end];
        rest = rest[(end + 1)..];
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        return line.Length > MaxLineLength ? SsdpError.LineTooLong : SsdpError.None;
    }

    /// <summary>A sentence for a parse error, for logs.</summary>
    public static string Describe(this SsdpError error) => error switch
    {
        SsdpError.None => "no error",
        SsdpError.TooLong => "the answer is longer than the limit",
        SsdpError.LineTooLong => "a line is longer than the limit",
        SsdpError.Incomplete => "the headers do not end with an empty line",
        SsdpError.NotOk => "not an HTTP 200 answer",
        SsdpError.TooManyHeaders => "more header lines than the limit",
        SsdpError.MalformedHeader => "a header line is malformed",
        SsdpError.DuplicateHeader => "a LOCATION, ST or USN header is repeated",
        SsdpError.BadLocation => "no LOCATION, or not an absolute http URL",
        SsdpError.MissingSearchTarget => "no ST header",
        _ => error.ToString(),
    };
}
