using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace PeerNet.Daemon.Tests;

/// <summary><c>peernet daemon</c> as a child process, killed with SIGKILL: what it had finished is there after a restart.</summary>
public sealed class KillTests : IAsyncLifetime
{
    /// <summary>dotnet's start-up on a shared machine.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly DaemonHarness _daemon = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();

    private static CancellationToken Ct => DaemonHarness.Ct;

    [Fact]
    public async Task KillNine_AfterADownload_RestartHasItComplete_WithoutFetchingAgain()
    {
        (string source, byte[] torrent) = await _daemon.CreateContentAsync("killed.bin", 300_000);
        PeerNetNode seeder = await _daemon.StartSeederAsync(torrent, source);
        string downloads = Path.Combine(_daemon.Root, "downloads");

        using Process child = ChildDaemon.Start(_daemon.State);
        try
        {
            using HttpClient client = await ConnectAsync(child);
            using HttpResponseMessage added = await client.PostAsync("api/v1/torrents", System.Net.Http.Json.JsonContent.Create(new
            {
                metainfo = Convert.ToBase64String(torrent),
                savePath = downloads,
                peers = new[] { $"127.0.0.1:{seeder.ListenPort}" },
            }), Ct);
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
            string id = JsonDocument.Parse(await added.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
            await _daemon.WaitTorrentAsync(id, t => t.GetProperty("progress").GetDouble() == 1, "the child daemon completes the download", client);
            await Poll.UntilAsync(() => File.Exists(Path.Combine(_daemon.State, "resume", id + ".resume")), "the child daemon saves resume data", DaemonHarness.Timeout);

            child.Kill(); // SIGKILL: no stop, no flush
            await child.WaitForExitAsync(Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill();
            }
        }

        await seeder.DisposeAsync(); // nobody to fetch from: whatever it has after the restart came from its disk
        await _daemon.StartAsync();
        JsonElement restored = (await _daemon.GetJsonAsync("api/v1/torrents")).EnumerateArray().Single();
        string restoredId = restored.GetProperty("id").GetString()!;
        restored = await _daemon.WaitTorrentAsync(restoredId, t => t.GetProperty("state").GetString() == "Seeding", "the restored torrent seeds");
        Assert.Equal(1, restored.GetProperty("progress").GetDouble());
        Assert.Equal(0, restored.GetProperty("downloaded").GetInt64());
    }

    [Fact]
    public async Task Sigterm_StopsWithinFiveSeconds_ExitingZero()
    {
        (string folder, byte[] torrent) = await _daemon.CreateContentAsync("stopping.bin", 100_000);
        using Process child = ChildDaemon.Start(_daemon.State);
        try
        {
            using HttpClient client = await ConnectAsync(child);
            using HttpResponseMessage added = await client.PostAsync("api/v1/torrents", System.Net.Http.Json.JsonContent.Create(new
            {
                metainfo = Convert.ToBase64String(torrent),
                savePath = folder,
            }), Ct);
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);

            var stopwatch = Stopwatch.StartNew();
            using (Process kill = Process.Start("kill", ["-TERM", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(Ct).WaitAsync(DaemonHarness.Timeout, Ct);
            }

            await child.WaitForExitAsync(Ct).WaitAsync(DaemonHarness.Timeout, Ct);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"stopped in {stopwatch.Elapsed.TotalSeconds:F1} s");
            Assert.True(child.ExitCode == 0, $"exit code {child.ExitCode}: {ChildDaemon.Errors(child)}");
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill();
            }
        }
    }

    /// <summary>Waits for the child daemon's api-endpoint file and returns a client with its token.</summary>
    private async Task<HttpClient> ConnectAsync(Process child)
    {
        string endpointFile = Path.Combine(_daemon.State, "api-endpoint");
        await Poll.UntilAsync(() => File.Exists(endpointFile) || child.HasExited, "the child daemon writes api-endpoint", StartTimeout);
        if (child.HasExited)
        {
            Assert.Fail($"the child daemon exited with {child.ExitCode}: {ChildDaemon.Errors(child)}");
        }

        var client = new HttpClient { BaseAddress = new Uri((await File.ReadAllTextAsync(endpointFile, Ct)).Trim()), Timeout = DaemonHarness.Timeout };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _daemon.Token);
        return client;
    }
}
