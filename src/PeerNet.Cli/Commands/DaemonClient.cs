using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using PeerNet.Daemon.Hosting;

namespace PeerNet.Cli.Commands;

/// <summary>
/// A client of a running <c>peernet daemon</c>'s REST API (<c>/api/v1</c>), found through its state folder: the URL in
/// <c>api-endpoint</c>, the token in <c>api-token</c>. Every failure is an <see cref="InvalidOperationException"/> whose
/// message is the one line the CLI prints: the daemon not running (naming the state folder), a refused token, or the
/// daemon's own reason (its RFC 7807 problem: an unknown torrent, a corrupt .torrent).
/// </summary>
internal sealed class DaemonClient : IDisposable
{
    /// <summary>How long one request may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly string _where;

    private DaemonClient(Uri baseAddress, string token, string where)
    {
        _where = where;
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>The daemon's URL.</summary>
    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>The state folder or URL this client was pointed at, for messages.</summary>
    public string Where => _where;

    /// <summary>Finds the daemon: <paramref name="api"/> or the state folder's endpoint file, and the token.</summary>
    public static DaemonClient Create(string? stateFolder, string? api, string? tokenFile)
    {
        string state = Path.GetFullPath(stateFolder ?? DaemonFiles.DefaultStateFolder());
        Uri baseAddress;
        string where;
        if (api is not null)
        {
            if (IPEndPoint.TryParse(api, out IPEndPoint? endPoint) && endPoint.Port != 0)
            {
                api = $"http://{endPoint}"; // ADDRESS:PORT, as 'peernet daemon --api' takes it
            }

            if (!Uri.TryCreate(api, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException($"--api '{api}' is not a URL like http://127.0.0.1:8870 (or ADDRESS:PORT)");
            }

            baseAddress = uri;
            where = $"at {uri.GetLeftPart(UriPartial.Authority)}";
        }
        else
        {
            string endpointFile = DaemonFiles.EndpointFile(state);
            string? endpoint = File.Exists(endpointFile) ? File.ReadAllText(endpointFile).Trim() : null;
            if (string.IsNullOrEmpty(endpoint) || !Uri.TryCreate(endpoint, UriKind.Absolute, out Uri? uri))
            {
                throw new InvalidOperationException($"no daemon is running for the state folder {state} (it has no api-endpoint file): start one with 'peernet daemon --state {state}'");
            }

            baseAddress = Reachable(uri);
            where = $"for the state folder {state}";
        }

        string tokenPath = tokenFile ?? DaemonFiles.TokenFile(state);
        string token;
        try
        {
            token = File.ReadAllText(tokenPath).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot read the API token from {tokenPath}: {e.Message}", e);
        }

        return new DaemonClient(new Uri(baseAddress.GetLeftPart(UriPartial.Authority) + "/"), token, where);
    }

    /// <summary>A daemon bound to every address (0.0.0.0, [::]) is reached on loopback, which its Host allow-list accepts.</summary>
    private static Uri Reachable(Uri uri)
    {
        if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out IPAddress? address) && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)))
        {
            var builder = new UriBuilder(uri) { Host = address.Equals(IPAddress.Any) ? "127.0.0.1" : "[::1]" };
            return builder.Uri;
        }

        return uri;
    }

    public Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);

    public Task<JsonElement> PostAsync(string path, object? body, CancellationToken cancellationToken) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : JsonContent.Create(body, options: JsonSerializerOptions.Web) }, cancellationToken);

    public Task<JsonElement> DeleteAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, path), cancellationToken);

    /// <summary>
    /// The torrent <paramref name="id"/> names: a whole info-hash as it is, else the one torrent whose info-hash starts
    /// with it (as <c>peernet list</c> shows them, shortened).
    /// </summary>
    public async Task<string> ResolveAsync(string id, CancellationToken cancellationToken)
    {
        string wanted = id.Trim().ToLowerInvariant();
        if (wanted.Length is 40 or 64 && wanted.All(char.IsAsciiHexDigit))
        {
            return wanted;
        }

        JsonElement list = await GetAsync("api/v1/torrents", cancellationToken).ConfigureAwait(false);
        string[] matches = wanted.Length > 0 && wanted.All(char.IsAsciiHexDigit)
            ? [.. list.EnumerateArray().Select(t => t.GetProperty("id").GetString()!).Where(t => t.StartsWith(wanted, StringComparison.Ordinal))]
            : [];
        return matches.Length switch
        {
            1 => matches[0],
            0 => throw new InvalidOperationException($"no torrent has the id '{id}' ('peernet list' shows them)"),
            _ => throw new InvalidOperationException($"'{id}' is the start of {matches.Length} torrents' ids ({string.Join(", ", matches.Take(5))}): give more of it"),
        };
    }

    public void Dispose() => _http.Dispose();

    private async Task<JsonElement> SendAsync(Func<HttpRequestMessage> request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        using HttpRequestMessage message = request();
        try
        {
            response = await _http.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException || e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            throw new InvalidOperationException($"no daemon is running {_where}: nothing answers at {BaseAddress.GetLeftPart(UriPartial.Authority)} (start one with 'peernet daemon')", e);
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"the daemon {_where} could not be asked: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"the daemon {_where} did not answer within {Timeout.TotalSeconds:0} s", e);
        }

        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return body.Length == 0 ? default : Parse(body);
            }

            throw new InvalidOperationException(Problem(response.StatusCode, body));
        }
    }

    private JsonElement Parse(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"the daemon {_where} answered something other than JSON: {e.Message}", e);
        }
    }

    /// <summary>The one line for a refusal: the problem's title and detail, or the status.</summary>
    private string Problem(HttpStatusCode status, string body)
    {
        if (status == HttpStatusCode.Unauthorized)
        {
            return $"the daemon {_where} refused the API token (a daemon started since with another token? see its api-token file, or --token-file)";
        }

        string? title = null;
        string? detail = null;
        try
        {
            using var problem = JsonDocument.Parse(body);
            if (problem.RootElement.ValueKind == JsonValueKind.Object)
            {
                title = problem.RootElement.TryGetProperty("title", out JsonElement t) ? t.GetString() : null;
                detail = problem.RootElement.TryGetProperty("detail", out JsonElement d) ? d.GetString() : null;
            }
        }
        catch (JsonException)
        {
        }

        return (title, detail) switch
        {
            (not null, not null) => $"{title}: {detail}",
            (not null, null) => title,
            _ => $"the daemon {_where} answered {(int)status} {status}",
        };
    }
}
