using Microsoft.Extensions.Logging;

namespace PeerNet;

/// <summary>The node's log messages (EventIds 400–419).</summary>
internal static partial class NodeLog
{
    [LoggerMessage(400, LogLevel.Information, "node listening on port {Port} (DHT {Dht}, local discovery {Lsd})")]
    public static partial void Started(ILogger logger, int port, bool dht, bool lsd);

    [LoggerMessage(401, LogLevel.Information, "node stopped ({Torrents} torrents)")]
    public static partial void Stopped(ILogger logger, int torrents);

    [LoggerMessage(402, LogLevel.Warning, "DHT: still joining after 15 s; going on in the background")]
    public static partial void DhtStillJoining(ILogger logger);

    [LoggerMessage(403, LogLevel.Warning, "DHT: could not start ({Reason}); the node runs without it")]
    public static partial void DhtFailed(ILogger logger, string reason);

    [LoggerMessage(404, LogLevel.Debug, "UDP port {Port} is taken; choosing another port for TCP and UDP together")]
    public static partial void UdpPortTaken(ILogger logger, int port);

    [LoggerMessage(405, LogLevel.Information, "no IPv6 UDP socket ({Reason}); the node's UDP side is IPv4 only")]
    public static partial void NoIPv6Udp(ILogger logger, string reason);
}
