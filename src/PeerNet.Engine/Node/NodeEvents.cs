using System.Net;
using PeerNet.Libp2p;

namespace PeerNet;

/// <summary>
/// Something that happened in a node, as <see cref="PeerNetNode.WatchEventsAsync"/> delivers it. Switch on the type:
/// every event is a sealed record below. Text that came from the network (a reason, a tracker's message) has its
/// control and bidi characters replaced already.
/// </summary>
public abstract record NodeEvent
{
    /// <summary>When it happened, on the node's clock.</summary>
    public DateTimeOffset Time { get; init; }
}

/// <summary>An event of one torrent.</summary>
/// <param name="Torrent">The torrent it concerns.</param>
public abstract record TorrentEvent(TorrentHandle Torrent) : NodeEvent;

/// <summary>A torrent was added to the node: before any other event of it; if its start then fails, <see cref="TorrentRemoved"/> follows.</summary>
public sealed record TorrentAdded(TorrentHandle Torrent) : TorrentEvent(Torrent);

/// <summary>A torrent was removed from the node (its handle is no longer valid).</summary>
public sealed record TorrentRemoved(TorrentHandle Torrent) : TorrentEvent(Torrent);

/// <summary>A torrent added from a magnet link got its info dictionary from a peer, verified against its info-hash.</summary>
public sealed record MetadataReceived(TorrentHandle Torrent) : TorrentEvent(Torrent);

/// <summary>A piece passed its hash check and was written.</summary>
/// <param name="Torrent">The torrent.</param>
/// <param name="Piece">The piece's index.</param>
public sealed record PieceVerified(TorrentHandle Torrent, int Piece) : TorrentEvent(Torrent);

/// <summary>A piece failed its hash check; it is fetched again and its senders are held to account.</summary>
/// <param name="Torrent">The torrent.</param>
/// <param name="Piece">The piece's index.</param>
/// <param name="Senders">How many peers sent blocks of it.</param>
public sealed record HashFailed(TorrentHandle Torrent, int Piece, int Senders) : TorrentEvent(Torrent);

/// <summary>Every wanted piece of a torrent is verified on disk.</summary>
public sealed record TorrentCompleted(TorrentHandle Torrent) : TorrentEvent(Torrent);

/// <summary>A torrent was paused, resumed, or stopped by an error; <see cref="State"/> is what it is now.</summary>
/// <param name="Torrent">The torrent.</param>
/// <param name="State">Its new state.</param>
public sealed record TorrentStateChanged(TorrentHandle Torrent, TorrentState State) : TorrentEvent(Torrent);

/// <summary>A peer joined a torrent after the handshake.</summary>
/// <param name="Torrent">The torrent.</param>
/// <param name="Peer">The peer's address.</param>
/// <param name="Outgoing">We dialled it (else it dialled us).</param>
public sealed record PeerConnected(TorrentHandle Torrent, IPEndPoint Peer, bool Outgoing) : TorrentEvent(Torrent);

/// <summary>A peer's connection ended.</summary>
/// <param name="Torrent">The torrent.</param>
/// <param name="Peer">The peer's address.</param>
/// <param name="Reason">Why, in our words.</param>
public sealed record PeerDisconnected(TorrentHandle Torrent, IPEndPoint Peer, string Reason) : TorrentEvent(Torrent);

/// <summary>A peer was banned: its address is refused from now on (it sent data or hashes that failed verification).</summary>
/// <param name="Torrent">The torrent.</param>
/// <param name="Peer">The peer's address.</param>
/// <param name="Reason">What it did.</param>
public sealed record PeerBanned(TorrentHandle Torrent, IPEndPoint Peer, string Reason) : TorrentEvent(Torrent);

/// <summary>An announce to one of a torrent's trackers failed.</summary>
/// <param name="Torrent">The torrent.</param>
/// <param name="Url">The tracker's URL, exact.</param>
/// <param name="Message">Why (its failure reason, or the network error).</param>
public sealed record TrackerFailed(TorrentHandle Torrent, string Url, string Message) : TorrentEvent(Torrent);

/// <summary>A torrent stopped on an error of its storage (disk full, no permission, a file that vanished); verified data is kept.</summary>
/// <param name="Torrent">The torrent.</param>
/// <param name="Path">The file concerned, when one is.</param>
/// <param name="Reason">What went wrong, as the torrent's <see cref="TorrentStatus.Error"/> says it.</param>
public sealed record StorageError(TorrentHandle Torrent, string? Path, string Reason) : TorrentEvent(Torrent);

/// <summary>
/// A watcher fell behind and <paramref name="Count"/> events were dropped before this one (each watcher has a bounded
/// buffer, <see cref="PeerNetNodeOptions.EventBufferSize"/>; the oldest go first).
/// </summary>
/// <param name="Count">Events dropped.</param>
public sealed record EventsDropped(long Count) : NodeEvent;

/// <summary>
/// The node's port mapping on the home router changed: a mapping was made, renewed, lost or refused
/// (<see cref="PeerNetNode.PortMapping"/> has the same status).
/// </summary>
/// <param name="Status">The mapping now.</param>
public sealed record PortMappingChanged(PortMappingStatus Status) : NodeEvent;

/// <summary>A libp2p connection is ready: Noise authenticated the peer, yamux runs and identify has answered (or failed).</summary>
/// <param name="Peer">The peer's ID.</param>
/// <param name="Address">Its address as this node sees it.</param>
/// <param name="Outbound">This node dialled it (else it dialled this node).</param>
/// <param name="Agent">Its software as identify said it (control and bidi characters replaced), null if unknown.</param>
public sealed record Libp2pPeerConnected(Libp2pPeerId Peer, IPEndPoint? Address, bool Outbound, string? Agent) : NodeEvent;

/// <summary>A libp2p connection closed and its streams ended.</summary>
/// <param name="Peer">The peer's ID.</param>
/// <param name="Address">Its address as this node saw it.</param>
public sealed record Libp2pPeerDisconnected(Libp2pPeerId Peer, IPEndPoint? Address) : NodeEvent;

/// <summary>
/// A direct message (<see cref="Libp2pService.DirectMessageProtocol"/>) was taken by the handler set with
/// <see cref="Libp2pService.SetMessageHandler"/> and acknowledged to its sender.
/// </summary>
/// <param name="Message">The message.</param>
public sealed record DirectMessageReceived(DirectMessage Message) : NodeEvent;
