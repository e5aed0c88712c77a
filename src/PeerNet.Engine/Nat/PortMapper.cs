using System.Net;
using Microsoft.Extensions.Logging;

namespace PeerNet.Nat;

/// <summary>
/// Keeps the node's port (TCP and UDP, one number) mapped on the home router: PCP (or NAT-PMP, when the gateway speaks
/// only that) and UPnP side by side, as libtorrent does, each mapping when it can and renewing at half its lease; a
/// failure is retried after 1 minute, then 2, up to 30. <see cref="Status"/> says which protocol holds the mapping (PCP
/// or NAT-PMP before UPnP when both do), the external address
/// and ports, and the last problem. Stopping removes every mapping made, in at most <see cref="RemoveTimeout"/>.
/// </summary>
internal sealed class PortMapper : IAsyncDisposable
{
    /// <summary>How long stopping waits for the router to remove the mappings.</summary>
    public static readonly TimeSpan RemoveTimeout = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan LastRetry = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan PermanentRecheck = TimeSpan.FromMinutes(30);

    private readonly IPortMappingClient[] _clients;
    private readonly MappedPort?[] _mapped;
    private readonly int _port;
    private readonly IPAddress? _gateway;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly Task[] _loops;
    private string? _lastError;

    internal PortMapper(int port, IPAddress? gateway, IReadOnlyList<IPortMappingClient> clients, TimeProvider time, ILogger logger, string? initialError = null, Action<PortMappingStatus>? changed = null)
    {
        Changed = changed;
        _port = port;
        _gateway = gateway;
        _clients = [.. clients];
        _mapped = new MappedPort?[_clients.Length];
        _time = time;
        _logger = logger;
        _lastError = initialError;
        _loops = [.. _clients.Select((c, i) => Task.Run(() => KeepMappedAsync(i)))];
    }

    /// <summary>Called (on a pool thread) whenever the status changes: a mapping made, renewed, lost or refused.</summary>
    private Action<PortMappingStatus>? Changed { get; }

    /// <summary>
    /// A mapper for the node's <paramref name="port"/> as <paramref name="options"/> say, asking the default gateway (or
    /// the one the options name); with no gateway, UPnP still searches by multicast.
    /// </summary>
    public static PortMapper Start(int port, PortMappingOptions options, TimeProvider time, ILogger logger, Action<PortMappingStatus>? changed = null)
    {
        IPAddress? gateway = options.Gateway ?? Gateways.FindDefault();
        IPAddress? local = gateway is null ? null : Gateways.LocalAddressTowards(gateway);
        if (gateway is not null)
        {
            NatLog.Gateway(logger, gateway.ToString());
        }

        var clients = new List<IPortMappingClient>();
        string? error = null;
        if (options.Pcp || options.NatPmp)
        {
            if (gateway is null)
            {
                error = (options.Pcp ? "PCP" : "NAT-PMP") + ": no default gateway";
            }
            else
            {
                // PCP first on port 5351, as libtorrent 2: a gateway that answers in NAT-PMP's version is then asked by NAT-PMP.
                var endpoint = new IPEndPoint(gateway, PortMapping.Pcp.ServerPort);
                NatPmpClient? natPmp = options.NatPmp ? new NatPmpClient(endpoint, (uint)options.NatPmpLifetimeSeconds) : null;
                clients.Add(options.Pcp ? new PcpClient(endpoint, (uint)options.NatPmpLifetimeSeconds, natPmp) : natPmp!);
            }
        }

        if (options.Upnp)
        {
            var group = new IPEndPoint(IPAddress.Parse(PortMapping.Ssdp.MulticastAddress), PortMapping.Ssdp.Port);
            clients.Add(new UpnpClient(group, local, (uint)options.UpnpLeaseSeconds, logger));
        }

        return new PortMapper(port, gateway, clients, time, logger, error, changed);
    }

    /// <summary>The mapping now.</summary>
    public PortMappingStatus Status
    {
        get
        {
            lock (_gate)
            {
                int held = Array.FindIndex(_mapped, m => m is not null);
                MappedPort? mapped = held < 0 ? null : _mapped[held];
                return new PortMappingStatus
                {
                    Enabled = true,
                    Gateway = _gateway,
                    Protocol = held < 0 ? PortMappingProtocol.None : _clients[held].Protocol,
                    ExternalAddress = mapped?.ExternalAddress ?? _mapped.FirstOrDefault(m => m?.ExternalAddress is not null)?.ExternalAddress,
                    ExternalTcpPort = mapped?.TcpPort ?? 0,
                    ExternalUdpPort = mapped?.UdpPort ?? 0,
                    ExpiresAt = held >= 0 && _expiresAt.TryGetValue(held, out DateTimeOffset expires) ? expires : null,
                    LastError = _lastError,
                };
            }
        }
    }

    private readonly Dictionary<int, DateTimeOffset> _expiresAt = [];

    private async Task KeepMappedAsync(int index)
    {
        IPortMappingClient client = _clients[index];
        TimeSpan retry = FirstRetry;
        CancellationToken stopping = _stop.Token;
        while (!stopping.IsCancellationRequested)
        {
            MappedPort? mapped = null;
            string? error = null;
            try
            {
                mapped = await client.MapAsync(_port, stopping).ConfigureAwait(false);
            }
            catch (PortMappingException e)
            {
                error = e.Message;
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or System.Net.Http.HttpRequestException)
            {
                error = e.Message; // a client let a network failure through: the mapper keeps going and says why
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }

            string name = client.Protocol.Name(); // after the attempt: PCP's client may have fallen back to NAT-PMP
            TimeSpan next = mapped is null ? retry : mapped.Lifetime is { } life ? life / 2 : PermanentRecheck;
            retry = mapped is not null ? FirstRetry : retry * 2 > LastRetry ? LastRetry : retry * 2;

            // The wait starts before the status shows the outcome: whoever sees the status sees the renewal scheduled.
            Task delay = Task.Delay(next, _time, stopping);
            if (mapped is not null)
            {
                string external = mapped.ExternalAddress?.ToString() ?? "?";
                uint seconds = (uint)(mapped.Lifetime?.TotalSeconds ?? 0);
                NatLog.Mapped(_logger, name, "TCP", _port, external, mapped.TcpPort, seconds);
                NatLog.Mapped(_logger, name, "UDP", _port, external, mapped.UdpPort, seconds);
            }
            else
            {
                NatLog.Failed(_logger, name, error!);
            }

            lock (_gate)
            {
                _mapped[index] = mapped;
                if (mapped?.Lifetime is { } lifetime)
                {
                    _expiresAt[index] = _time.GetUtcNow() + lifetime;
                }
                else
                {
                    _expiresAt.Remove(index);
                }

                if (error is not null)
                {
                    _lastError = DisplayText.Sanitize($"{name}: {error}", 500); // it may hold the router's words
                }
            }

            Changed?.Invoke(Status);
            try
            {
                await delay.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Stops renewing and removes every mapping made, giving the router at most <see cref="RemoveTimeout"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        using var timeout = new CancellationTokenSource(RemoveTimeout);
        await Task.WhenAll(_clients.Select(async (client, i) =>
        {
            bool held;
            lock (_gate)
            {
                held = _mapped[i] is not null;
                _mapped[i] = null;
            }

            if (!held)
            {
                return;
            }

            try
            {
                await client.UnmapAsync(_port, timeout.Token).ConfigureAwait(false);
                NatLog.Removed(_logger, client.Protocol.Name(), _port);
            }
            catch (Exception e) when (e is PortMappingException or OperationCanceledException or System.Net.Sockets.SocketException or IOException or System.Net.Http.HttpRequestException)
            {
                NatLog.RemoveFailed(_logger, client.Protocol.Name(), _port, e.Message);
            }
        })).ConfigureAwait(false);
        foreach (IPortMappingClient client in _clients)
        {
            client.Dispose();
        }

        _stop.Dispose();
    }
}
