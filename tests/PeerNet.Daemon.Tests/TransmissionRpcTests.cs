using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PeerNet.Creation;
using PeerNet.Daemon.Service;

namespace PeerNet.Daemon.Tests;

/// <summary>
/// The Transmission RPC at the protocol level: the 409 session-id handshake, Basic authentication with the token,
/// the answer's shape for each method, and the refusals (unknown method, bad JSON, what PeerNet cannot do).
/// </summary>
public sealed class TransmissionRpcTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Handshake_ARequestWithoutTheSessionId_Gets409WithIt_ThenTheSameRequestSucceeds()
    {
        await using var harness = new DaemonHarness();
        await harness.StartAsync();
        using HttpClient http = NewClient(harness, "anyone", harness.Token);

        using HttpResponseMessage first = await PostAsync(http, """{"method":"session-stats","tag":7}""", session: null);
        Assert.Equal(HttpStatusCode.Conflict, first.StatusCode);
        string id = Assert.Single(first.Headers.GetValues("X-Transmission-Session-Id"));
        Assert.True(id.Length >= 24, $"session id '{id}'");

        using HttpResponseMessage wrong = await PostAsync(http, """{"method":"session-stats"}""", session: "not-" + id);
        Assert.Equal(HttpStatusCode.Conflict, wrong.StatusCode);
        Assert.Equal(id, Assert.Single(wrong.Headers.GetValues("X-Transmission-Session-Id")));

        using HttpResponseMessage ok = await PostAsync(http, """{"method":"session-stats","tag":7}""", session: id);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        JsonElement answer = await ok.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("success", answer.GetProperty("result").GetString());
        Assert.Equal(7, answer.GetProperty("tag").GetInt32());

        // The trailing slash transmission-remote uses is the same endpoint.
        using HttpResponseMessage slash = await PostAsync(http, """{"method":"session-stats"}""", session: id, path: "transmission/rpc/");
        Assert.Equal(HttpStatusCode.OK, slash.StatusCode);
    }

    [Fact]
    public async Task Auth_NoCredentialsGetAChallenge_WrongOnesAre401_AndNeitherLearnsTheSessionId()
    {
        await using var harness = new DaemonHarness();
        await harness.StartAsync();
        var rpc = new RpcClient(NewClient(harness, "u", harness.Token));
        string id = await rpc.HandshakeAsync();

        using HttpClient anonymous = NewClient(harness, null, null);
        using HttpResponseMessage none = await PostAsync(anonymous, """{"method":"session-get"}""", id);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.StartsWith("Basic", none.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.False(none.Headers.Contains("X-Transmission-Session-Id"));

        foreach (HttpClient wrong in new[] { NewClient(harness, "u", "wrong-token-wrong-token"), NewClient(harness, "u", null), BearerClient(harness, "nope") })
        {
            using (wrong)
            {
                using HttpResponseMessage refused = await PostAsync(wrong, """{"method":"session-get"}""", id);
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
                Assert.False(refused.Headers.Contains("X-Transmission-Session-Id"));
            }
        }

        // Any user name will do; so does the bearer token the REST API takes.
        Assert.Equal("success", (await new RpcClient(NewClient(harness, "someone-else", harness.Token)).CallAsync("session-stats")).GetProperty("result").GetString());
        Assert.Equal("success", (await new RpcClient(BearerClient(harness, harness.Token)).CallAsync("session-stats")).GetProperty("result").GetString());
    }

    [Fact]
    public async Task Refusals_UnknownMethod_NoMethod_BadJson_WrongHost_AndAnOversizeBody()
    {
        await using var harness = new DaemonHarness();
        await harness.StartAsync();
        var rpc = new RpcClient(NewClient(harness, "u", harness.Token));

        JsonElement unknown = await rpc.CallAsync("torrent-frobnicate", tag: 3);
        Assert.Equal("method name not recognized", unknown.GetProperty("result").GetString());
        Assert.Equal(3, unknown.GetProperty("tag").GetInt32());
        Assert.Equal(JsonValueKind.Object, unknown.GetProperty("arguments").ValueKind);

        (HttpStatusCode status, JsonElement noMethod) = await rpc.RawAsync("""{"arguments":{}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("no method name", noMethod.GetProperty("result").GetString());

        (status, JsonElement bad) = await rpc.RawAsync("""{"method": "session-get",""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("malformed JSON", bad.GetProperty("result").GetString(), StringComparison.Ordinal);

        (status, JsonElement array) = await rpc.RawAsync("[1,2]");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("malformed request", array.GetProperty("result").GetString(), StringComparison.Ordinal);

        JsonElement badIds = await rpc.CallAsync("torrent-get", new { fields = new[] { "id" }, ids = new object[] { true } });
        Assert.Contains("'ids'", badIds.GetProperty("result").GetString(), StringComparison.Ordinal);

        using var rebinding = new HttpRequestMessage(HttpMethod.Post, "transmission/rpc") { Content = new StringContent("""{"method":"session-get"}""") };
        rebinding.Headers.Host = "evil.example";
        rebinding.Headers.Add("X-Transmission-Session-Id", rpc.SessionId);
        using HttpResponseMessage misdirected = await rpc.Http.SendAsync(rebinding, Ct);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, misdirected.StatusCode);

        string huge = "{\"method\":\"torrent-add\",\"arguments\":{\"metainfo\":\"" + new string('A', 100_000) + "\"}}";
        (status, _) = await rpc.RawAsync(huge, parse: false);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
    }

    [Fact]
    public async Task Session_ShowsTheEncryptionUtpAndPortMappingTheSettingsGaveTheNode()
    {
        await using var harness = new DaemonHarness();
        await harness.StartAsync(new Dictionary<string, string?>
        {
            ["Node:Encryption"] = "forced",
            ["Node:EncryptionLevel"] = "RC4",
            ["Node:PreferRc4"] = "true",
            ["Node:Utp"] = "off",
            ["Node:PortMapping"] = "none",
            ["Node:Holepunch"] = "false",
        });
        PeerNetNodeOptions options = harness.App!.Services.GetRequiredService<NodeService>().Node.Options;
        Assert.Equal(new EncryptionOptions { Policy = EncryptionPolicy.Forced, Level = EncryptionLevel.Rc4, PreferRc4 = true }, options.Encryption);
        Assert.False(options.Utp.Outgoing);
        Assert.False(options.Utp.Incoming);
        Assert.True(options.OutgoingTcp);
        Assert.False(options.PortMapping.Enabled);
        Assert.False(options.Holepunch);

        var rpc = new RpcClient(NewClient(harness, "u", harness.Token));
        JsonElement session = Arguments(await rpc.CallAsync("session-get", new { fields = new[] { "encryption", "port-forwarding-enabled", "utp-enabled" } }));
        Assert.Equal("required", session.GetProperty("encryption").GetString());
        Assert.False(session.GetProperty("port-forwarding-enabled").GetBoolean());
        Assert.False(session.GetProperty("utp-enabled").GetBoolean());
        Assert.Equal("tolerated", Transmission.TransmissionMethods.EncryptionWord(EncryptionPolicy.Disabled));

        // The REST API shows them beside the node's other settings, and refuses to change them while the node runs.
        JsonElement settings = (await harness.GetJsonAsync("api/v1/settings")).GetProperty("node");
        Assert.Equal("forced", settings.GetProperty("encryption").GetString());
        Assert.Equal("RC4", settings.GetProperty("encryptionLevel").GetString());
        Assert.True(settings.GetProperty("preferRc4").GetBoolean());
        Assert.Equal("off", settings.GetProperty("utp").GetString());
        Assert.Equal("none", settings.GetProperty("portMapping").GetString());
        Assert.False(settings.GetProperty("holepunch").GetBoolean());
        using HttpResponseMessage patch = await harness.Client.PatchAsync("api/v1/settings", new StringContent("""{"node": {"utp": "on"}}""", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, patch.StatusCode);
        Assert.Contains("node.utp", await patch.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_GetShowsTheNode_SetAcceptsOnlyWhatItIs_StatsCountTorrents_FreeSpaceIsTheDisks_PortTestSaysItCannot()
    {
        await using var harness = new DaemonHarness();
        await harness.StartAsync();
        NodeService node = harness.App!.Services.GetRequiredService<NodeService>();
        var rpc = new RpcClient(NewClient(harness, "u", harness.Token));

        JsonElement session = Arguments(await rpc.CallAsync("session-get"));
        Assert.Equal(16, session.GetProperty("rpc-version").GetInt32());
        Assert.StartsWith("PeerNet ", session.GetProperty("version").GetString(), StringComparison.Ordinal);
        Assert.Equal(node.Node.ListenPort, session.GetProperty("peer-port").GetInt32());
        Assert.Equal(node.DownloadFolder, session.GetProperty("download-dir").GetString());
        Assert.False(session.GetProperty("dht-enabled").GetBoolean()); // the harness turns the DHT off
        Assert.Equal(rpc.SessionId, session.GetProperty("session-id").GetString());
        Assert.Equal(1000, session.GetProperty("units").GetProperty("speed-bytes").GetInt32());
        Assert.Equal("preferred", session.GetProperty("encryption").GetString()); // the default: MSE enabled
        Assert.True(session.GetProperty("port-forwarding-enabled").GetBoolean()); // the settings ask for it (a loopback node never maps)
        Assert.True(session.GetProperty("utp-enabled").GetBoolean());

        JsonElement some = Arguments(await rpc.CallAsync("session-get", new { fields = new[] { "peer-port", "version" } }));
        Assert.Equal(["peer-port", "version"], some.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));

        Assert.Equal("success", (await rpc.CallAsync("session-set", new Dictionary<string, object> { ["dht-enabled"] = false, ["peer-port"] = node.Node.ListenPort })).GetProperty("result").GetString());
        string refused = (await rpc.CallAsync("session-set", new Dictionary<string, object> { ["dht-enabled"] = true, ["speed-limit-down"] = 100, ["peer-port"] = node.Node.ListenPort })).GetProperty("result").GetString()!;
        Assert.Contains("dht-enabled", refused, StringComparison.Ordinal);
        Assert.Equal("success", (await rpc.CallAsync("session-set", new Dictionary<string, object> { ["encryption"] = "preferred" })).GetProperty("result").GetString());
        string encryption = (await rpc.CallAsync("session-set", new Dictionary<string, object> { ["encryption"] = "required", ["port-forwarding-enabled"] = false })).GetProperty("result").GetString()!;
        Assert.Contains("encryption, port-forwarding-enabled", encryption, StringComparison.Ordinal);
        Assert.Equal(EncryptionPolicy.Enabled, node.Node.Options.Encryption.Policy);
        Assert.DoesNotContain("peer-port", refused, StringComparison.Ordinal);
        Assert.DoesNotContain("speed-limit-down", refused, StringComparison.Ordinal); // that one changes at run time...
        Assert.False(node.Node.Options.Dht);
        Assert.Equal(0, node.Node.Options.DownloadRateLimit); // ...but not with a refused request: nothing changed

        // The node's speed limits change at once (transmission-remote -d 100 sends both keys) and are kept in settings.json.
        Assert.Equal("success", (await rpc.CallAsync("session-set", new Dictionary<string, object> { ["speed-limit-down"] = 100, ["speed-limit-down-enabled"] = true })).GetProperty("result").GetString());
        Assert.Equal(100_000, node.Node.Options.DownloadRateLimit);
        JsonElement limited = Arguments(await rpc.CallAsync("session-get", new { fields = new[] { "speed-limit-down", "speed-limit-down-enabled" } }));
        Assert.Equal(100, limited.GetProperty("speed-limit-down").GetInt32());
        Assert.True(limited.GetProperty("speed-limit-down-enabled").GetBoolean());
        Assert.Contains("\"DownloadRateLimit\": 100000", await File.ReadAllTextAsync(Path.Combine(harness.State, "settings.json"), Ct), StringComparison.Ordinal);
        Assert.Equal("success", (await rpc.CallAsync("session-set", new Dictionary<string, object> { ["speed-limit-down-enabled"] = false })).GetProperty("result").GetString());
        Assert.Equal(0, node.Node.Options.DownloadRateLimit);

        (string folder, byte[] torrent) = await harness.CreateContentAsync("stats.bin", 40_000);
        await rpc.AddAsync(torrent, folder, paused: true);
        JsonElement stats = Arguments(await rpc.CallAsync("session-stats"));
        Assert.Equal(1, stats.GetProperty("torrentCount").GetInt32());
        Assert.Equal(1, stats.GetProperty("pausedTorrentCount").GetInt32());
        Assert.Equal(0, stats.GetProperty("activeTorrentCount").GetInt32());
        Assert.True(stats.GetProperty("current-stats").GetProperty("secondsActive").GetInt64() >= 0);

        JsonElement space = Arguments(await rpc.CallAsync("free-space", new { path = harness.Root }));
        Assert.Equal(harness.Root, space.GetProperty("path").GetString());
        (long available, long total) = await StatvfsAsync(harness.Root);
        Assert.True(Math.Abs(space.GetProperty("size-bytes").GetInt64() - available) < 256L * 1024 * 1024, $"free-space {space} against stat -f's {available}");
        Assert.Equal(total, space.GetProperty("total_size").GetInt64());
        Assert.Contains("not an existing folder", (await rpc.CallAsync("free-space", new { path = Path.Combine(harness.Root, "nowhere") })).GetProperty("result").GetString(), StringComparison.Ordinal);

        Assert.StartsWith("port-test: PeerNet cannot test its port from outside", (await rpc.CallAsync("port-test")).GetProperty("result").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Torrents_AddGetTableStopStartSetFilesVerifyRemove_WithIdsByNumberHashAndRecentlyActive()
    {
        await using var harness = new DaemonHarness();
        await harness.StartAsync();
        NodeService node = harness.App!.Services.GetRequiredService<NodeService>();
        var rpc = new RpcClient(NewClient(harness, "u", harness.Token));
        (string folder, byte[] torrent) = await CreateFolderTorrentAsync(harness, [40_000, 30_000, 50_000]);
        PeerNetNode seeder = await harness.StartSeederAsync(torrent, folder);

        JsonElement added = Arguments(await rpc.CallAsync("torrent-add", new { metainfo = Convert.ToBase64String(torrent), paused = true })).GetProperty("torrent-added");
        long id = added.GetProperty("id").GetInt64();
        string hash = added.GetProperty("hashString").GetString()!;
        Assert.Equal("three", added.GetProperty("name").GetString());
        JsonElement duplicate = Arguments(await rpc.CallAsync("torrent-add", new { metainfo = Convert.ToBase64String(torrent) })).GetProperty("torrent-duplicate");
        Assert.Equal(id, duplicate.GetProperty("id").GetInt64());
        Assert.Single(node.Node.Torrents);

        JsonElement paused = await rpc.TorrentAsync(id, "id", "status", "hashString", "totalSize", "sizeWhenDone", "files", "wanted", "priorities", "eta", "notAField");
        Assert.Equal(0, paused.GetProperty("status").GetInt32());
        Assert.Equal(hash, paused.GetProperty("hashString").GetString());
        Assert.Equal(120_000, paused.GetProperty("totalSize").GetInt64());
        Assert.Equal(["three/a.bin", "three/b.bin", "three/c.bin"], paused.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        Assert.Equal([1, 1, 1], paused.GetProperty("wanted").EnumerateArray().Select(w => w.GetInt32()));
        Assert.False(paused.TryGetProperty("notAField", out _));

        // Skip the middle file and raise the first before starting: those bytes are never asked for.
        Assert.Equal("success", (await rpc.CallAsync("torrent-set", new Dictionary<string, object> { ["ids"] = new[] { hash }, ["files-unwanted"] = new[] { 1 }, ["priority-high"] = new[] { 0 } })).GetProperty("result").GetString());
        JsonElement set = await rpc.TorrentAsync(id, "wanted", "priorities", "sizeWhenDone", "fileStats");
        Assert.Equal([1, 0, 1], set.GetProperty("wanted").EnumerateArray().Select(w => w.GetInt32()));
        Assert.Equal([1, 0, 0], set.GetProperty("priorities").EnumerateArray().Select(w => w.GetInt32()));
        Assert.False(set.GetProperty("fileStats")[1].GetProperty("wanted").GetBoolean());
        Assert.Contains("labels", (await rpc.CallAsync("torrent-set", new Dictionary<string, object> { ["ids"] = id, ["labels"] = new[] { "x" } })).GetProperty("result").GetString(), StringComparison.Ordinal);
        Assert.Contains("numbered 0 to 2", (await rpc.CallAsync("torrent-set", new Dictionary<string, object> { ["ids"] = id, ["files-wanted"] = new[] { 3 } })).GetProperty("result").GetString(), StringComparison.Ordinal);

        Assert.Equal("success", (await rpc.CallAsync("torrent-start", new { ids = new[] { id } })).GetProperty("result").GetString());
        seeder.Torrents[0].AddPeers([node.Node.LocalEndPoint]);
        JsonElement done = await rpc.WaitTorrentAsync(id, t => t.GetProperty("leftUntilDone").GetInt64() == 0 && t.GetProperty("status").GetInt32() == 6, "the wanted files downloaded, the torrent seeding", "leftUntilDone", "sizeWhenDone", "percentDone", "status", "files", "eta", "doneDate");
        Assert.Equal(90_000, done.GetProperty("sizeWhenDone").GetInt64());
        Assert.Equal(1.0, done.GetProperty("percentDone").GetDouble());
        Assert.Equal(-1, done.GetProperty("eta").GetInt32());
        Assert.Equal(40_000, done.GetProperty("files")[0].GetProperty("bytesCompleted").GetInt64());
        Assert.Equal(50_000, done.GetProperty("files")[2].GetProperty("bytesCompleted").GetInt64());
        Assert.True(done.GetProperty("files")[1].GetProperty("bytesCompleted").GetInt64() < 30_000);

        // The table format: a row of field names, then one row per torrent.
        JsonElement table = Arguments(await rpc.CallAsync("torrent-get", new { fields = new[] { "id", "name" }, format = "table" })).GetProperty("torrents");
        Assert.Equal(["id", "name"], table[0].EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(id, table[1][0].GetInt64());
        Assert.Equal("three", table[1][1].GetString());

        // A magnet link as 'filename' is added (a path is not read); its hash sorts first, so after a restart the node,
        // which loads its torrents in hash order, numbers it 1: the RPC's numbers stay as they were.
        string magnet = $"magnet:?xt=urn:btih:{new string('0', 39)}1&dn=elsewhere&x.pe=127.0.0.1:9"; // a peer to ask (the DHT is off here)
        JsonElement magnetAdded = Arguments(await rpc.CallAsync("torrent-add", new { filename = magnet, paused = true })).GetProperty("torrent-added");
        Assert.Equal("elsewhere", magnetAdded.GetProperty("name").GetString());
        long magnetId = magnetAdded.GetProperty("id").GetInt64();
        Assert.NotEqual(id, magnetId);
        Assert.Contains("only when it is a magnet link", (await rpc.CallAsync("torrent-add", new { filename = "/etc/passwd" })).GetProperty("result").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("invalid or corrupt torrent file", (await rpc.CallAsync("torrent-add", new { metainfo = Convert.ToBase64String("d4:infoi1ee"u8.ToArray()) })).GetProperty("result").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, node.Node.Torrents.Count);

        // The catalog keeps the file choices, the RPC its numbers: after a restart the middle file is still skipped.
        await harness.StopAsync();
        await harness.StartAsync();
        rpc = new RpcClient(NewClient(harness, "u", harness.Token));
        node = harness.App!.Services.GetRequiredService<NodeService>();
        Assert.Equal(hash, NodeService.IdOf(node.Node.Torrents[1])); // the node's own numbering changed
        JsonElement restarted = Arguments(await rpc.CallAsync("torrent-get", new { fields = new[] { "id", "hashString" } })).GetProperty("torrents");
        Assert.Equal(magnetId, restarted.EnumerateArray().Single(t => t.GetProperty("hashString").GetString() != hash).GetProperty("id").GetInt64());
        long restartedId = restarted.EnumerateArray().Single(t => t.GetProperty("hashString").GetString() == hash).GetProperty("id").GetInt64();
        Assert.Equal(id, restartedId);
        Assert.Equal([1, 0, 1], (await rpc.TorrentAsync(restartedId, "wanted")).GetProperty("wanted").EnumerateArray().Select(w => w.GetInt32()));

        Assert.Equal("success", (await rpc.CallAsync("torrent-stop", new { ids = restartedId })).GetProperty("result").GetString());
        Assert.Equal(0, (await rpc.TorrentAsync(restartedId, "status")).GetProperty("status").GetInt32());
        Assert.Equal("success", (await rpc.CallAsync("torrent-verify", new { ids = new[] { restartedId } })).GetProperty("result").GetString());

        // Removed: gone from the list, named in recently-active's "removed", data kept unless asked.
        Assert.Equal("success", (await rpc.CallAsync("torrent-remove", new { ids = new[] { magnetId } })).GetProperty("result").GetString());
        JsonElement recent = Arguments(await rpc.CallAsync("torrent-get", new { fields = new[] { "id" }, ids = "recently-active" }));
        Assert.Contains(magnetId, recent.GetProperty("removed").EnumerateArray().Select(r => r.GetInt64()));
        string downloaded = Path.Combine(node.DownloadFolder, "three", "a.bin");
        Assert.True(File.Exists(downloaded));
        Assert.Equal("success", (await rpc.CallAsync("torrent-remove", new Dictionary<string, object> { ["ids"] = restartedId, ["delete-local-data"] = true })).GetProperty("result").GetString());
        Assert.False(File.Exists(downloaded));
        Assert.Empty(Arguments(await rpc.CallAsync("torrent-get", new { fields = new[] { "id" } })).GetProperty("torrents").EnumerateArray());
    }

    private static async Task<(string Folder, byte[] Torrent)> CreateFolderTorrentAsync(DaemonHarness harness, int[] sizes)
    {
        string folder = Path.Combine(harness.Root, "content-three");
        string source = Path.Combine(folder, "three");
        Directory.CreateDirectory(source);
        for (int i = 0; i < sizes.Length; i++)
        {
            byte[] data = new byte[sizes[i]];
            Random.Shared.NextBytes(data);
            await File.WriteAllBytesAsync(Path.Combine(source, $"{(char)('a' + i)}.bin"), data, Ct);
        }

        byte[] torrent = await TorrentCreator.CreateAsync(new TorrentCreationOptions { SourcePath = source, PieceLength = 16 * 1024, Version = Metainfo.TorrentVersion.V1 }, null, Ct);
        return (folder, torrent);
    }

    /// <summary>statvfs(3) of a folder as coreutils' <c>stat -f</c> reads it: bytes free for users, and the file system's size.</summary>
    private static async Task<(long Available, long Total)> StatvfsAsync(string path)
    {
        ProcessResult stat = await ProcessRunner.RunAsync("stat", ["-f", "-c", "%a %b %S", path], DaemonHarness.Timeout, cancellationToken: Ct);
        long[] n = [.. stat.StandardOutput.Split(' ', StringSplitOptions.TrimEntries).Select(long.Parse)];
        return (n[0] * n[2], n[1] * n[2]);
    }

    private static JsonElement Arguments(JsonElement answer)
    {
        Assert.True(answer.GetProperty("result").GetString() == "success", $"not a success: {answer}");
        return answer.GetProperty("arguments");
    }

    private static HttpClient NewClient(DaemonHarness harness, string? user, string? password)
    {
        var http = new HttpClient { BaseAddress = harness.BaseAddress, Timeout = DaemonHarness.Timeout };
        if (user is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }

        return http;
    }

    private static HttpClient BearerClient(DaemonHarness harness, string token)
    {
        var http = new HttpClient { BaseAddress = harness.BaseAddress, Timeout = DaemonHarness.Timeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string body, string? session, string path = "transmission/rpc")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (session is not null)
        {
            request.Headers.Add("X-Transmission-Session-Id", session);
        }

        return http.SendAsync(request, Ct);
    }

    /// <summary>A Transmission RPC client as the spec describes one: it learns the session id from a 409 and sends it again.</summary>
    private sealed class RpcClient(HttpClient http)
    {
        public HttpClient Http { get; } = http;

        public string SessionId { get; private set; } = "";

        public async Task<string> HandshakeAsync()
        {
            using HttpResponseMessage response = await PostAsync(Http, """{"method":"session-stats"}""", null);
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            SessionId = response.Headers.GetValues("X-Transmission-Session-Id").Single();
            return SessionId;
        }

        public async Task<(HttpStatusCode Status, JsonElement Answer)> RawAsync(string body, bool parse = true)
        {
            if (SessionId.Length == 0)
            {
                await HandshakeAsync();
            }

            using HttpResponseMessage response = await PostAsync(Http, body, SessionId);
            return (response.StatusCode, parse ? await response.Content.ReadFromJsonAsync<JsonElement>(Ct) : default);
        }

        public async Task<JsonElement> CallAsync(string method, object? arguments = null, int? tag = null)
        {
            string body = JsonSerializer.Serialize(new Dictionary<string, object?> { ["method"] = method, ["arguments"] = arguments ?? new { }, ["tag"] = tag });
            (HttpStatusCode status, JsonElement answer) = await RawAsync(body);
            Assert.Equal(HttpStatusCode.OK, status);
            return answer;
        }

        public async Task AddAsync(byte[] torrent, string folder, bool paused)
        {
            JsonElement answer = await CallAsync("torrent-add", new Dictionary<string, object> { ["metainfo"] = Convert.ToBase64String(torrent), ["download-dir"] = folder, ["paused"] = paused });
            Assert.True(Arguments(answer).TryGetProperty("torrent-added", out _), answer.ToString());
        }

        public async Task<JsonElement> TorrentAsync(long id, params string[] fields)
        {
            JsonElement torrents = Arguments(await CallAsync("torrent-get", new { ids = new[] { id }, fields })).GetProperty("torrents");
            return Assert.Single(torrents.EnumerateArray());
        }

        public async Task<JsonElement> WaitTorrentAsync(long id, Func<JsonElement, bool> condition, string what, params string[] fields)
        {
            JsonElement torrent = default;
            await DaemonHarness.UntilAsync(
                async () =>
                {
                    torrent = await TorrentAsync(id, fields);
                    return condition(torrent);
                },
                what,
                () => torrent.ToString());
            return torrent;
        }
    }
}
