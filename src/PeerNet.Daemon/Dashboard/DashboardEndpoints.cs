using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using PeerNet.Daemon.Api;
using PeerNet.Daemon.Persistence;
using PeerNet.Daemon.Service;

namespace PeerNet.Daemon.Dashboard;

/// <summary>
/// The web dashboard: its page and assets (embedded in this assembly, plain HTML/CSS/JS), the one-time sign-in link
/// (<c>/?token=...</c>, exchanged for a session cookie), and the session's own API (<c>/api/v1/session</c>: the
/// page's CSRF token, sign-out). The page itself uses the REST API and its event stream with the cookie.
/// </summary>
internal static partial class DashboardEndpoints
{
    /// <summary>
    /// What the pages may load: their own scripts and styles only (no inline script, no eval), no frames around them.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, Asset> Assets = LoadAssets();

    /// <summary>The file, in the state folder, that holds the current one-time sign-in link (0600).</summary>
    public static string LinkFile(DaemonState state) => Path.Combine(state.Folder, "dashboard-link");

    public static void MapDashboard(this WebApplication app, DashboardSessions sessions, ApiSecurity security, DaemonState state)
    {
        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PeerNet.Daemon.Dashboard");
        app.MapGet("/", (HttpContext context) => IndexAsync(context, sessions, security)).ExcludeFromDescription();
        app.MapGet("/dashboard/{file}", (string file, HttpContext context) => ServeAsync(context, file)).ExcludeFromDescription();
        RouteGroupBuilder session = app.MapGroup("/api/v1/session").WithTags("Dashboard");
        session.MapGet("/", (HttpContext context) => TypedResults.Ok(
            sessions.CsrfTokenOf(context.Request) is { } csrf ? new SessionDto("cookie", csrf) : new SessionDto("bearer", null)))
            .WithSummary("How this request was authenticated, and the dashboard session's CSRF token (for the X-PeerNet-CSRF header)");
        session.MapDelete("/", (HttpContext context) =>
        {
            sessions.End(context.Request.Cookies[DashboardSessions.CookieName]);
            context.Response.Cookies.Delete(DashboardSessions.CookieName, CookieOptions(context));
            return TypedResults.NoContent();
        }).WithSummary("Sign out of the dashboard: its session ends");

        string linkFile = LinkFile(state);
        string? baseUrl = null;
        sessions.LinkRenewed += token =>
        {
            if (baseUrl is not null)
            {
                WriteLink(state, baseUrl, token);
                LogRenewed(logger, linkFile);
            }
        };
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            string? address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
            if (address is null)
            {
                return;
            }

            baseUrl = address.Replace("//0.0.0.0:", "//127.0.0.1:", StringComparison.Ordinal).Replace("//[::]:", "//[::1]:", StringComparison.Ordinal);
            string url = WriteLink(state, baseUrl, sessions.LinkToken);
            LogLink(logger, url, linkFile);
        });
    }

    /// <summary>The sign-in URL for a link token.</summary>
    public static string LinkUrl(string baseUrl, string token) => $"{baseUrl.TrimEnd('/')}/?token={token}";

    private static string WriteLink(DaemonState state, string baseUrl, string token)
    {
        string url = LinkUrl(baseUrl, token);
        AtomicFile.Write(LinkFile(state), System.Text.Encoding.UTF8.GetBytes(url + "\n"));
        return url;
    }

    /// <summary><c>/</c>: signs in with a link token (then redirects to <c>/</c> without it), else serves the page.</summary>
    private static async Task IndexAsync(HttpContext context, DashboardSessions sessions, ApiSecurity security)
    {
        HttpResponse response = context.Response;
        if (!context.Request.Query.TryGetValue("token", out Microsoft.Extensions.Primitives.StringValues token))
        {
            await ServeAsync(context, "index.html");
            return;
        }

        SetPageHeaders(response);
        response.Headers.CacheControl = "no-store";
        if (sessions.Redeem(token.ToString()) is { } id)
        {
            response.Cookies.Append(DashboardSessions.CookieName, id, CookieOptions(context));
            response.StatusCode = StatusCodes.Status303SeeOther;
            response.Headers.Location = "/";
            return;
        }

        await security.FailedLoginAsync(context);
        response.StatusCode = StatusCodes.Status403Forbidden;
        response.ContentType = "text/html; charset=utf-8";
        await response.WriteAsync(
            "<!doctype html><meta charset=utf-8><title>PeerNet: sign-in link used</title>" +
            "<h1>This sign-in link was used already, or is wrong</h1>" +
            "<p>Each link signs in once. The daemon writes the next one to <code>dashboard-link</code> in its state folder, and logs it.</p>");
    }

    /// <summary>HttpOnly (no script reads it), SameSite=Strict (no other site's request carries it), Path=/; Secure over HTTPS.</summary>
    private static CookieOptions CookieOptions(HttpContext context) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Path = "/",
        Secure = context.Request.IsHttps,
        IsEssential = true,
    };

    private static async Task ServeAsync(HttpContext context, string file)
    {
        HttpResponse response = context.Response;
        if (!Assets.TryGetValue(file, out Asset? asset))
        {
            await Problems.WriteAsync(context, StatusCodes.Status404NotFound, "no such file", "the dashboard has no file of that name");
            return;
        }

        SetPageHeaders(response);
        response.Headers.CacheControl = "no-cache"; // revalidated each time (the ETag makes that cheap): a new daemon's page at once
        response.Headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Content.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(asset.Content, context.RequestAborted);
        }
    }

    private static void SetPageHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XFrameOptions = "DENY";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers["Cross-Origin-Opener-Policy"] = "same-origin";
    }

    /// <summary>The files under Dashboard/wwwroot, embedded as <c>dashboard/NAME</c>.</summary>
    private static FrozenDictionary<string, Asset> LoadAssets()
    {
        const string Prefix = "dashboard/";
        System.Reflection.Assembly assembly = typeof(DashboardEndpoints).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (string name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using Stream stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            byte[] content = buffer.ToArray();
            string file = name[Prefix.Length..];
            string type = Path.GetExtension(file) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            assets[file] = new Asset(content, type, $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"");
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private sealed record Asset(byte[] Content, string ContentType, string ETag);

    [LoggerMessage(Level = LogLevel.Information, Message = "dashboard: open {Url} (a one-time sign-in link; each use writes the next to {File})")]
    private static partial void LogLink(ILogger logger, string url, string file);

    [LoggerMessage(Level = LogLevel.Information, Message = "dashboard: a sign-in link was used; the next is in {File}")]
    private static partial void LogRenewed(ILogger logger, string file);
}

/// <summary>How a request was authenticated (<c>cookie</c> or <c>bearer</c>), and the dashboard session's CSRF token.</summary>
internal sealed record SessionDto(string Via, string? Csrf);
