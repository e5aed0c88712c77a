using System.Globalization;
using System.Net;
using System.Text;

namespace PeerNet.Lsd;

/// <summary>
/// BEP 14 Local Service Discovery messages: <c>BT-SEARCH * HTTP/1.1</c> requests sent to a multicast group, written
/// by <see cref="Write"/> and read by <see cref="TryParse"/>. Pure: no sockets, no clock.
/// </summary>
/// <remarks>
/// The form, from BEP 14:
/// <code>
/// BT-SEARCH * HTTP/1.1\r\n
/// Host: &lt;host&gt;\r\n
/// Port: &lt;port&gt;\r\n
/// Infohash: &lt;ihash&gt;\r\n
/// cookie: &lt;cookie (optional)&gt;\r\n
/// \r\n
/// \r\n
/// </code>
/// "An announce may contain multiple, consecutive Infohash headers to announce the participation in more than one
/// torrent."
/// </remarks>
internal static partial class LsdMessage
{
    /// <summary>The port of both LSD groups.</summary>
    public const int GroupPort = 6771;

    /// <summary>The <c>Host</c> value for the IPv4 group (org-local scope).</summary>
    public const string HostV4 = "239.192.152.143:6771";

    /// <summary>The <c>Host</c> value for the IPv6 group (site-local scope), bracketed as RFC 2732 asks.</summary>
    public const string HostV6 = "[ff15::efc0:988f]:6771";

    /// <summary>The IPv4 group, 239.192.152.143:6771.</summary>
    public static IPEndPoint GroupV4 => new(IPAddress.Parse("239.192.152.143"), GroupPort);

    /// <summary>The IPv6 group, [ff15::efc0:988f]:6771.</summary>
    public static IPEndPoint GroupV6 => new(IPAddress.Parse("ff15::efc0:988f"), GroupPort);

    private const string RequestLine = "BT-SEARCH * HTTP/1.1\r\n";
    private const string InfoHashLine = "Infohash: \r\n";
    private const string End = "\r\n\r\n"; // the empty line that ends the headers, and BEP 14's extra one

    /// <summary>Bytes <see cref="Write"/> needs for a message with these fields.</summary>
    public static int GetLength(string? host, int port, int infoHashCount, string? cookie)
        => RequestLine.Length
            + (host is null ? 0 : "Host: \r\n".Length + host.Length)
            + "Port: \r\n".Length + Digits(port)
            + (infoHashCount * (InfoHashLine.Length + (2 * Sha1Hash.Length)))
            + (cookie is null ? 0 : "cookie: \r\n".Length + cookie.Length)
            + End.Length;

    /// <summary>
    /// How many info-hashes one datagram of at most <paramref name="maxLength"/> bytes (default
    /// <see cref="LsdLimits.TargetDatagramLength"/>) can carry with these other fields, at most
    /// <see cref="LsdLimits.MaxInfoHashes"/>; 0 when not even one fits.
    /// </summary>
    public static int CountThatFit(string? host, int port, string? cookie, int maxLength = LsdLimits.TargetDatagramLength)
    {
        int room = maxLength - GetLength(host, port, 0, cookie);
        return room < 0 ? 0 : Math.Min(LsdLimits.MaxInfoHashes, room / (InfoHashLine.Length + (2 * Sha1Hash.Length)));
    }

    /// <summary>
    /// Writes an announce into <paramref name="destination"/> and returns its length (<see cref="GetLength"/>).
    /// Info-hashes go out as lower-case hexadecimal, in the given order.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A field a reader would refuse: no info-hash or more than <see cref="LsdLimits.MaxInfoHashes"/>, a port outside
    /// 1–65535, a host or cookie that is empty, too long or not visible ASCII; or a destination too small.
    /// </exception>
    public static int Write(Span<byte> destination, string? host, int port, ReadOnlySpan<Sha1Hash> infoHashes, string? cookie)
    {
        if (infoHashes.Length is 0 or > LsdLimits.MaxInfoHashes)
        {
            ThrowHelper.ThrowArgument(nameof(infoHashes), $"An announce carries 1 to {LsdLimits.MaxInfoHashes} info-hashes.");
        }

        if (port is < 1 or > IPEndPoint.MaxPort)
        {
            ThrowHelper.ThrowArgument(nameof(port), "A port is from 1 to 65535.");
        }

        if (host is not null && (host.Length > LsdLimits.MaxLineLength - "Host: ".Length || !IsHeaderValue(host)))
        {
            ThrowHelper.ThrowArgument(nameof(host), "A Host value is visible ASCII that fits in a line.");
        }

        if (cookie is not null && (cookie.Length > LsdLimits.MaxCookieLength || !IsHeaderValue(cookie)))
        {
            ThrowHelper.ThrowArgument(nameof(cookie), $"A cookie is 1 to {LsdLimits.MaxCookieLength} visible ASCII characters.");
        }

        int length = GetLength(host, port, infoHashes.Length, cookie);
        if (destination.Length < length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"The message needs {length} bytes.");
        }

        var text = new StringBuilder(length);
        text.Append(RequestLine);
        if (host is not null)
        {
            text.Append("Host: ").Append(host).Append("\r\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"Port: {port}\r\n");
        foreach (Sha1Hash hash in infoHashes)
        {
            text.Append("Infohash: ").Append(hash.ToString()).Append("\r\n");
        }

        if (cookie is not null)
        {
            text.Append("cookie: ").Append(cookie).Append("\r\n");
        }

        text.Append(End);
        return Encoding.ASCII.GetBytes(text.ToString(), destination);
    }

    /// <summary>Writes an announce with the IPv4 or IPv6 group as its <c>Host</c> into a new array.</summary>
    public static byte[] Create(bool ipv6, int port, ReadOnlySpan<Sha1Hash> infoHashes, string? cookie)
    {
        string host = ipv6 ? HostV6 : HostV4;
        var datagram = new byte[GetLength(host, port, infoHashes.Length, cookie)];
        Write(datagram, host, port, infoHashes, cookie);
        return datagram;
    }

    private static int Digits(int port) => port < 10 ? 1 : port < 100 ? 2 : port < 1000 ? 3 : port < 10000 ? 4 : 5;

    /// <summary>One or more visible ASCII characters (no space, no control character, nothing past 0x7E).</summary>
    private static bool IsHeaderValue(string value) => value.Length > 0 && value.All(c => c is >= '!' and <= '~');
}
