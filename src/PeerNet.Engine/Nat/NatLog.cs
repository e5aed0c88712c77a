using Microsoft.Extensions.Logging;

namespace PeerNet.Nat;

/// <summary>The port mapper's log messages (EventIds 500–519).</summary>
internal static partial class NatLog
{
    [LoggerMessage(500, LogLevel.Information, "port mapping: {Protocol} mapped {Transport} port {InternalPort} to {ExternalAddress}:{ExternalPort} for {Lifetime} s")]
    public static partial void Mapped(ILogger logger, string protocol, string transport, int internalPort, string externalAddress, int externalPort, uint lifetime);

    [LoggerMessage(501, LogLevel.Information, "port mapping: {Protocol} failed: {Reason}")]
    public static partial void Failed(ILogger logger, string protocol, string reason);

    [LoggerMessage(502, LogLevel.Information, "port mapping: {Protocol} removed the mappings of port {Port}")]
    public static partial void Removed(ILogger logger, string protocol, int port);

    [LoggerMessage(503, LogLevel.Debug, "port mapping: gateway {Gateway}")]
    public static partial void Gateway(ILogger logger, string gateway);

    [LoggerMessage(504, LogLevel.Debug, "port mapping: UPnP device at {Location}, service {ServiceType} at {ControlUrl}")]
    public static partial void UpnpDevice(ILogger logger, string location, string serviceType, string controlUrl);

    [LoggerMessage(505, LogLevel.Debug, "port mapping: ignored an SSDP answer from {Source}: {Reason}")]
    public static partial void SsdpIgnored(ILogger logger, string source, string reason);

    [LoggerMessage(506, LogLevel.Information, "port mapping: {Protocol} could not remove the mappings of port {Port}: {Reason}")]
    public static partial void RemoveFailed(ILogger logger, string protocol, int port, string reason);
}
