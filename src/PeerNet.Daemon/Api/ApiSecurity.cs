using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace PeerNet.Daemon.Api;

/// <summary>
/// The API's gate, in order: the Host header must name this daemon (DNS rebinding: a page on evil.example that
/// re-resolves its name to 127.0.0.1 still sends <c>Host: evil.example</c>); a body must be within the limit;
/// a state-changing request must not come from another site (its <c>Origin</c> or <c>Sec-Fetch-Site</c> says so);
/// and every <c>/api/</c> and <c>/metrics</c> request must carry <c>Authorization: Bearer &lt;token&gt;</c>, or the dashboard's session
/// cookie. A browser never adds that header by itself, and a cross-site page cannot set it without a CORS preflight
/// this daemon never allows. The cookie a browser does add by itself (SameSite=Strict keeps it off cross-site
/// requests, but not off another port of 127.0.0.1, which is the same site): so a state-changing request made with
/// it must also carry the session's CSRF token in <c>X-PeerNet-CSRF</c>, which only the dashboard's own page can read.
/// That is the CSRF defence, the origin check a second one. Failed tokens are answered slowly, one at a time.
/// </summary>
#pragma warning disable CA1001 // _failures is a SemaphoreSlim whose wait handle is never asked for: nothing to dispose.
internal sealed partial class ApiSecurity
#pragma warning restore CA1001
{
    private static readonly TimeSpan FailureWindow = TimeSpan.FromMinutes(1);
    private readonly byte[] _token;
    private readonly HashSet<string> _hosts;
    private readonly long _maxBody;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _failures = new(1, 1);
    private readonly Queue<long> _recentFailures = new();

    /// <summary>The header a cookie-authenticated state-changing request must carry, with the session's CSRF token.</summary>
    public const string CsrfHeader = "X-PeerNet-CSRF";

    private readonly IBrowserSessions? _sessions;

    private readonly BodyLimit? _upload;

    /// <param name="token">The API token.</param>
    /// <param name="allowedHosts">The Host header values answered.</param>
    /// <param name="maxBody">The largest request body (<c>Api:MaxRequestBodyBytes</c>).</param>
    /// <param name="logger">Where failed logins are logged.</param>
    /// <param name="sessions">The dashboard's sessions.</param>
    /// <param name="upload">One endpoint with a larger body limit of its own (the storage upload).</param>
    public ApiSecurity(string token, IEnumerable<string> allowedHosts, long maxBody, ILogger logger, IBrowserSessions? sessions = null, BodyLimit? upload = null)
    {
        _sessions = sessions;
        _upload = upload;
        _token = Encoding.UTF8.GetBytes(token);
        _hosts = new HashSet<string>(allowedHosts.Select(h => h.Trim().ToLowerInvariant()), StringComparer.Ordinal);
        _maxBody = maxBody;
        _logger = logger;
    }

    /// <summary>The hosts allowed: localhost, the loopback addresses, the API's own address, and those the settings add.</summary>
    public static IEnumerable<string> DefaultHosts(IPAddress bind) =>
        ["localhost", "127.0.0.1", "::1", .. bind.Equals(IPAddress.Any) || bind.Equals(IPAddress.IPv6Any) ? Array.Empty<string>() : [bind.ToString()]];

    /// <summary>The middleware.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        HttpRequest request = context.Request;
        if (!HostAllowed(request.Host))
        {
            await Problems.WriteAsync(context, StatusCodes.Status421MisdirectedRequest, "host not allowed",
                "this daemon answers only to the host names in Api:AllowedHosts (and localhost)");
            return;
        }

        (long maxBody, string limitSetting) = _upload is { } upload && upload.Matches(request) ? (upload.Bytes, upload.Setting) : (_maxBody, "Api:MaxRequestBodyBytes");
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = maxBody;
        }

        if (request.ContentLength > maxBody)
        {
            await Problems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "body over the limit",
                $"the request body is {request.ContentLength} bytes; this daemon accepts at most {maxBody} ({limitSetting})");
            return;
        }

        bool api = request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) || request.Path.StartsWithSegments(Metrics.MetricsEndpoint.Path, StringComparison.OrdinalIgnoreCase);
        bool changesState = !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method);
        if (api && changesState && CrossSite(request))
        {
            await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "cross-site request refused",
                "a state-changing request must come from this daemon's own origin, or from no browser page at all");
            return;
        }

        if (api && !Bearer(request) && _sessions?.CsrfTokenOf(request) is { } csrf)
        {
            string? presented = request.Headers[CsrfHeader];
            if (changesState && (presented is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(csrf))))
            {
                await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "CSRF token missing or wrong",
                    $"a state-changing request made with the dashboard's cookie must carry the session's token in {CsrfHeader}");
                return;
            }
        }
        else if (api && !await AuthorizedAsync(context))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.WriteAsync(context, StatusCodes.Status401Unauthorized, "token missing or wrong",
                "send 'Authorization: Bearer <token>'; the token is in the state folder's api-token file");
            return;
        }

        await next(context);
    }

    private bool HostAllowed(HostString host)
    {
        if (!host.HasValue)
        {
            return false; // HTTP/1.1 requires it; an HTTP/1.0 request without one is no browser's
        }

        string name = host.Host.Trim('[', ']').ToLowerInvariant();
        return _hosts.Contains(name);
    }

    /// <summary>Whether a browser says this request comes from a page of another site.</summary>
    private bool CrossSite(HttpRequest request)
    {
        string? fetchSite = request.Headers["Sec-Fetch-Site"];
        if (fetchSite is "cross-site" or "same-site")
        {
            return true;
        }

        string? origin = request.Headers.Origin;
        if (string.IsNullOrEmpty(origin))
        {
            return false; // not from a browser page (curl, scripts), or a same-origin GET-like request
        }

        return !Uri.TryCreate(origin, UriKind.Absolute, out Uri? uri)
            || !_hosts.Contains(uri.Host.Trim('[', ']').ToLowerInvariant())
            || !string.Equals($"{uri.Host}:{uri.Port}", $"{request.Host.Host}:{request.Host.Port ?? uri.Port}", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether the request carries the API token as a bearer token.</summary>
    private bool Bearer(HttpRequest request)
    {
        string? header = request.Headers.Authorization;
        return header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && IsToken(header[7..].Trim());
    }

    private async Task<bool> AuthorizedAsync(HttpContext context)
    {
        if (Bearer(context.Request))
        {
            return true;
        }

        await FailedLoginAsync(context);
        return false;
    }

    /// <summary>Whether <paramref name="candidate"/> is the API token (compared in constant time).</summary>
    public bool IsToken(string candidate) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), _token);

    /// <summary>
    /// Logs a failed login and returns late: one failure at a time, each slower the more there were in the last minute
    /// (0.1 s doubling, at most 3.2 s). Guessing a 256-bit token is hopeless anyway; this keeps a guesser from costing
    /// the daemon anything. Every path that checks the token (the Transmission RPC too) counts its failures here.
    /// </summary>
    public async Task FailedLoginAsync(HttpContext context)
    {
        await _failures.WaitAsync(context.RequestAborted);
        try
        {
            long now = Stopwatch.GetTimestamp();
            while (_recentFailures.TryPeek(out long oldest) && Stopwatch.GetElapsedTime(oldest, now) > FailureWindow)
            {
                _recentFailures.Dequeue();
            }

            _recentFailures.Enqueue(now);
            int recent = _recentFailures.Count;
            LogFailedAuth(_logger, context.Connection.RemoteIpAddress?.ToString() ?? "?", recent);
            await Task.Delay(TimeSpan.FromMilliseconds(100 << Math.Min(recent - 1, 5)), context.RequestAborted);
        }
        finally
        {
            _failures.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "API request from {Address} without a valid token ({Count} in the last minute)")]
    private static partial void LogFailedAuth(ILogger logger, string address, int count);
}

/// <summary>A body limit of its own for one endpoint (method and path), named by its setting in refusals.</summary>
internal sealed record BodyLimit(string Method, PathString Path, long Bytes, string Setting)
{
    public bool Matches(HttpRequest request) =>
        string.Equals(request.Method, Method, StringComparison.OrdinalIgnoreCase)
        && request.Path.StartsWithSegments(Path, StringComparison.OrdinalIgnoreCase, out PathString rest) && (!rest.HasValue || rest.Value == "/");
}

/// <summary>Browser sessions the API accepts by cookie (the dashboard's), each with its CSRF token.</summary>
internal interface IBrowserSessions
{
    /// <summary>The CSRF token of the live session whose cookie <paramref name="request"/> carries, or null if it carries none.</summary>
    string? CsrfTokenOf(HttpRequest request);
}
