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

        using Process child = StartChild(_daemon.State);
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

    /// <summary><c>dotnet peernet.dll daemon</c> on loopback, free ports, no DHT or trackers (settings from the environment, as a user would give them).</summary>
    private static Process StartChild(string state)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])[Path.Combine(AppContext.BaseDirectory, "peernet.dll"), "daemon", "--state", state, "--api", "127.0.0.1:0", "--port", "0"])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PEERNET_Node__ListenAddress"] = "127.0.0.1";
        start.Environment["PEERNET_Node__Dht"] = "false";
        start.Environment["PEERNET_Node__Trackers"] = "false";
        start.Environment["PEERNET_Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        ChildErrors.Add(process, errors);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line && errors.Count < 200)
            {
                errors.Enqueue(line);
            }
        };
        process.BeginOutputReadLine(); // both drained, so a full pipe never blocks it
        process.BeginErrorReadLine();
        return process;
    }

    [Fact]
    public async Task Sigterm_StopsWithinFiveSeconds_ExitingZero()
    {
        (string folder, byte[] torrent) = await _daemon.CreateContentAsync("stopping.bin", 100_000);
        using Process child = StartChild(_daemon.State);
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
            Assert.True(child.ExitCode == 0, $"exit code {child.ExitCode}: {Errors(child)}");
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
            Assert.Fail($"the child daemon exited with {child.ExitCode}: {Errors(child)}");
        }

        var client = new HttpClient { BaseAddress = new Uri((await File.ReadAllTextAsync(endpointFile, Ct)).Trim()), Timeout = DaemonHarness.Timeout };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _daemon.Token);
        return client;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Process, System.Collections.Concurrent.ConcurrentQueue<string>> ChildErrors = [];

    private static string Errors(Process child) => ChildErrors.TryGetValue(child, out var lines) ? string.Join("\n", lines) : "";
}
