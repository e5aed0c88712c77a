using System.Globalization;

using PeerNet.Daemon.Service;
using PeerNet.Libp2p;

namespace PeerNet.Daemon.Api;

// What the API returns. Every text that came from the network (names, paths, client names, tracker messages) is
// passed through DisplayText.Sanitize here, once, so no endpoint hands a control or bidi character to a client.

/// <summary>
/// A torrent as the API shows it. <c>Id</c> is its swarm info-hash in hex (stable across restarts), <c>Number</c> the
/// node's number for it (this run only).
/// </summary>
internal sealed record TorrentDto(
    string Id,
    long Number,
    string Name,
    string? InfoHashV1,
    string? InfoHashV2,
    TorrentState State,
    string? Error,
    double Progress,
    long TotalSize,
    int PieceCount,
    int PiecesVerified,
    long Downloaded,
    long Uploaded,
    double DownloadRate,
    double UploadRate,
    int Peers,
    int Seeds,
    double? EtaSeconds,
    string SavePath,
    bool Sequential,
    long UploadRateLimit,
    long DownloadRateLimit)
{
    public static TorrentDto From(TorrentHandle torrent)
    {
        TorrentStatus s = torrent.GetStatus();
        return new TorrentDto(
            NodeService.IdOf(torrent),
            torrent.Id,
            Text(s.Name),
            s.InfoHashes.V1?.ToString(),
            s.InfoHashes.V2?.ToString(),
            s.State,
            DisplayText.Sanitize(s.Error, 1000),
            s.Progress,
            s.TotalSize,
            s.PieceCount,
            s.PiecesVerified,
            s.Downloaded,
            s.Uploaded,
            s.DownloadRate,
            s.UploadRate,
            s.Peers,
            s.Seeds,
            s.Eta?.TotalSeconds,
            Text(torrent.Options.SavePath),
            torrent.Options.Sequential,
            torrent.Options.UploadRateLimit,
            torrent.Options.DownloadRateLimit);
    }

    /// <summary>Network text made safe to show, and bounded.</summary>
    public static string Text(string text) => DisplayText.Sanitize(text, 1000);
}

/// <summary>A connected peer.</summary>
internal sealed record PeerDto(string Address, string? Client, string Flags, double Progress, double DownloadRate, double UploadRate, double ConnectedSeconds)
{
    public static PeerDto From(PeerStatus p) => new(
        p.EndPoint.ToString(),
        DisplayText.Sanitize(p.Client, 100),
        p.Flags.ToString(),
        p.Progress,
        p.DownloadRate,
        p.UploadRate,
        p.ConnectedFor.TotalSeconds);
}

/// <summary>A file of a torrent.</summary>
internal sealed record FileDto(int Index, string Path, long Length, long BytesVerified, double Progress, int Priority)
{
    public static FileDto From(TorrentFileStatus f) => new(f.Index, TorrentDto.Text(f.Path), f.Length, f.BytesVerified, f.Progress, f.Priority);
}

/// <summary>A tracker of a torrent.</summary>
internal sealed record TrackerDto(string Url, int Tier, TrackerState State, string? LastError)
{
    public static TrackerDto From(TrackerStatus t) => new(TorrentDto.Text(t.Url), t.Tier, t.State, DisplayText.Sanitize(t.LastError, 1000));
}

/// <summary>The node at one moment.</summary>
internal sealed record NodeDto(
    string Version,
    int ListenPort,
    string ListenAddress,
    int Connections,
    int Torrents,
    double DownloadRate,
    double UploadRate,
    long Downloaded,
    long Uploaded,
    DhtDto? Dht,
    DhtDto? Dht6,
    bool LocalDiscovery,
    bool Trackers,
    string StateFolder,
    string DownloadFolder);

/// <summary>One of the node's DHTs (a node on both families runs one per family, BEP 32).</summary>
internal sealed record DhtDto(string NodeId, int Nodes, int GoodNodes, int Buckets, string? ExternalAddress, long QueriesReceived, long QueriesSent)
{
    /// <summary>The address family it runs on: <c>ipv4</c> or <c>ipv6</c>.</summary>
    public string Family { get; init; } = "ipv4";

    public int QuestionableNodes { get; init; }

    public int BadNodes { get; init; }

    public int ReplacementNodes { get; init; }

    public int StoredInfoHashes { get; init; }

    public int StoredPeers { get; init; }

    public long QueriesDropped { get; init; }

    /// <summary>Iterative lookups started (find_node, get_peers, get).</summary>
    public long Lookups { get; init; }

    /// <summary>Iterative lookups running now.</summary>
    public int ActiveLookups { get; init; }

    public static DhtDto From(PeerNet.Discovery.Dht.DhtStats d) => new(d.NodeId, d.Nodes, d.GoodNodes, d.Buckets, d.ExternalAddress?.ToString(), d.QueriesReceived, d.QueriesSent)
    {
        QuestionableNodes = d.QuestionableNodes,
        BadNodes = d.BadNodes,
        ReplacementNodes = d.ReplacementNodes,
        StoredInfoHashes = d.StoredInfoHashes,
        StoredPeers = d.StoredPeers,
        QueriesDropped = d.QueriesDropped,
        Lookups = d.Lookups,
        ActiveLookups = d.ActiveLookups,
    };

    /// <summary>The DTO of a running DHT node, with its family.</summary>
    public static DhtDto Of(PeerNet.Discovery.Dht.DhtNode dht) => From(dht.GetStats()) with { Family = NodeService.FamilyOf(dht) };
}

/// <summary>A torrent to add, as JSON: a magnet link or a .torrent in base64, and how to add it.</summary>
internal sealed record AddTorrentRequest
{
    /// <summary>A magnet link.</summary>
    public string? Magnet { get; init; }

    /// <summary>A .torrent file's bytes, base64.</summary>
    public string? Metainfo { get; init; }

    /// <summary>The folder to save into; the daemon's download folder if absent.</summary>
    public string? SavePath { get; init; }

    /// <summary>Add it paused.</summary>
    public bool Paused { get; init; }

    /// <summary>Fetch pieces in order.</summary>
    public bool Sequential { get; init; }

    /// <summary>Peers to connect to at once (ADDRESS:PORT), besides those trackers, the DHT and the magnet name.</summary>
    public IReadOnlyList<string>? Peers { get; init; }
}

/// <summary>
/// One of the node's events, for the event stream. <c>Type</c> is the event's kind: torrentAdded, pieceVerified,
/// peerConnected, libp2pPeerConnected, directMessageReceived, ... (the engine's type, camel-cased); the other fields are
/// those the kind has (for libp2p events <c>Peer</c> is the peer ID, <c>Address</c> its IP address and port).
/// </summary>
internal sealed record EventDto(string Type, DateTimeOffset Time, string? Torrent, int? Piece = null, string? Peer = null, string? Reason = null, string? State = null, long? Count = null, string? Url = null, string? Address = null, string? Agent = null, string? Text = null, string? Topic = null)
{
    /// <summary>A message received on a gossipsub topic joined (the daemon's own event: <c>pubsubMessageReceived</c>).</summary>
    public static EventDto From(PubsubMessage m) => new(
        "pubsubMessageReceived", DateTimeOffset.UtcNow, null, Peer: m.From.ToString(), Count: m.Data.Length,
        Text: DisplayText.Sanitize(System.Text.Encoding.UTF8.GetString(m.Data.Span), DirectMessageDto.MaxTextLength),
        Topic: DisplayText.Sanitize(m.Topic, Libp2pEndpoints.MaxTopicLength));

    public static EventDto From(NodeEvent e)
    {
        string type = e.GetType().Name;
        type = char.ToLowerInvariant(type[0]) + type[1..];
        string? torrent = e is TorrentEvent te ? NodeService.IdOf(te.Torrent) : null;
        return e switch
        {
            PieceVerified p => new(type, e.Time, torrent, Piece: p.Piece),
            HashFailed h => new(type, e.Time, torrent, Piece: h.Piece, Count: h.Senders),
            TorrentStateChanged s => new(type, e.Time, torrent, State: s.State.ToString()),
            PeerConnected c => new(type, e.Time, torrent, Peer: c.Peer.ToString(), Reason: c.Outgoing ? "outgoing" : "incoming"),
            PeerDisconnected d => new(type, e.Time, torrent, Peer: d.Peer.ToString(), Reason: DisplayText.Sanitize(d.Reason, 500)),
            PeerBanned b => new(type, e.Time, torrent, Peer: b.Peer.ToString(), Reason: DisplayText.Sanitize(b.Reason, 500)),
            TrackerFailed t => new(type, e.Time, torrent, Url: TorrentDto.Text(t.Url), Reason: DisplayText.Sanitize(t.Message, 500)),
            StorageError s => new(type, e.Time, torrent, Reason: DisplayText.Sanitize(s.Reason, 500)),
            EventsDropped d => new(type, e.Time, null, Count: d.Count),
            Libp2pPeerConnected c => new(type, e.Time, null, Peer: c.Peer.ToString(), Reason: c.Outbound ? "outbound" : "inbound", Address: c.Address?.ToString(), Agent: c.Agent),
            Libp2pPeerDisconnected d => new(type, e.Time, null, Peer: d.Peer.ToString(), Address: d.Address?.ToString()),
            DirectMessageReceived m => new(type, e.Time, null, Peer: m.Message.From.ToString(), Count: m.Message.Data.Length, Text: DisplayText.Sanitize(m.Message.Text, DirectMessageDto.MaxTextLength)),
            _ => new(type, e.Time, torrent),
        };
    }

    /// <summary>The SSE id: the event's time in ticks, so a client can tell order.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string SseId => Time.UtcTicks.ToString(CultureInfo.InvariantCulture);
}
