using System.Buffers;
using System.Net;
using PeerNet.Codecs.Tests.PeerWire;
using PeerNet.Tracker;
using static PeerNet.Codecs.Tests.Tracker.TrackerTestData;

namespace PeerNet.Codecs.Tests.Tracker;

public sealed class HttpTrackerResponseTests
{
    /// <summary>Parses in every shape (whole, split everywhere, byte by byte) and checks they agree.</summary>
    private static AnnounceResponse Parse(byte[] body, TrackerLimits? limits = null)
    {
        AnnounceResponse? first = null;
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(body))
        {
            Assert.True(HttpTrackerResponse.TryParseAnnounce(sequence, out AnnounceResponse? r, out TrackerError error, limits), $"{shape}: {error}");
            Assert.Equal(TrackerError.None, error);
            first ??= r;
            Assert.Equal(Summary(first), Summary(r));
        }

        return first!;
    }

    private static void Refuse(byte[] body, TrackerError expected, TrackerLimits? limits = null, bool everyShape = true)
    {
        IEnumerable<(string, ReadOnlySequence<byte>)> shapes = everyShape
            ? Segments.AllShapes(body)
            : [("whole", new ReadOnlySequence<byte>(body)), ("halves", Segments.Split(body, body.Length / 2))];
        foreach ((string shape, ReadOnlySequence<byte> sequence) in shapes)
        {
            Assert.False(HttpTrackerResponse.TryParseAnnounce(sequence, out AnnounceResponse? r, out TrackerError error, limits), shape);
            Assert.Null(r);
            Assert.Equal(expected, error);
        }
    }

    private static bool Accepts(byte[] body, TrackerLimits limits, out TrackerError error)
    {
        bool ok = HttpTrackerResponse.TryParseAnnounce(new ReadOnlySequence<byte>(body), out _, out error, limits);
        bool halves = HttpTrackerResponse.TryParseAnnounce(Segments.Split(body, body.Length / 2), out _, out TrackerError again, limits);
        Assert.Equal(ok, halves);
        Assert.Equal(error, again);
        return ok;
    }

    [Fact]
    public void Announce_CompactIPv4AndIPv6_AllFieldsRead()
    {
        byte[] body = Concat(
            Bytes("d8:completei5e10:incompletei3e8:intervali1800e12:min intervali900e5:peers"),
            BString([127, 0, 0, 1, 0x1A, 0xE1, 10, 0, 0, 2, 0, 80]),
            Bytes("6:peers6"),
            BString([.. IPAddress.Parse("2001:db8::1").GetAddressBytes(), 0xC8, 0xD5]),
            Bytes("10:tracker id3:abc15:warning message4:slowe"));
        AnnounceResponse r = Parse(body);
        Assert.False(r.IsFailure);
        Assert.Equal(
            "fail= warn=slow interval=1800 min=900 id=abc complete=5 incomplete=3 peers=127.0.0.1:6881,10.0.0.2:80,[2001:db8::1]:51413",
            Summary(r));
    }

    [Fact]
    public void Announce_DictionaryModel_ReadsIpLiteralsAndSkipsTheRest()
    {
        byte[] body = Bytes(
            "d8:intervali60e5:peersl"
            + "d2:ip9:127.0.0.17:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881ee"
            + "d2:ip11:2001:db8::24:porti1ee"
            + "d2:ip15:tracker.invalid4:porti6881ee" // a DNS name: skipped
            + "d2:ip8:10.0.0.34:porti0ee" // port 0: skipped
            + "d2:ip8:10.0.0.44:porti65536ee" // port out of range: skipped
            + "d4:porti5ee" // no ip: skipped
            + "i7e" // not a dictionary: skipped
            + "ee");
        Assert.Equal("127.0.0.1:6881,[2001:db8::2]:1", string.Join(",", Parse(body).Peers));
    }

    [Fact]
    public void Announce_FailureReason_IsARefusalWithNothingElse()
    {
        AnnounceResponse r = Parse(Bytes("d14:failure reason19:info_hash not known8:intervali60ee"));
        Assert.True(r.IsFailure);
        Assert.Equal("info_hash not known", r.FailureReason);
        Assert.Null(r.Interval);
        Assert.Empty(r.Peers);
    }

    [Fact]
    public void Announce_FieldsOfWrongTypeOrRange_AreAbsent()
    {
        AnnounceResponse r = Parse(Bytes("d8:completei-1e10:incomplete1:38:interval2:6012:min intervali99999999999e5:peersi0e10:tracker idi1e15:warning messagelee"));
        Assert.Equal("fail= warn= interval= min= id= complete= incomplete= peers=", Summary(r));
    }

    [Fact]
    public void Announce_LongFailureReason_IsCutToTheTextLimit()
    {
        string reason = new('x', TrackerLimits.MaxTextBytes + 10);
        AnnounceResponse r = Parse(Bytes($"d14:failure reason{reason.Length}:{reason}e"));
        Assert.Equal(TrackerLimits.MaxTextBytes, r.FailureReason!.Length);
    }

    [Fact]
    public void Announce_EmptyDictionary_IsASuccessWithNoPeers()
        => Assert.Equal("fail= warn= interval= min= id= complete= incomplete= peers=", Summary(Parse(Bytes("de"))));

    [Fact]
    public void Announce_PortZeroCompactPeer_IsSkipped()
        => Assert.Equal("10.0.0.1:1", string.Join(",", Parse(Concat(Bytes("d5:peers"), BString([10, 0, 0, 1, 0, 0, 10, 0, 0, 1, 0, 1]), Bytes("e"))).Peers));

    [Theory]
    [InlineData(5)]
    [InlineData(7)]
    public void Announce_CompactIPv4NotMultipleOfSix_Refused(int length)
        => Refuse(Concat(Bytes("d5:peers"), BString(new byte[length]), Bytes("e")), TrackerError.PeerListInvalid);

    [Fact]
    public void Announce_CompactIPv6NotMultipleOfEighteen_Refused()
        => Refuse(Concat(Bytes("d6:peers6"), BString(new byte[19]), Bytes("e")), TrackerError.PeerListInvalid);

    [Theory]
    [InlineData("")]
    [InlineData("d8:intervali60e")]
    [InlineData("d8:intervali60ee junk")]
    [InlineData("<html>Not Found</html>")]
    [InlineData("d5:peers999999999:e")]
    public void Announce_NotBencode_Refused(string body) => Refuse(Bytes(body), TrackerError.InvalidBencode);

    [Theory]
    [InlineData("le")]
    [InlineData("i1e")]
    [InlineData("4:spam")]
    public void Announce_NotADictionary_Refused(string body) => Refuse(Bytes(body), TrackerError.NotDictionary);

    [Fact]
    public void Announce_CompactPeersAtTheDefaultLimit_Accepted_AndOneMore_Refused()
    {
        byte[] atLimit = Concat(Bytes("d5:peers"), BString(CompactV4(TrackerLimits.DefaultMaxPeers)), Bytes("e"));
        Assert.True(Accepts(atLimit, TrackerLimits.Default, out _));
        Assert.True(HttpTrackerResponse.TryParseAnnounce(new ReadOnlySequence<byte>(atLimit), out AnnounceResponse? r, out _));
        Assert.Equal(TrackerLimits.DefaultMaxPeers, r.Peers.Count);

        byte[] over = Concat(Bytes("d5:peers"), BString(CompactV4(TrackerLimits.DefaultMaxPeers + 1)), Bytes("e"));
        Refuse(over, TrackerError.TooManyPeers, everyShape: false);
    }

    [Fact]
    public void Announce_PeersOverBothFamiliesAndModels_CountTogether()
    {
        var limits = new TrackerLimits { MaxPeers = 3 };
        byte[] three = Concat(Bytes("d5:peersld2:ip3:::14:porti1eee6:peers6"), BString(new byte[18]), Bytes("e"));
        byte[] fourV6 = Concat(Bytes("d5:peersld2:ip3:::14:porti1eee6:peers6"), BString(new byte[36]), Bytes("e"));

        // 1 dictionary peer + 1 compact IPv6 (port 0, skipped after the count) is within 3.
        Assert.True(Accepts(three, limits, out _));
        Assert.True(Accepts(Concat(Bytes("d5:peers"), BString(CompactV4(3)), Bytes("e")), limits, out _));
        Assert.False(Accepts(Concat(Bytes("d5:peers"), BString(CompactV4(4)), Bytes("e")), limits, out TrackerError error));
        Assert.Equal(TrackerError.TooManyPeers, error);
        Assert.True(Accepts(fourV6, limits, out _));
        Assert.False(Accepts(Concat(Bytes("d5:peersld2:ip3:::14:porti1eed2:ip3:::14:porti1eee6:peers6"), BString(new byte[36]), Bytes("e")), limits, out error));
        Assert.Equal(TrackerError.TooManyPeers, error);
    }

    [Fact]
    public void Announce_DictionaryPeersAtLimit_Accepted_AndOneMore_Refused()
    {
        static byte[] Body(int n) => Bytes("d5:peersl" + string.Concat(Enumerable.Repeat("d2:ip8:10.0.0.14:porti1ee", n)) + "ee");
        var limits = new TrackerLimits { MaxPeers = 50 };
        Assert.True(Accepts(Body(50), limits, out _));
        Assert.False(Accepts(Body(51), limits, out TrackerError error));
        Assert.Equal(TrackerError.TooManyPeers, error);
    }

    [Fact]
    public void Announce_BodyAtTheSizeLimit_Parsed_AndOneByteMore_RefusedBeforeParsing()
    {
        var limits = new TrackerLimits { MaxResponseBytes = 64 };
        byte[] Body(int total)
        {
            string head = "d1:x";
            int pad = total - head.Length - 1;
            int digits = pad.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
            int value = pad - digits - 1;
            return Bytes(head + value + ":" + new string('a', value) + "e");
        }

        Assert.Equal(64, Body(64).Length);
        Assert.True(Accepts(Body(64), limits, out _));
        Assert.Equal(65, Body(65).Length);
        Assert.False(Accepts(Body(65), limits, out TrackerError error));
        Assert.Equal(TrackerError.ResponseTooLarge, error);

        // Not even parsed: garbage over the limit is "too large", not "invalid".
        Refuse(new byte[65], TrackerError.ResponseTooLarge, limits, everyShape: false);
    }

    [Fact]
    public void Announce_ExternalIp_IsReadAsBep24Says_FourOrSixteenBytes_ElseAbsent()
    {
        Assert.Equal(IPAddress.Parse("203.0.113.9"), Parse(Concat(Bytes("d11:external ip"), BString([203, 0, 113, 9]), Bytes("e"))).ExternalAddress);
        byte[] v6 = IPAddress.Parse("2001:db8::9").GetAddressBytes();
        Assert.Equal(IPAddress.Parse("2001:db8::9"), Parse(Concat(Bytes("d11:external ip"), BString(v6), Bytes("e"))).ExternalAddress);
        Assert.Null(Parse(Concat(Bytes("d11:external ip"), BString([203, 0, 113, 9, 1]), Bytes("e"))).ExternalAddress);
        Assert.Null(Parse(Bytes("d11:external ipi5ee")).ExternalAddress);
        Assert.Null(Parse(Bytes("de")).ExternalAddress);

        var sent = new AnnounceResponse { ExternalAddress = IPAddress.Parse("198.51.100.4"), Interval = TimeSpan.FromSeconds(60) };
        Assert.Equal(sent.ExternalAddress, Parse(Write(o => HttpTrackerResponse.WriteAnnounce(o, sent))).ExternalAddress);
    }

    [Fact]
    public void Announce_WriteThenParse_RoundTrips()
    {
        var sent = new AnnounceResponse
        {
            WarningMessage = "w",
            Interval = TimeSpan.FromSeconds(1917),
            MinInterval = TimeSpan.FromSeconds(958),
            TrackerId = "t1",
            Complete = 1,
            Incomplete = 2,
            Peers = [EndPoint("127.0.0.1:6881"), EndPoint("[::1]:6882"), EndPoint("10.1.2.3:65535")],
        };
        AnnounceResponse back = Parse(Write(o => HttpTrackerResponse.WriteAnnounce(o, sent)));

        // IPv4 peers come first: they travel in "peers", IPv6 in "peers6".
        Assert.Equal(Summary(new AnnounceResponse
        {
            WarningMessage = "w",
            Interval = sent.Interval,
            MinInterval = sent.MinInterval,
            TrackerId = "t1",
            Complete = 1,
            Incomplete = 2,
            Peers = [EndPoint("127.0.0.1:6881"), EndPoint("10.1.2.3:65535"), EndPoint("[::1]:6882")],
        }), Summary(back));
        Assert.Equal("fail=no warn= interval= min= id= complete= incomplete= peers=", Summary(Parse(Write(o => HttpTrackerResponse.WriteAnnounce(o, AnnounceResponse.Failed("no"))))));
    }
}
