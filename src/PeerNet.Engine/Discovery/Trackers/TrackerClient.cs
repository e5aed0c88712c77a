using System.Net;
using System.Net.Sockets;
using PeerNet.Tracker;
using PeerNet.Transport;

namespace PeerNet.Discovery.Trackers;

/// <summary>
/// A session's tracker side: one <see cref="HttpClient"/> for every HTTP(S) tracker (a few redirects followed, no
/// cookies, no proxy surprises), and a factory for tracker URLs.
/// </summary>
internal sealed class TrackerClient : IDisposable
{
    private readonly Lazy<HttpClient> _http;
    private readonly IReadOnlyList<DatagramDemux> _datagrams;

    /// <param name="options">Timing and limits.</param>
    /// <param name="time">The clock of every wait.</param>
    /// <param name="datagrams">The node's UDP sockets, one per family: a UDP tracker of that family is asked from it (so it sees the node's port); none, and each UDP tracker has a socket of its own.</param>
    public TrackerClient(TrackerClientOptions options, TimeProvider time, IReadOnlyList<DatagramDemux>? datagrams = null)
    {
        Options = options;
        Time = time;
        _datagrams = datagrams ?? [];
        _http = new Lazy<HttpClient>(() => CreateHttpClient(options));
    }

    public TrackerClientOptions Options { get; }

    /// <summary>Where every announcer of this client reports a tracker's BEP 24 <c>external ip</c> (tracker URL, address).</summary>
    public Action<string, IPAddress>? ExternalAddressReported { get; set; }

    public TimeProvider Time { get; }

    /// <summary>A tracker for <paramref name="url"/>, or null for a scheme this client does not speak (wss, an invalid URL).</summary>
    public ITracker? Create(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri))
        {
            return null;
        }

        return uri.Scheme switch
        {
            // libtorrent's ssrf_mitigation: a tracker on this host must look like one (its path ends in /announce), so a
            // torrent cannot aim our announces (a GET with its query) at some other local web service.
            "http" or "https" when IsLoopbackHost(uri) && !uri.AbsolutePath.EndsWith("/announce", StringComparison.Ordinal) => null,
            "http" or "https" => new HttpTracker(url, _http.Value, Options, Time),
            "udp" when uri.Port > 0 => new UdpTracker(url, Options, Time, _datagrams),
            _ => null,
        };
    }

    private static bool IsLoopbackHost(Uri uri)
        => uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out IPAddress? address) && NetworkScopes.Of(address) == NetworkScope.Loopback);

    /// <summary>
    /// Starts announcing to <paramref name="tiers"/> (BEP 12 tiers of URLs, shuffled with <paramref name="random"/>),
    /// or returns null when none of them is a tracker this client speaks.
    /// </summary>
    public TrackerAnnouncer? StartAnnouncer(IReadOnlyList<IReadOnlyList<string>> tiers, Random random, Func<TrackerEvent, AnnounceRequest> request, Action<IReadOnlyList<IPEndPoint>> onPeers, Action<string, string>? onFailure = null)
    {
        var trackers = new TrackerTiers(tiers, Create, random) { Failed = onFailure };
        if (trackers.Count == 0)
        {
            trackers.Dispose();
            return null;
        }

        var announcer = new TrackerAnnouncer(trackers, Options, Time, request, onPeers) { ExternalAddressReported = ExternalAddressReported };
        announcer.Start();
        return announcer;
    }

    public void Dispose()
    {
        if (_http.IsValueCreated)
        {
            _http.Value.Dispose();
        }
    }

    private static HttpClient CreateHttpClient(TrackerClientOptions options)
    {
#pragma warning disable CA2000 // The HttpClient owns the handler (disposeHandler: true).
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // HttpTracker follows redirects itself, checking each hop's scope
            ConnectCallback = ConnectWithinScopeAsync,
            UseCookies = false,
            ConnectTimeout = options.HttpTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
#pragma warning restore CA2000
        var http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("PeerNet/0.1");
        return http;
    }

    /// <summary>
    /// Connects to the first of the host's addresses whose scope is at least the request's <see cref="HttpTracker.ScopeFloor"/>,
    /// so what a name resolves to when the connection is made (DNS rebinding) cannot lead a tracker's request into a
    /// network narrower than the tracker's own.
    /// </summary>
    private static async ValueTask<Stream> ConnectWithinScopeAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        NetworkScope floor = context.InitialRequestMessage.Options.TryGetValue(HttpTracker.ScopeFloor, out NetworkScope value) ? value : NetworkScope.Global;
        string host = context.DnsEndPoint.Host;
        IPAddress[] addresses = IPAddress.TryParse(host, out IPAddress? literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        IPAddress address = addresses.FirstOrDefault(a => NetworkScopes.Of(a) is var scope && scope != NetworkScope.Unroutable && scope >= floor)
            ?? throw new HttpRequestException($"refused to connect to {host}: none of its addresses is a {floor} address or wider");
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
