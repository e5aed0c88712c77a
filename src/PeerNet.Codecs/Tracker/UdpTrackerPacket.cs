using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using PeerNet.PeerWire;

namespace PeerNet.Tracker;

/// <summary>The <c>action</c> of a BEP 15 UDP tracker packet.</summary>
internal enum UdpTrackerAction
{
    /// <summary>Obtain a connection id.</summary>
    Connect = 0,

    /// <summary>Announce.</summary>
    Announce = 1,

    /// <summary>Scrape up to <see cref="TrackerLimits.MaxUdpScrapeHashes"/> torrents.</summary>
    Scrape = 2,

    /// <summary>The tracker refused; a message follows.</summary>
    Error = 3,
}

/// <summary>
/// BEP 15 UDP tracker packets, big-endian throughout: requests written into a caller's buffer, responses read
/// from one datagram. Every reader checks the length, the action and the transaction id before anything else:
/// "Check whether the transaction ID is equal to the one you chose. Check whether the action is ..." An error
/// packet (action 3) with our transaction id is reported as <see cref="TrackerError.Failure"/>; its message is
/// read with <see cref="ReadErrorMessage"/>.
/// </summary>
internal static class UdpTrackerPacket
{
    /// <summary>The magic constant of a connect request.</summary>
    public const long ProtocolId = 0x41727101980;

    /// <summary>Connect request: protocol id, action, transaction id.</summary>
    public const int ConnectRequestLength = 16;

    /// <summary>Connect response: action, transaction id, connection id.</summary>
    public const int ConnectResponseLength = 16;

    /// <summary>Announce request (IPv4 and IPv6 alike: the IP field is always 4 bytes, and zero).</summary>
    public const int AnnounceRequestLength = 98;

    /// <summary>Announce response before its peers: action, transaction id, interval, leechers, seeders.</summary>
    public const int AnnounceResponseHeaderLength = 20;

    /// <summary>Scrape request before its info-hashes: connection id, action, transaction id.</summary>
    public const int ScrapeRequestHeaderLength = 16;

    /// <summary>Any response's common head: action, transaction id.</summary>
    public const int ResponseHeaderLength = 8;

    /// <summary>One torrent in a scrape response: seeders, completed, leechers.</summary>
    public const int ScrapeEntryLength = 12;

    /// <summary>Writes a connect request; returns <see cref="ConnectRequestLength"/>.</summary>
    public static int WriteConnect(Span<byte> destination, uint transactionId)
    {
        Check(destination, ConnectRequestLength);
        BinaryPrimitives.WriteInt64BigEndian(destination, ProtocolId);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], (int)UdpTrackerAction.Connect);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], transactionId);
        return ConnectRequestLength;
    }

    /// <summary>Writes an announce request; returns <see cref="AnnounceRequestLength"/>. The tracker id has no place in BEP 15.</summary>
    public static int WriteAnnounce(Span<byte> destination, long connectionId, uint transactionId, AnnounceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Check(destination, AnnounceRequestLength);
        BinaryPrimitives.WriteInt64BigEndian(destination, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], (int)UdpTrackerAction.Announce);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], transactionId);
        request.InfoHash.CopyTo(destination[16..]);
        request.PeerId.CopyTo(destination[36..]);
        BinaryPrimitives.WriteInt64BigEndian(destination[56..], request.Downloaded);
        BinaryPrimitives.WriteInt64BigEndian(destination[64..], request.Left);
        BinaryPrimitives.WriteInt64BigEndian(destination[72..], request.Uploaded);
        BinaryPrimitives.WriteInt32BigEndian(destination[80..], (int)request.Event);
        BinaryPrimitives.WriteUInt32BigEndian(destination[84..], 0); // IP address: 0, the tracker uses the sender's
        BinaryPrimitives.WriteUInt32BigEndian(destination[88..], request.Key);
        BinaryPrimitives.WriteInt32BigEndian(destination[92..], request.NumWant < 0 ? -1 : request.NumWant);
        BinaryPrimitives.WriteUInt16BigEndian(destination[96..], (ushort)request.Port);
        return AnnounceRequestLength;
    }

    /// <summary>Writes a scrape request for up to <see cref="TrackerLimits.MaxUdpScrapeHashes"/> torrents; returns its length.</summary>
    public static int WriteScrape(Span<byte> destination, long connectionId, uint transactionId, ReadOnlySpan<Sha1Hash> infoHashes)
    {
        if (infoHashes.Length is 0 or > TrackerLimits.MaxUdpScrapeHashes)
        {
            ThrowHelper.ThrowArgument(nameof(infoHashes), $"A UDP scrape asks for 1 to {TrackerLimits.MaxUdpScrapeHashes} torrents.");
        }

        int length = ScrapeRequestHeaderLength + (infoHashes.Length * Sha1Hash.Length);
        Check(destination, length);
        BinaryPrimitives.WriteInt64BigEndian(destination, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], (int)UdpTrackerAction.Scrape);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], transactionId);
        for (int i = 0; i < infoHashes.Length; i++)
        {
            infoHashes[i].CopyTo(destination[(ScrapeRequestHeaderLength + (i * Sha1Hash.Length))..]);
        }

        return length;
    }

    /// <summary>Writes an error response (the tracker's side, for tests and fuzzing); returns its length.</summary>
    public static int WriteError(Span<byte> destination, uint transactionId, ReadOnlySpan<byte> message)
    {
        Check(destination, ResponseHeaderLength + message.Length);
        WriteHeader(destination, UdpTrackerAction.Error, transactionId);
        message.CopyTo(destination[ResponseHeaderLength..]);
        return ResponseHeaderLength + message.Length;
    }

    /// <summary>Writes a connect response (the tracker's side, for fakes and fuzzing); returns <see cref="ConnectResponseLength"/>.</summary>
    public static int WriteConnectResponse(Span<byte> destination, uint transactionId, long connectionId)
    {
        Check(destination, ConnectResponseLength);
        WriteHeader(destination, UdpTrackerAction.Connect, transactionId);
        BinaryPrimitives.WriteInt64BigEndian(destination[8..], connectionId);
        return ConnectResponseLength;
    }

    /// <summary>
    /// Writes an announce response (the tracker's side): over IPv6 every IPv6 address (IPv4-mapped ones too, as 16
    /// bytes, so what <see cref="TryReadAnnounce"/> read writes back unchanged), over IPv4 every IPv4 or IPv4-mapped
    /// address; others are left out, absent counts as 0. Returns its length.
    /// </summary>
    public static int WriteAnnounceResponse(Span<byte> destination, uint transactionId, AnnounceResponse response, bool ipv6)
    {
        ArgumentNullException.ThrowIfNull(response);
        int size = ipv6 ? CompactPeer.V6Length : CompactPeer.V4Length;
        int length = AnnounceResponseHeaderLength + (response.Peers.Count(p => Travels(p, ipv6)) * size);
        Check(destination, length);
        WriteHeader(destination, UdpTrackerAction.Announce, transactionId);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], (int)Math.Clamp((response.Interval ?? TimeSpan.Zero).TotalSeconds, 0, int.MaxValue));
        BinaryPrimitives.WriteInt32BigEndian(destination[12..], response.Incomplete ?? 0);
        BinaryPrimitives.WriteInt32BigEndian(destination[16..], response.Complete ?? 0);
        int at = AnnounceResponseHeaderLength;
        foreach (IPEndPoint peer in response.Peers)
        {
            if (!Travels(peer, ipv6))
            {
                continue;
            }

            if (ipv6)
            {
                peer.Address.TryWriteBytes(destination[at..], out _);
                BinaryPrimitives.WriteUInt16BigEndian(destination[(at + 16)..], (ushort)peer.Port);
                at += CompactPeer.V6Length;
            }
            else
            {
                at += CompactPeer.Write(destination[at..], peer);
            }
        }

        return length;
    }

    private static bool Travels(IPEndPoint peer, bool ipv6)
        => ipv6 ? peer.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 : CompactPeer.IsV4(peer.Address);

    /// <summary>Writes a scrape response (the tracker's side); returns its length.</summary>
    public static int WriteScrapeResponse(Span<byte> destination, uint transactionId, ReadOnlySpan<ScrapeStats> stats)
    {
        int length = ResponseHeaderLength + (stats.Length * ScrapeEntryLength);
        Check(destination, length);
        WriteHeader(destination, UdpTrackerAction.Scrape, transactionId);
        for (int i = 0; i < stats.Length; i++)
        {
            Span<byte> entry = destination.Slice(ResponseHeaderLength + (i * ScrapeEntryLength), ScrapeEntryLength);
            BinaryPrimitives.WriteInt32BigEndian(entry, stats[i].Complete);
            BinaryPrimitives.WriteInt32BigEndian(entry[4..], stats[i].Downloaded);
            BinaryPrimitives.WriteInt32BigEndian(entry[8..], stats[i].Incomplete);
        }

        return length;
    }

    /// <summary>Reads the action and transaction id every response starts with; false when shorter than 8 bytes or the action is unknown.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> packet, out UdpTrackerAction action, out uint transactionId)
    {
        action = default;
        transactionId = 0;
        if (packet.Length < ResponseHeaderLength)
        {
            return false;
        }

        uint raw = BinaryPrimitives.ReadUInt32BigEndian(packet);
        transactionId = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
        action = (UdpTrackerAction)raw;
        return raw <= (uint)UdpTrackerAction.Error;
    }

    /// <summary>The message of an error packet (action 3), cut to <see cref="TrackerLimits.MaxTextBytes"/>; empty for any other packet.</summary>
    public static string ReadErrorMessage(ReadOnlySpan<byte> packet)
        => TryReadHeader(packet, out UdpTrackerAction action, out _) && action == UdpTrackerAction.Error
            ? HttpTrackerResponse.DecodeText(packet[ResponseHeaderLength..])
            : "";

    /// <summary>Reads a connect response: "Check whether the packet is at least 16 bytes", then the transaction id and action.</summary>
    public static bool TryReadConnect(ReadOnlySpan<byte> packet, uint transactionId, out long connectionId, out TrackerError error)
    {
        connectionId = 0;
        if (!TryCheckHeader(packet, transactionId, UdpTrackerAction.Connect, ConnectResponseLength, out error))
        {
            return false;
        }

        connectionId = BinaryPrimitives.ReadInt64BigEndian(packet[8..]);
        return true;
    }

    /// <summary>
    /// Reads an announce response: 20 bytes then peers of 6 bytes, or of 18 when the request went over IPv6
    /// (<paramref name="ipv6"/>, BEP 15's IPv6 extension). A partial peer, or more than the peer limit, is refused.
    /// </summary>
    public static bool TryReadAnnounce(ReadOnlySpan<byte> packet, uint transactionId, bool ipv6, [NotNullWhen(true)] out AnnounceResponse? response, out TrackerError error, TrackerLimits? limits = null)
    {
        limits ??= TrackerLimits.Default;
        response = null;
        if (!TryCheckHeader(packet, transactionId, UdpTrackerAction.Announce, AnnounceResponseHeaderLength, out error))
        {
            return false;
        }

        int size = ipv6 ? CompactPeer.V6Length : CompactPeer.V4Length;
        ReadOnlySpan<byte> peers = packet[AnnounceResponseHeaderLength..];
        if (peers.Length % size != 0)
        {
            error = TrackerError.PeerListInvalid;
            return false;
        }

        if (peers.Length / size > limits.MaxPeers)
        {
            error = TrackerError.TooManyPeers;
            return false;
        }

        var list = new List<IPEndPoint>(peers.Length / size);
        for (int i = 0; i < peers.Length; i += size)
        {
            IPEndPoint peer = CompactPeer.Read(peers.Slice(i, size));
            if (peer.Port != 0)
            {
                list.Add(peer);
            }
        }

        response = new AnnounceResponse
        {
            Interval = ReadSeconds(packet[8..]),
            Incomplete = ReadCount(packet[12..]),
            Complete = ReadCount(packet[16..]),
            Peers = list,
        };
        return true;
    }

    /// <summary>
    /// Reads a scrape response: 12 bytes per torrent, in the order of the request's <paramref name="requestedCount"/>
    /// hashes. A tracker may answer for fewer (a truncated reply), never for more.
    /// </summary>
    public static bool TryReadScrape(ReadOnlySpan<byte> packet, uint transactionId, int requestedCount, [NotNullWhen(true)] out IReadOnlyList<ScrapeStats>? stats, out TrackerError error)
    {
        stats = null;
        if (!TryCheckHeader(packet, transactionId, UdpTrackerAction.Scrape, ResponseHeaderLength, out error))
        {
            return false;
        }

        ReadOnlySpan<byte> entries = packet[ResponseHeaderLength..];
        if (entries.Length % ScrapeEntryLength != 0)
        {
            error = TrackerError.PacketTooShort;
            return false;
        }

        if (entries.Length / ScrapeEntryLength > Math.Min(requestedCount, TrackerLimits.MaxUdpScrapeHashes))
        {
            error = TrackerError.TooManyFiles;
            return false;
        }

        var list = new ScrapeStats[entries.Length / ScrapeEntryLength];
        for (int i = 0; i < list.Length; i++)
        {
            ReadOnlySpan<byte> entry = entries.Slice(i * ScrapeEntryLength, ScrapeEntryLength);
            list[i] = new ScrapeStats(ReadCount(entry) ?? 0, ReadCount(entry[4..]) ?? 0, ReadCount(entry[8..]) ?? 0);
        }

        stats = list;
        return true;
    }

    private static bool TryCheckHeader(ReadOnlySpan<byte> packet, uint transactionId, UdpTrackerAction expected, int minLength, out TrackerError error)
    {
        if (!TryReadHeader(packet, out UdpTrackerAction action, out uint id) && packet.Length < ResponseHeaderLength)
        {
            error = TrackerError.PacketTooShort;
            return false;
        }

        if (id != transactionId)
        {
            error = TrackerError.WrongTransactionId;
            return false;
        }

        if (action == UdpTrackerAction.Error)
        {
            error = TrackerError.Failure;
            return false;
        }

        if (action != expected)
        {
            error = TrackerError.WrongAction;
            return false;
        }

        if (packet.Length < minLength)
        {
            error = TrackerError.PacketTooShort;
            return false;
        }

        error = TrackerError.None;
        return true;
    }

    /// <summary>A 32-bit count read as signed; a negative one (a broken tracker) is taken as absent.</summary>
    private static int? ReadCount(ReadOnlySpan<byte> source)
    {
        int value = BinaryPrimitives.ReadInt32BigEndian(source);
        return value >= 0 ? value : null;
    }

    private static TimeSpan? ReadSeconds(ReadOnlySpan<byte> source) => ReadCount(source) is int seconds ? TimeSpan.FromSeconds(seconds) : null;

    private static void WriteHeader(Span<byte> destination, UdpTrackerAction action, uint transactionId)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, (int)action);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], transactionId);
    }

    private static void Check(Span<byte> destination, int length)
    {
        if (destination.Length < length)
        {
            ThrowHelper.ThrowArgument(nameof(destination), $"The destination is too small: {length} bytes are needed.");
        }
    }
}
