using System.Buffers.Binary;
using PeerNet.Tracker;

namespace PeerNet.Fuzz;

/// <summary>
/// The BEP 15 response readers over one datagram, with the transaction id taken from the datagram itself (so the
/// fuzzer reaches past that check): the header reader agrees with the length and action; connect, announce (IPv4 and
/// IPv6) and scrape succeed exactly for their action and a well-formed length, report an error packet as a failure,
/// and what they read writes back to a datagram that reads the same.
/// </summary>
public static class UdpTrackerTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        bool header = UdpTrackerPacket.TryReadHeader(data, out UdpTrackerAction action, out uint tx);
        Check.That(!header || data.Length >= 8, "a header read from fewer than 8 bytes");
        Check.That(header == (data.Length >= 8 && BinaryPrimitives.ReadUInt32BigEndian(data) <= 3), "header accepted exactly for a known action");
        if (data.Length >= 8)
        {
            Check.That(!UdpTrackerPacket.TryReadConnect(data, tx + 1, out _, out TrackerError other) && other == TrackerError.WrongTransactionId, "another transaction id accepted");
        }

        // Connect.
        bool connected = UdpTrackerPacket.TryReadConnect(data, tx, out long connectionId, out TrackerError error);
        Check.Equal(header && action == UdpTrackerAction.Connect && data.Length >= 16, connected, "connect accepted");
        if (connected)
        {
            Check.Equal(BinaryPrimitives.ReadInt64BigEndian(data[8..]), connectionId, "connection id");
        }
        else
        {
            CheckRefusal(data, header, action, error);
        }

        // Announce, as if sent over IPv4 and over IPv6.
        foreach (bool ipv6 in new[] { false, true })
        {
            int size = ipv6 ? 18 : 6;
            bool announced = UdpTrackerPacket.TryReadAnnounce(data, tx, ipv6, out AnnounceResponse? response, out error);
            bool wellFormed = header && action == UdpTrackerAction.Announce && data.Length >= 20 && (data.Length - 20) % size == 0 && (data.Length - 20) / size <= TrackerLimits.DefaultMaxPeers;
            Check.Equal(wellFormed, announced, $"announce accepted (ipv6={ipv6})");
            if (!announced)
            {
                Check.That(response is null, "refused announce with a response");
                CheckRefusal(data, header, action, error);
                continue;
            }

            Check.That(response!.Peers.All(p => p.Port != 0 && p.Address.GetAddressBytes().Length == (ipv6 ? 16 : 4)), "peer of the wrong family or without a port");
            var again = new byte[20 + (response.Peers.Count * size)];
            int length = UdpTrackerPacket.WriteAnnounceResponse(again, tx, response, ipv6);
            Check.That(UdpTrackerPacket.TryReadAnnounce(again.AsSpan(0, length), tx, ipv6, out AnnounceResponse? back, out _), "its own announce refused");
            Check.Equal(Describe(response), Describe(back!), "announce after a write and read");
        }

        // Scrape, asking for as many torrents as UDP allows.
        bool scraped = UdpTrackerPacket.TryReadScrape(data, tx, TrackerLimits.MaxUdpScrapeHashes, out IReadOnlyList<ScrapeStats>? stats, out error);
        Check.Equal(header && action == UdpTrackerAction.Scrape && (data.Length - 8) % 12 == 0 && (data.Length - 8) / 12 <= TrackerLimits.MaxUdpScrapeHashes, scraped, "scrape accepted");
        if (scraped)
        {
            var again = new byte[8 + (stats!.Count * 12)];
            UdpTrackerPacket.WriteScrapeResponse(again, tx, [.. stats]);
            Check.That(UdpTrackerPacket.TryReadScrape(again, tx, stats.Count, out IReadOnlyList<ScrapeStats>? back, out _), "its own scrape refused");
            Check.SequenceEqual(stats, back!, "scrape after a write and read");
        }
        else
        {
            CheckRefusal(data, header, action, error);
        }
    }

    private static void CheckRefusal(ReadOnlySpan<byte> data, bool header, UdpTrackerAction action, TrackerError error)
    {
        Check.That(error != TrackerError.None, "refused with no error");
        Check.Equal(header && action == UdpTrackerAction.Error, error == TrackerError.Failure, "failure exactly for an error packet");
        Check.That(error != TrackerError.Failure || UdpTrackerPacket.ReadErrorMessage(data).Length <= TrackerLimits.MaxTextBytes, "error message over the text limit");
    }

    // A negative count or interval reads as absent and writes back as 0.
    private static string Describe(AnnounceResponse r) =>
        $"interval={r.Interval ?? TimeSpan.Zero} complete={r.Complete ?? 0} incomplete={r.Incomplete ?? 0} peers={string.Join(",", r.Peers.Select(p => p.ToString()))}";

}
