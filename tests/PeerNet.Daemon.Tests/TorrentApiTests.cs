using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace PeerNet.Daemon.Tests;

/// <summary>Torrents through the API: add, list, pause, resume, remove; a download from a seeder; a restart.</summary>
public sealed class TorrentApiTests : IAsyncLifetime
{
    private readonly DaemonHarness _daemon = new();

    public ValueTask InitializeAsync() => new(_daemon.StartAsync());

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();

    private static CancellationToken Ct => DaemonHarness.Ct;

    [Fact]
    public async Task AddListPauseResumeRemove_RoundTrip()
    {
        (string folder, byte[] torrent) = await _daemon.CreateContentAsync("round.bin", 50_000);

        // A multipart upload, as a browser form sends it; the content is there already, so it verifies and seeds.
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(torrent);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
        form.Add(file, "torrent", "round.torrent");
        form.Add(new StringContent(folder), "savePath");
        using HttpResponseMessage added = await _daemon.Client.PostAsync("api/v1/torrents", form, Ct);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        JsonElement torrentJson = JsonDocument.Parse(await added.Content.ReadAsStringAsync(Ct)).RootElement;
        string id = torrentJson.GetProperty("id").GetString()!;
        Assert.Equal($"/api/v1/torrents/{id}", added.Headers.Location?.ToString());
        Assert.Equal("round.bin", torrentJson.GetProperty("name").GetString());

        JsonElement list = await _daemon.GetJsonAsync("api/v1/torrents");
        Assert.Equal(id, list.EnumerateArray().Single().GetProperty("id").GetString());
        await _daemon.WaitTorrentAsync(id, t => t.GetProperty("state").GetString() == "Seeding", "the torrent seeds");

        using HttpResponseMessage again = await _daemon.AddAsync(torrent, folder);
        await ApiSecurityTests.AssertProblemAsync(again, HttpStatusCode.Conflict, "already");

        using (HttpResponseMessage paused = await _daemon.Client.PostAsync($"api/v1/torrents/{id}/pause", null, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        }

        Assert.Equal("Paused", (await _daemon.GetJsonAsync($"api/v1/torrents/{id}")).GetProperty("state").GetString());
        Assert.Contains("\"Paused\": true", await File.ReadAllTextAsync(Path.Combine(_daemon.State, "torrents", id + ".json"), Ct), StringComparison.Ordinal);

        using (HttpResponseMessage resumed = await _daemon.Client.PostAsync($"api/v1/torrents/{id}/resume", null, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        }

        await _daemon.WaitTorrentAsync(id, t => t.GetProperty("state").GetString() == "Seeding", "the torrent seeds again");
        JsonElement files = await _daemon.GetJsonAsync($"api/v1/torrents/{id}/files");
        Assert.Equal(50_000, files.EnumerateArray().Single().GetProperty("bytesVerified").GetInt64());
        Assert.Empty((await _daemon.GetJsonAsync($"api/v1/torrents/{id}/trackers")).EnumerateArray());
        Assert.Empty((await _daemon.GetJsonAsync($"api/v1/torrents/{id}/peers")).EnumerateArray());

        using (HttpResponseMessage removed = await _daemon.Client.DeleteAsync($"api/v1/torrents/{id}", Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        Assert.Empty((await _daemon.GetJsonAsync("api/v1/torrents")).EnumerateArray());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_daemon.State, "torrents")));
        Assert.True(File.Exists(Path.Combine(folder, "round.bin")), "removed without deleteData: the data stays");
    }

    [Fact]
    public async Task RemoveWithData_DeletesTheFiles()
    {
        (string folder, byte[] torrent) = await _daemon.CreateContentAsync("gone.bin", 20_000);
        using HttpResponseMessage added = await _daemon.AddAsync(torrent, folder);
        string id = JsonDocument.Parse(await added.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
        using HttpResponseMessage removed = await _daemon.Client.DeleteAsync($"api/v1/torrents/{id}?deleteData=true", Ct);
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.False(File.Exists(Path.Combine(folder, "gone.bin")));
    }

    [Fact]
    public async Task Download_FromASeeder_ThenRestart_KeepsItComplete_WithoutFetchingAgain()
    {
        (string source, byte[] torrent) = await _daemon.CreateContentAsync("payload.bin", 400_000);
        PeerNetNode seeder = await _daemon.StartSeederAsync(torrent, source);
        string downloads = Path.Combine(_daemon.Root, "downloads");

        // The event stream, open before the add, sees it complete.
        using var events = new HttpRequestMessage(HttpMethod.Get, "api/v1/events");
        using HttpResponseMessage stream = await _daemon.Client.SendAsync(events, HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(Ct));
        Assert.Equal("event: connected", await reader.ReadLineAsync(Ct).AsTask().WaitAsync(DaemonHarness.Timeout, Ct));

        using HttpResponseMessage added = await _daemon.AddAsync(torrent, downloads, [$"127.0.0.1:{seeder.ListenPort}"]);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        string id = JsonDocument.Parse(await added.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
        await ReadUntilAsync(reader, "event: torrentCompleted");
        JsonElement done = await _daemon.WaitTorrentAsync(id, t => t.GetProperty("progress").GetDouble() == 1, "the download completes");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(source, "payload.bin"), Ct), await File.ReadAllBytesAsync(Path.Combine(downloads, "payload.bin"), Ct));
        Assert.True(done.GetProperty("downloaded").GetInt64() >= 400_000);
        stream.Dispose();

        // The seeder goes: whatever the restarted daemon has, it has from its own disk and resume data.
        await seeder.DisposeAsync();
        await _daemon.StopAsync();
        await _daemon.StartAsync();
        JsonElement restored = await _daemon.WaitTorrentAsync(id, t => t.GetProperty("state").GetString() == "Seeding", "the restored torrent seeds");
        Assert.Equal(1, restored.GetProperty("progress").GetDouble());
        Assert.Equal(0, restored.GetProperty("downloaded").GetInt64());
        Assert.Equal(downloads, restored.GetProperty("savePath").GetString());
    }

    [Fact]
    public async Task Magnet_ItsMetadataIsKept_SoARestartNeedsNoPeer()
    {
        (string source, byte[] torrent) = await _daemon.CreateContentAsync("magnet.bin", 100_000);
        PeerNetNode seeder = await _daemon.StartSeederAsync(torrent, source);
        string hash = TorrentSource.FromBytes(torrent).InfoHashes.V1!.ToString()!;
        string downloads = Path.Combine(_daemon.Root, "magnet-downloads");
        using HttpResponseMessage added = await _daemon.Client.PostAsJsonAsync("api/v1/torrents", new
        {
            magnet = $"magnet:?xt=urn:btih:{hash}&dn=magnet.bin",
            savePath = downloads,
            peers = new[] { $"127.0.0.1:{seeder.ListenPort}" },
        }, Ct);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        await _daemon.WaitTorrentAsync(hash, t => t.GetProperty("progress").GetDouble() == 1 && t.GetProperty("totalSize").GetInt64() == 100_000, "the magnet's torrent completes");
        await Poll.UntilAsync(() => File.Exists(Path.Combine(_daemon.State, "torrents", hash + ".torrent")), "its metadata is kept as a .torrent", DaemonHarness.Timeout);

        await seeder.DisposeAsync();
        await _daemon.StopAsync();
        await _daemon.StartAsync();
        JsonElement restored = await _daemon.WaitTorrentAsync(hash, t => t.GetProperty("state").GetString() == "Seeding", "the restored magnet torrent seeds, with no peer to ask for metadata");
        Assert.Equal("magnet.bin", restored.GetProperty("name").GetString());
        Assert.Equal(1, restored.GetProperty("progress").GetDouble());
    }

    [Fact]
    public async Task Paused_StaysPaused_AcrossARestart()
    {
        (string folder, byte[] torrent) = await _daemon.CreateContentAsync("still.bin", 20_000);
        using HttpResponseMessage added = await _daemon.AddAsync(torrent, folder, paused: true);
        string id = JsonDocument.Parse(await added.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
        await _daemon.StopAsync();
        await _daemon.StartAsync();
        Assert.Equal("Paused", (await _daemon.GetJsonAsync($"api/v1/torrents/{id}")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Node_ShowsPortsAndTotals()
    {
        JsonElement node = await _daemon.GetJsonAsync("api/v1/node");
        Assert.True(node.GetProperty("listenPort").GetInt32() > 0);
        Assert.Equal(0, node.GetProperty("torrents").GetInt32());
        Assert.False(node.TryGetProperty("dht", out _), "no DHT in this test daemon");
    }

    private static async Task ReadUntilAsync(StreamReader reader, string line)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(DaemonHarness.Timeout);
        var seen = new List<string>();
        try
        {
            while (await reader.ReadLineAsync(deadline.Token) is { } read)
            {
                if (read == line)
                {
                    return;
                }

                seen.Add(read);
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
        }

        Assert.Fail($"the event stream never said '{line}'; it said:\n{string.Join("\n", seen.TakeLast(20))}");
    }
}
