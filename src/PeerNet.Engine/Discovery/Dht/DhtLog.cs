using System.Net;
using Microsoft.Extensions.Logging;

namespace PeerNet.Discovery.Dht;

/// <summary>The DHT's log messages (EventIds 200–219): start, bootstrap, and what goes wrong out of sight.</summary>
internal static partial class DhtLog
{
    [LoggerMessage(200, LogLevel.Information, "DHT node {NodeId} on {EndPoint} ({Saved} saved nodes)")]
    public static partial void Started(ILogger logger, string nodeId, IPEndPoint endPoint, int saved);

    [LoggerMessage(201, LogLevel.Information, "DHT bootstrapped: {Nodes} nodes in the routing table")]
    public static partial void Bootstrapped(ILogger logger, int nodes);

    [LoggerMessage(202, LogLevel.Warning, "DHT: no node answered the bootstrap ({Seeds} asked); retrying at each maintenance round")]
    public static partial void NobodyAnswered(ILogger logger, int seeds);

    [LoggerMessage(203, LogLevel.Debug, "DHT: bootstrap router {Host} does not resolve: {Reason}")]
    public static partial void RouterUnresolved(ILogger logger, string host, string reason);

    [LoggerMessage(204, LogLevel.Warning, "DHT: could not save its state to {Path}: {Reason}")]
    public static partial void SaveFailed(ILogger logger, string path, string reason);
}
