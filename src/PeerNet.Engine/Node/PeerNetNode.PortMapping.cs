using System.Net;
using Microsoft.Extensions.Logging;
using PeerNet.Nat;

namespace PeerNet;

public sealed partial class PeerNetNode
{
    private PortMapper? _portMapper;

    /// <summary>
    /// The node's port mapping on the home router (<see cref="PeerNetNodeOptions.PortMapping"/>): which protocol holds it,
    /// the external address the router reported and the external ports, and the last problem met.
    /// <see cref="PortMappingStatus.Enabled"/> is false when mapping is off or the node listens on a loopback address.
    /// The external address is not yet used by the node itself (announces, BEP 42 node ID, <c>yourip</c>): see
    /// docs/port-mapping.md.
    /// </summary>
    public PortMappingStatus PortMapping => _portMapper?.Status ?? PortMappingStatus.Off;

    /// <summary>Starts mapping the node's port when the options ask for it and the node is reachable from beyond this host.</summary>
    private void StartPortMapping(ILoggerFactory? loggerFactory, TimeProvider time)
    {
        if (!Options.PortMapping.Enabled || IPAddress.IsLoopback(Options.ListenAddress))
        {
            return;
        }

        ILogger logger = loggerFactory?.CreateLogger("PeerNet.PortMapping") ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _portMapper = PortMapper.Start(ListenPort, Options.PortMapping, time, logger, status => Publish(new PortMappingChanged(status)));
    }
}
