using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PeerNet.Creation;
using PeerNet.Daemon.Service;

namespace PeerNet.Daemon.Tests;

/// <summary>What the API changes on a running daemon: file priorities, a torrent's rate limits, the daemon's settings; and every bad input's problem.</summary>
public sealed class OptionsApiTests : IAsyncLifetime
{
    private const string ConfiguredToken = "a-configured-token-0123456789";
    private readonly DaemonHarness _daemon = new();

    public ValueTask InitializeAsync() => new(_daemon.StartAsync());

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();

    private static CancellationToken Ct => DaemonHarness.Ct;

    [Fact]
    public async Task FilePriorities_ASkippedFileIsNotDownloaded_AndTheChoiceIsKept()
    {
        // Two files on piece boundaries (16 KiB pieces): no piece holds bytes of both.
        string content = Path.Combine(_daemon.Root, "content");
        string pack = Path.Combine(content, "pack");
        Directory.CreateDirectory(pack);
        await File.WriteAllBytesAsync(Path.Combine(pack, "a.bin"), RandomBytes(64 * 1024), Ct);
        await File.WriteAllBytesAsync(Path.Combine(pack, "b.bin"), RandomBytes(48 * 1024), Ct);
        byte[] torrent = await TorrentCreator.CreateAsync(new TorrentCreationOptions { SourcePath = pack, PieceLength = 16 * 1024, Version = Metainfo.TorrentVersion.V1 }, null, Ct);
        PeerNetNode seeder = await _daemon.StartSeederAsync(torrent, content);
        string downloads = Path.Combine(_daemon.Root, "downloads");

        using HttpResponseMessage added = await _daemon.AddAsync(torrent, downloads, [$"127.0.0.1:{seeder.ListenPort}"], paused: true);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        string id = (await added.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
        JsonElement listed = await _daemon.GetJsonAsync($"api/v1/torrents/{id}/files");
        Assert.Equal(["pack/a.bin", "pack/b.bin"], listed.EnumerateArray().Select(f => f.GetProperty("path").GetString()!.Replace('\\', '/')));

        using HttpResponseMessage set = await _daemon.Client.PutAsJsonAsync($"api/v1/torrents/{id}/files", new[] { 7, 0 }, Ct);
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal([7, 0], (await set.Content.ReadFromJsonAsync<JsonElement>(Ct)).EnumerateArray().Select(f => f.GetProperty("priority").GetInt32()));
        JsonElement record = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_daemon.State, "torrents", id + ".json"), Ct)).RootElement;
        Assert.Equal([7, 0], record.GetProperty("FilePriorities").EnumerateArray().Select(p => p.GetInt32()));

        // The object form changes only the files it names.
        using (HttpResponseMessage one = await _daemon.Client.PutAsJsonAsync($"api/v1/torrents/{id}/files", new Dictionary<string, int> { ["0"] = 4 }, Ct))
        {
            Assert.Equal([4, 0], (await one.Content.ReadFromJsonAsync<JsonElement>(Ct)).EnumerateArray().Select(f => f.GetProperty("priority").GetInt32()));
        }

        using (HttpResponseMessage resumed = await _daemon.Client.PostAsync($"api/v1/torrents/{id}/resume", null, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        }

        JsonElement done = await _daemon.WaitTorrentAsync(id, t => t.GetProperty("state").GetString() == "Seeding", "the wanted file is downloaded");
        JsonElement files = await _daemon.GetJsonAsync($"api/v1/torrents/{id}/files");
        Assert.Equal(64 * 1024, files[0].GetProperty("bytesVerified").GetInt64());
        Assert.Equal(0, files[1].GetProperty("bytesVerified").GetInt64());
        Assert.InRange(done.GetProperty("downloaded").GetInt64(), 64 * 1024, (64 * 1024) + (16 * 1024) - 1); // nothing of b.bin
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(pack, "a.bin"), Ct), await File.ReadAllBytesAsync(Path.Combine(downloads, "pack", "a.bin"), Ct));

        // A restart keeps the choice: the skipped file stays skipped, with no seeder to fetch it from anyway.
        await _daemon.StopAsync();
        await _daemon.StartAsync();
        JsonElement restored = await _daemon.GetJsonAsync($"api/v1/torrents/{id}/files");
        Assert.Equal([4, 0], restored.EnumerateArray().Select(f => f.GetProperty("priority").GetInt32()));
    }

    [Fact]
    public async Task TorrentRateLimits_ShowInItsStatus_AndSurviveARestart()
    {
        (string folder, byte[] torrent) = await _daemon.CreateContentAsync("limited.bin", 20_000);
        using HttpResponseMessage added = await _daemon.AddAsync(torrent, folder);
        string id = (await added.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;

        using HttpResponseMessage set = await PatchAsync($"api/v1/torrents/{id}", """{"uploadRateLimit": 10000, "downloadRateLimit": 20000, "sequential": false}""");
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        JsonElement status = await _daemon.GetJsonAsync($"api/v1/torrents/{id}");
        Assert.Equal(10_000, status.GetProperty("uploadRateLimit").GetInt64());
        Assert.Equal(20_000, status.GetProperty("downloadRateLimit").GetInt64());

        using (HttpResponseMessage one = await PatchAsync($"api/v1/torrents/{id}", """{"downloadRateLimit": 0}"""))
        {
            JsonElement after = await one.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Equal(10_000, after.GetProperty("uploadRateLimit").GetInt64()); // untouched
            Assert.Equal(0, after.GetProperty("downloadRateLimit").GetInt64());
        }

        await _daemon.StopAsync();
        await _daemon.StartAsync();
        JsonElement restored = await _daemon.GetJsonAsync($"api/v1/torrents/{id}");
        Assert.Equal(10_000, restored.GetProperty("uploadRateLimit").GetInt64());
        Assert.Equal(0, restored.GetProperty("downloadRateLimit").GetInt64());
    }

    [Fact]
    public async Task Settings_ShowTheTokenRedacted_ChangeTheNodeLimitsAtOnce_AndKeepThemAcrossARestart()
    {
        var withToken = new Dictionary<string, string?> { ["Api:Token"] = ConfiguredToken };
        await _daemon.StopAsync();
        await _daemon.StartAsync(withToken);
        using (HttpResponseMessage get = await _daemon.Client.GetAsync("api/v1/settings", Ct))
        {
            string text = await get.Content.ReadAsStringAsync(Ct);
            Assert.DoesNotContain(ConfiguredToken, text, StringComparison.Ordinal);
            JsonElement settings = JsonDocument.Parse(text).RootElement;
            Assert.Equal(RuntimeSettings.Redacted, settings.GetProperty("api").GetProperty("token").GetString());
            Assert.Equal(0, settings.GetProperty("node").GetProperty("uploadRateLimit").GetInt64());
            Assert.Equal("127.0.0.1", settings.GetProperty("node").GetProperty("listenAddress").GetString());
            Assert.Equal(100, settings.GetProperty("metrics").GetProperty("perTorrentLimit").GetInt32()); // other parts' settings too
            Assert.True(settings.GetProperty("torrents").TryGetProperty("watchFolder", out _));
        }

        // A value sent back as it is (the address, the redacted token) is no change; the limits change at once.
        using (HttpResponseMessage set = await PatchAsync("api/v1/settings", $$$"""{"node": {"uploadRateLimit": 30000, "DownloadRateLimit": 40000, "listenAddress": "127.0.0.1"}, "api": {"token": "{{{RuntimeSettings.Redacted}}}"}}"""))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
            Assert.Equal(30_000, (await set.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("node").GetProperty("uploadRateLimit").GetInt64());
        }

        PeerNetNode node = _daemon.App!.Services.GetRequiredService<NodeService>().Node;
        Assert.Equal(30_000, node.Options.UploadRateLimit);
        Assert.Equal(40_000, node.Options.DownloadRateLimit);
        JsonElement file = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_daemon.State, "settings.json"), Ct)).RootElement;
        Assert.Equal(30_000, file.GetProperty("Node").GetProperty("UploadRateLimit").GetInt64());

        await _daemon.StopAsync();
        await _daemon.StartAsync(withToken);
        JsonElement restarted = (await _daemon.GetJsonAsync("api/v1/settings")).GetProperty("node");
        Assert.Equal(30_000, restarted.GetProperty("uploadRateLimit").GetInt64());
        Assert.Equal(40_000, restarted.GetProperty("downloadRateLimit").GetInt64());
        Assert.Equal(40_000, _daemon.App!.Services.GetRequiredService<NodeService>().Node.Options.DownloadRateLimit);
    }

    [Fact]
    public async Task BadInput_GetsAProblem_AndChangesNothing()
    {
        (string folder, byte[] torrent) = await _daemon.CreateContentAsync("one.bin", 20_000);
        using HttpResponseMessage added = await _daemon.AddAsync(torrent, folder);
        string id = (await added.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
        string unknown = new('0', 40);

        await ExpectAsync(await PatchAsync($"api/v1/torrents/{unknown}", """{"uploadRateLimit": 1}"""), HttpStatusCode.NotFound, "unknown torrent");
        await ExpectAsync(await PatchAsync($"api/v1/torrents/{id}", """{"uploadRateLimit": """), HttpStatusCode.BadRequest, "malformed JSON");
        await ExpectAsync(await PatchAsync($"api/v1/torrents/{id}", """{"uploadRateLimit": 5, "frobnicate": 1}"""), HttpStatusCode.BadRequest, "unknown option", "frobnicate");
        await ExpectAsync(await PatchAsync($"api/v1/torrents/{id}", """{"uploadRateLimit": -1}"""), HttpStatusCode.BadRequest, "bad option value", "uploadRateLimit");
        await ExpectAsync(await PatchAsync($"api/v1/torrents/{id}", """{"uploadRateLimit": 5, "sequential": true}"""), HttpStatusCode.BadRequest, "not changeable", "sequential");
        Assert.Equal(0, (await _daemon.GetJsonAsync($"api/v1/torrents/{id}")).GetProperty("uploadRateLimit").GetInt64());

        await ExpectAsync(await PutAsync($"api/v1/torrents/{unknown}/files", "[4]"), HttpStatusCode.NotFound, "unknown torrent");
        await ExpectAsync(await PutAsync($"api/v1/torrents/{id}/files", "[4"), HttpStatusCode.BadRequest, "malformed JSON");
        await ExpectAsync(await PutAsync($"api/v1/torrents/{id}/files", "[8]"), HttpStatusCode.BadRequest, "out of range");
        await ExpectAsync(await PutAsync($"api/v1/torrents/{id}/files", """{"0": -1}"""), HttpStatusCode.BadRequest, "out of range");
        await ExpectAsync(await PutAsync($"api/v1/torrents/{id}/files", "[4, 4]"), HttpStatusCode.BadRequest, "wrong number");
        await ExpectAsync(await PutAsync($"api/v1/torrents/{id}/files", """{"1": 4}"""), HttpStatusCode.BadRequest, "unknown file");
        Assert.Equal(4, (await _daemon.GetJsonAsync($"api/v1/torrents/{id}/files"))[0].GetProperty("priority").GetInt32());

        await ExpectAsync(await PatchAsync("api/v1/settings", """{"node": """), HttpStatusCode.BadRequest, "malformed JSON");
        await ExpectAsync(await PatchAsync("api/v1/settings", """{"node": {"uploadRateLimit": 1}, "frobnicate": 1}"""), HttpStatusCode.BadRequest, "unknown setting", "frobnicate");
        await ExpectAsync(await PatchAsync("api/v1/settings", """{"node": {"uploadRateLimit": "fast"}}"""), HttpStatusCode.BadRequest, "bad setting value", "node.uploadRateLimit");
        await ExpectAsync(await PatchAsync("api/v1/settings", """{"node": {"uploadRateLimit": 1, "listenPort": 7000, "dht": true}}"""), HttpStatusCode.BadRequest, "needs a restart", "node.listenPort, node.dht");
        await ExpectAsync(await PatchAsync("api/v1/settings", """{"metrics": {"perTorrentLimit": 5}}"""), HttpStatusCode.BadRequest, "needs a restart", "metrics.perTorrentLimit");
        Assert.Equal(0, (await _daemon.GetJsonAsync("api/v1/settings")).GetProperty("node").GetProperty("uploadRateLimit").GetInt64());
        Assert.False(File.Exists(Path.Combine(_daemon.State, "settings.json")), "nothing written");
    }

    [Fact]
    public async Task ConnectivityWords_SentBackInOtherSpelling_AreNoChange_ButAnotherWordNeedsARestart()
    {
        // The file and the CLI take these words in any case and a port mapping list in any order: a client sending back
        // what it read, spelt its own way, changes nothing (and must not be refused as a change needing a restart).
        using (HttpResponseMessage same = await PatchAsync("api/v1/settings",
            """{"node": {"encryption": "ENABLED", "encryptionLevel": "Both", "utp": "On", "portMapping": "upnp, NAT-PMP,pcp", "uploadRateLimit": 7}}"""))
        {
            Assert.Equal(HttpStatusCode.OK, same.StatusCode);
        }

        Assert.Equal(7, (await _daemon.GetJsonAsync("api/v1/settings")).GetProperty("node").GetProperty("uploadRateLimit").GetInt64());
        await ExpectAsync(await PatchAsync("api/v1/settings", """{"node": {"encryption": "Forced", "utp": "off", "portMapping": "upnp"}}"""),
            HttpStatusCode.BadRequest, "needs a restart", "node.encryption, node.utp, node.portMapping");
    }

    [Fact]
    public async Task OpenApi_DescribesTheNewEndpoints()
    {
        using var anonymous = new HttpClient { BaseAddress = _daemon.BaseAddress };
        JsonElement paths = JsonDocument.Parse(await anonymous.GetStringAsync("openapi/v1.json", Ct)).RootElement.GetProperty("paths");
        foreach ((string path, string method, string tag) in new[]
        {
            ("/api/v1/torrents/{id}", "patch", "Torrents"),
            ("/api/v1/torrents/{id}/files", "put", "Torrents"),
            ("/api/v1/settings", "get", "Settings"),
            ("/api/v1/settings", "patch", "Settings"),
        })
        {
            JsonElement operation = paths.GetProperty(path).GetProperty(method);
            Assert.False(string.IsNullOrEmpty(operation.GetProperty("summary").GetString()), $"{method} {path} has a summary");
            Assert.Equal(tag, operation.GetProperty("tags")[0].GetString());
            Assert.True(operation.TryGetProperty("requestBody", out _) || method == "get", $"{method} {path} describes its body");
        }
    }

    private static byte[] RandomBytes(int size)
    {
        byte[] data = new byte[size];
        Random.Shared.NextBytes(data);
        return data;
    }

    private Task<HttpResponseMessage> PatchAsync(string path, string json) =>
        _daemon.Client.PatchAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), Ct);

    private Task<HttpResponseMessage> PutAsync(string path, string json) =>
        _daemon.Client.PutAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), Ct);

    private static async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode status, string title, string? detailContains = null)
    {
        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(Ct);
            await ApiSecurityTests.AssertProblemAsync(new HttpResponseMessage(response.StatusCode) { Content = new StringContent(body, Encoding.UTF8, response.Content.Headers.ContentType?.MediaType ?? "text/plain") }, status, title);
            if (detailContains is not null)
            {
                Assert.Contains(detailContains, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }
        }
    }
}
