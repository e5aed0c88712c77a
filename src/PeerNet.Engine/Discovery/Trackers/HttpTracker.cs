using System.Buffers;
using System.Globalization;
using System.Net;
using PeerNet.Tracker;
using PeerNet.Transport;

namespace PeerNet.Discovery.Trackers;

/// <summary>
/// An HTTP(S) tracker (BEP 3, 23, 48) over a shared <see cref="HttpClient"/>: each request has its own timeout, and
/// the body is read up to <see cref="TrackerLimits.MaxResponseBytes"/> and no further.
/// </summary>
internal sealed class HttpTracker : ITracker
{
    private readonly HttpClient _http;
    private readonly TrackerClientOptions _options;
    private readonly TimeProvider _time;
    private readonly string? _scrapeUrl;

    public HttpTracker(string url, HttpClient http, TrackerClientOptions options, TimeProvider time)
    {
        Url = url;
        _http = http;
        _options = options;
        _time = time;
        _scrapeUrl = HttpTrackerRequest.TryGetScrapeUrl(url, out string? scrape) ? scrape : null;
    }

    public string Url { get; }

    /// <inheritdoc />
    public NetworkScope Scope { get; private set; } = NetworkScope.Global;

    /// <summary>
    /// The request option that tells the session's HTTP client how local a tracker's connection may be: the scope of
    /// the announce URL's host. A connection (a redirect's included) to an address narrower than that is refused, so a
    /// tracker on the internet cannot redirect us, or resolve, to our loopback or private network (libtorrent's
    /// <c>ssrf_mitigation</c> refuses the same redirects).
    /// </summary>
    internal static readonly HttpRequestOptionsKey<NetworkScope> ScopeFloor = new("PeerNet.Tracker.ScopeFloor");

    public async Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken)
    {
        byte[] body = await GetAsync(HttpTrackerRequest.BuildAnnounceUrl(Url, request), cancellationToken).ConfigureAwait(false);
        if (!HttpTrackerResponse.TryParseAnnounce(new ReadOnlySequence<byte>(body), out AnnounceResponse? response, out TrackerError error, _options.Limits))
        {
            throw new TrackerException($"announce response: {error.Describe()}");
        }

        return response.FailureReason is { } reason
            ? throw new TrackerException($"tracker refused: {reason}") { IsRefusal = true }
            : response;
    }

    public async Task<IReadOnlyDictionary<Sha1Hash, ScrapeStats>> ScrapeAsync(IReadOnlyList<Sha1Hash> infoHashes, CancellationToken cancellationToken)
    {
        if (_scrapeUrl is null)
        {
            throw new TrackerException("the tracker does not support scrape (no 'announce' after the URL's last '/', BEP 48)");
        }

        byte[] body = await GetAsync(HttpTrackerRequest.BuildScrapeUrl(_scrapeUrl, infoHashes), cancellationToken).ConfigureAwait(false);
        if (!HttpTrackerResponse.TryParseScrape(new ReadOnlySequence<byte>(body), out ScrapeResponse? response, out TrackerError error, _options.Limits))
        {
            throw new TrackerException($"scrape response: {error.Describe()}");
        }

        return response.FailureReason is { } reason
            ? throw new TrackerException($"tracker refused: {reason}") { IsRefusal = true }
            : response.Files;
    }

    public void Dispose()
    {
        // The HttpClient is the session's.
    }

    /// <summary>The scope of the announce URL's host (an address, or what its name resolves to now).</summary>
    private static async Task<NetworkScope> ResolveScopeAsync(Uri uri, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(uri.DnsSafeHost, out IPAddress? literal))
        {
            return NetworkScopes.Of(literal);
        }

        try
        {
            return NetworkScopes.OfHost(await Dns.GetHostAddressesAsync(uri.DnsSafeHost, cancellationToken).ConfigureAwait(false));
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new TrackerException($"cannot resolve {uri.DnsSafeHost}: {e.SocketErrorCode}", e);
        }
    }

    /// <summary>
    /// GETs <paramref name="url"/>, following up to <see cref="TrackerClientOptions.MaxHttpRedirects"/> redirects by hand:
    /// each hop must stay in the announce URL's scope or wider (see <see cref="ScopeFloor"/>), which the handler's own
    /// redirects could not be made to check.
    /// </summary>
    private async Task<byte[]> GetAsync(string url, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.HttpTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            var uri = new Uri(url);
            Scope = await ResolveScopeAsync(uri, linked.Token).ConfigureAwait(false);
            for (int hop = 0; ; hop++)
            {
                using var message = new HttpRequestMessage(HttpMethod.Get, uri);
                message.Options.Set(ScopeFloor, Scope);
                using HttpResponseMessage response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
                if (IsRedirect(response) && hop < _options.MaxHttpRedirects && response.Headers.Location is { } location)
                {
                    uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    NetworkScope next = uri.Scheme is "http" or "https" ? await ResolveScopeAsync(uri, linked.Token).ConfigureAwait(false) : NetworkScope.Unroutable;
                    if (next == NetworkScope.Unroutable || next < Scope)
                    {
                        throw new TrackerException($"refused a redirect to {uri.Host}: a {next} address, from a {Scope} tracker");
                    }

                    continue;
                }

                return await ReadBodyAsync(response, linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TrackerException($"no response within {_options.HttpTimeout.TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or UriFormatException)
        {
            throw new TrackerException(e.Message, e);
        }
    }

    private static bool IsRedirect(HttpResponseMessage response) => (int)response.StatusCode is 301 or 302 or 303 or 307 or 308;

    private async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new TrackerException(string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}"));
        }

        int max = _options.Limits.MaxResponseBytes;
        if (response.Content.Headers.ContentLength > max)
        {
            throw new TrackerException($"response of {response.Content.Headers.ContentLength} bytes is over the {max}-byte limit");
        }

        Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            return await ReadBoundedAsync(stream, max, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the whole body, refusing it as soon as it passes <paramref name="max"/> bytes (a missing or lying Content-Length).</summary>
    private static async Task<byte[]> ReadBoundedAsync(Stream stream, int max, CancellationToken cancellationToken)
    {
        int cap = (int)Math.Min(max + 1L, Array.MaxLength);
        byte[] buffer = new byte[Math.Min(cap, 16 * 1024)];
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, cap));
            }

            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer[..length];
            }

            length += read;
            if (length > max)
            {
                throw new TrackerException($"response is over the {max}-byte limit");
            }
        }
    }
}
