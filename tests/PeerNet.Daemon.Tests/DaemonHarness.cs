using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using PeerNet.Creation;
using PeerNet.Daemon.Hosting;

namespace PeerNet.Daemon.Tests;

/// <summary>
/// A daemon in this process on a real Kestrel at 127.0.0.1 (port 0), its node on loopback with no DHT, trackers or
/// local discovery; a seeder node beside it; content and torrents made on the spot; a deadline on every wait.
/// </summary>
internal sealed class DaemonHarness : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly List<PeerNetNode> _seeders = [];

    public DaemonHarness()
    {
        Root = Path.Combine(Path.GetTempPath(), "peernet-daemon-tests", Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Root);
        State = Path.Combine(Root, "state");
    }

    public string Root { get; }

    public string State { get; }

    public WebApplication? App { get; private set; }

    public HttpClient Client { get; private set; } = new();

    public Uri BaseAddress => Client.BaseAddress!;

    public string Token => File.ReadAllText(Path.Combine(State, "api-token")).Trim();

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Settings every test daemon has: loopback, free ports, nothing that reaches the real network.</summary>
    public static Dictionary<string, string?> LoopbackSettings() => new()
    {
        ["Node:ListenAddress"] = "127.0.0.1",
        ["Node:ListenPort"] = "0",
        ["Node:Dht"] = "false",
        ["Node:Trackers"] = "false",
        ["Node:LocalDiscovery"] = "false",
        ["Api:Port"] = "0",
        ["Api:MaxRequestBodyBytes"] = "65536",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>Starts the daemon on <see cref="State"/> (again, after <see cref="StopAsync"/>: a restart).</summary>
    public async Task StartAsync(IDictionary<string, string?>? settings = null)
    {
        Dictionary<string, string?> all = LoopbackSettings();
        foreach ((string key, string? value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        App = PeerNetDaemon.Build(new DaemonLaunch(State) { Overrides = all });
        await App.StartAsync(Ct).WaitAsync(Timeout, Ct);
        Client.Dispose();
        Client = new HttpClient { BaseAddress = new Uri(App.Urls.First()), Timeout = Timeout };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    /// <summary>Stops the daemon as SIGTERM would.</summary>
    public async Task StopAsync()
    {
        if (App is { } app)
        {
            App = null;
            await app.StopAsync(Ct).WaitAsync(Timeout, Ct);
            await app.DisposeAsync();
        }
    }

    /// <summary>A file of random bytes and its .torrent (v1, 16 KiB pieces), in a folder of its own.</summary>
    public async Task<(string Folder, byte[] Torrent)> CreateContentAsync(string name, int size)
    {
        string folder = Path.Combine(Root, "content-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(folder);
        byte[] data = new byte[size];
        Random.Shared.NextBytes(data);
        string file = Path.Combine(folder, name);
        await File.WriteAllBytesAsync(file, data, Ct);
        byte[] torrent = await TorrentCreator.CreateAsync(new TorrentCreationOptions { SourcePath = file, PieceLength = 16 * 1024, Version = Metainfo.TorrentVersion.V1 }, null, Ct);
        return (folder, torrent);
    }

    /// <summary>A node seeding <paramref name="torrent"/> from <paramref name="folder"/> on 127.0.0.1.</summary>
    public async Task<PeerNetNode> StartSeederAsync(byte[] torrent, string folder)
    {
        PeerNetNode seeder = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, Trackers = false },
            cancellationToken: Ct).WaitAsync(Timeout, Ct);
        _seeders.Add(seeder);
        await seeder.AddTorrentAsync(TorrentSource.FromBytes(torrent), new AddTorrentOptions { SavePath = folder, UploadSlots = 0 }, Ct).WaitAsync(Timeout, Ct);
        return seeder;
    }

    /// <summary>Adds a torrent by JSON (base64 metainfo), returning the response.</summary>
    public Task<HttpResponseMessage> AddAsync(byte[] torrent, string savePath, IReadOnlyList<string>? peers = null, bool paused = false) =>
        Client.PostAsJsonAsync("api/v1/torrents", new { metainfo = Convert.ToBase64String(torrent), savePath, peers, paused }, Ct);

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using HttpResponseMessage response = await Client.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    /// <summary>Polls a torrent until <paramref name="condition"/> holds of it, failing with its last state at the deadline.</summary>
    public async Task<JsonElement> WaitTorrentAsync(string id, Func<JsonElement, bool> condition, string what, HttpClient? client = null)
    {
        JsonElement torrent = default;
        await UntilAsync(
            async () =>
            {
                using HttpResponseMessage response = await (client ?? Client).GetAsync($"api/v1/torrents/{id}", Ct);
                torrent = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
                return response.StatusCode == HttpStatusCode.OK && condition(torrent);
            },
            what,
            () => torrent.ToString());
        return torrent;
    }

    /// <summary>Polls an asynchronous condition every 100 ms until it holds, failing at <see cref="Timeout"/> with what was awaited.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, Func<string>? describe = null)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > Timeout)
            {
                Assert.Fail($"not reached within {Timeout.TotalSeconds:F0} s: {what}\n{describe?.Invoke()}");
            }

            await Task.Delay(100, Ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        foreach (PeerNetNode seeder in _seeders)
        {
            await seeder.DisposeAsync().AsTask().WaitAsync(Timeout, Ct);
        }

        Client.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
