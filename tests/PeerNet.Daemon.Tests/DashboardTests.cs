using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace PeerNet.Daemon.Tests;

/// <summary>
/// The web dashboard over HTTP: the one-time sign-in link, the session cookie's flags, CSRF on cookie-authenticated
/// requests, and the page's security headers. (The page itself runs in a real browser in PeerNet.Dashboard.Tests.)
/// </summary>
public sealed partial class DashboardTests : IAsyncLifetime
{
    private readonly DaemonHarness _daemon = new();

    public ValueTask InitializeAsync() => new(_daemon.StartAsync());

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();

    private static CancellationToken Ct => DaemonHarness.Ct;

    private string LinkFile => Path.Combine(_daemon.State, "dashboard-link");

    /// <summary>A client as a browser is one: no Authorization header, no redirects followed, cookies sent by hand.</summary>
    private HttpClient Browser() =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _daemon.BaseAddress, Timeout = DaemonHarness.Timeout };

    [Fact]
    public async Task OneTimeLink_SignsInOnce_WithAStrictHttpOnlyCookie_AndNamesTheNext()
    {
        string link = (await File.ReadAllTextAsync(LinkFile, Ct)).Trim();
        Assert.StartsWith(_daemon.BaseAddress.GetLeftPart(UriPartial.Authority) + "/?token=", link, StringComparison.Ordinal);
        Assert.DoesNotContain(_daemon.Token, link, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(LinkFile));
        }

        using HttpClient browser = Browser();
        using HttpResponseMessage first = await browser.GetAsync(link, Ct);
        Assert.Equal(HttpStatusCode.SeeOther, first.StatusCode);
        Assert.Equal("/", first.Headers.Location?.OriginalString); // the token is gone from the address bar
        Assert.Contains("no-store", first.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        string setCookie = Assert.Single(first.Headers.GetValues("Set-Cookie"));
        string[] attributes = [.. setCookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant())];
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=strict", attributes);
        Assert.Contains("path=/", attributes);
        string cookie = setCookie.Split(';')[0];
        Assert.StartsWith("peernet-session=", cookie, StringComparison.Ordinal);
        Assert.DoesNotContain(_daemon.Token, cookie, StringComparison.Ordinal);

        using HttpResponseMessage again = await browser.GetAsync(link, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, again.StatusCode);
        Assert.False(again.Headers.Contains("Set-Cookie"), "a used link signs no one in");

        string next = (await File.ReadAllTextAsync(LinkFile, Ct)).Trim();
        Assert.NotEqual(link, next);
        using HttpResponseMessage second = await browser.GetAsync(next, Ct);
        Assert.Equal(HttpStatusCode.SeeOther, second.StatusCode);

        // The cookie now opens the API, and the session says it came by cookie, with its CSRF token.
        using var session = new HttpRequestMessage(HttpMethod.Get, "api/v1/session");
        session.Headers.Add("Cookie", cookie);
        using HttpResponseMessage answer = await browser.SendAsync(session, Ct);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        JsonElement body = await answer.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("cookie", body.GetProperty("via").GetString());
        Assert.True(body.GetProperty("csrf").GetString()!.Length >= 40);
    }

    [Fact]
    public async Task WrongLinkToken_IsRefused_AndSignsNoOneIn()
    {
        string link = (await File.ReadAllTextAsync(LinkFile, Ct)).Trim();
        using HttpClient browser = Browser();
        using HttpResponseMessage wrong = await browser.GetAsync("/?token=" + _daemon.Token, Ct); // not even the API token
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.False(wrong.Headers.Contains("Set-Cookie"));
        Assert.Equal(link, (await File.ReadAllTextAsync(LinkFile, Ct)).Trim()); // the real link still works
        using HttpResponseMessage right = await browser.GetAsync(link, Ct);
        Assert.Equal(HttpStatusCode.SeeOther, right.StatusCode);
    }

    [Fact]
    public async Task CookieRequests_ThatChangeState_NeedTheCsrfToken()
    {
        (string cookie, string csrf) = await SignInAsync();
        (_, byte[] torrent) = await _daemon.CreateContentAsync("a.bin", 20_000);
        string origin = _daemon.BaseAddress.GetLeftPart(UriPartial.Authority);

        // Same origin, the right cookie, no CSRF token: refused (another port of 127.0.0.1 is the same site).
        using HttpResponseMessage without = await SendAsync(HttpMethod.Post, "api/v1/torrents", cookie, origin, csrf: null, torrent);
        await ApiSecurityTests.AssertProblemAsync(without, HttpStatusCode.Forbidden, "CSRF");
        using HttpResponseMessage wrong = await SendAsync(HttpMethod.Post, "api/v1/torrents", cookie, origin, csrf: csrf[..^1] + (csrf[^1] == 'A' ? "B" : "A"), torrent);
        await ApiSecurityTests.AssertProblemAsync(wrong, HttpStatusCode.Forbidden, "CSRF");
        Assert.Empty((await _daemon.GetJsonAsync("api/v1/torrents")).EnumerateArray());

        // A cross-site page that somehow had the token is still refused by the origin check.
        using HttpResponseMessage crossSite = await SendAsync(HttpMethod.Post, "api/v1/torrents", cookie, "http://127.0.0.1:1", csrf, torrent);
        await ApiSecurityTests.AssertProblemAsync(crossSite, HttpStatusCode.Forbidden, "cross-site");

        using HttpResponseMessage added = await SendAsync(HttpMethod.Post, "api/v1/torrents", cookie, origin, csrf, torrent);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Single((await _daemon.GetJsonAsync("api/v1/torrents")).EnumerateArray());

        // Reading needs no CSRF token; the bearer token needs none either (no browser sends it by itself).
        using HttpResponseMessage list = await SendAsync(HttpMethod.Get, "api/v1/torrents", cookie, origin: null, csrf: null);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
    }

    [Fact]
    public async Task CookieRequests_ThatSendADirectMessage_NeedTheCsrfToken()
    {
        (string cookie, string csrf) = await SignInAsync();
        string origin = _daemon.BaseAddress.GetLeftPart(UriPartial.Authority);
        var message = new { to = "/ip4/127.0.0.1/tcp/1", text = "hi" };
        using HttpResponseMessage without = await SendAsync(HttpMethod.Post, "api/v1/libp2p/messages", cookie, origin, csrf: null, json: message);
        await ApiSecurityTests.AssertProblemAsync(without, HttpStatusCode.Forbidden, "CSRF");

        // With the token the request reaches the endpoint, which cannot dial a port nothing listens on.
        using HttpResponseMessage with = await SendAsync(HttpMethod.Post, "api/v1/libp2p/messages", cookie, origin, csrf, json: message);
        await ApiSecurityTests.AssertProblemAsync(with, HttpStatusCode.BadGateway, "Unreachable");
    }

    [Fact]
    public async Task SignOut_EndsTheSession()
    {
        (string cookie, string csrf) = await SignInAsync();
        using HttpResponseMessage refused = await SendAsync(HttpMethod.Delete, "api/v1/session", cookie, origin: null, csrf: null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using HttpResponseMessage signedOut = await SendAsync(HttpMethod.Delete, "api/v1/session", cookie, origin: null, csrf);
        Assert.Equal(HttpStatusCode.NoContent, signedOut.StatusCode);
        using HttpResponseMessage after = await SendAsync(HttpMethod.Get, "api/v1/torrents", cookie, origin: null, csrf: null);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/dashboard/app.js", "text/javascript")]
    [InlineData("/dashboard/app.css", "text/css")]
    [InlineData("/dashboard/icon.svg", "image/svg+xml")]
    public async Task PageAndAssets_AreServed_WithTheSecurityHeaders(string path, string type)
    {
        using HttpClient browser = Browser();
        using HttpResponseMessage response = await browser.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
        string csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal); // no 'unsafe-inline', no 'unsafe-eval'
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));

        // Revalidation by ETag.
        using var again = new HttpRequestMessage(HttpMethod.Get, path);
        again.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        using HttpResponseMessage notModified = await browser.SendAsync(again, Ct);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task ThePage_HasNoInlineScriptOrStyle()
    {
        using HttpClient browser = Browser();
        string html = await browser.GetStringAsync("/", Ct);
        MatchCollection scripts = ScriptTag().Matches(html);
        Assert.NotEmpty(scripts);
        Assert.All(scripts, m => Assert.Matches("src=\"/dashboard/[a-z]+\\.js\"", m.Value));
        Assert.DoesNotMatch(InlineHandler(), html);
        Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task UnknownAsset_Is404_AndTheHostCheckCoversThePage()
    {
        using HttpClient browser = Browser();
        using HttpResponseMessage missing = await browser.GetAsync("/dashboard/nothing.js", Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        string link = (await File.ReadAllTextAsync(LinkFile, Ct)).Trim();
        using var rebound = new HttpRequestMessage(HttpMethod.Get, link);
        rebound.Headers.Host = $"evil.example:{_daemon.BaseAddress.Port}";
        using HttpResponseMessage refused = await browser.SendAsync(rebound, Ct);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, refused.StatusCode);
        Assert.Equal(link, (await File.ReadAllTextAsync(LinkFile, Ct)).Trim()); // a DNS-rebinding page cannot spend the link
    }

    [Fact]
    public async Task NodeApi_ShowsTheDhtCounters()
    {
        await using var daemon = new DaemonHarness();
        await daemon.StartAsync(new Dictionary<string, string?> { ["Node:Dht"] = "true", ["Node:DhtBootstrapNodes:0"] = "127.0.0.1:9" });
        JsonElement node = await daemon.GetJsonAsync("api/v1/node");
        JsonElement dht = node.GetProperty("dht");
        Assert.Equal("ipv4", dht.GetProperty("family").GetString());
        Assert.False(node.TryGetProperty("dht6", out _), "bound to 127.0.0.1: one family, one DHT");
        foreach (string name in new[] { "nodes", "buckets", "goodNodes", "questionableNodes", "badNodes", "lookups", "activeLookups", "queriesSent", "queriesDropped" })
        {
            Assert.True(dht.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number, name);
        }

        // The node's own bootstrap lookup counts.
        await DaemonHarness.UntilAsync(
            async () => (await daemon.GetJsonAsync("api/v1/node")).GetProperty("dht").GetProperty("lookups").GetInt64() > 0,
            "a DHT lookup counted");
    }

    [Fact]
    public async Task NodeApi_AndMetrics_NameTheDhtsFamily_ForANodeOnIPv6()
    {
        await using var daemon = new DaemonHarness();
        await daemon.StartAsync(new Dictionary<string, string?> { ["Node:ListenAddress"] = "::1", ["Node:Dht"] = "true", ["Node:DhtBootstrapNodes:0"] = "[::1]:9" });
        JsonElement node = await daemon.GetJsonAsync("api/v1/node");
        Assert.Equal("ipv6", node.GetProperty("dht").GetProperty("family").GetString());
        Assert.False(node.TryGetProperty("dht6", out _), "bound to ::1: one family, one DHT");

        using HttpResponseMessage scraped = await daemon.Client.GetAsync("metrics", Ct);
        string text = await scraped.Content.ReadAsStringAsync(Ct);
        PrometheusText metrics = PrometheusText.Parse(text);
        Assert.NotNull(metrics.Value("peernet_dht_nodes", "family=ipv6", "health=good"));
        Assert.Null(metrics.Value("peernet_dht_nodes", "family=ipv4", "health=good"));
    }

    /// <summary>Signs in through the link, returning the cookie ("name=value") and the session's CSRF token.</summary>
    private async Task<(string Cookie, string Csrf)> SignInAsync()
    {
        using HttpClient browser = Browser();
        using HttpResponseMessage signIn = await browser.GetAsync((await File.ReadAllTextAsync(LinkFile, Ct)).Trim(), Ct);
        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        string cookie = signIn.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        using HttpResponseMessage session = await SendAsync(HttpMethod.Get, "api/v1/session", cookie, origin: null, csrf: null);
        JsonElement body = await session.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return (cookie, body.GetProperty("csrf").GetString()!);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string cookie, string? origin, string? csrf, byte[]? torrent = null, object? json = null)
    {
        using HttpClient browser = Browser();
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Cookie", cookie);
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        if (csrf is not null)
        {
            request.Headers.Add("X-PeerNet-CSRF", csrf);
        }

        if (torrent is not null)
        {
            request.Content = JsonContent.Create(new { metainfo = Convert.ToBase64String(torrent), savePath = Path.Combine(_daemon.Root, "dl") });
        }

        if (json is not null)
        {
            request.Content = JsonContent.Create(json);
        }

        HttpResponseMessage response = await browser.SendAsync(request, Ct);
        await response.Content.LoadIntoBufferAsync(Ct);
        return response;
    }

    [GeneratedRegex("<script[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTag();

    [GeneratedRegex("\\son[a-z]+=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineHandler();
}
