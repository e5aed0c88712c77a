using System.Net;

namespace PeerNet.Nat;

/// <summary>A mapping of the node's port made by one protocol: the external address and ports, and how long it lasts.</summary>
/// <param name="ExternalAddress">The external address the router reported, or null when it did not say.</param>
/// <param name="TcpPort">The external TCP port.</param>
/// <param name="UdpPort">The external UDP port.</param>
/// <param name="Lifetime">How long the mapping lasts unless renewed; null for a permanent one.</param>
internal sealed record MappedPort(IPAddress? ExternalAddress, int TcpPort, int UdpPort, TimeSpan? Lifetime);

/// <summary>A router's refusal, or no answer, in words for the status and the log.</summary>
internal class PortMappingException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>One way of asking the router for a mapping: PCP (falling back to NAT-PMP), NAT-PMP or UPnP.</summary>
internal interface IPortMappingClient : IDisposable
{
    /// <summary>Which protocol this is (PCP's client says NAT-PMP once it has fallen back to it).</summary>
    PortMappingProtocol Protocol { get; }

    /// <summary>Maps (or renews) TCP and UDP <paramref name="port"/>; throws <see cref="PortMappingException"/> with the reason.</summary>
    Task<MappedPort> MapAsync(int port, CancellationToken cancellationToken);

    /// <summary>Removes what <see cref="MapAsync"/> mapped; throws <see cref="PortMappingException"/> with the reason.</summary>
    Task UnmapAsync(int port, CancellationToken cancellationToken);
}
