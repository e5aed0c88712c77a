using System.Net;
using PeerNet.Tracker;

namespace PeerNet.Discovery.Trackers;

/// <summary>
/// A session's tracker side: one <see cref="HttpClient"/> for every HTTP(S) tracker (a few redirects followed, no
/// cookies, no proxy surprises), and a factory for tracker URLs.
/// </summary>
internal sealed class TrackerClient : IDisposable
{
    private readonly Lazy<HttpClient> _http;

    public TrackerClient(TrackerClientOptions options, TimeProvider time)
    {
        Options = options;
        Time = time;
        _http = new Lazy<HttpClient>(() => CreateHttpClient(options));
    }

    public TrackerClientOptions Options { get; }

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
            "http" or "https" => new HttpTracker(url, _http.Value, Options, Time),
            "udp" when uri.Port > 0 => new UdpTracker(url, Options, Time),
            _ => null,
        };
    }

    /// <summary>
    /// Starts announcing to <paramref name="tiers"/> (BEP 12 tiers of URLs, shuffled with <paramref name="random"/>),
    /// or returns null when none of them is a tracker this client speaks.
    /// </summary>
    public TrackerAnnouncer? StartAnnouncer(IReadOnlyList<IReadOnlyList<string>> tiers, Random random, Func<TrackerEvent, AnnounceRequest> request, Action<IReadOnlyList<IPEndPoint>> onPeers)
    {
        var trackers = new TrackerTiers(tiers, Create, random);
        if (trackers.Count == 0)
        {
            trackers.Dispose();
            return null;
        }

        var announcer = new TrackerAnnouncer(trackers, Options, Time, request, onPeers);
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
            AllowAutoRedirect = options.MaxHttpRedirects > 0,
            MaxAutomaticRedirections = Math.Max(1, options.MaxHttpRedirects),
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
}
