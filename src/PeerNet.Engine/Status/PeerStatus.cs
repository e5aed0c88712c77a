using System.Net;

namespace PeerNet;

/// <summary>What is known of a connected peer.</summary>
[Flags]
public enum PeerFlags
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>It connected to us.</summary>
    Incoming = 1 << 0,

    /// <summary>We connected to it.</summary>
    Outgoing = 1 << 1,

    /// <summary>It has every piece.</summary>
    Seed = 1 << 2,

    /// <summary>We do not send it blocks now.</summary>
    WeChoke = 1 << 3,

    /// <summary>We want something it has.</summary>
    WeAreInterested = 1 << 4,

    /// <summary>It does not send us blocks now.</summary>
    ChokesUs = 1 << 5,

    /// <summary>It wants something we have.</summary>
    IsInterested = 1 << 6,

    /// <summary>It stopped answering our requests for a while; they went to others.</summary>
    Snubbed = 1 << 7,

    /// <summary>It speaks the fast extension (BEP 6).</summary>
    FastExtension = 1 << 8,

    /// <summary>It speaks BitTorrent v2 (BEP 52).</summary>
    V2 = 1 << 9,

    /// <summary>The connection runs over uTP (BEP 29), not TCP.</summary>
    Utp = 1 << 10,

    /// <summary>The connection began with an MSE handshake (its stream RC4-encrypted unless both sides settled for plaintext).</summary>
    Encrypted = 1 << 11,
}

/// <summary>One connected peer of a torrent, at one moment.</summary>
public sealed record PeerStatus
{
    /// <summary>Its address and port (the port it connected from, for an incoming peer).</summary>
    public required IPEndPoint EndPoint { get; init; }

    /// <summary>The client name it gave (BEP 10 <c>v</c>), control and bidi characters replaced; null if it gave none.</summary>
    public string? Client { get; init; }

    /// <summary>Direction, choking and interest, and what it speaks.</summary>
    public PeerFlags Flags { get; init; }

    /// <summary>Recent rate of payload from it, bytes per second.</summary>
    public double DownloadRate { get; init; }

    /// <summary>Recent rate of payload to it, bytes per second.</summary>
    public double UploadRate { get; init; }

    /// <summary>Fraction of the torrent's pieces it has announced, 0 to 1.</summary>
    public double Progress { get; init; }

    /// <summary>How long the connection has been up.</summary>
    public TimeSpan ConnectedFor { get; init; }
}

/// <summary>One file of a torrent, at one moment.</summary>
/// <param name="Index">Its index in <see cref="Metainfo.TorrentMetainfo.Files"/>.</param>
/// <param name="Path">Its path in the torrent, '/'-separated, exact.</param>
/// <param name="Length">Its size.</param>
/// <param name="BytesVerified">Its bytes in verified pieces.</param>
/// <param name="Priority">0 skips it; 1 to 7 order it, higher first (4 is normal).</param>
public sealed record TorrentFileStatus(int Index, string Path, long Length, long BytesVerified, int Priority)
{
    /// <summary>Fraction verified, 0 to 1 (1 for an empty file).</summary>
    public double Progress => Length == 0 ? 1 : (double)BytesVerified / Length;
}

/// <summary>How one tracker of a torrent is doing.</summary>
public enum TrackerState
{
    /// <summary>Not asked yet.</summary>
    NotContacted,

    /// <summary>Its last announce succeeded.</summary>
    Working,

    /// <summary>Its last announce failed.</summary>
    Failing,
}

/// <summary>One tracker of a torrent, at one moment.</summary>
/// <param name="Url">The announce URL, exact.</param>
/// <param name="Tier">Its BEP 12 tier (trackers of a tier are tried in turn; tiers in order).</param>
/// <param name="State">Whether its last announce worked.</param>
/// <param name="LastError">Why its last announce failed, control characters replaced; null after a success.</param>
public sealed record TrackerStatus(string Url, int Tier, TrackerState State, string? LastError);
