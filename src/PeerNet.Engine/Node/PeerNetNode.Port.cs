using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PeerNet.Transport;

namespace PeerNet;

public sealed partial class PeerNetNode
{
    /// <summary>Tries at another port when <see cref="PeerNetNodeOptions.ListenPort"/> is 0 and the UDP side of the chosen one is taken.</summary>
    private const int PortAttempts = 5;

    /// <summary>
    /// The node's one port: a TCP listener, then on the same number one UDP socket per address family the listen address
    /// covers (both for a wildcard; IPv6's only where the host has IPv6), each read by a <see cref="DatagramDemux"/>.
    /// Port 0 takes the port TCP is given; if UDP's is taken there, another one, a few times.
    /// </summary>
    private static async Task<(IPeerListener Listener, DatagramDemux[] Datagrams)> BindPortAsync(
        PeerNetNodeOptions options, IPeerTransport transport, Func<IPEndPoint, IDatagramSocket>? bindUdp, Action<DatagramDropReason> onDropped, ILogger logger, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            IPeerListener listener = await transport.ListenAsync(new IPEndPoint(options.ListenAddress, options.ListenPort), cancellationToken).ConfigureAwait(false);
            if (bindUdp is null)
            {
                return (listener, []);
            }

            try
            {
                return (listener, await BindDatagramsAsync(options.ListenAddress, listener.LocalEndPoint.Port, bindUdp, onDropped, logger).ConfigureAwait(false));
            }
            catch (SocketException e) when (options.ListenPort == 0 && attempt < PortAttempts && e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                NodeLog.UdpPortTaken(logger, listener.LocalEndPoint.Port);
                await listener.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await listener.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    private static async Task<DatagramDemux[]> BindDatagramsAsync(IPAddress address, int port, Func<IPEndPoint, IDatagramSocket> bindUdp, Action<DatagramDropReason> onDropped, ILogger logger)
    {
        bool wildcard = address.Equals(IPAddress.IPv6Any);
        IPAddress first = wildcard ? IPAddress.Any : address;
        IDatagramSocket socket = bindUdp(new IPEndPoint(first, port));
        var demuxes = new List<DatagramDemux> { new(socket, new DatagramDemuxOptions(), onDropped) };
        if (wildcard)
        {
            try
            {
                demuxes.Add(new DatagramDemux(bindUdp(new IPEndPoint(IPAddress.IPv6Any, port)), new DatagramDemuxOptions(), onDropped));
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable or SocketError.ProtocolNotSupported)
            {
                NodeLog.NoIPv6Udp(logger, e.SocketErrorCode.ToString()); // a host without IPv6: its UDP side is IPv4 only
            }
            catch
            {
                await DisposeAsync(demuxes).ConfigureAwait(false);
                throw;
            }
        }

        return [.. demuxes];
    }

    /// <summary>Closes the node's UDP sockets (after everything that sends on them stopped).</summary>
    private static async Task DisposeAsync(IEnumerable<DatagramDemux> demuxes)
    {
        foreach (DatagramDemux demux in demuxes)
        {
            await demux.DisposeAsync().ConfigureAwait(false);
        }
    }
}
