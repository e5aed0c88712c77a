using System.Net;
using System.Net.Sockets;
using PeerNet.PortMapping;

namespace PeerNet.Nat;

/// <summary>
/// Maps the node's port by PCP (RFC 6887), as libtorrent 2 does before NAT-PMP: a MAP request for UDP, then for TCP, to
/// the gateway's port 5351, each with a nonce of its own kept for renewal and deletion. A server that answers
/// "unsupported version" with version 0 (or 1) speaks only NAT-PMP: when <paramref name="natPmpFallback"/> is given,
/// this client hands over to it for good and <see cref="Protocol"/> says NAT-PMP from then on. Retransmission follows
/// section 8.1.1 (3 s, doubling, ±10 %) but gives up after <paramref name="attempts"/> sends, as the NAT-PMP client
/// does: a gateway that has not answered by then is taken to have no PCP. Each answer's epoch is checked (section 8.5):
/// a server that lost its state gets the node's own port asked for again.
/// </summary>
internal sealed class PcpClient(IPEndPoint server, uint lifetimeSeconds, NatPmpClient? natPmpFallback, TimeSpan initialRetransmit, int attempts) : IPortMappingClient
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly PcpNonce _udpNonce = PcpNonce.NewRandom();
    private readonly PcpNonce _tcpNonce = PcpNonce.NewRandom();
    private (int Tcp, int Udp) _granted; // the external ports the gateway gave, suggested again on renewal
    private uint? _epoch;
    private long _epochAt; // Environment.TickCount64 of the last answer
    private volatile bool _natPmp;

    public PcpClient(IPEndPoint server, uint lifetimeSeconds, NatPmpClient? natPmpFallback)
        : this(server, lifetimeSeconds, natPmpFallback, Pcp.InitialRetransmit, 3)
    {
    }

    /// <summary>PCP, or NAT-PMP once the gateway said it speaks only that.</summary>
    public PortMappingProtocol Protocol => _natPmp ? PortMappingProtocol.NatPmp : PortMappingProtocol.Pcp;

    /// <summary>How many times an answer's epoch showed the server had lost its mappings (for tests and logs).</summary>
    public int ServerResets { get; private set; }

    public async Task<MappedPort> MapAsync(int port, CancellationToken cancellationToken)
    {
        if (!_natPmp)
        {
            try
            {
                (PcpMapping udp, uint udpLife) = await MapOneAsync(Pcp.Udp, _udpNonce, (ushort)port, (ushort)(_granted.Udp != 0 ? _granted.Udp : port), lifetimeSeconds, cancellationToken).ConfigureAwait(false);
                (PcpMapping tcp, uint tcpLife) = await MapOneAsync(Pcp.Tcp, _tcpNonce, (ushort)port, (ushort)(_granted.Tcp != 0 ? _granted.Tcp : port), lifetimeSeconds, cancellationToken).ConfigureAwait(false);
                if (tcp.ExternalPort == 0 || udp.ExternalPort == 0)
                {
                    throw new PortMappingException($"the gateway {server.Address} granted no external port");
                }

                _granted = (tcp.ExternalPort, udp.ExternalPort);
                IPAddress? external = IsUnspecified(tcp.ExternalAddress) ? null : tcp.ExternalAddress;
                return new MappedPort(external, tcp.ExternalPort, udp.ExternalPort, TimeSpan.FromSeconds(Math.Max(Math.Min(tcpLife, udpLife), 1)));
            }
            catch (NatPmpOnlyException) when (natPmpFallback is not null)
            {
                _natPmp = true; // the server told us: no use asking it by PCP again
            }
        }

        return await natPmpFallback!.MapAsync(port, cancellationToken).ConfigureAwait(false);
    }

    public async Task UnmapAsync(int port, CancellationToken cancellationToken)
    {
        if (_natPmp)
        {
            await natPmpFallback!.UnmapAsync(port, cancellationToken).ConfigureAwait(false);
            return;
        }

        // Section 15: lifetime 0 with the mapping's nonce, protocol and internal port deletes it.
        await MapOneAsync(Pcp.Udp, _udpNonce, (ushort)port, 0, 0, cancellationToken).ConfigureAwait(false);
        await MapOneAsync(Pcp.Tcp, _tcpNonce, (ushort)port, 0, 0, cancellationToken).ConfigureAwait(false);
        _granted = default;
    }

    private static bool IsUnspecified(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    private async Task<(PcpMapping Mapping, uint Lifetime)> MapOneAsync(byte protocol, PcpNonce nonce, ushort internalPort, ushort suggestedPort, uint lifetime, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(server); // only the gateway's answers come in, and the local address is the one it sees
            IPAddress local = ((IPEndPoint)socket.LocalEndPoint!).Address;
            byte[] request = new byte[Pcp.MapRequestLength];
            int length = Pcp.WriteMapRequest(request, nonce, protocol, internalPort, suggestedPort, null, lifetime, local);
            byte[] buffer = new byte[Pcp.MaxMessageLength + 1];
            TimeSpan? wait = null;
            for (int attempt = 0; attempt < attempts; attempt++)
            {
                wait = Pcp.NextRetransmit(wait, initialRetransmit, Pcp.MaxRetransmit, (Random.Shared.NextDouble() * 0.2) - 0.1);
                await socket.SendAsync(request.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(wait.Value);
                try
                {
                    while (true)
                    {
                        int read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                        if (!Pcp.TryParseMapResponse(buffer.AsSpan(0, read), nonce, protocol, internalPort, out PcpResponse? response, out _)
                            || response.Opcode != PcpOpcode.Map)
                        {
                            continue; // not an answer to this request (an ANNOUNCE, another mapping's): wait on
                        }

                        if (response.Result == PcpResult.UnsupportedVersion && response.Version < Pcp.Version)
                        {
                            throw new NatPmpOnlyException($"the gateway {server.Address} speaks NAT-PMP, not PCP (it answered version {response.Version})");
                        }

                        if (response.Result != PcpResult.Success)
                        {
                            throw new PortMappingException($"the gateway {server.Address} refused: {response.Result.Describe()}");
                        }

                        if (response.Map is not { } mapping)
                        {
                            continue; // a success needs its body (the parser ensures it; kept for the compiler)
                        }

                        CheckEpoch(response.Epoch);
                        return (mapping, response.Lifetime);
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // no answer in time: send again, waiting about twice as long
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
                {
                    throw new PortMappingException($"the gateway {server.Address} has no PCP or NAT-PMP (port {server.Port} closed)", e);
                }
            }

            throw new PortMappingException($"no PCP answer from the gateway {server.Address}");
        }
        catch (SocketException e)
        {
            throw new PortMappingException($"PCP to {server.Address}: {e.SocketErrorCode}", e);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>Section 8.5: an epoch that does not follow from the last one means the server lost its mappings.</summary>
    private void CheckEpoch(uint epoch)
    {
        long now = Environment.TickCount64;
        if (_epoch is { } previous && !Pcp.EpochIsContinuous(previous, epoch, TimeSpan.FromMilliseconds(now - _epochAt)))
        {
            ServerResets++;
            _granted = default; // a rebooted gateway: ask for the node's own port again, not the one it gave before
        }

        (_epoch, _epochAt) = (epoch, now);
    }

    public void Dispose()
    {
        _oneAtATime.Dispose();
        natPmpFallback?.Dispose();
    }

    /// <summary>The gateway answered with NAT-PMP's version: PCP is not there, NAT-PMP is.</summary>
    private sealed class NatPmpOnlyException(string message) : PortMappingException(message);
}
