using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PeerNet.Magnet;

/// <summary>
/// A peer address from a magnet link's <c>x.pe</c> parameter (BEP 9): <c>hostname:port</c>,
/// <c>ipv4-literal:port</c> or <c>[ipv6-literal]:port</c>. Host names are kept as written, never resolved.
/// </summary>
public readonly record struct MagnetPeer
{
    /// <summary>Longest host name accepted, in characters (the DNS limit).</summary>
    public const int MaxHostLength = 253;

    private const int MaxLabelLength = 63;

    private static readonly SearchValues<char> HostNameChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");

    private static readonly SearchValues<char> IPv6Chars = SearchValues.Create("0123456789abcdefABCDEF:.");

    private static readonly SearchValues<char> IPv4Chars = SearchValues.Create("0123456789.");

    private readonly string? _host;

    /// <summary>Creates a peer address.</summary>
    /// <param name="host">A host name, a dotted-quad IPv4 address, or an IPv6 address without brackets.</param>
    /// <param name="port">The port, 1 to 65535.</param>
    /// <exception cref="ArgumentException"><paramref name="host"/> is not a valid host.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is outside 1 to 65535.</exception>
    public MagnetPeer(string host, int port)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, ushort.MaxValue);
        if (ValidateHost(host) is { } problem)
        {
            ThrowHelper.ThrowArgument(nameof(host), problem);
        }

        _host = host;
        Port = port;
    }

    /// <summary>The host name or IP address, without brackets. Empty only for <c>default</c>.</summary>
    public string Host => _host ?? string.Empty;

    /// <summary>The port, 1 to 65535 (0 only for <c>default</c>).</summary>
    public int Port { get; }

    /// <summary>True when <see cref="Host"/> is an IPv6 literal.</summary>
    public bool IsIPv6 => Host.Contains(':', StringComparison.Ordinal);

    /// <summary>Parses <c>host:port</c>, <c>1.2.3.4:port</c> or <c>[::1]:port</c>, or throws <see cref="FormatException"/>.</summary>
    public static MagnetPeer Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out MagnetPeer peer, out string? problem)
            ? peer
            : throw new FormatException($"invalid peer address '{MagnetException.Quote(text)}': {problem}");
    }

    /// <summary>Parses <c>host:port</c>, <c>1.2.3.4:port</c> or <c>[::1]:port</c>.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out MagnetPeer peer)
    {
        peer = default;
        return text is not null && TryParse(text, out peer, out _);
    }

    /// <summary>The address as it appears in <c>x.pe</c>: IPv6 hosts in brackets.</summary>
    public override string ToString()
        => IsIPv6
            ? string.Create(CultureInfo.InvariantCulture, $"[{Host}]:{Port}")
            : string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");

    /// <summary>Parses an address; on failure <paramref name="problem"/> says what is wrong (without repeating the text).</summary>
    internal static bool TryParse(ReadOnlySpan<char> text, out MagnetPeer peer, [NotNullWhen(false)] out string? problem)
    {
        peer = default;
        ReadOnlySpan<char> host;
        ReadOnlySpan<char> port;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']');
            if (close < 0)
            {
                problem = "'[' has no closing ']'";
                return false;
            }

            host = text[1..close];
            ReadOnlySpan<char> rest = text[(close + 1)..];
            if (!rest.StartsWith(':'))
            {
                problem = "']' must be followed by ':port'";
                return false;
            }

            if (!host.Contains(':'))
            {
                problem = "only an IPv6 address goes in brackets";
                return false;
            }

            port = rest[1..];
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon < 0)
            {
                problem = "there is no ':port'";
                return false;
            }

            host = text[..colon];
            port = text[(colon + 1)..];
            if (host.Contains(':'))
            {
                problem = "an IPv6 address must be in brackets, like [::1]:6881";
                return false;
            }
        }

        if (ValidateHost(host) is { } hostProblem)
        {
            problem = hostProblem;
            return false;
        }

        if (!TryParsePort(port, out int portNumber))
        {
            problem = $"port '{MagnetException.Quote(port)}' is not a number from 1 to 65535";
            return false;
        }

        peer = new MagnetPeer(host.ToString(), portNumber);
        problem = null;
        return true;
    }

    private static bool TryParsePort(ReadOnlySpan<char> text, out int port)
    {
        port = 0;
        return text.Length is > 0 and <= 5 && !text.ContainsAnyExceptInRange('0', '9')
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port)
            && port is >= 1 and <= ushort.MaxValue;
    }

    /// <summary>Null when <paramref name="host"/> is a valid host name, IPv4 or IPv6 literal; otherwise the problem.</summary>
    private static string? ValidateHost(ReadOnlySpan<char> host)
    {
        if (host.IsEmpty)
        {
            return "the host is empty";
        }

        if (host.Contains(':'))
        {
            // Only hex digits, ':' and '.' (an embedded IPv4 tail). That shuts out a zone id ('%eth0'), which
            // IPAddress would look up in the local interface table, and brackets, which it would strip.
            if (host.ContainsAnyExcept(IPv6Chars) || !IPAddress.TryParse(host, out IPAddress? v6)
                || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return $"host '{MagnetException.Quote(host)}' is not a valid IPv6 address";
            }

            return null;
        }

        if (!host.ContainsAnyExcept(IPv4Chars))
        {
            return IsDottedQuad(host) ? null : $"host '{MagnetException.Quote(host)}' is not a valid IPv4 address";
        }

        if (host.Length > MaxHostLength)
        {
            return $"host name is {host.Length} characters; the limit is {MaxHostLength}";
        }

        foreach (Range r in host.Split('.'))
        {
            ReadOnlySpan<char> label = host[r];
            if (label.IsEmpty || label.Length > MaxLabelLength || label.ContainsAnyExcept(HostNameChars))
            {
                return $"host '{MagnetException.Quote(host)}' is not a valid host name";
            }
        }

        return null;
    }

    // Exactly four decimal parts of 0-255 without leading zeros. IPAddress.TryParse alone would also take the
    // legacy inet_aton forms "1", "1.2" and octal "010.0.0.1", which no client means in x.pe.
    private static bool IsDottedQuad(ReadOnlySpan<char> host)
    {
        int parts = 0;
        foreach (Range r in host.Split('.'))
        {
            ReadOnlySpan<char> part = host[r];
            if (part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0')
                || int.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture) > 255)
            {
                return false;
            }

            parts++;
        }

        return parts == 4;
    }
}
