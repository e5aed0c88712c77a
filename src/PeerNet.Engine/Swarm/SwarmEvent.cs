namespace PeerNet.Swarm;

/// <summary>What happened, posted to a torrent's loop by reader loops, timers and background work.</summary>
internal enum SwarmEventKind : byte
{
    Tick,
    PeerConnected,
    PeerClosed,
    Choke,
    Unchoke,
    Interested,
    NotInterested,
    Have,
    Bitfield,
    BitfieldUpdate,
    HaveAll,
    HaveNone,
    Request,
    Cancel,
    BlockReceived,
    Reject,
    AllowedFast,
    Suggest,
    ExtensionHandshake,
    PieceHashed,
    AddPeers,
    ConnectFinished,
    MetadataRequest,
    HashRequest,
    HashesReady,
    HashesReceived,
    HashRejected,
    PexReceived,
    HolepunchReceived,
    Invoke, // runs a query (an Action) on the loop
}

/// <summary>
/// One event: a kind, the peer it concerns, three integers (piece, begin, length) and an optional object.
/// A struct, so a bounded channel of them allocates nothing per event.
/// </summary>
internal readonly record struct SwarmEvent(SwarmEventKind Kind, PeerConnection? Peer = null, int A = 0, int B = 0, int C = 0, object? Payload = null);
