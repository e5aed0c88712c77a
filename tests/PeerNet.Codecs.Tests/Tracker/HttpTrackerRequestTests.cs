using System.Net;
using PeerNet.PeerWire;
using PeerNet.Tracker;

namespace PeerNet.Codecs.Tests.Tracker;

public sealed class HttpTrackerRequestTests
{
    private static readonly Sha1Hash Hash = Sha1Hash.ParseHex("0123456789abcdef0123456789abcdef01234567");

    private static AnnounceRequest Request(TrackerEvent e = TrackerEvent.Started, string? trackerId = null) => new()
    {
        InfoHash = Hash,
        PeerId = new PeerId("-PN0010-ab~d.f_h 2%4"u8),
        Port = 6881,
        Uploaded = 10,
        Downloaded = 2048,
        Left = 1_000_000_000_000,
        Event = e,
        NumWant = 80,
        Key = 0x00AB12EF,
        TrackerId = trackerId,
    };

    [Fact]
    public void Announce_EveryParameter_PercentEncodesBytesAndListsTheRest()
    {
        string url = HttpTrackerRequest.BuildAnnounceUrl("http://t.example:80/announce", Request());
        Assert.Equal(
            "http://t.example:80/announce?info_hash=%01%23Eg%89%AB%CD%EF%01%23Eg%89%AB%CD%EF%01%23Eg"
            + "&peer_id=-PN0010-ab~d.f_h%202%254&port=6881&uploaded=10&downloaded=2048&left=1000000000000"
            + "&compact=1&no_peer_id=1&event=started&numwant=80&key=00AB12EF",
            url);
    }

    [Fact]
    public void Announce_ExternalAddresses_GoAsBep7Ipv4AndIpv6_TheIPv6OnePercentEncoded()
    {
        AnnounceRequest request = Request() with { ExternalIPv4 = IPAddress.Parse("203.0.113.7"), ExternalIPv6 = IPAddress.Parse("2001:db8::1:7") };
        string url = HttpTrackerRequest.BuildAnnounceUrl("http://t.example/announce", request);
        Assert.EndsWith("&numwant=80&key=00AB12EF&ipv4=203.0.113.7&ipv6=2001%3Adb8%3A%3A1%3A7", url, StringComparison.Ordinal);
        Assert.DoesNotContain("ipv", HttpTrackerRequest.BuildAnnounceUrl("http://t.example/announce", Request()), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Request() with { ExternalIPv4 = IPAddress.IPv6Loopback });
        Assert.Throws<ArgumentException>(() => Request() with { ExternalIPv6 = IPAddress.Parse("203.0.113.7").MapToIPv6() });
    }

    [Fact]
    public void Announce_UrlWithQuery_KeepsItAndAppendsWithAmpersand()
    {
        string url = HttpTrackerRequest.BuildAnnounceUrl("https://t.example/announce.php?passkey=abc", Request(TrackerEvent.None, trackerId: "id 7"));
        Assert.StartsWith("https://t.example/announce.php?passkey=abc&info_hash=", url, StringComparison.Ordinal);
        Assert.DoesNotContain("event=", url, StringComparison.Ordinal);
        Assert.EndsWith("&trackerid=id%207", url, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, "&event=completed&")]
    [InlineData(3, "&event=stopped&")]
    public void Announce_Event_IsNamed(int e, string expected)
        => Assert.Contains(expected, HttpTrackerRequest.BuildAnnounceUrl("http://t/announce", Request((TrackerEvent)e)), StringComparison.Ordinal);

    [Fact]
    public void Announce_NegativeNumWant_SendsZeroNotMinus()
        => Assert.Contains("&numwant=0&", HttpTrackerRequest.BuildAnnounceUrl("http://t/announce", Request() with { NumWant = -1 }), StringComparison.Ordinal);

    [Fact]
    public void Request_PortOutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Request() with { Port = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => Request() with { Port = 65536 });
    }

    // The examples of BEP 48 ("Tracker Protocol Extension: Scrape").
    [Theory]
    [InlineData("http://example.com/announce", "http://example.com/scrape")]
    [InlineData("http://example.com/x/announce", "http://example.com/x/scrape")]
    [InlineData("http://example.com/announce.php", "http://example.com/scrape.php")]
    [InlineData("http://example.com/announce?x2%0644", "http://example.com/scrape?x2%0644")]
    [InlineData("http://example.com/announce?x=2/4", "http://example.com/scrape?x=2/4")]
    [InlineData("udp://example.com:6969/announce", "udp://example.com:6969/scrape")]
    public void ScrapeUrl_AnnounceSegment_IsReplaced(string announce, string scrape)
    {
        Assert.True(HttpTrackerRequest.TryGetScrapeUrl(announce, out string? url));
        Assert.Equal(scrape, url);
    }

    [Theory]
    [InlineData("http://example.com/a")]
    [InlineData("http://example.com/a?announce")]
    [InlineData("http://example.com/x%064announce")]
    [InlineData("http://example.com/announce/")]
    [InlineData("announce")]
    [InlineData("")]
    public void ScrapeUrl_NoAnnounceAfterLastSlash_IsUnsupported(string announce)
        => Assert.False(HttpTrackerRequest.TryGetScrapeUrl(announce, out _));

    [Fact]
    public void ScrapeUrl_SeveralHashes_OneParameterEach()
    {
        Sha1Hash other = Sha1Hash.ParseHex("ffffffffffffffffffffffffffffffffffffffff");
        string url = HttpTrackerRequest.BuildScrapeUrl("http://t/scrape?k=1", [Hash, other]);
        Assert.Equal("http://t/scrape?k=1&info_hash=%01%23Eg%89%AB%CD%EF%01%23Eg%89%AB%CD%EF%01%23Eg&info_hash=" + string.Concat(Enumerable.Repeat("%FF", 20)), url);
    }
}
