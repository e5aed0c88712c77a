using System.Net;
using Microsoft.Extensions.Logging;

namespace PeerNet.Swarm;

/// <summary>
/// The swarm's log messages (EventIds 100–199), source-generated so a disabled level costs a branch and no
/// allocation. Peer-level events are Debug, what an operator should see is Information and above.
/// </summary>
internal static partial class SwarmLog
{
    [LoggerMessage(100, LogLevel.Debug, "{Torrent}: connected to {Peer} ({Direction})")]
    public static partial void PeerConnected(ILogger logger, string torrent, IPEndPoint peer, string direction);

    [LoggerMessage(101, LogLevel.Debug, "{Torrent}: {Peer} closed: {Reason}")]
    public static partial void PeerClosed(ILogger logger, string torrent, IPEndPoint peer, string reason);

    [LoggerMessage(102, LogLevel.Warning, "{Torrent}: banned {Peer}: {Reason}")]
    public static partial void PeerBanned(ILogger logger, string torrent, IPEndPoint peer, string reason);

    [LoggerMessage(103, LogLevel.Information, "{Torrent}: piece {Piece} failed its hash check (blocks from {Senders} peer(s))")]
    public static partial void PieceFailed(ILogger logger, string torrent, int piece, int senders);

    [LoggerMessage(104, LogLevel.Information, "{Torrent}: complete, {Pieces} pieces verified")]
    public static partial void Completed(ILogger logger, string torrent, int pieces);

    [LoggerMessage(105, LogLevel.Error, "{Torrent}: stopped: {Error}")]
    public static partial void Failed(ILogger logger, string torrent, string error);

    [LoggerMessage(106, LogLevel.Information, "{Torrent}: piece layer of {File} proved against its root ({Pieces} hashes)")]
    public static partial void LayerInstalled(ILogger logger, string torrent, string file, int pieces);

    [LoggerMessage(107, LogLevel.Information, "metadata of {InfoHash} ({Bytes} bytes) fetched from {Peer} and verified")]
    public static partial void MetadataFetched(ILogger logger, string infoHash, int bytes, IPEndPoint peer);

    [LoggerMessage(108, LogLevel.Debug, "metadata of {InfoHash}: {Peer} failed: {Reason}")]
    public static partial void MetadataPeerFailed(ILogger logger, string infoHash, IPEndPoint peer, string reason);

    [LoggerMessage(111, LogLevel.Debug, "encrypted handshake with {Peer} ({Direction}) failed: {Reason}")]
    public static partial void EncryptionFailed(ILogger logger, IPEndPoint peer, string direction, string reason);

    [LoggerMessage(112, LogLevel.Debug, "libp2p upgrade with {Peer} ({Direction}) failed: {Reason}: {Message}")]
    public static partial void Libp2pFailed(ILogger logger, IPEndPoint peer, string direction, string reason, string message);

    [LoggerMessage(110, LogLevel.Warning, "{Torrent}: handling {Event} from {Peer} failed; the peer is closed, the torrent goes on")]
    public static partial void PeerFault(ILogger logger, string torrent, IPEndPoint peer, string @event, Exception error);

    [LoggerMessage(113, LogLevel.Debug, "{Torrent}: holepunch: relayed a rendezvous from {Initiator} to {Target}")]
    public static partial void HolepunchRelayed(ILogger logger, string torrent, IPEndPoint initiator, IPEndPoint target);

    [LoggerMessage(114, LogLevel.Debug, "{Torrent}: holepunch: asked {Relay} for a rendezvous with {Target}")]
    public static partial void HolepunchRendezvous(ILogger logger, string torrent, IPEndPoint target, IPEndPoint relay);

    [LoggerMessage(115, LogLevel.Debug, "{Torrent}: holepunch: connecting to {Peer} over uTP (told by {Relay})")]
    public static partial void HolepunchConnecting(ILogger logger, string torrent, IPEndPoint peer, IPEndPoint relay);

    [LoggerMessage(116, LogLevel.Debug, "{Torrent}: holepunch: dial to {Peer} {Outcome}")]
    public static partial void HolepunchDialed(ILogger logger, string torrent, IPEndPoint peer, string outcome);

    [LoggerMessage(117, LogLevel.Debug, "{Torrent}: holepunch: {Relay} cannot relay to {Target}: {Error}")]
    public static partial void HolepunchError(ILogger logger, string torrent, IPEndPoint relay, IPEndPoint target, string error);

    [LoggerMessage(109, LogLevel.Information, "{Torrent}: started, {Have}/{Pieces} pieces verified on disk")]
    public static partial void Started(ILogger logger, string torrent, int have, int pieces);
}
