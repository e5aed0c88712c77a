using System.Net;
using System.Net.Sockets;
using PeerNet.PortMapping;

namespace PeerNet.Nat;

/// <summary>
/// Maps the node's port by NAT-PMP (RFC 6886): asks the gateway's port 5351 for its external address, then for a UDP and
/// a TCP mapping, each request sent again after 250 ms, 500 ms, 1 s (section 3.1's schedule, cut short: a gateway that
/// has not answered in under 4 s is taken to have no NAT-PMP). One request at a time, from a socket of its own.
/// </summary>
internal sealed class NatPmpClient(IPEndPoint server, uint lifetimeSeconds, TimeSpan firstRetransmit, int attempts) : IPortMappingClient
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private (int Tcp, int Udp) _granted; // the external ports the gateway gave, asked for again on renewal
    private uint? _epoch;
    private DateTimeOffset _epochAt;

    public NatPmpClient(IPEndPoint server, uint lifetimeSeconds)
        : this(server, lifetimeSeconds, TimeSpan.FromMilliseconds(250), 4)
    {
    }

    public PortMappingProtocol Protocol => PortMappingProtocol.NatPmp;

    public async Task<MappedPort> MapAsync(int port, CancellationToken cancellationToken)
    {
        NatPmpResponse address = await RequestAsync(NatPmpOpcode.ExternalAddress, 0, 0, 0, cancellationToken).ConfigureAwait(false);
        NatPmpResponse udp = await RequestAsync(NatPmpOpcode.MapUdp, (ushort)port, (ushort)(_granted.Udp != 0 ? _granted.Udp : port), lifetimeSeconds, cancellationToken).ConfigureAwait(false);
        NatPmpResponse tcp = await RequestAsync(NatPmpOpcode.MapTcp, (ushort)port, (ushort)(_granted.Tcp != 0 ? _granted.Tcp : port), lifetimeSeconds, cancellationToken).ConfigureAwait(false);
        if (tcp.ExternalPort == 0 || udp.ExternalPort == 0)
        {
            throw new PortMappingException($"the gateway {server.Address} granted no external port");
        }

        _granted = (tcp.ExternalPort, udp.ExternalPort);
        uint lifetime = Math.Min(tcp.Lifetime, udp.Lifetime);
        return new MappedPort(address.ExternalAddress, tcp.ExternalPort, udp.ExternalPort, TimeSpan.FromSeconds(Math.Max(lifetime, 1)));
    }

    public async Task UnmapAsync(int port, CancellationToken cancellationToken)
    {
        // Section 3.4: lifetime 0 and suggested external port 0 remove the mapping of this internal port.
        await RequestAsync(NatPmpOpcode.MapUdp, (ushort)port, 0, 0, cancellationToken).ConfigureAwait(false);
        await RequestAsync(NatPmpOpcode.MapTcp, (ushort)port, 0, 0, cancellationToken).ConfigureAwait(false);
        _granted = default;
    }

    /// <summary>
    /// True when the gateway's epoch went backwards since the last answer (by more than the seconds elapsed allow, with
    /// section 3.6's slack): it rebooted or lost its table, and the mappings must be made again.
    /// </summary>
    private bool LostMappings(uint epoch, DateTimeOffset now)
    {
        if (_epoch is not { } previous)
        {
            return false;
        }

        double elapsed = (now - _epochAt).TotalSeconds;
        return epoch + 2 < previous + (elapsed * 7 / 8);
    }

    private async Task<NatPmpResponse> RequestAsync(NatPmpOpcode opcode, ushort internalPort, ushort externalPort, uint lifetime, CancellationToken cancellationToken)
    {
        byte[] request = new byte[NatPmp.MappingRequestLength];
        int length = opcode == NatPmpOpcode.ExternalAddress
            ? NatPmp.WriteExternalAddressRequest(request)
            : NatPmp.WriteMappingRequest(request, opcode, internalPort, externalPort, lifetime);
        await _oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            socket.Connect(server); // only the gateway's answers come in
            byte[] buffer = new byte[NatPmp.MaxResponseLength + 1];
            TimeSpan wait = firstRetransmit;
            for (int attempt = 0; attempt < attempts; attempt++, wait *= 2)
            {
                await socket.SendAsync(request.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(wait);
                try
                {
                    while (true)
                    {
                        int read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                        if (!NatPmp.TryParseResponse(buffer.AsSpan(0, read), out NatPmpResponse? response, out _) || response.Opcode != opcode)
                        {
                            continue; // not an answer to this request: wait on
                        }

                        if (response.Result != NatPmpResult.Success)
                        {
                            throw new PortMappingException($"the gateway {server.Address} refused: {response.Result.Describe()}");
                        }

                        if (opcode != NatPmpOpcode.ExternalAddress && response.InternalPort != internalPort)
                        {
                            continue;
                        }

                        DateTimeOffset now = DateTimeOffset.UtcNow;
                        if (LostMappings(response.Epoch, now))
                        {
                            _granted = default; // a rebooted gateway: ask for the port itself again
                        }

                        (_epoch, _epochAt) = (response.Epoch, now);
                        return response;
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // no answer in time: send again, waiting twice as long
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
                {
                    throw new PortMappingException($"the gateway {server.Address} has no NAT-PMP (port {server.Port} closed)", e);
                }
            }

            throw new PortMappingException($"no NAT-PMP answer from the gateway {server.Address}");
        }
        catch (SocketException e)
        {
            throw new PortMappingException($"NAT-PMP to {server.Address}: {e.SocketErrorCode}", e);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public void Dispose() => _oneAtATime.Dispose();
}
