using System.Net;
using PeerNet.Libp2p;

namespace PeerNet.Codecs.Tests.Libp2p;

public sealed class MultiaddrTests
{
    private const string Peer = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";

    [Theory]
    [InlineData("/ip4/127.0.0.1/tcp/4001", "047f000001060fa1")]
    [InlineData("/ip4/0.0.0.0/udp/0", "040000000091020000")]
    [InlineData("/ip6/::1/tcp/80", "2900000000000000000000000000000001060050")]
    [InlineData("/ip6/2001:db8::42/udp/65535", "2920010db80000000000000000000000429102ffff")]
    public void Known_binary_forms(string text, string hex)
    {
        Multiaddr address = Multiaddr.Parse(text);

        Assert.Equal(hex, Convert.ToHexStringLower(address.ToBytes()));
        Assert.Equal(text, Multiaddr.Decode(Convert.FromHexString(hex)).ToString());
        Assert.Equal(address, Multiaddr.Decode(address.ToBytes()));
    }

    [Fact]
    public void P2p_carries_the_peer_id_length_prefixed()
    {
        var address = Multiaddr.Parse($"/ip4/10.0.0.1/tcp/6881/p2p/{Peer}");
        byte[] bytes = address.ToBytes();

        // ... then a5 03 (0x01A5), 26 (38 bytes), the multihash 00 24 + the 36-byte key message.
        Assert.Equal("a50326" + "0024080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e", Convert.ToHexStringLower(bytes[8..]));
        Assert.Equal(Peer, address.PeerId!.ToString());
        Assert.Equal(address.ToString(), Multiaddr.Decode(bytes).ToString());
        Assert.Equal([MultiaddrProtocol.Ip4, MultiaddrProtocol.Tcp, MultiaddrProtocol.P2p], address.Components.Select(c => c.Protocol));
        Assert.Equal("6881", address.Components[1].Value);
    }

    [Fact]
    public void Old_names_and_a_trailing_slash_read_canonically()
    {
        Assert.Equal($"/ip4/1.2.3.4/tcp/1/p2p/{Peer}", Multiaddr.Parse($"/ip4/1.2.3.4/tcp/1/ipfs/{Peer}").ToString());
        Assert.Equal("/ip4/1.2.3.4/tcp/1", Multiaddr.Parse("/ip4/1.2.3.4/tcp/1/").ToString());
        Assert.Equal("/ip6/2001:db8::1/tcp/1", Multiaddr.Parse("/ip6/2001:DB8:0:0::1/tcp/1").ToString());
    }

    [Fact]
    public void ForTcp_builds_the_listen_address()
    {
        Libp2pPeerId peer = Libp2pPeerId.Parse(Peer);

        Assert.Equal($"/ip4/192.168.1.2/tcp/6881/p2p/{Peer}", Multiaddr.ForTcp(IPAddress.Parse("::ffff:192.168.1.2"), 6881, peer).ToString());
        Assert.Equal("/ip6/::1/tcp/6881", Multiaddr.ForTcp(IPAddress.IPv6Loopback, 6881).ToString());
        Assert.Null(Multiaddr.ForTcp(IPAddress.Loopback, 1).PeerId);
        Assert.Throws<ArgumentOutOfRangeException>(() => Multiaddr.ForTcp(IPAddress.Loopback, 65536));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("ip4/1.2.3.4", "start with '/'")]
    [InlineData("/", "no components")]
    [InlineData("/ip4", "no value")]
    [InlineData("/ip4/1.2.3.4/tcp", "no value")]
    [InlineData("/ip4//tcp/1", "not an IPv4 address")]
    [InlineData("/ip4/1.2.3/tcp/1", "not an IPv4 address")]
    [InlineData("/ip4/127.1/tcp/1", "not an IPv4 address")]
    [InlineData("/ip4/0x7f.0.0.1/tcp/1", "not an IPv4 address")]
    [InlineData("/ip4/256.0.0.1/tcp/1", "not an IPv4 address")]
    [InlineData("/ip4/::1", "not an IPv4 address")]
    [InlineData("/ip6/1.2.3.4", "not an IPv6 address")]
    [InlineData("/ip6/fe80::1%eth0", "not an IPv6 address")]
    [InlineData("/ip6/[::1]", "not an IPv6 address")]
    [InlineData("/ip4/1.2.3.4/tcp/65536", "not a port")]
    [InlineData("/ip4/1.2.3.4/tcp/-1", "not a port")]
    [InlineData("/ip4/1.2.3.4/tcp/+80", "not a port")]
    [InlineData("/ip4/1.2.3.4/udp/ 80", "not a port")]
    [InlineData("/ip4/1.2.3.4//tcp/1", "empty")]
    [InlineData("/dns4/example.com/tcp/1", "not a protocol PeerNet knows")]
    [InlineData("/ip4/1.2.3.4/tcp/1/p2p/QmNope", "not a peer ID")]
    [InlineData("/ip4/1.2.3.4/tcp/1/\u001b[31m/1", "not a protocol")]
    public void Malformed_text_is_refused_with_a_reason(string text, string reason)
    {
        Assert.False(Multiaddr.TryParse(text, out Multiaddr? address, out string? error));
        Assert.Null(address);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', error);
        Assert.Contains(reason, Assert.Throws<FormatException>(() => Multiaddr.Parse(text)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("047f0000", "needs 4 bytes")]
    [InlineData("29000000", "needs 16 bytes")]
    [InlineData("047f000001060f", "needs 2 bytes")]
    [InlineData("047f00000106", "needs 2 bytes")]
    [InlineData("35", "not one PeerNet knows")] // dns4
    [InlineData("ff", "no valid protocol code")] // a varint cut short
    [InlineData("8000", "no valid protocol code")] // not minimal
    [InlineData("a503", "no valid length")]
    [InlineData("a50305aabb", "no valid length")] // says 5, 2 remain
    [InlineData("a503021220", "no peer ID")]
    public void Malformed_binary_is_refused_with_a_reason(string hex, string reason)
    {
        Assert.False(Multiaddr.TryDecode(Convert.FromHexString(hex), out _, out string? error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => Multiaddr.Decode(Convert.FromHexString(hex)));
    }

    [Fact]
    public void Oversized_input_is_refused_before_reading()
    {
        Assert.False(Multiaddr.TryDecode(new byte[Multiaddr.MaxBinaryLength + 1], out _, out string? error));
        Assert.Contains("over", error, StringComparison.Ordinal);
        Assert.False(Multiaddr.TryParse("/" + new string('a', Multiaddr.MaxTextLength), out _, out error));
        Assert.Contains("over", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_bytes_never_throw_and_what_decodes_round_trips()
    {
        var random = new Random(17);
        var buffer = new byte[24];
        for (int i = 0; i < 20_000; i++)
        {
            random.NextBytes(buffer);
            int length = random.Next(buffer.Length + 1);
            if (Multiaddr.TryDecode(buffer.AsSpan(0, length), out Multiaddr? address, out _))
            {
                Assert.Equal(buffer.AsSpan(0, length).ToArray(), address.ToBytes());
                Assert.Equal(address, Multiaddr.Parse(address.ToString()));
            }
        }
    }
}
