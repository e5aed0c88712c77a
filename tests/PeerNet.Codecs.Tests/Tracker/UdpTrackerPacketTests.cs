using System.Buffers.Binary;
using System.Net;
using PeerNet.PeerWire;
using PeerNet.Tracker;
using static PeerNet.Codecs.Tests.Tracker.TrackerTestData;

namespace PeerNet.Codecs.Tests.Tracker;

public sealed class UdpTrackerPacketTests
{
    private const uint Tx = 0xDEADBEEF;

    private static readonly AnnounceRequest Request = new()
    {
        InfoHash = Sha1Hash.ParseHex("0123456789abcdef0123456789abcdef01234567"),
        PeerId = new PeerId("-PN0010-abcdefghijkl"u8),
        Port = 51413,
        Uploaded = 3,
        Downloaded = 2,
        Left = 1,
        Event = TrackerEvent.Completed,
        NumWant = -5,
        Key = 0x01020304,
    };

    [Fact]
    public void Connect_Request_HasMagicActionAndTransaction()
    {
        var packet = new byte[UdpTrackerPacket.ConnectRequestLength];
        Assert.Equal(16, UdpTrackerPacket.WriteConnect(packet, Tx));
        Assert.Equal("0000041727101980" + "00000000" + "DEADBEEF", Convert.ToHexString(packet));
    }

    [Fact]
    public void Connect_Response_RoundTrips()
    {
        var packet = new byte[16];
        UdpTrackerPacket.WriteConnectResponse(packet, Tx, -42);
        Assert.True(UdpTrackerPacket.TryReadConnect(packet, Tx, out long id, out TrackerError error));
        Assert.Equal(-42, id);
        Assert.Equal(TrackerError.None, error);
    }

    [Fact]
    public void Announce_Request_MatchesTheBep15Layout()
    {
        var packet = new byte[UdpTrackerPacket.AnnounceRequestLength];
        Assert.Equal(98, UdpTrackerPacket.WriteAnnounce(packet, 0x1122334455667788, Tx, Request));
        Assert.Equal(
            "1122334455667788" + "00000001" + "DEADBEEF" + "0123456789ABCDEF0123456789ABCDEF01234567" + Convert.ToHexString("-PN0010-abcdefghijkl"u8)
            + "0000000000000002" + "0000000000000001" + "0000000000000003" + "00000001" + "00000000" + "01020304" + "FFFFFFFF" + "C8D5",
            Convert.ToHexString(packet));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Announce_Response_RoundTripsForItsFamily(bool ipv6)
    {
        var sent = new AnnounceResponse
        {
            Interval = TimeSpan.FromSeconds(1800),
            Complete = 7,
            Incomplete = 9,
            Peers = [EndPoint("127.0.0.1:6881"), EndPoint("[2001:db8::1]:1"), EndPoint("10.0.0.1:2")],
        };
        var packet = new byte[100];
        int length = UdpTrackerPacket.WriteAnnounceResponse(packet, Tx, sent, ipv6);
        Assert.Equal(20 + (ipv6 ? 18 : 12), length);
        Assert.True(UdpTrackerPacket.TryReadAnnounce(packet.AsSpan(0, length), Tx, ipv6, out AnnounceResponse? r, out _));
        Assert.Equal(ipv6 ? "[2001:db8::1]:1" : "127.0.0.1:6881,10.0.0.1:2", string.Join(",", r.Peers));
        Assert.Equal(TimeSpan.FromSeconds(1800), r.Interval);
        Assert.Equal(7, r.Complete);
        Assert.Equal(9, r.Incomplete);
    }

    [Fact]
    public void Announce_IPv6ReplyWithMappedIPv4Peer_WritesBackUnchanged()
    {
        var sent = new AnnounceResponse { Peers = [EndPoint("[::ffff:1.2.3.4]:5"), EndPoint("1.2.3.4:6")] };
        var packet = new byte[100];
        int length = UdpTrackerPacket.WriteAnnounceResponse(packet, Tx, sent, ipv6: true);
        Assert.Equal(20 + 18, length);
        Assert.True(UdpTrackerPacket.TryReadAnnounce(packet.AsSpan(0, length), Tx, true, out AnnounceResponse? r, out _));
        Assert.Equal("[::ffff:1.2.3.4]:5", string.Join(",", r.Peers));

        // Over IPv4 both travel as 4 bytes.
        Assert.Equal(20 + 12, UdpTrackerPacket.WriteAnnounceResponse(packet, Tx, sent, ipv6: false));
    }

    [Fact]
    public void Announce_ResponseWithNegativeCounts_ReadsThemAsAbsent()
    {
        byte[] packet = new byte[20];
        BinaryPrimitives.WriteInt32BigEndian(packet, 1);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), Tx);
        packet.AsSpan(8).Fill(0xFF);
        Assert.True(UdpTrackerPacket.TryReadAnnounce(packet, Tx, false, out AnnounceResponse? r, out _));
        Assert.Equal("fail= warn= interval= min= id= complete= incomplete= peers=", Summary(r));
    }

    [Fact]
    public void Announce_PartialPeer_Refused()
    {
        var packet = new byte[20 + 7];
        UdpTrackerPacket.WriteAnnounceResponse(packet, Tx, new AnnounceResponse(), false);
        Assert.False(UdpTrackerPacket.TryReadAnnounce(packet, Tx, false, out _, out TrackerError error));
        Assert.Equal(TrackerError.PeerListInvalid, error);
        Assert.False(UdpTrackerPacket.TryReadAnnounce(packet.AsSpan(0, 20 + 6), Tx, true, out _, out error));
        Assert.Equal(TrackerError.PeerListInvalid, error);
    }

    [Fact]
    public void Announce_PeersAtLimit_Accepted_AndOneMore_Refused()
    {
        var limits = new TrackerLimits { MaxPeers = 4 };
        byte[] packet = [.. new byte[20], .. CompactV4(5)];
        BinaryPrimitives.WriteInt32BigEndian(packet, 1);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), Tx);
        Assert.True(UdpTrackerPacket.TryReadAnnounce(packet.AsSpan(0, 20 + 24), Tx, false, out AnnounceResponse? r, out _, limits));
        Assert.Equal(4, r.Peers.Count);
        Assert.False(UdpTrackerPacket.TryReadAnnounce(packet, Tx, false, out _, out TrackerError error, limits));
        Assert.Equal(TrackerError.TooManyPeers, error);
    }

    [Fact]
    public void Scrape_RequestAndResponse_RoundTrip()
    {
        Sha1Hash[] hashes = [Request.InfoHash, Sha1Hash.Compute([1])];
        var request = new byte[16 + 40];
        Assert.Equal(56, UdpTrackerPacket.WriteScrape(request, 5, Tx, hashes));
        Assert.Equal("0000000000000005" + "00000002" + "DEADBEEF", Convert.ToHexString(request.AsSpan(0, 16)));
        Assert.Equal(hashes[1].ToArray(), request[36..]);

        var response = new byte[8 + 24];
        UdpTrackerPacket.WriteScrapeResponse(response, Tx, [new ScrapeStats(1, 2, 3), new ScrapeStats(4, 5, 6)]);
        Assert.True(UdpTrackerPacket.TryReadScrape(response, Tx, 2, out IReadOnlyList<ScrapeStats>? stats, out _));
        Assert.Equal([new ScrapeStats(1, 2, 3), new ScrapeStats(4, 5, 6)], stats);

        // Fewer entries than asked: accepted; more: refused.
        Assert.True(UdpTrackerPacket.TryReadScrape(response.AsSpan(0, 20), Tx, 2, out stats, out _));
        Assert.Single(stats);
        Assert.False(UdpTrackerPacket.TryReadScrape(response, Tx, 1, out _, out TrackerError error));
        Assert.Equal(TrackerError.TooManyFiles, error);
    }

    [Fact]
    public void Scrape_HashCount_LimitedTo74()
    {
        var hashes = new Sha1Hash[TrackerLimits.MaxUdpScrapeHashes + 1];
        var packet = new byte[16 + (20 * hashes.Length)];
        Assert.Equal(16 + (20 * 74), UdpTrackerPacket.WriteScrape(packet, 1, Tx, hashes.AsSpan(0, 74)));
        Assert.Throws<ArgumentException>(() => UdpTrackerPacket.WriteScrape(packet, 1, Tx, hashes));
        Assert.Throws<ArgumentException>(() => UdpTrackerPacket.WriteScrape(packet, 1, Tx, []));
    }

    [Fact]
    public void ErrorPacket_ForOurTransaction_IsAFailureWithItsMessage()
    {
        var packet = new byte[8 + 14];
        UdpTrackerPacket.WriteError(packet, Tx, "not whitelisted"u8[..14]);
        Assert.False(UdpTrackerPacket.TryReadConnect(packet, Tx, out _, out TrackerError error));
        Assert.Equal(TrackerError.Failure, error);
        Assert.False(UdpTrackerPacket.TryReadAnnounce(packet, Tx, false, out _, out error));
        Assert.Equal(TrackerError.Failure, error);
        Assert.False(UdpTrackerPacket.TryReadScrape(packet, Tx, 1, out _, out error));
        Assert.Equal(TrackerError.Failure, error);
        Assert.Equal("not whitelist", UdpTrackerPacket.ReadErrorMessage(packet)[..13]);
        Assert.Equal("", UdpTrackerPacket.ReadErrorMessage(new byte[16]));
    }

    [Fact]
    public void Response_OtherTransaction_Refused()
    {
        var packet = new byte[16];
        UdpTrackerPacket.WriteConnectResponse(packet, Tx + 1, 1);
        Assert.False(UdpTrackerPacket.TryReadConnect(packet, Tx, out _, out TrackerError error));
        Assert.Equal(TrackerError.WrongTransactionId, error);

        // Even an error packet: it answers someone else's request.
        UdpTrackerPacket.WriteError(packet, Tx + 1, "x"u8);
        Assert.False(UdpTrackerPacket.TryReadAnnounce(packet.AsSpan(0, 9), Tx, false, out _, out error));
        Assert.Equal(TrackerError.WrongTransactionId, error);
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(2u)]
    [InlineData(4u)]
    [InlineData(0xFFFFFFFFu)]
    public void Connect_OtherAction_Refused(uint action)
    {
        var packet = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(packet, action);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), Tx);
        Assert.False(UdpTrackerPacket.TryReadConnect(packet, Tx, out _, out TrackerError error));
        Assert.Equal(TrackerError.WrongAction, error);
    }

    /// <summary>A datagram cut anywhere before its fixed part ends is refused as too short, never misread.</summary>
    [Fact]
    public void EveryResponse_TruncatedAtEveryLength_RefusedAsTooShort()
    {
        var connect = new byte[16];
        UdpTrackerPacket.WriteConnectResponse(connect, Tx, 9);
        var announce = new byte[20];
        UdpTrackerPacket.WriteAnnounceResponse(announce, Tx, new AnnounceResponse(), false);
        var scrape = new byte[20];
        UdpTrackerPacket.WriteScrapeResponse(scrape, Tx, [new ScrapeStats(1, 1, 1)]);
        for (int length = 0; length < 16; length++)
        {
            Assert.False(UdpTrackerPacket.TryReadConnect(connect.AsSpan(0, length), Tx, out _, out TrackerError error));
            Assert.Equal(TrackerError.PacketTooShort, error);
        }

        for (int length = 0; length < 20; length++)
        {
            Assert.False(UdpTrackerPacket.TryReadAnnounce(announce.AsSpan(0, length), Tx, false, out _, out TrackerError error));
            Assert.Equal(TrackerError.PacketTooShort, error);
            if (length is < 8 or (> 8 and < 20))
            {
                Assert.False(UdpTrackerPacket.TryReadScrape(scrape.AsSpan(0, length), Tx, 1, out _, out error));
                Assert.Equal(TrackerError.PacketTooShort, error);
            }
        }

        Assert.True(UdpTrackerPacket.TryReadScrape(scrape.AsSpan(0, 8), Tx, 1, out IReadOnlyList<ScrapeStats>? none, out _));
        Assert.Empty(none);
        Assert.False(UdpTrackerPacket.TryReadHeader(new byte[7], out _, out _));
    }

    [Fact]
    public void Header_KnownAndUnknownActions()
    {
        var packet = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(packet, 3);
        Assert.True(UdpTrackerPacket.TryReadHeader(packet, out UdpTrackerAction action, out _));
        Assert.Equal(UdpTrackerAction.Error, action);
        BinaryPrimitives.WriteUInt32BigEndian(packet, 4);
        Assert.False(UdpTrackerPacket.TryReadHeader(packet, out _, out _));
    }

    [Fact]
    public void Writers_DestinationTooSmall_Throw()
    {
        Assert.Throws<ArgumentException>(() => UdpTrackerPacket.WriteConnect(new byte[15], Tx));
        Assert.Throws<ArgumentException>(() => UdpTrackerPacket.WriteAnnounce(new byte[97], 1, Tx, Request));
        Assert.Throws<ArgumentException>(() => UdpTrackerPacket.WriteAnnounceResponse(new byte[25], Tx, new AnnounceResponse { Peers = [IPEndPoint.Parse("1.2.3.4:5")] }, false));
    }
}
