namespace PeerNet;

/// <summary>
/// What one peer may make a node queue, remember or do, and the node's dial policy: the budgets that keep memory flat
/// and the node useless as a reflector whatever a hostile peer sends (docs/security.md lists them with the attack each
/// one stops). The defaults follow libtorrent where it has an equivalent.
/// </summary>
public sealed record PeerLimits
{
    /// <summary>
    /// Bytes of messages queued to one peer and not yet taken by it (each queued message counts its encoded bytes and a
    /// 48-byte entry; an upload counts its entry, its data is read only when sent). A peer that asks for more than it
    /// reads is closed once over it. Keep it well above 48 × <see cref="MaxQueuedUploads"/> (96 KB at 2,000): a peer
    /// filling the queue we announce is within its rights. Default 4 MiB.
    /// </summary>
    public int MaxSendQueueBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// How long a send may wait for the peer to take data before the peer is closed as not reading (libtorrent's
    /// <c>peer_timeout</c> is 120 s for silence; a peer that stops reading is caught here, while it may still be
    /// sending). Default 60 s.
    /// </summary>
    public TimeSpan SendStallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Blocks queued to upload to one peer, and the <c>reqq</c> (BEP 10) the node announces: further requests are rejected
    /// (BEP 6) or dropped. A queued block is a request's numbers, not its data (read as it is sent). Default 2000, as
    /// libtorrent's <c>max_allowed_in_request_queue</c>: a downloader keeps min(its target, our reqq) in flight, and
    /// libtorrent's targets pass 500 on fast links.
    /// </summary>
    public int MaxQueuedUploads { get; init; } = 2000;

    /// <summary>BEP 52 hash requests of one peer's in progress (computed, or answered and not yet taken); more are rejected. Default 4.</summary>
    public int MaxHashRequests { get; init; } = 4;

    /// <summary>
    /// Requests of one peer's refused (block requests while it is choked or over its queue, hash and metadata
    /// requests over their allowance) since it was last unchoked or served, beyond the requests it may have had in
    /// flight (our <c>reqq</c>, <see cref="MaxQueuedUploads"/>), before it is closed. libtorrent's
    /// <c>max_rejects</c> is 50. Default 50.
    /// </summary>
    public int MaxRefusedRequests { get; init; } = 50;

    /// <summary>
    /// Connections one IP address may have to one torrent, incoming and outgoing together (libtorrent allows one unless
    /// <c>allow_multiple_connections_per_ip</c>; a few let several clients behind one NAT in). Default 4.
    /// </summary>
    public int MaxConnectionsPerAddress { get; init; } = 4;

    /// <summary>
    /// Outgoing connection attempts the node starts per second, over all torrents (libtorrent's <c>connection_speed</c>
    /// is 30), so no list of addresses, however it was planted, turns into a burst of dials. Default 30.
    /// </summary>
    public int MaxDialsPerSecond { get; init; } = 30;
}
