using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace PeerNet.Daemon.Tests;

/// <summary>The API's gate: token, Host allow-list, cross-site requests, body limit, and bad input as problem details.</summary>
public sealed class ApiSecurityTests : IAsyncLifetime
{
    private readonly DaemonHarness _daemon = new();

    public ValueTask InitializeAsync() => new(_daemon.StartAsync());

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();

    private static CancellationToken Ct => DaemonHarness.Ct;

    [Fact]
    public void Token_IsMadeOnFirstStart_OwnerOnly()
    {
        string path = Path.Combine(_daemon.State, "api-token");
        Assert.True(_daemon.Token.Length >= 40, "a 256-bit token in base64url");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public async Task NoToken_Is401_WithProblemDetails()
    {
        using var client = new HttpClient { BaseAddress = _daemon.BaseAddress };
        using HttpResponseMessage response = await client.GetAsync("api/v1/torrents", Ct);
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "token");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task WrongToken_Is401()
    {
        using var client = new HttpClient { BaseAddress = _daemon.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _daemon.Token[..^1] + (_daemon.Token[^1] == 'A' ? "B" : "A"));
        using HttpResponseMessage response = await client.GetAsync("api/v1/torrents", Ct);
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "token");
    }

    [Fact]
    public async Task RightToken_IsServed_AndTheDocsNeedNone()
    {
        using HttpResponseMessage list = await _daemon.Client.GetAsync("api/v1/torrents", Ct);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        using var anonymous = new HttpClient { BaseAddress = _daemon.BaseAddress };
        string openApi = await anonymous.GetStringAsync("openapi/v1.json", Ct);
        Assert.Contains("/api/v1/torrents/{id}/pause", openApi, StringComparison.Ordinal);
        using HttpResponseMessage scalar = await anonymous.GetAsync("scalar/", Ct);
        Assert.Equal(HttpStatusCode.OK, scalar.StatusCode);
    }

    [Theory]
    [InlineData("evil.example")]
    [InlineData("localhost.evil.example")]
    public async Task HostNotAllowed_IsRefused_EvenWithTheToken(string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/torrents");
        request.Headers.Host = $"{host}:{_daemon.BaseAddress.Port}";
        using HttpResponseMessage response = await _daemon.Client.SendAsync(request, Ct);
        await AssertProblemAsync(response, HttpStatusCode.MisdirectedRequest, "host");
    }

    [Fact]
    public async Task CrossSitePost_IsRefused_EvenWithTheToken()
    {
        (_, byte[] torrent) = await _daemon.CreateContentAsync("a.bin", 20_000);
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/torrents")
        {
            Content = JsonContent.Create(new { metainfo = Convert.ToBase64String(torrent) }),
        };
        request.Headers.Add("Origin", "http://evil.example");
        using HttpResponseMessage response = await _daemon.Client.SendAsync(request, Ct);
        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "cross-site");

        using var fetch = new HttpRequestMessage(HttpMethod.Delete, "api/v1/torrents/1");
        fetch.Headers.Add("Sec-Fetch-Site", "cross-site");
        using HttpResponseMessage refused = await _daemon.Client.SendAsync(fetch, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Empty((await _daemon.GetJsonAsync("api/v1/torrents")).EnumerateArray());
    }

    [Fact]
    public async Task SameOriginPost_IsServed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/torrents/nothing/pause");
        request.Headers.Add("Origin", _daemon.BaseAddress.GetLeftPart(UriPartial.Authority));
        using HttpResponseMessage response = await _daemon.Client.SendAsync(request, Ct);
        await AssertProblemAsync(response, HttpStatusCode.NotFound, "unknown torrent");
    }

    [Fact]
    public async Task OversizeBody_Is413()
    {
        using var content = new ByteArrayContent(new byte[100_000]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
        using HttpResponseMessage response = await _daemon.Client.PostAsync("api/v1/torrents", content, Ct);
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "limit");
    }

    [Fact]
    public async Task OversizeChunkedBody_Is413()
    {
        // No Content-Length: Kestrel's own limit stops the read.
        using var content = new StreamContent(new MemoryStream(new byte[100_000]));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/torrents") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using HttpResponseMessage response = await _daemon.Client.SendAsync(request, Ct);
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "limit");
    }

    public static TheoryData<string> HostileTorrents => new()
    {
        "garbage",
        "d4:infod6:lengthi-5e4:name1:x12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee", // a negative length
        "d4:infod6:lengthi10e4:name1:x12:piece lengthi16384e6:pieces19:aaaaaaaaaaaaaaaaaaaee", // pieces not whole hashes
        "d4:infod6:lengthi10e4:name1:x12:piece lengthi16384e6:pieces40:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaee", // more hashes than pieces
        "d4:infod6:lengthi10e4:name1:x12:piece lengthi0e6:pieces20:aaaaaaaaaaaaaaaaaaaaee", // a zero piece length
        new string('l', 20_000) + new string('e', 20_000), // nesting deep enough to exhaust a recursive parser
    };

    [Theory]
    [MemberData(nameof(HostileTorrents))]
    public async Task HostileTorrent_Is400_AndNothingIsAdded(string torrent)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(torrent));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
        using HttpResponseMessage response = await _daemon.Client.PostAsync("api/v1/torrents", content, Ct);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "corrupt or hostile .torrent");
        Assert.Empty((await _daemon.GetJsonAsync("api/v1/torrents")).EnumerateArray());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_daemon.State, "torrents")));
    }

    [Theory]
    [InlineData("{\"magnet\": ", "malformed JSON")]
    [InlineData("{\"metainfo\": \"not base64!\"}", "malformed metainfo")]
    [InlineData("{\"magnet\": \"magnet:?xt=urn:btih:zz\"}", "malformed magnet link")]
    [InlineData("{}", "one torrent, please")]
    public async Task BadJson_Is400_WithTheReason(string body, string title)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _daemon.Client.PostAsync("api/v1/torrents", content, Ct);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, title);
    }

    [Fact]
    public async Task UnknownId_Is404()
    {
        using HttpResponseMessage response = await _daemon.Client.GetAsync("api/v1/torrents/0123456789abcdef0123456789abcdef01234567/files", Ct);
        await AssertProblemAsync(response, HttpStatusCode.NotFound, "unknown torrent");
    }

    [Fact]
    public async Task FailedAdd_LeavesNothingBehind()
    {
        // The node refuses it: a magnet link with nowhere to find peers (this daemon has no DHT, trackers or LSD).
        using var content = new StringContent("{\"magnet\": \"magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567\"}", Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _daemon.Client.PostAsync("api/v1/torrents", content, Ct);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "cannot add");
        Assert.Empty((await _daemon.GetJsonAsync("api/v1/torrents")).EnumerateArray());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_daemon.State, "torrents")));
    }

    internal static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string titleContains)
    {
        string body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        string title = problem.GetProperty("title").GetString()!;
        Assert.Contains(titleContains, title, StringComparison.OrdinalIgnoreCase);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()), "a reason");
    }
}
