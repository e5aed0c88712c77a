using System.Text;
using PeerNet.Lsd;

namespace PeerNet.Codecs.Tests.Lsd;

/// <summary>BEP 14 announces: what <see cref="LsdMessage.Write"/> produces and what <see cref="LsdMessage.TryParse"/> accepts.</summary>
public sealed class LsdMessageTests
{
    private static readonly Sha1Hash A = Sha1Hash.ParseHex("0123456789abcdef0123456789abcdef01234567");
    private static readonly Sha1Hash B = Sha1Hash.ParseHex("fedcba9876543210fedcba9876543210fedcba98");

    [Fact]
    public void Create_OneInfoHash_IsTheBep14Form()
    {
        byte[] datagram = LsdMessage.Create(ipv6: false, 6881, [A], "c0ffee");
        Assert.Equal(
            "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n"
            + "Infohash: 0123456789abcdef0123456789abcdef01234567\r\ncookie: c0ffee\r\n\r\n\r\n",
            Encoding.ASCII.GetString(datagram));
    }

    [Fact]
    public void Create_IPv6_UsesTheBracketedGroup()
    {
        string text = Encoding.ASCII.GetString(LsdMessage.Create(ipv6: true, 1, [A], null));
        Assert.Contains("\r\nHost: [ff15::efc0:988f]:6771\r\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("cookie", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, 6881, "abc")]
    [InlineData(true, 65535, null)]
    [InlineData(false, 1, "0123456789012345678901234567890123456789012345678901234567890123")]
    public void WriteThenParse_ManyInfoHashes_RoundTrips(bool ipv6, int port, string? cookie)
    {
        Sha1Hash[] hashes = [.. Enumerable.Range(0, LsdLimits.MaxInfoHashes).Select(i => Sha1Hash.Compute([(byte)i]))];
        byte[] datagram = LsdMessage.Create(ipv6, port, hashes, cookie);
        Assert.True(LsdMessage.TryParse(datagram, out LsdAnnounce? announce, out LsdError error), error.Describe());
        Assert.Equal(new LsdAnnounce(ipv6 ? LsdMessage.HostV6 : LsdMessage.HostV4, port, hashes, cookie), announce);
        Assert.Equal(LsdError.None, error);
    }

    [Fact]
    public void CountThatFit_FillsTheTargetDatagram_AndNoMore()
    {
        string cookie = new('c', LsdLimits.MaxCookieLength);
        int count = LsdMessage.CountThatFit(LsdMessage.HostV6, 65535, cookie);
        Assert.Equal(24, count);
        Assert.True(LsdMessage.GetLength(LsdMessage.HostV6, 65535, count, cookie) <= LsdLimits.TargetDatagramLength);
        Assert.True(LsdMessage.GetLength(LsdMessage.HostV6, 65535, count + 1, cookie) > LsdLimits.TargetDatagramLength);
        Assert.Equal(0, LsdMessage.CountThatFit(LsdMessage.HostV4, 6881, null, maxLength: 100));
        Assert.Equal(LsdLimits.MaxInfoHashes, LsdMessage.CountThatFit(null, 1, null, maxLength: 100_000));
    }

    [Fact]
    public void Parse_LibtorrentsAnnounce_UpperCaseHexAndLowerCaseMethod_Accepted()
    {
        string text = "bt-search * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 50000\r\n"
            + "Infohash: FEDCBA9876543210FEDCBA9876543210FEDCBA98\r\ncookie: 1a2b3c\r\n\r\n\r\n";
        Assert.True(LsdMessage.TryParse(Encoding.ASCII.GetBytes(text), out LsdAnnounce? announce, out _));
        Assert.Equal(new LsdAnnounce(LsdMessage.HostV4, 50000, [B], "1a2b3c"), announce);
    }

    [Fact]
    public void Parse_BareLineFeeds_OddSpacing_UnknownHeaders_RepeatedHash_Accepted()
    {
        string text = "BT-SEARCH * HTTP/1.0\nport:7\nX-Other: anything at all\ninfohash:\t" + A + "  \nINFOHASH: " + A.ToString().ToUpperInvariant()
            + "\nInfohash: " + B + "\n\ntrailing bytes are ignored";
        Assert.True(LsdMessage.TryParse(Encoding.ASCII.GetBytes(text), out LsdAnnounce? announce, out LsdError error), error.Describe());
        Assert.Equal(new LsdAnnounce(null, 7, [A, B], null), announce);
    }

    public static TheoryData<string, string, string> Refusals => new()
    {
        { "not a request", "M-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.NotBtSearch) },
        { "other target", "BT-SEARCH / HTTP/1.1\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.NotBtSearch) },
        { "HTTP/2", "BT-SEARCH * HTTP/2.0\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.NotBtSearch) },
        { "empty", "", nameof(LsdError.Incomplete) },
        { "no empty line", "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: " + A + "\r\n", nameof(LsdError.Incomplete) },
        { "cut header", "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfo", nameof(LsdError.Incomplete) },
        { "no port", "BT-SEARCH * HTTP/1.1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.MissingPort) },
        { "port 0", "BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.BadPort) },
        { "port 65536", "BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.BadPort) },
        { "port sign", "BT-SEARCH * HTTP/1.1\r\nPort: +80\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.BadPort) },
        { "port empty", "BT-SEARCH * HTTP/1.1\r\nPort:\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.BadPort) },
        { "port 6 digits", "BT-SEARCH * HTTP/1.1\r\nPort: 000080\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.BadPort) },
        { "two ports", "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.DuplicateHeader) },
        { "two hosts", "BT-SEARCH * HTTP/1.1\r\nHost: a\r\nHost: a\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.DuplicateHeader) },
        { "two cookies", "BT-SEARCH * HTTP/1.1\r\ncookie: a\r\nPort: 1\r\ncookie: b\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.DuplicateHeader) },
        { "no hash", "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\n", nameof(LsdError.MissingInfoHash) },
        { "short hash", "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: " + A.ToString()[1..] + "\r\n\r\n", nameof(LsdError.BadInfoHash) },
        { "v2 hash", "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: " + A + A.ToString()[..24] + "\r\n\r\n", nameof(LsdError.BadInfoHash) },
        { "not hex", "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: " + A.ToString()[1..] + "g\r\n\r\n", nameof(LsdError.BadInfoHash) },
        { "no colon", "BT-SEARCH * HTTP/1.1\r\nPort 1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.MalformedHeader) },
        { "no name", "BT-SEARCH * HTTP/1.1\r\n : 1\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.MalformedHeader) },
        { "cookie with space", "BT-SEARCH * HTTP/1.1\r\ncookie: a b\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.MalformedHeader) },
        { "empty host", "BT-SEARCH * HTTP/1.1\r\nHost:\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.MalformedHeader) },
        { "host not ASCII", "BT-SEARCH * HTTP/1.1\r\nHost: h\u00e9\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.MalformedHeader) },
        { "long cookie", "BT-SEARCH * HTTP/1.1\r\ncookie: " + new string('c', LsdLimits.MaxCookieLength + 1) + "\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.CookieTooLong) },
        { "long host", "BT-SEARCH * HTTP/1.1\r\nHost:" + new string('h', LsdLimits.MaxLineLength - 5) + "\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.MalformedHeader) },
        { "long line", "BT-SEARCH * HTTP/1.1\r\nX: " + new string('x', LsdLimits.MaxLineLength) + "\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n", nameof(LsdError.LineTooLong) },
        { "long line, no end", "BT-SEARCH * HTTP/1.1\r\nX: " + new string('x', 1000), nameof(LsdError.LineTooLong) },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Parse_Refused_NamesTheReason(string why, string text, string reason)
    {
        LsdError expected = Enum.Parse<LsdError>(reason);
        Assert.False(LsdMessage.TryParse(Encoding.UTF8.GetBytes(text), out LsdAnnounce? announce, out LsdError error), why);
        Assert.Equal(expected, error);
        Assert.Null(announce);
        Assert.NotEqual(expected.ToString(), expected.Describe());
    }

    [Fact]
    public void Parse_LineAtTheLimit_Accepted_OneMore_Refused()
    {
        string Line(int length) => "X: " + new string('x', length - 3);
        string Message(int length) => "BT-SEARCH * HTTP/1.1\r\n" + Line(length) + "\r\nPort: 1\r\nInfohash: " + A + "\r\n\r\n";
        Assert.True(LsdMessage.TryParse(Encoding.ASCII.GetBytes(Message(LsdLimits.MaxLineLength)), out _, out _));
        Assert.True(LsdMessage.TryParse(Encoding.ASCII.GetBytes(Message(LsdLimits.MaxLineLength).Replace("\r\n", "\n", StringComparison.Ordinal)), out _, out _));
        Assert.False(LsdMessage.TryParse(Encoding.ASCII.GetBytes(Message(LsdLimits.MaxLineLength + 1)), out _, out LsdError error));
        Assert.Equal(LsdError.LineTooLong, error);
    }

    [Fact]
    public void Parse_DatagramOverTheLimit_RefusedBeforeReading()
    {
        byte[] datagram = new byte[LsdLimits.MaxMessageLength + 1]; // zeros: would be NotBtSearch if it were read
        Assert.False(LsdMessage.TryParse(datagram, out _, out LsdError error));
        Assert.Equal(LsdError.MessageTooLong, error);
        Assert.False(LsdMessage.TryParse(datagram.AsSpan(0, LsdLimits.MaxMessageLength), out _, out error));
        Assert.Equal(LsdError.LineTooLong, error);
    }

    [Fact]
    public void Parse_InfoHashesAtTheLimit_Accepted_OneMore_Refused()
    {
        static string Message(int count) => "BT-SEARCH * HTTP/1.1\r\nPort:1\r\n"
            + string.Concat(Enumerable.Range(0, count).Select(i => "Infohash:" + Sha1Hash.Compute([(byte)i]) + "\r\n")) + "\r\n";
        Assert.True(LsdMessage.TryParse(Encoding.ASCII.GetBytes(Message(LsdLimits.MaxInfoHashes)), out LsdAnnounce? announce, out _));
        Assert.Equal(LsdLimits.MaxInfoHashes, announce.InfoHashes.Count);
        Assert.False(LsdMessage.TryParse(Encoding.ASCII.GetBytes(Message(LsdLimits.MaxInfoHashes + 1)), out _, out LsdError error));
        Assert.Equal(LsdError.TooManyInfoHashes, error);
    }

    [Fact]
    public void Parse_HeadersAtTheLimit_Accepted_OneMore_Refused()
    {
        static string Message(int count) => "BT-SEARCH * HTTP/1.1\r\nPort:1\r\nInfohash:" + A + "\r\n"
            + string.Concat(Enumerable.Repeat("X:y\r\n", count - 2)) + "\r\n";
        Assert.True(LsdMessage.TryParse(Encoding.ASCII.GetBytes(Message(LsdLimits.MaxHeaders)), out _, out _));
        Assert.False(LsdMessage.TryParse(Encoding.ASCII.GetBytes(Message(LsdLimits.MaxHeaders + 1)), out _, out LsdError error));
        Assert.Equal(LsdError.TooManyHeaders, error);
    }

    [Fact]
    public void Parse_LargestAcceptedFields_WriteBackWithinTheMessageLimit()
    {
        Sha1Hash[] hashes = [.. Enumerable.Range(0, LsdLimits.MaxInfoHashes).Select(i => Sha1Hash.Compute([(byte)i]))];
        string host = new('h', LsdLimits.MaxLineLength - "Host: ".Length);
        string cookie = new('c', LsdLimits.MaxCookieLength);
        int length = LsdMessage.GetLength(host, 65535, hashes.Length, cookie);
        Assert.True(length <= LsdLimits.MaxMessageLength, $"{length} bytes");
        var datagram = new byte[length];
        Assert.Equal(length, LsdMessage.Write(datagram, host, 65535, hashes, cookie));
        Assert.True(LsdMessage.TryParse(datagram, out LsdAnnounce? announce, out LsdError error), error.Describe());
        Assert.Equal(new LsdAnnounce(host, 65535, hashes, cookie), announce);
    }

    [Fact]
    public void Write_FieldsAReaderWouldRefuse_Throw()
    {
        var buffer = new byte[4096];
        Assert.Throws<ArgumentException>(() => LsdMessage.Write(buffer, null, 1, [], null));
        Assert.Throws<ArgumentException>(() => LsdMessage.Write(buffer, null, 1, Enumerable.Repeat(A, LsdLimits.MaxInfoHashes + 1).ToArray(), null));
        Assert.Throws<ArgumentException>(() => LsdMessage.Write(buffer, null, 0, [A], null));
        Assert.Throws<ArgumentException>(() => LsdMessage.Write(buffer, null, 65536, [A], null));
        Assert.Throws<ArgumentException>(() => LsdMessage.Write(buffer, "a b", 1, [A], null));
        Assert.Throws<ArgumentException>(() => LsdMessage.Write(buffer, "", 1, [A], null));
        Assert.Throws<ArgumentException>(() => LsdMessage.Write(buffer, new string('h', LsdLimits.MaxLineLength), 1, [A], null));
        Assert.Throws<ArgumentException>(() => LsdMessage.Write(buffer, null, 1, [A], new string('c', LsdLimits.MaxCookieLength + 1)));
        Assert.Throws<ArgumentException>(() => LsdMessage.Write(buffer, null, 1, [A], "\u00e9"));
        Assert.Throws<ArgumentException>(() => LsdMessage.Write(buffer.AsSpan(0, 10), null, 1, [A], null));
    }

    [Fact]
    public void Groups_AreBep14s()
    {
        Assert.Equal("239.192.152.143:6771", LsdMessage.GroupV4.ToString());
        Assert.Equal("[ff15::efc0:988f]:6771", LsdMessage.GroupV6.ToString());
        Assert.Equal(LsdMessage.HostV4, LsdMessage.GroupV4.ToString());
        Assert.Equal(LsdMessage.HostV6, LsdMessage.GroupV6.ToString());
    }
}
