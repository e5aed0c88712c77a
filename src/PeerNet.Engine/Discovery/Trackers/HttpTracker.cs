using System.Buffers;
using System.Globalization;
using PeerNet.Tracker;

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

    private async Task<byte[]> GetAsync(string url, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.HttpTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using HttpResponseMessage response = await _http.GetAsync(new Uri(url), HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new TrackerException(string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}"));
            }

            int max = _options.Limits.MaxResponseBytes;
            if (response.Content.Headers.ContentLength > max)
            {
                throw new TrackerException($"response of {response.Content.Headers.ContentLength} bytes is over the {max}-byte limit");
            }

            Stream stream = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                return await ReadBoundedAsync(stream, max, linked.Token).ConfigureAwait(false);
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
