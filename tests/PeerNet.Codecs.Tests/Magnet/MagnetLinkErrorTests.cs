using System.Text;
using PeerNet.Magnet;
using static PeerNet.Codecs.Tests.Magnet.MagnetLinkTests;

namespace PeerNet.Codecs.Tests.Magnet;

public sealed class MagnetLinkErrorTests
{
    private const string Q = V1Link + "&";

    [Theory]
    [InlineData("", "must start with 'magnet:?'")]
    [InlineData("   ", "must start with 'magnet:?'")]
    [InlineData("http://example.com/?" + Btih, "must start with 'magnet:?'")]
    [InlineData("magnet:" + Btih, "must start with 'magnet:?'")]
    [InlineData("magnet?" + Btih, "must start with 'magnet:?'")]
    [InlineData("magnet:/?" + Btih, "must start with 'magnet:?'")]
    public void Parse_WrongScheme_Refused(string text, string fragment)
    {
        MagnetException ex = AssertRefused(text, parameter: null);

        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("magnet:?")]
    [InlineData("magnet:?dn=name&tr=udp://t.example:1")]
    [InlineData("magnet:?xt=urn:ed2k:31d6cfe0d16ae931b73c59d7e0c089c0")]
    [InlineData("magnet:?xt=&xt")]
    public void Parse_NoBitTorrentInfoHash_RefusedNamingXt(string text)
    {
        MagnetException ex = AssertRefused(text, "xt");

        Assert.Contains("urn:btih: or urn:btmh: info-hash is required", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("magnet:?xt=urn:btih:a9993e364706816aba3e25717850c26c9cd0d89", "39 characters")]
    [InlineData("magnet:?xt=urn:btih:" + V1Hex + "0", "41 characters")]
    [InlineData("magnet:?xt=urn:btih:", "0 characters")]
    [InlineData("magnet:?xt=urn:btih:g9993e364706816aba3e25717850c26c9cd0d89d", "not hexadecimal")]
    [InlineData("magnet:?xt=urn:btih:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE1", "not base32")]
    [InlineData("magnet:?xt=urn:btih:VGMT4NSHA2AWVOR6EVYXQUGCNSONBW==", "not base32")]
    [InlineData(Q + "xt=urn:btih:0000000000000000000000000000000000000000", "two different urn:btih:")]
    [InlineData(Q + "xt=urn:btih:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "two different urn:btih:")]
    [InlineData("magnet:?" + Btmh + "&xt=urn:btmh:12200000000000000000000000000000000000000000000000000000000000000000", "two different urn:btmh:")]
    [InlineData("magnet:?xt=urn:btmh:1114" + V1Hex, "function 0x11")]
    [InlineData("magnet:?xt=urn:btmh:a0e40220" + V2Hex, "function 0xb220")]
    [InlineData("magnet:?xt=urn:btmh:1221" + V2Hex + "00", "33-byte digest")]
    [InlineData("magnet:?xt=urn:btmh:1220" + V2Hex + "00", "33 digest bytes")]
    [InlineData("magnet:?xt=urn:btmh:1220ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015", "31 digest bytes")]
    [InlineData("magnet:?xt=urn:btmh:" + V2Hex, "function 0x3c3a")]
    [InlineData("magnet:?xt=urn:btmh:", "incomplete header")]
    [InlineData("magnet:?xt=urn:btmh:12", "incomplete header")]
    [InlineData("magnet:?xt=urn:btmh:ffffffffffffffffffffff", "incomplete header")]
    [InlineData("magnet:?xt=urn:btmh:1220zz", "not a hexadecimal multihash")]
    [InlineData("magnet:?xt=urn:btmh:122", "not a hexadecimal multihash")]
    public void Parse_BadInfoHash_RefusedNamingXt(string text, string fragment)
    {
        MagnetException ex = AssertRefused(text, "xt");

        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dn=%G1", "dn", "malformed percent-escape '%G1'")]
    [InlineData("dn=abc%4", "dn", "malformed percent-escape '%4'")]
    [InlineData("dn=%", "dn", "malformed percent-escape '%'")]
    [InlineData("dn=a%%41", "dn", "malformed percent-escape '%%4'")]
    [InlineData("dn=%FF", "dn", "not valid UTF-8")]
    [InlineData("dn=%C3", "dn", "not valid UTF-8")]
    [InlineData("dn=%C0%AF", "dn", "not valid UTF-8")]
    [InlineData("dn=%ED%A0%80", "dn", "not valid UTF-8")]
    [InlineData("tr=http%3A%2F%2Fx%ZZ", "tr", "malformed percent-escape '%ZZ'")]
    [InlineData("ws=%E6%97", "ws", "not valid UTF-8")]
    [InlineData("x.pe=%zz", "x.pe", "malformed percent-escape")]
    [InlineData("kt=%", "kt", "malformed percent-escape")]
    [InlineData("a%G1=b", "a%G1", "malformed percent-escape '%G1'")]
    public void Parse_BadPercentEncoding_RefusedNamingParameter(string pair, string parameter, string fragment)
    {
        MagnetException ex = AssertRefused(Q + pair, parameter);

        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadValueWithEscapes_MessageQuotesItReplacedAndCut()
    {
        MagnetException ex = AssertRefused(Q + "xl=%1B%5B2J%07%C2%9B%E2%80%AE" + new string('9', 100), "xl");

        Assert.Contains("is '\uFFFD[2J\uFFFD\uFFFD\uFFFD999", ex.Message, StringComparison.Ordinal);
        Assert.Contains("9\u2026';", ex.Message, StringComparison.Ordinal);
        Assert.Equal(-1, DisplayText.IndexOfUnsafe(ex.Message));
    }

    [Fact]
    public void Parse_MalformedEscapeBeforeAControl_MessageQuotesItReplaced()
    {
        MagnetException ex = AssertRefused(Q + "dn=a%\u001b[2J", "dn");

        Assert.Contains("percent-escape '%\uFFFD['", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnpairedSurrogate_RefusedNamingParameter()
    {
        // Not an [InlineData] case: attribute arguments are stored as UTF-8, which cannot hold a lone surrogate.
        MagnetException ex = AssertRefused(Q + "dn=a\uD800b", "dn");

        Assert.Contains("unpaired UTF-16 surrogate", ex.Message, StringComparison.Ordinal);
        AssertRefused(Q + "tr=\uDC00", "tr");
    }

    [Theory]
    [InlineData("xl=-1")]
    [InlineData("xl=+5")]
    [InlineData("xl=abc")]
    [InlineData("xl=1.5")]
    [InlineData("xl=1e3")]
    [InlineData("xl=%205")]
    [InlineData("xl=9223372036854775808")]
    [InlineData("xl=99999999999999999999999")]
    public void Parse_BadExactLength_RefusedNamingXl(string pair)
    {
        MagnetException ex = AssertRefused(Q + pair, "xl");

        Assert.Contains("byte count from 0 to 9223372036854775807", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dn=a&dn=b", "dn")]
    [InlineData("dn=a&dn.2=A", "dn")]
    [InlineData("xl=1&xl=2", "xl")]
    public void Parse_ConflictingSingleValue_Refused(string pairs, string parameter)
    {
        MagnetException ex = AssertRefused(Q + pairs, parameter);

        Assert.Contains("twice with different values", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2-1", "reversed range '2-1'")]
    [InlineData("0,7-3", "reversed range '7-3'")]
    [InlineData("-1", "negative index in '-1'")]
    [InlineData("1--2", "negative index in '1--2'")]
    [InlineData("-", "negative index")]
    [InlineData("1,,2", "empty item")]
    [InlineData("1,", "empty item")]
    [InlineData(",1", "empty item")]
    [InlineData("a", "neither an index nor a range")]
    [InlineData("1-", "neither an index nor a range")]
    [InlineData("1-2-3", "neither an index nor a range")]
    [InlineData("1 ,2", "neither an index nor a range")]
    [InlineData("+1", "neither an index nor a range")]
    [InlineData("2147483648", "index '2147483648', larger than 2147483647")]
    [InlineData("0-2147483648", "index '2147483648', larger than 2147483647")]
    [InlineData("99999999999999999999", "larger than 2147483647")]
    public void Parse_BadSelectOnly_RefusedNamingSo(string value, string fragment)
    {
        MagnetException ex = AssertRefused(Q + "so=" + value, "so");

        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.2.3.4", "no ':port'")]
    [InlineData("1.2.3.4:", "port '' is not a number from 1 to 65535")]
    [InlineData("1.2.3.4:0", "port '0' is not a number from 1 to 65535")]
    [InlineData("1.2.3.4:65536", "port '65536'")]
    [InlineData("1.2.3.4:-1", "port '-1'")]
    [InlineData("1.2.3.4:abc", "port 'abc'")]
    [InlineData("1.2.3.4:123456", "port '123456'")]
    [InlineData("::1:6881", "IPv6 address must be in brackets")]
    [InlineData("[::1:6881", "no closing ']'")]
    [InlineData("[::1]6881", "']' must be followed by ':port'")]
    [InlineData("[::1]", "']' must be followed by ':port'")]
    [InlineData("[1.2.3.4]:80", "only an IPv6 address goes in brackets")]
    [InlineData("[]:80", "only an IPv6 address goes in brackets")]
    [InlineData("[fe80::1%25eth0]:80", "not a valid IPv6 address")]
    [InlineData("[::g]:80", "not a valid IPv6 address")]
    [InlineData("[1:2:3:4:5:6:7:8:9]:80", "not a valid IPv6 address")]
    [InlineData("256.1.1.1:80", "not a valid IPv4 address")]
    [InlineData("1.2.3:80", "not a valid IPv4 address")]
    [InlineData("01.2.3.4:80", "not a valid IPv4 address")]
    [InlineData("1234:80", "not a valid IPv4 address")]
    [InlineData("bad!host:80", "not a valid host name")]
    [InlineData("a..b:80", "not a valid host name")]
    [InlineData("host.:80", "not a valid host name")]
    [InlineData(":80", "the host is empty")]
    public void Parse_BadPeerAddress_RefusedNamingXPe(string value, string fragment)
    {
        MagnetException ex = AssertRefused(Q + "x.pe=" + value, "x.pe");

        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OverlongHostName_Refused()
    {
        string host = string.Join('.', Enumerable.Repeat(new string('a', 63), 4)); // 255 characters

        MagnetException ex = AssertRefused(Q + "x.pe=" + host + ":1", "x.pe");

        Assert.Contains("the limit is 253", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>("host", () => new MagnetPeer(host, 1));
        Assert.Equal(253, new MagnetPeer(host[..253], 1).Host.Length);
    }

    [Fact]
    public void Parse_Null_ThrowsArgumentNullAndTryParseFails()
    {
        Assert.Throws<ArgumentNullException>("text", () => MagnetLink.Parse(null!));
        Assert.False(MagnetLink.TryParse(null, out MagnetLink? link, out string? error));
        Assert.Null(link);
        Assert.Contains("null", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HugeBadValue_MessageStaysShort()
    {
        MagnetException ex = AssertRefused(Q + "xl=" + new string('9', 10_000), "xl");

        Assert.True(ex.Message.Length < 300, ex.Message);
    }

    [Fact]
    public void Limit_Length_AtLimitAcceptedAboveRefused()
    {
        string atLimit = V1Link + "&dn=" + new string('a', MagnetLimits.MaxLength - V1Link.Length - 4);
        Assert.Equal(MagnetLimits.MaxLength, atLimit.Length);

        MagnetLink link = MagnetLink.Parse(atLimit);

        Assert.Equal(atLimit, link.ToString());
        MagnetException ex = AssertRefused(atLimit + "a", parameter: null);
        Assert.Contains($"is {MagnetLimits.MaxLength + 1} characters long; the limit is {MagnetLimits.MaxLength}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Limit_Length_CanonicalFormCountsToo()
    {
        // 8,000 raw characters that each escape to nine: short input, canonical form over the limit.
        string input = V1Link + "&dn=" + string.Concat(Enumerable.Repeat("日", 8000));
        Assert.True(input.Length < MagnetLimits.MaxLength);

        MagnetException ex = AssertRefused(input, parameter: null);

        Assert.Contains("in canonical form; the limit is 65536", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MagnetLink.Create(new InfoHashes(V1, null), string.Concat(Enumerable.Repeat("日", 8000))));
    }

    [Fact]
    public void Limit_Trackers_AtLimitAcceptedAboveRefused()
    {
        AssertListLimit("tr", MagnetLimits.MaxTrackers, i => $"udp://t{i}.example:1337/announce", l => l.Trackers.Count, "more than 100 distinct trackers");
    }

    [Fact]
    public void Limit_WebSeeds_AtLimitAcceptedAboveRefused()
    {
        AssertListLimit("ws", MagnetLimits.MaxWebSeeds, i => $"http://s{i}.example/", l => l.WebSeeds.Count, "more than 100 distinct web seeds");
    }

    [Fact]
    public void Limit_Peers_AtLimitAcceptedAboveRefused()
    {
        AssertListLimit("x.pe", MagnetLimits.MaxPeers, i => $"10.0.{i / 256}.{i % 256}:6881", l => l.Peers.Count, "more than 200 distinct peer addresses");
    }

    [Fact]
    public void Limit_SelectOnly_AtLimitAcceptedAboveRefused()
    {
        string items = string.Join(',', Enumerable.Range(0, MagnetLimits.MaxSelectOnlyRanges));

        Assert.Equal(MagnetLimits.MaxSelectOnlyRanges, MagnetLink.Parse(Q + "so=" + items).SelectOnly.Count);
        MagnetException ex = AssertRefused(Q + "so=" + items + ",5", "so");
        Assert.Contains("more than 1000 indices and ranges", ex.Message, StringComparison.Ordinal);
        AssertRefused(Q + "so=" + items + "&so=5", "so");

        var v1 = new InfoHashes(V1, null);
        FileIndexRange[] ranges = [.. Enumerable.Range(0, MagnetLimits.MaxSelectOnlyRanges).Select(i => new FileIndexRange(i))];
        Assert.Equal(MagnetLimits.MaxSelectOnlyRanges, MagnetLink.Create(v1, selectOnly: ranges).SelectOnly.Count);
        Assert.Throws<ArgumentException>("selectOnly", () => MagnetLink.Create(v1, selectOnly: [.. ranges, new FileIndexRange(0)]));
    }

    [Fact]
    public void Limit_Trackers_DuplicatesDoNotCount()
    {
        var query = new StringBuilder(V1Link);
        for (int i = 0; i < MagnetLimits.MaxTrackers; i++)
        {
            query.Append("&tr=udp://t").Append(i).Append(".example:1");
        }

        query.Append("&tr=udp://t0.example:1");

        Assert.Equal(MagnetLimits.MaxTrackers, MagnetLink.Parse(query.ToString()).Trackers.Count);
    }

    private static void AssertListLimit(string key, int limit, Func<int, string> item, Func<MagnetLink, int> count, string fragment)
    {
        string atLimit = V1Link + string.Concat(Enumerable.Range(0, limit).Select(i => $"&{key}={item(i)}"));

        MagnetLink link = MagnetLink.Parse(atLimit);

        Assert.Equal(limit, count(link));
        MagnetLinkAssert.Same(link, MagnetLink.Parse(link.ToString()));
        MagnetException ex = AssertRefused(atLimit + $"&{key}={item(limit)}", key);
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);

        // Create enforces the same limit.
        var v1 = new InfoHashes(V1, null);
        string[] values = [.. Enumerable.Range(0, limit + 1).Select(item)];
        Func<string[], MagnetLink> create = key switch
        {
            "tr" => v => MagnetLink.Create(v1, trackers: v),
            "ws" => v => MagnetLink.Create(v1, webSeeds: v),
            _ => v => MagnetLink.Create(v1, peers: v.Select(MagnetPeer.Parse)),
        };
        Assert.Equal(limit, count(create(values[..limit])));
        ArgumentException createEx = Assert.Throws<ArgumentException>(() => create(values));
        Assert.Contains(fragment, createEx.Message, StringComparison.Ordinal);
    }

    /// <summary>Parse throws a <see cref="MagnetException"/> naming <paramref name="parameter"/>, and TryParse fails with the same message.</summary>
    private static MagnetException AssertRefused(string text, string? parameter)
    {
        MagnetException ex = Assert.Throws<MagnetException>(() => MagnetLink.Parse(text));
        Assert.Equal(parameter, ex.Parameter);
        Assert.StartsWith("invalid magnet link: ", ex.Message, StringComparison.Ordinal);
        if (parameter is not null)
        {
            Assert.Contains($"parameter '{parameter}'", ex.Message, StringComparison.Ordinal);
        }

        Assert.False(MagnetLink.TryParse(text, out MagnetLink? link, out string? error));
        Assert.Null(link);
        Assert.Equal(ex.Message, error);
        return ex;
    }
}
