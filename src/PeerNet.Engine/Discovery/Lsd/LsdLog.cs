using System.Net;
using Microsoft.Extensions.Logging;

namespace PeerNet.Discovery.Lsd;

/// <summary>Local service discovery's log messages (EventIds 300–399).</summary>
internal static partial class LsdLog
{
    [LoggerMessage(300, LogLevel.Information, "local service discovery: joined {Group}")]
    public static partial void Joined(ILogger logger, IPEndPoint group);

    [LoggerMessage(301, LogLevel.Information, "local service discovery: cannot join {Group}: {Reason}")]
    public static partial void JoinFailed(ILogger logger, IPEndPoint group, string reason);

    [LoggerMessage(302, LogLevel.Debug, "local service discovery: announce to {Group} failed: {Reason}")]
    public static partial void SendFailed(ILogger logger, IPEndPoint group, string reason);

    [LoggerMessage(303, LogLevel.Debug, "local service discovery: refused a datagram from {Source}: {Reason}")]
    public static partial void Refused(ILogger logger, IPEndPoint source, string reason);

    [LoggerMessage(304, LogLevel.Debug, "local service discovery: {Peer} announces {InfoHash}")]
    public static partial void PeerFound(ILogger logger, IPEndPoint peer, Sha1Hash infoHash);

    [LoggerMessage(305, LogLevel.Information, "local service discovery: stopped listening on {Group}: {Reason}")]
    public static partial void ReceiveFailed(ILogger logger, IPEndPoint group, string reason);
}
