using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PeerNet.Libp2p;

/// <summary>The multiaddr protocols PeerNet reads and writes; the values are the multicodec codes.</summary>
public enum MultiaddrProtocol
{
    /// <summary><c>/ip4/1.2.3.4</c>: 4 bytes.</summary>
    Ip4 = 0x04,

    /// <summary><c>/tcp/PORT</c>: 2 bytes, big-endian.</summary>
    Tcp = 0x06,

    /// <summary><c>/ip6/::1</c>: 16 bytes.</summary>
    Ip6 = 0x29,

    /// <summary><c>/udp/PORT</c>: 2 bytes, big-endian.</summary>
    Udp = 0x0111,

    /// <summary><c>/p2p/PEERID</c> (<c>/ipfs/</c> is read as its old name): a length-prefixed peer ID multihash.</summary>
    P2p = 0x01A5,
}

/// <summary>One <c>/protocol/value</c> pair of a <see cref="Multiaddr"/>.</summary>
public sealed class MultiaddrComponent
{
    private readonly byte[] _value;

    internal MultiaddrComponent(MultiaddrProtocol protocol, byte[] value, string text)
    {
        Protocol = protocol;
        _value = value;
        Value = text;
    }

    /// <summary>The protocol.</summary>
    public MultiaddrProtocol Protocol { get; }

    /// <summary>The value as text: an address, a port, a peer ID.</summary>
    public string Value { get; }

    internal ReadOnlySpan<byte> RawValue => _value;

    /// <summary>The component's text, e.g. <c>/tcp/4001</c>.</summary>
    public override string ToString() => $"/{Multiaddr.NameOf(Protocol)}/{Value}";
}

/// <summary>
/// A multiaddr (<c>/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...</c>): a self-describing network address, in text and in
/// binary (each component a varint protocol code then its value). Pure codec for /ip4, /ip6, /tcp, /udp and /p2p;
/// any other protocol is refused by name or code. Both forms are canonical: what is written reads back the same.
/// </summary>
public sealed class Multiaddr : IEquatable<Multiaddr>
{
    /// <summary>Longest binary form accepted.</summary>
    public const int MaxBinaryLength = 1024;

    /// <summary>Longest text form accepted.</summary>
    public const int MaxTextLength = 2048;

    private readonly MultiaddrComponent[] _components;
    private readonly byte[] _bytes;
    private readonly string _text;

    private Multiaddr(MultiaddrComponent[] components)
    {
        _components = components;
        var text = new StringBuilder();
        int length = 0;
        foreach (MultiaddrComponent c in components)
        {
            text.Append(c.ToString());
            length += UnsignedVarint.Length((ulong)c.Protocol) + c.RawValue.Length;
        }

        _text = text.ToString();
        _bytes = new byte[length];
        int at = 0;
        foreach (MultiaddrComponent c in components)
        {
            at += UnsignedVarint.Write((ulong)c.Protocol, _bytes.AsSpan(at));
            c.RawValue.CopyTo(_bytes.AsSpan(at));
            at += c.RawValue.Length;
        }
    }

    /// <summary>The components, in order.</summary>
    public IReadOnlyList<MultiaddrComponent> Components => _components;

    /// <summary>The peer of the last <c>/p2p</c> component, if any.</summary>
    public Libp2pPeerId? PeerId
    {
        get
        {
            for (int i = _components.Length - 1; i >= 0; i--)
            {
                if (_components[i].Protocol == MultiaddrProtocol.P2p)
                {
                    return Libp2pPeerId.Parse(_components[i].Value);
                }
            }

            return null;
        }
    }

    /// <summary><c>/ip4/ADDRESS/tcp/PORT</c> (or <c>/ip6/</c>), with <c>/p2p/PEERID</c> when <paramref name="peer"/> is given.</summary>
    public static Multiaddr ForTcp(IPAddress address, int port, Libp2pPeerId? peer = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, ushort.MaxValue);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var components = new List<MultiaddrComponent>(3)
        {
            address.AddressFamily == AddressFamily.InterNetwork
                ? new MultiaddrComponent(MultiaddrProtocol.Ip4, address.GetAddressBytes(), address.ToString())
                : new MultiaddrComponent(MultiaddrProtocol.Ip6, address.GetAddressBytes(), new IPAddress(address.GetAddressBytes()).ToString()),
            Port(MultiaddrProtocol.Tcp, (ushort)port),
        };
        if (peer is not null)
        {
            components.Add(P2p(peer));
        }

        return new Multiaddr([.. components]);
    }

    /// <summary>Parses the text form; throws <see cref="FormatException"/> naming the first problem.</summary>
    public static Multiaddr Parse(string text) =>
        TryParse(text, out Multiaddr? address, out string? error) ? address : throw new FormatException($"Not a multiaddr: {error}.");

    /// <summary>Parses the text form (<c>/ip4/1.2.3.4/tcp/80</c>); on failure <paramref name="error"/> names the problem.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out Multiaddr? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "it is empty";
            return false;
        }

        if (text.Length > MaxTextLength)
        {
            error = $"it is {text.Length} characters, over {MaxTextLength}";
            return false;
        }

        if (text[0] != '/')
        {
            error = "it does not start with '/'";
            return false;
        }

        string[] parts = text.Split('/');
        int count = parts.Length;
        if (parts[^1].Length == 0)
        {
            count--; // one trailing '/' is allowed, as go-multiaddr allows it
        }

        var components = new List<MultiaddrComponent>();
        int i = 1;
        while (i < count)
        {
            string name = parts[i];
            if (name.Length == 0)
            {
                error = $"component {components.Count + 1} is empty ('//')";
                return false;
            }

            MultiaddrProtocol? protocol = ProtocolNamed(name);
            if (protocol is null)
            {
                error = $"'{Printable(name)}' is not a protocol PeerNet knows (ip4, ip6, tcp, udp, p2p)";
                return false;
            }

            if (i + 1 >= count)
            {
                error = $"/{name} has no value";
                return false;
            }

            MultiaddrComponent? component = ParseValue(protocol.Value, parts[i + 1], out error);
            if (component is null)
            {
                error ??= $"/{name} has a bad value";
                return false;
            }

            components.Add(component);
            i += 2;
        }

        if (components.Count == 0)
        {
            error = "it has no components";
            return false;
        }

        address = new Multiaddr([.. components]);
        error = null;
        return true;
    }

    /// <summary>Reads the binary form; throws <see cref="FormatException"/> naming the first problem.</summary>
    public static Multiaddr Decode(ReadOnlySpan<byte> bytes) =>
        TryDecode(bytes, out Multiaddr? address, out string? error) ? address : throw new FormatException($"Not a binary multiaddr: {error}.");

    /// <summary>Reads the binary form: every byte must belong to a known, complete component.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out Multiaddr? address, [NotNullWhen(false)] out string? error)
    {
        address = null;
        if (bytes.IsEmpty)
        {
            error = "it is empty";
            return false;
        }

        if (bytes.Length > MaxBinaryLength)
        {
            error = $"it is {bytes.Length} bytes, over {MaxBinaryLength}";
            return false;
        }

        var components = new List<MultiaddrComponent>();
        int at = 0;
        while (at < bytes.Length)
        {
            if (UnsignedVarint.TryRead(bytes[at..], out ulong code, out int codeLength) != VarintStatus.Ok)
            {
                error = $"no valid protocol code at byte {at}";
                return false;
            }

            at += codeLength;
            ReadOnlySpan<byte> rest = bytes[at..];
            MultiaddrProtocol protocol = (MultiaddrProtocol)code;
            int length;
            switch (protocol)
            {
                case MultiaddrProtocol.Ip4:
                case MultiaddrProtocol.Ip6:
                    length = protocol == MultiaddrProtocol.Ip4 ? 4 : 16;
                    if (rest.Length < length)
                    {
                        error = $"/{NameOf(protocol)} needs {length} bytes, {rest.Length} remain";
                        return false;
                    }

                    byte[] ip = rest[..length].ToArray();
                    components.Add(new MultiaddrComponent(protocol, ip, new IPAddress(ip).ToString()));
                    break;
                case MultiaddrProtocol.Tcp:
                case MultiaddrProtocol.Udp:
                    length = 2;
                    if (rest.Length < length)
                    {
                        error = $"/{NameOf(protocol)} needs 2 bytes, {rest.Length} remain";
                        return false;
                    }

                    components.Add(Port(protocol, BinaryPrimitives.ReadUInt16BigEndian(rest)));
                    break;
                case MultiaddrProtocol.P2p:
                    if (UnsignedVarint.TryRead(rest, out ulong size, out int sizeLength) != VarintStatus.Ok || size > (ulong)(rest.Length - sizeLength))
                    {
                        error = $"/p2p at byte {at} has no valid length, or more than remains";
                        return false;
                    }

                    length = sizeLength + (int)size;
                    if (!Libp2pPeerId.TryFromMultihash(rest[sizeLength..length], out Libp2pPeerId? peer, out string? peerError))
                    {
                        error = $"/p2p holds no peer ID: {peerError}";
                        return false;
                    }

                    components.Add(P2p(peer));
                    break;
                default:
                    error = $"protocol code 0x{code:x} at byte {at - codeLength} is not one PeerNet knows (ip4, ip6, tcp, udp, p2p)";
                    return false;
            }

            at += length;
        }

        address = new Multiaddr([.. components]);
        error = null;
        return true;
    }

    /// <summary>The binary form.</summary>
    public byte[] ToBytes() => (byte[])_bytes.Clone();

    /// <summary>The text form.</summary>
    public override string ToString() => _text;

    /// <inheritdoc/>
    public bool Equals(Multiaddr? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Multiaddr);

    /// <inheritdoc/>
    public override int GetHashCode() => _text.GetHashCode(StringComparison.Ordinal);

    internal static string NameOf(MultiaddrProtocol protocol) => protocol switch
    {
        MultiaddrProtocol.Ip4 => "ip4",
        MultiaddrProtocol.Ip6 => "ip6",
        MultiaddrProtocol.Tcp => "tcp",
        MultiaddrProtocol.Udp => "udp",
        MultiaddrProtocol.P2p => "p2p",
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, null),
    };

    private static MultiaddrProtocol? ProtocolNamed(string name) => name switch
    {
        "ip4" => MultiaddrProtocol.Ip4,
        "ip6" => MultiaddrProtocol.Ip6,
        "tcp" => MultiaddrProtocol.Tcp,
        "udp" => MultiaddrProtocol.Udp,
        "p2p" or "ipfs" => MultiaddrProtocol.P2p,
        _ => null,
    };

    private static MultiaddrComponent Port(MultiaddrProtocol protocol, ushort port)
    {
        var value = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(value, port);
        return new MultiaddrComponent(protocol, value, port.ToString(CultureInfo.InvariantCulture));
    }

    private static MultiaddrComponent P2p(Libp2pPeerId peer)
    {
        ReadOnlySpan<byte> multihash = peer.Multihash.Span;
        var value = new byte[UnsignedVarint.Length((ulong)multihash.Length) + multihash.Length];
        int at = UnsignedVarint.Write((ulong)multihash.Length, value);
        multihash.CopyTo(value.AsSpan(at));
        return new MultiaddrComponent(MultiaddrProtocol.P2p, value, peer.ToString());
    }

    private static MultiaddrComponent? ParseValue(MultiaddrProtocol protocol, string text, out string? error)
    {
        error = null;
        switch (protocol)
        {
            case MultiaddrProtocol.Ip4:
            case MultiaddrProtocol.Ip6:
                AddressFamily family = protocol == MultiaddrProtocol.Ip4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;

                // IPAddress.TryParse also takes "127.1", "0x7f.0.0.1", "[::1]" and "fe80::1%eth0": only the plain forms pass.
                bool plain = protocol == MultiaddrProtocol.Ip4
                    ? text.Split('.') is { Length: 4 } octets && octets.All(o => o.Length is > 0 and <= 3 && o.All(char.IsAsciiDigit))
                    : text.Length > 0 && text.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.');
                if (!plain || !IPAddress.TryParse(text, out IPAddress? ip) || ip.AddressFamily != family)
                {
                    error = $"'{Printable(text)}' is not an {(protocol == MultiaddrProtocol.Ip4 ? "IPv4" : "IPv6")} address";
                    return null;
                }

                return new MultiaddrComponent(protocol, ip.GetAddressBytes(), ip.ToString());
            case MultiaddrProtocol.Tcp:
            case MultiaddrProtocol.Udp:
                if (text.Length is 0 or > 5 || !text.All(char.IsAsciiDigit) || !ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ushort port))
                {
                    error = $"'{Printable(text)}' is not a port (0-65535)";
                    return null;
                }

                return Port(protocol, port);
            default:
                if (!Libp2pPeerId.TryParse(text, out Libp2pPeerId? peer, out string? peerError))
                {
                    error = $"'{Printable(text)}' is not a peer ID: {peerError}";
                    return null;
                }

                return P2p(peer);
        }
    }

    private static string Printable(string text) => DisplayText.Sanitize(text, 80);
}
