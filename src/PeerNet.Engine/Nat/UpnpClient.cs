using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using PeerNet.PortMapping;

namespace PeerNet.Nat;

/// <summary>
/// Maps the node's port through a UPnP Internet gateway device: finds it by SSDP (an <c>M-SEARCH</c> to the multicast
/// group, answers read for 3 s, at most <see cref="MaxAnswers"/> of them, only those whose <c>LOCATION</c> is on the
/// answering host), reads its description for the WANIPConnection or WANPPPConnection control URL, then asks
/// <c>GetExternalIPAddress</c> and <c>AddPortMapping</c> for TCP and UDP. Every HTTP exchange is bounded in time and
/// size; nothing is fetched from a host other than the device that answered.
/// </summary>
internal sealed class UpnpClient : IPortMappingClient
{
    /// <summary>Most SSDP answers read per search: 32 (a flood past them is dropped unread).</summary>
    public const int MaxAnswers = 32;

    /// <summary>Most devices whose description is fetched per search: 4.</summary>
    public const int MaxDevices = 4;

    private static readonly TimeSpan HttpTimeout = TimeSpan.FromSeconds(5);
    private readonly IPEndPoint _searchTarget;
    private readonly IPAddress? _localAddress;
    private readonly uint _leaseSeconds;
    private readonly TimeSpan _searchTime;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private UpnpService? _service;
    private string? _internalClient;
    private (int Tcp, int Udp) _mapped;
    private bool _permanent;

    /// <summary>
    /// A client searching at <paramref name="searchTarget"/> (the SSDP group, or one address: a unicast search), from
    /// <paramref name="localAddress"/> when given (also the internal client the mappings point at).
    /// </summary>
    public UpnpClient(IPEndPoint searchTarget, IPAddress? localAddress, uint leaseSeconds, ILogger logger, TimeSpan? searchTime = null)
    {
        _searchTarget = searchTarget;
        _localAddress = localAddress;
        _leaseSeconds = leaseSeconds;
        _searchTime = searchTime ?? TimeSpan.FromSeconds(3);
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false, // the device is on the local network
            AllowAutoRedirect = false,
            MaxResponseHeadersLength = 16, // KiB
            ConnectTimeout = HttpTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            Timeout = HttpTimeout,
            MaxResponseContentBufferSize = UpnpDescription.MaxLength,
        };
    }

    public PortMappingProtocol Protocol => PortMappingProtocol.Upnp;

    /// <summary>The service mappings are asked of, once found.</summary>
    public UpnpService? Service => _service;

    public async Task<MappedPort> MapAsync(int port, CancellationToken cancellationToken)
    {
        UpnpService service = _service ?? await FindServiceAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            UpnpSoapResult address = await CallAsync(service, "GetExternalIPAddress", UpnpSoap.GetExternalIPAddress(service.ServiceType), cancellationToken).ConfigureAwait(false);
            IPAddress? external = address.Succeeded && address.Arguments.TryGetValue("NewExternalIPAddress", out string? text) && IPAddress.TryParse(text, out IPAddress? parsed)
                && !parsed.Equals(IPAddress.Any) ? parsed : null;
            int tcp = await AddAsync(service, "TCP", port, _mapped.Tcp, cancellationToken).ConfigureAwait(false);
            int udp = await AddAsync(service, "UDP", port, _mapped.Udp, cancellationToken).ConfigureAwait(false);
            _mapped = (tcp, udp);
            return new MappedPort(external, tcp, udp, _permanent ? null : TimeSpan.FromSeconds(_leaseSeconds));
        }
        catch (PortMappingException) when (!cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            _service = null; // the device went away or changed: search again next time
            throw new PortMappingException($"UPnP device at {service.ControlUrl.Authority} did not answer: {e.Message}", e);
        }
    }

    public async Task UnmapAsync(int port, CancellationToken cancellationToken)
    {
        if (_service is not { } service || _mapped == default)
        {
            return;
        }

        (int tcp, int udp) = _mapped;
        _mapped = default;
        string? failure = null;
        foreach ((string protocol, int external) in new[] { ("TCP", tcp), ("UDP", udp) })
        {
            try
            {
                UpnpSoapResult result = await CallAsync(service, "DeletePortMapping", UpnpSoap.DeletePortMapping(service.ServiceType, external, protocol), cancellationToken).ConfigureAwait(false);
                if (!result.Succeeded && result.ErrorCode != UpnpErrorCodes.NoSuchEntryInArray)
                {
                    failure = UpnpErrorCodes.Describe(result.ErrorCode!.Value, result.ErrorDescription);
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
            {
                failure = e.Message;
            }
        }

        if (failure is not null)
        {
            throw new PortMappingException(failure);
        }
    }

    /// <summary>
    /// AddPortMapping for one protocol: the same external port as before, or the node's own; a permanent lease when the
    /// device only takes those (725); another external port, at most 3 times, when this one is another device's (718).
    /// </summary>
    private async Task<int> AddAsync(UpnpService service, string protocol, int port, int previous, CancellationToken cancellationToken)
    {
        int external = previous != 0 ? previous : port;
        for (int conflicts = 0; ;)
        {
            uint lease = _permanent ? 0 : _leaseSeconds;
            string body = UpnpSoap.AddPortMapping(service.ServiceType, external, protocol, port, _internalClient!, "PeerNet", lease);
            UpnpSoapResult result = await CallAsync(service, "AddPortMapping", body, cancellationToken).ConfigureAwait(false);
            if (result.Succeeded)
            {
                return external;
            }

            switch (result.ErrorCode)
            {
                case UpnpErrorCodes.OnlyPermanentLeasesSupported when !_permanent:
                    _permanent = true;
                    continue;
                case UpnpErrorCodes.ConflictInMappingEntry when ++conflicts <= 3:
                    external = Random.Shared.Next(10_000, 60_000);
                    continue;
                default:
                    throw new PortMappingException($"AddPortMapping {protocol} {external} refused: {UpnpErrorCodes.Describe(result.ErrorCode!.Value, result.ErrorDescription)}");
            }
        }
    }

    private async Task<UpnpSoapResult> CallAsync(UpnpService service, string action, string body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, service.ControlUrl)
        {
            Content = new StringContent(body, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/xml; charset=\"utf-8\"");
        request.Headers.TryAddWithoutValidation("SOAPAction", UpnpSoap.SoapAction(service.ServiceType, action));
        using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.InternalServerError))
        {
            throw new PortMappingException($"{action}: the device answered HTTP {(int)response.StatusCode}");
        }

        byte[] document = await ReadCappedAsync(response, UpnpSoap.MaxResponseLength, cancellationToken).ConfigureAwait(false);
        if (!UpnpSoap.TryParseResponse(document, action, out UpnpSoapResult? result, out string? error))
        {
            throw new PortMappingException($"{action}: {error}");
        }

        return result;
    }

    /// <summary>The body, refused past <paramref name="limit"/> bytes (read no further than one byte past it).</summary>
    private static async Task<byte[]> ReadCappedAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > limit)
        {
            throw new PortMappingException($"the device's answer is longer than {limit} bytes");
        }

        Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable _ = stream.ConfigureAwait(false);
        byte[] buffer = new byte[limit + 1];
        int total = 0;
        while (total < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer[..total];
            }

            total += read;
        }

        throw new PortMappingException($"the device's answer is longer than {limit} bytes");
    }

    /// <summary>Searches for a gateway device and reads descriptions until one has a WAN connection service.</summary>
    private async Task<UpnpService> FindServiceAsync(CancellationToken cancellationToken)
    {
        List<Uri> locations = await SearchAsync(cancellationToken).ConfigureAwait(false);
        if (locations.Count == 0)
        {
            throw new PortMappingException("no UPnP gateway answered the SSDP search");
        }

        string? problem = null;
        foreach (Uri location in locations)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(HttpTimeout);
                using HttpResponseMessage response = await _http.GetAsync(location, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    problem = $"{location}: HTTP {(int)response.StatusCode}";
                    continue;
                }

                byte[] document = await ReadCappedAsync(response, UpnpDescription.MaxLength, timeout.Token).ConfigureAwait(false);
                if (!UpnpDescription.TryParse(document, location, out IReadOnlyList<UpnpService>? services, out string? error))
                {
                    problem = $"{location}: {error}";
                    continue;
                }

                _service = services[0];
                _internalClient = (_localAddress ?? Gateways.LocalAddressTowards(IPAddress.Parse(location.IdnHost)) ?? IPAddress.Loopback).ToString();
                NatLog.UpnpDevice(_logger, location.ToString(), _service.ServiceType, _service.ControlUrl.ToString());
                return _service;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or PortMappingException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                problem = $"{location}: {e.Message}";
            }
        }

        throw new PortMappingException("no usable UPnP gateway: " + problem);
    }

    /// <summary>The description URLs of the devices that answered an M-SEARCH, distinct, on their own hosts, at most <see cref="MaxDevices"/>.</summary>
    private async Task<List<Uri>> SearchAsync(CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(_localAddress ?? IPAddress.Any, 0));
        if (_localAddress is not null && IsMulticast(_searchTarget.Address))
        {
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, _localAddress.GetAddressBytes());
        }

        socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 2);
        byte[] search = Ssdp.CreateSearch(mx: Math.Clamp((int)_searchTime.TotalSeconds - 1, 1, 5));
        var locations = new List<Uri>();
        byte[] buffer = new byte[Ssdp.MaxResponseLength + 1];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_searchTime);
        try
        {
            // Inside the try: a host with no route to the multicast group (an IPv6-only network) fails here.
            await socket.SendToAsync(search, SocketFlags.None, _searchTarget, cancellationToken).ConfigureAwait(false);
            _ = ResendAsync(socket, search, deadline.Token); // UDP may lose the first
            for (int answers = 0; answers < MaxAnswers && locations.Count < MaxDevices; answers++)
            {
                SocketReceiveFromResult received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), deadline.Token).ConfigureAwait(false);
                var source = (IPEndPoint)received.RemoteEndPoint!;
                if (!Ssdp.TryParseResponse(buffer.AsSpan(0, received.ReceivedBytes), out SsdpResponse? response, out SsdpError error))
                {
                    NatLog.SsdpIgnored(_logger, source.ToString(), error.Describe());
                    continue;
                }

                // The description must be on the host that answered: an answer must not send the node to fetch from
                // any other address on the network.
                if (!IPAddress.TryParse(response.Location.IdnHost, out IPAddress? host) || !host.Equals(source.Address.IsIPv4MappedToIPv6 ? source.Address.MapToIPv4() : source.Address))
                {
                    NatLog.SsdpIgnored(_logger, source.ToString(), $"LOCATION {response.Location} is not on the answering host");
                    continue;
                }

                if (!locations.Contains(response.Location))
                {
                    locations.Add(response.Location);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // the search time is over
        }
        catch (SocketException) when (locations.Count > 0)
        {
            // an ICMP error after answers came: keep them
        }
        catch (SocketException e)
        {
            throw new PortMappingException($"SSDP search failed: {e.SocketErrorCode}", e);
        }

        return locations;
    }

    private async Task ResendAsync(Socket socket, byte[] search, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            await socket.SendToAsync(search, SocketFlags.None, _searchTarget, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // the search is over
        }
    }

    private static bool IsMulticast(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork && (address.GetAddressBytes()[0] & 0xF0) == 0xE0;

    public void Dispose() => _http.Dispose();

}
