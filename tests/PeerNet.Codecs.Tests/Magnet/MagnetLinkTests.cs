using System.Net;
using PeerNet.Magnet;

namespace PeerNet.Codecs.Tests.Magnet;

public sealed class MagnetLinkTests
{
    /// <summary>SHA-1("abc"), a v1 info-hash for the tests.</summary>
    internal const string V1Hex = "a9993e364706816aba3e25717850c26c9cd0d89d";

    /// <summary>The same 20 bytes in RFC 4648 base32 (computed independently of the code under test).</summary>
    internal const string V1Base32 = "VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5";

    /// <summary>SHA-256("abc"), a v2 info-hash for the tests.</summary>
    internal const string V2Hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    internal const string Btih = "xt=urn:btih:" + V1Hex;
    internal const string Btmh = "xt=urn:btmh:1220" + V2Hex;
    internal const string V1Link = "magnet:?" + Btih;

    internal static readonly Sha1Hash V1 = Sha1Hash.Compute("abc"u8);
    internal static readonly Sha256Hash V2 = Sha256Hash.Compute("abc"u8);

    [Fact]
    public void TestVectors_MatchHashTypes_Agree()
    {
        Assert.Equal(V1Hex, V1.ToString());
        Assert.Equal(V1Base32, V1.ToBase32());
        Assert.Equal(V2Hex, V2.ToString());
    }

    [Theory]
    [InlineData(V1Hex)]
    [InlineData("A9993E364706816ABA3E25717850C26C9CD0D89D")]
    [InlineData("a9993E364706816aba3e25717850C26C9cd0d89d")]
    public void Parse_HexBtih_ReadsV1Hash(string hex)
    {
        MagnetLink link = MagnetLink.Parse("magnet:?xt=urn:btih:" + hex);

        Assert.Equal(V1, link.InfoHashes.V1);
        Assert.Null(link.InfoHashes.V2);
        Assert.False(link.InfoHashes.IsHybrid);
    }

    [Theory]
    [InlineData(V1Base32)]
    [InlineData("vgmt4nsha2awvor6evyxqugcnsonbwe5")]
    public void Parse_Base32Btih_ReadsV1Hash(string base32)
    {
        MagnetLink link = MagnetLink.Parse("magnet:?xt=urn:btih:" + base32);

        Assert.Equal(V1, link.InfoHashes.V1);
    }

    [Fact]
    public void Parse_Base32OfRandomHash_MatchesSha1HashToBase32()
    {
        Sha1Hash hash = Sha1Hash.Compute("PeerNet"u8);

        MagnetLink link = MagnetLink.Parse("magnet:?xt=urn:btih:" + hash.ToBase32());

        Assert.Equal(hash, link.InfoHashes.V1);
    }

    [Theory]
    [InlineData("urn:btmh:1220" + V2Hex)]
    [InlineData("URN:BTMH:1220BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")]
    public void Parse_Btmh_ReadsV2Hash(string topic)
    {
        MagnetLink link = MagnetLink.Parse("magnet:?xt=" + topic);

        Assert.Null(link.InfoHashes.V1);
        Assert.Equal(V2, link.InfoHashes.V2);
        Assert.Equal(V2.Truncate(), link.InfoHashes.WireHash);
    }

    [Theory]
    [InlineData("magnet:?" + Btih + "&" + Btmh)]
    [InlineData("magnet:?" + Btmh + "&" + Btih)]
    [InlineData("magnet:?" + Btmh + "&dn=x&xt=urn:btih:" + V1Base32)]
    public void Parse_BtihAndBtmh_IsHybrid(string text)
    {
        MagnetLink link = MagnetLink.Parse(text);

        Assert.True(link.InfoHashes.IsHybrid);
        Assert.Equal(V1, link.InfoHashes.V1);
        Assert.Equal(V2, link.InfoHashes.V2);
    }

    [Fact]
    public void Parse_SameBtihAsHexAndBase32_Accepted()
    {
        MagnetLink link = MagnetLink.Parse($"magnet:?{Btih}&xt=urn:btih:{V1Base32}&xt=urn:btih:{V1Hex.ToUpperInvariant()}");

        Assert.Equal(V1, link.InfoHashes.V1);
    }

    [Theory]
    [InlineData("MAGNET:?" + Btih)]
    [InlineData("Magnet:?" + Btih)]
    [InlineData("  magnet:?" + Btih + "\n")]
    [InlineData("magnet:?" + Btih + "&")]
    [InlineData("magnet:?&&" + Btih + "&&")]
    public void Parse_SchemeCaseAndStraySeparators_Accepted(string text)
    {
        Assert.Equal(V1, MagnetLink.Parse(text).InfoHashes.V1);
    }

    [Fact]
    public void Parse_EveryParameter_ReadsEach()
    {
        MagnetLink link = MagnetLink.Parse(
            "magnet:?" + Btih + "&" + Btmh + "&dn=Big+Buck+Bunny&xl=276134947"
            + "&tr=udp%3A%2F%2Ftracker.example%3A1337%2Fannounce&tr=http://t2.example/announce"
            + "&ws=https%3A%2F%2Fseed.example%2Fbbb%2F&x.pe=10.0.0.1:6881&x.pe=[2001:db8::1]:51413&x.pe=peer.example:1"
            + "&so=0,2,4-6");

        Assert.True(link.InfoHashes.IsHybrid);
        Assert.Equal("Big Buck Bunny", link.DisplayName);
        Assert.Equal(276134947L, link.ExactLength);
        Assert.Equal(["udp://tracker.example:1337/announce", "http://t2.example/announce"], link.Trackers);
        Assert.Equal(["https://seed.example/bbb/"], link.WebSeeds);
        Assert.Equal([new MagnetPeer("10.0.0.1", 6881), new MagnetPeer("2001:db8::1", 51413), new MagnetPeer("peer.example", 1)], link.Peers);
        Assert.Equal([new FileIndexRange(0), new FileIndexRange(2), new FileIndexRange(4, 6)], link.SelectOnly);
        Assert.Empty(link.OtherParameters);
    }

    [Fact]
    public void Parse_MinimalLink_HasEmptyOptionalParts()
    {
        MagnetLink link = MagnetLink.Parse(V1Link);

        Assert.Null(link.DisplayName);
        Assert.Null(link.ExactLength);
        Assert.Empty(link.Trackers);
        Assert.Empty(link.WebSeeds);
        Assert.Empty(link.Peers);
        Assert.Empty(link.SelectOnly);
        Assert.Empty(link.OtherParameters);
        Assert.True(link.IsFileSelected(0));
        Assert.True(link.IsFileSelected(int.MaxValue));
        Assert.False(link.IsFileSelected(-1));
    }

    [Fact]
    public void Parse_IndexedParameters_ReadAsSameParameter()
    {
        MagnetLink link = MagnetLink.Parse(
            "magnet:?xt.1=urn:btih:" + V1Hex + "&xt.2=urn:btmh:1220" + V2Hex + "&dn.1=name&xl.1=5"
            + "&tr.1=http://a.example/&tr.2=http://b.example/&tr.10=http://a.example/"
            + "&ws.1=http://w.example/&x.pe.1=1.2.3.4:5&so.1=3&TR.3=http://c.example/&kt.1=k");

        Assert.True(link.InfoHashes.IsHybrid);
        Assert.Equal("name", link.DisplayName);
        Assert.Equal(5L, link.ExactLength);
        Assert.Equal(["http://a.example/", "http://b.example/", "http://c.example/"], link.Trackers);
        Assert.Equal(["http://w.example/"], link.WebSeeds);
        Assert.Equal([new MagnetPeer("1.2.3.4", 5)], link.Peers);
        Assert.Equal([new FileIndexRange(3)], link.SelectOnly);
        Assert.Equal(["k"], link.OtherParameters["kt"]);
    }

    [Fact]
    public void Parse_RepeatedTrackersAndSeedsAndPeers_KeepOrderDropDuplicates()
    {
        MagnetLink link = MagnetLink.Parse(
            V1Link + "&tr=udp://b.example:1&tr=udp://a.example:1&tr=udp%3A%2F%2Fb.example%3A1&tr=udp://c.example:1"
            + "&ws=http://s.example/&ws=http://s.example/&x.pe=1.2.3.4:5&x.pe=1.2.3.4%3A5&x.pe=1.2.3.4:6");

        Assert.Equal(["udp://b.example:1", "udp://a.example:1", "udp://c.example:1"], link.Trackers);
        Assert.Equal(["http://s.example/"], link.WebSeeds);
        Assert.Equal([new MagnetPeer("1.2.3.4", 5), new MagnetPeer("1.2.3.4", 6)], link.Peers);
    }

    [Theory]
    [InlineData("%E6%97%A5%E6%9C%AC%E8%AA%9E", "日本語")]
    [InlineData("%e6%97%a5", "日")]
    [InlineData("%F0%9F%98%80%20smile", "😀 smile")]
    [InlineData("caf%C3%A9", "café")]
    [InlineData("café 日本", "café 日本")]
    [InlineData("a%2Bb", "a+b")]
    [InlineData("a+b++c", "a b  c")]
    [InlineData("100%25", "100%")]
    [InlineData("a%26b%3Dc", "a&b=c")]
    public void Parse_DisplayName_PercentAndPlusDecoded(string raw, string expected)
    {
        Assert.Equal(expected, MagnetLink.Parse(V1Link + "&dn=" + raw).DisplayName);
    }

    [Fact]
    public void Parse_PlusOutsideDisplayName_IsLiteral()
    {
        MagnetLink link = MagnetLink.Parse(V1Link + "&tr=http://t.example/a+b&ws=http://w.example/c+d&foo=e+f");

        Assert.Equal(["http://t.example/a+b"], link.Trackers);
        Assert.Equal(["http://w.example/c+d"], link.WebSeeds);
        Assert.Equal(["e+f"], link.OtherParameters["foo"]);
    }

    [Fact]
    public void Parse_UnknownParameters_KeptByNameInOrder()
    {
        MagnetLink link = MagnetLink.Parse(V1Link + "&kt=rock+pop&as=http%3A%2F%2Fa.example%2F&kt=jazz&flag&x.foo=1");

        Assert.Equal(["kt", "as", "flag", "x.foo"], link.OtherParameters.Keys);
        Assert.Equal(["rock+pop", "jazz"], link.OtherParameters["kt"]);
        Assert.Equal(["http://a.example/"], link.OtherParameters["as"]);
        Assert.Equal([""], link.OtherParameters["flag"]);
    }

    [Fact]
    public void Parse_ForeignExactTopic_KeptUnderXt()
    {
        MagnetLink link = MagnetLink.Parse("magnet:?xt=urn:ed2k:31d6cfe0d16ae931b73c59d7e0c089c0&" + Btih);

        Assert.Equal(V1, link.InfoHashes.V1);
        Assert.Equal(["urn:ed2k:31d6cfe0d16ae931b73c59d7e0c089c0"], link.OtherParameters["xt"]);
    }

    [Theory]
    [InlineData("&dn=&tr=&ws=&x.pe=&so=&xl=")]
    [InlineData("&dn&tr&so")]
    [InlineData("&=orphan&.1=x")]
    [InlineData("&xt=")]
    public void Parse_EmptyKnownValuesAndEmptyKeys_Ignored(string suffix)
    {
        MagnetLink link = MagnetLink.Parse(V1Link + suffix);

        Assert.Null(link.DisplayName);
        Assert.Null(link.ExactLength);
        Assert.Empty(link.Trackers);
        Assert.Empty(link.SelectOnly);
        Assert.Empty(link.OtherParameters);
        Assert.Equal(V1Link, link.ToString());
    }

    [Fact]
    public void Parse_RepeatedEqualDisplayNameAndLength_Accepted()
    {
        MagnetLink link = MagnetLink.Parse(V1Link + "&dn=a+b&dn=a%20b&xl=7&xl=007");

        Assert.Equal("a b", link.DisplayName);
        Assert.Equal(7L, link.ExactLength);
    }

    [Theory]
    [InlineData("1.2.3.4:6881", "1.2.3.4", 6881)]
    [InlineData("0.0.0.0:1", "0.0.0.0", 1)]
    [InlineData("255.255.255.255:65535", "255.255.255.255", 65535)]
    [InlineData("[::1]:6881", "::1", 6881)]
    [InlineData("%5B2001%3Adb8%3A%3A1%5D%3A51413", "2001:db8::1", 51413)]
    [InlineData("[::ffff:1.2.3.4]:80", "::ffff:1.2.3.4", 80)]
    [InlineData("peer.example.org:6881", "peer.example.org", 6881)]
    [InlineData("localhost:6881", "localhost", 6881)]
    [InlineData("my_host-1.lan:6881", "my_host-1.lan", 6881)]
    public void Parse_PeerAddress_ReadsHostAndPort(string raw, string host, int port)
    {
        MagnetPeer peer = Assert.Single(MagnetLink.Parse(V1Link + "&x.pe=" + raw).Peers);

        Assert.Equal(host, peer.Host);
        Assert.Equal(port, peer.Port);
    }

    [Fact]
    public void Parse_SelectOnly_ReadsIndicesAndInclusiveRanges()
    {
        MagnetLink link = MagnetLink.Parse(V1Link + "&so=0,2,4-6&so=9-9,2147483647");

        Assert.Equal([new FileIndexRange(0), new FileIndexRange(2), new FileIndexRange(4, 6), new FileIndexRange(9), new FileIndexRange(int.MaxValue)], link.SelectOnly);
        Assert.Equal([true, false, true, false, true, true, true, false, false, true], Enumerable.Range(0, 10).Select(link.IsFileSelected));
        Assert.True(link.IsFileSelected(int.MaxValue));
        Assert.EndsWith("&so=0,2,4-6,9,2147483647", link.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1048576", 1048576L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void Parse_ExactLength_Read(string raw, long expected)
    {
        Assert.Equal(expected, MagnetLink.Parse(V1Link + "&xl=" + raw).ExactLength);
    }

    [Fact]
    public void ToString_ParsedUpperCaseAndBase32_IsLowerCaseHex()
    {
        Assert.Equal(V1Link, MagnetLink.Parse("MAGNET:?XT=URN:BTIH:" + V1Base32).ToString());
        Assert.Equal("magnet:?" + Btmh, MagnetLink.Parse("magnet:?xt=urn:btmh:1220" + V2Hex.ToUpperInvariant()).ToString());
    }

    [Fact]
    public void ToString_EveryParameter_CanonicalOrderAndEscaping()
    {
        MagnetLink link = MagnetLink.Create(
            new InfoHashes(V1, V2),
            "Big Buck Bunny (2008).mkv",
            trackers: ["udp://tracker.example:1337/announce", "https://t.example/a?k=1&x=y"],
            webSeeds: ["https://seed.example/files/"],
            peers: [new MagnetPeer("1.2.3.4", 6881), new MagnetPeer("::1", 51413), new MagnetPeer("peer.example", 1)],
            selectOnly: [new FileIndexRange(0), new FileIndexRange(2), new FileIndexRange(4, 6)],
            exactLength: 1234);

        Assert.Equal(
            "magnet:?xt=urn:btih:" + V1Hex + "&xt=urn:btmh:1220" + V2Hex
            + "&dn=Big%20Buck%20Bunny%20%282008%29.mkv&xl=1234"
            + "&tr=udp%3A%2F%2Ftracker.example%3A1337%2Fannounce&tr=https%3A%2F%2Ft.example%2Fa%3Fk%3D1%26x%3Dy"
            + "&ws=https%3A%2F%2Fseed.example%2Ffiles%2F"
            + "&x.pe=1.2.3.4%3A6881&x.pe=%5B%3A%3A1%5D%3A51413&x.pe=peer.example%3A1&so=0,2,4-6",
            link.ToString());
        MagnetLinkAssert.Same(link, MagnetLink.Parse(link.ToString()));
    }

    [Theory]
    [InlineData("a b+c/日😀é~-._")]
    [InlineData("100% & more = ?#[]@!$'()*,;")]
    [InlineData("tab\tnew\nline")]
    public void ToString_DisplayName_EscapedLikeUriEscapeDataString(string name)
    {
        MagnetLink link = MagnetLink.Create(new InfoHashes(V1, null), name);

        Assert.Equal(V1Link + "&dn=" + Uri.EscapeDataString(name), link.ToString());
        Assert.Equal(name, MagnetLink.Parse(link.ToString()).DisplayName);
    }

    [Fact]
    public void ToString_OtherParameters_AppendedAfterKnownOnes()
    {
        MagnetLink link = MagnetLink.Parse("magnet:?kt=a+b&xt=urn:ed2k:abc&" + Btih + "&dn=n&k%3Dy=v%26");

        Assert.Equal(V1Link + "&dn=n&kt=a%2Bb&xt=urn%3Aed2k%3Aabc&k%3Dy=v%26", link.ToString());
        MagnetLinkAssert.Same(link, MagnetLink.Parse(link.ToString()));
    }

    [Fact]
    public void Create_V1Only_FormatsJustXt()
    {
        Assert.Equal(V1Link, MagnetLink.Create(new InfoHashes(V1, null)).ToString());
    }

    [Fact]
    public void Create_V2Only_FormatsBtmh()
    {
        Assert.Equal("magnet:?" + Btmh + "&dn=x", MagnetLink.Create(new InfoHashes(null, V2), "x").ToString());
    }

    [Fact]
    public void Create_DuplicatesAndEmptyName_DroppedAndOmitted()
    {
        MagnetLink link = MagnetLink.Create(
            new InfoHashes(V1, null),
            displayName: "",
            trackers: ["udp://a.example:1", "udp://b.example:1", "udp://a.example:1"],
            webSeeds: ["http://w.example/", "http://w.example/"],
            peers: [new MagnetPeer("1.2.3.4", 1), new MagnetPeer("1.2.3.4", 1)]);

        Assert.Null(link.DisplayName);
        Assert.Equal(["udp://a.example:1", "udp://b.example:1"], link.Trackers);
        Assert.Single(link.WebSeeds);
        Assert.Single(link.Peers);
    }

    [Fact]
    public void Create_DefaultInfoHashes_Throws()
    {
        Assert.Throws<ArgumentException>("infoHashes", () => MagnetLink.Create(default));
    }

    [Fact]
    public void Create_BadValues_ThrowArgumentException()
    {
        var v1 = new InfoHashes(V1, null);

        Assert.Throws<ArgumentException>("trackers", () => MagnetLink.Create(v1, trackers: [""]));
        Assert.Throws<ArgumentException>("trackers", () => MagnetLink.Create(v1, trackers: [null!]));
        Assert.Throws<ArgumentException>("webSeeds", () => MagnetLink.Create(v1, webSeeds: [""]));
        Assert.Throws<ArgumentException>("displayName", () => MagnetLink.Create(v1, "bad\uD800"));
        Assert.Throws<ArgumentException>("trackers", () => MagnetLink.Create(v1, trackers: ["http://x/\uDC00"]));
        Assert.Throws<ArgumentException>("peers", () => MagnetLink.Create(v1, peers: [default]));
        Assert.Throws<ArgumentOutOfRangeException>("exactLength", () => MagnetLink.Create(v1, exactLength: -1));
    }

    [Theory]
    [InlineData("1.2.3.4", 6881, "1.2.3.4:6881")]
    [InlineData("::1", 6881, "[::1]:6881")]
    [InlineData("peer.example", 65535, "peer.example:65535")]
    public void MagnetPeer_ToString_BracketsIPv6(string host, int port, string expected)
    {
        var peer = new MagnetPeer(host, port);

        Assert.Equal(expected, peer.ToString());
        Assert.Equal(peer, MagnetPeer.Parse(expected));
        Assert.Equal(host.Contains(':', StringComparison.Ordinal), peer.IsIPv6);
    }

    [Fact]
    public void MagnetPeer_IPv6Host_ParsesAsIPAddress()
    {
        var peer = new MagnetPeer(IPAddress.IPv6Loopback.ToString(), 1);

        Assert.Equal(IPAddress.IPv6Loopback, IPAddress.Parse(peer.Host));
    }

    [Theory]
    [InlineData("", 1)]
    [InlineData("[::1]", 1)]
    [InlineData("1.2.3.256", 1)]
    [InlineData("fe80::1%eth0", 1)]
    [InlineData("bad host", 1)]
    [InlineData("a..b", 1)]
    public void MagnetPeer_InvalidHost_Throws(string host, int port)
    {
        Assert.Throws<ArgumentException>(nameof(host), () => new MagnetPeer(host, port));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65536)]
    public void MagnetPeer_PortOutOfRange_Throws(int port)
    {
        Assert.Throws<ArgumentOutOfRangeException>(nameof(port), () => new MagnetPeer("1.2.3.4", port));
    }

    [Fact]
    public void MagnetPeer_TryParseInvalid_ReturnsFalse()
    {
        Assert.False(MagnetPeer.TryParse(null, out _));
        Assert.False(MagnetPeer.TryParse("1.2.3.4", out _));
        Assert.Throws<FormatException>(() => MagnetPeer.Parse("[::1]:0"));
    }

    [Fact]
    public void FileIndexRange_ReversedOrNegative_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>("last", () => new FileIndexRange(5, 4));
        Assert.Throws<ArgumentOutOfRangeException>("first", () => new FileIndexRange(-1, 4));
        Assert.Equal("4-6", new FileIndexRange(4, 6).ToString());
        Assert.Equal("7", new FileIndexRange(7).ToString());
    }
}
