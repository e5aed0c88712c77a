using System.Net;
using System.Net.Sockets;
using PeerNet.PeerWire;

namespace PeerNet.Tracker;

/// <summary>What an announce tells the tracker (BEP 3), encoded over HTTP by <see cref="HttpTrackerRequest"/> and over UDP by <see cref="UdpTrackerPacket"/>.</summary>
internal sealed record AnnounceRequest
{
    /// <summary>The torrent: its v1 info-hash, or a v2 one truncated to 20 bytes.</summary>
    public required Sha1Hash InfoHash { get; init; }

    /// <summary>Our peer id, as in our handshakes.</summary>
    public required PeerId PeerId { get; init; }

    /// <summary>The TCP port peers can reach us on (1 to 65535).</summary>
    public required int Port
    {
        get;
        init => field = value is >= 1 and <= ushort.MaxValue ? value : throw new ArgumentOutOfRangeException(nameof(Port), value, "A port is 1 to 65535.");
    }

    /// <summary>Payload bytes sent since the <see cref="TrackerEvent.Started"/> announce.</summary>
    public long Uploaded { get; init; }

    /// <summary>Payload bytes received since the <see cref="TrackerEvent.Started"/> announce.</summary>
    public long Downloaded { get; init; }

    /// <summary>Bytes still wanted to complete the torrent.</summary>
    public long Left { get; init; }

    /// <summary>Started, completed, stopped, or none for a regular re-announce.</summary>
    public TrackerEvent Event { get; init; }

    /// <summary>Peers wanted; a negative value lets the tracker choose.</summary>
    public int NumWant { get; init; } = 50;

    /// <summary>A random number fixed for the session, so a tracker knows us across an IP change.</summary>
    public uint Key { get; init; }

    /// <summary>The <c>tracker id</c> the tracker gave in an earlier response, sent back as BEP 3 asks.</summary>
    public string? TrackerId { get; init; }

    /// <summary>
    /// Our IPv4 address as the internet sees it, sent over HTTP as BEP 7's <c>ipv4=</c> so a tracker reached over IPv6
    /// can give it to IPv4 peers (and one reached over IPv4 learns nothing new); null when not known.
    /// </summary>
    public IPAddress? ExternalIPv4
    {
        get;
        init => field = value is null || value.AddressFamily == AddressFamily.InterNetwork ? value : throw new ArgumentException("ExternalIPv4 must be an IPv4 address.", nameof(ExternalIPv4));
    }

    /// <summary>
    /// Our IPv6 address as the internet sees it, sent over HTTP as BEP 7's <c>ipv6=</c> so a tracker reached over IPv4
    /// can give it to IPv6 peers; null when not known.
    /// </summary>
    public IPAddress? ExternalIPv6
    {
        get;
        init => field = value is null || (value.AddressFamily == AddressFamily.InterNetworkV6 && !value.IsIPv4MappedToIPv6) ? value : throw new ArgumentException("ExternalIPv6 must be an IPv6 address.", nameof(ExternalIPv6));
    }
}
