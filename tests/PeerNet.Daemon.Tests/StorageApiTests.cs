using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using PeerNet.Daemon.Hosting;
using PeerNet.Daemon.Service;
using PeerNet.Grid;
using PeerNet.Libp2p;

namespace PeerNet.Daemon.Tests;

/// <summary>
/// The daemon's storage API (<c>/api/v1/storage</c>) with an in-process PeerNet node on 127.0.0.1 lending space beside
/// it: the <c>Storage:Share</c> setting, a file put through the API and read back byte for byte, checked, and the
/// daemon lending its own space to the other node; and every refusal a problem.
/// </summary>
public sealed class StorageApiTests : IAsyncLifetime
{
    private const int MaxUpload = 300 * 1024;
    private const string StoreProtocol = "/peernet/store/1.0.0";
    private readonly DaemonHarness _daemon = new();
    private readonly List<PeerNetNode> _nodes = [];

    public ValueTask InitializeAsync() => new(_daemon.StartAsync(new Dictionary<string, string?>
    {
        ["Storage:Share"] = "8 MiB",
        ["Storage:MaxUpload"] = "300K",
    }));

    public async ValueTask DisposeAsync()
    {
        foreach (PeerNetNode node in _nodes)
        {
            await node.DisposeAsync().AsTask().WaitAsync(DaemonHarness.Timeout, Ct);
        }

        await _daemon.DisposeAsync();
    }

    private static CancellationToken Ct => DaemonHarness.Ct;

    /// <summary>A node lending 8 MiB, connected to the daemon, which has seen it offer the store protocol.</summary>
    private async Task<PeerNetNode> StartProviderAsync()
    {
        string state = Path.Combine(_daemon.Root, "provider-" + _nodes.Count);
        PeerNetNode node = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false, StateDirectory = state, StorageShareBytes = 8 << 20 },
            cancellationToken: Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        _nodes.Add(node);
        JsonElement self = await _daemon.GetJsonAsync("api/v1/libp2p");
        await node.Libp2p.ConnectAsync(Multiaddr.Parse(self.GetProperty("listenAddresses")[0].GetString()!), Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        string id = node.Libp2p.PeerId.ToString();
        await DaemonHarness.UntilAsync(
            async () => (await _daemon.GetJsonAsync("api/v1/libp2p/peers")).EnumerateArray().Any(p =>
                p.GetProperty("peerId").GetString() == id && p.GetProperty("protocols").EnumerateArray().Any(x => x.GetString() == StoreProtocol)),
            "the daemon sees the provider offer " + StoreProtocol);
        await DaemonHarness.UntilAsync(
            () => Task.FromResult(node.Libp2p.ConnectedPeers.Any(p => p.Protocols.Contains(StoreProtocol))),
            "the provider sees the daemon offer " + StoreProtocol);
        return node;
    }

    [Theory]
    [InlineData("50 GiB", 50L << 30)]
    [InlineData("500M", 500L << 20)]
    [InlineData("123456", 123456L)]
    [InlineData("0", 0L)]
    public void ShareSetting_TakesSizesAsStoreServeDoes(string text, long bytes)
    {
        var settings = new DaemonSettings { Storage = { Share = text } };
        Assert.Empty(settings.Validate());
        Assert.Equal(bytes, settings.Storage.ShareBytes);
    }

    [Theory]
    [InlineData("fifty gigs")]
    [InlineData("-5G")]
    [InlineData("1.5G")]
    [InlineData("99999999999G")]
    public void BadShareSetting_StopsTheStart_NamingIt(string text)
    {
        Dictionary<string, string?> settings = DaemonHarness.LoopbackSettings();
        settings["Storage:Share"] = text;
        var refused = Assert.Throws<OptionsValidationException>(() => PeerNetDaemon.Build(new DaemonLaunch(Path.Combine(_daemon.Root, "other")) { Overrides = settings }));
        string failure = Assert.Single(refused.Failures);
        Assert.Contains("Storage:Share", failure, StringComparison.Ordinal);
        Assert.Contains("not a size", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void AllowedPeersSetting_TakesPeerIds_AndNamesOneThatIsNot()
    {
        string peer = PeerNet.Libp2p.Libp2pPeerId.FromEd25519PublicKey(new byte[32]).ToString();
        Assert.Empty(new DaemonSettings { Storage = { Share = "1G", AllowedPeers = [peer] } }.Validate());
        string problem = Assert.Single(new DaemonSettings { Storage = { AllowedPeers = [peer, "12D3KooWnot-a-peer"] } }.Validate());
        Assert.Contains("Storage:AllowedPeers '12D3KooWnot-a-peer' is not a libp2p peer ID", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShareSetting_ReachesTheNode_AndNeedsARestartToChange()
    {
        JsonElement storage = await _daemon.GetJsonAsync("api/v1/storage");
        Assert.Equal(8L << 20, storage.GetProperty("quotaBytes").GetInt64());
        Assert.Equal(0, storage.GetProperty("lentBytes").GetInt64());
        Assert.Equal(MaxUpload, storage.GetProperty("maxUploadBytes").GetInt64());
        Assert.Equal("8 MiB", (await _daemon.GetJsonAsync("api/v1/settings")).GetProperty("storage").GetProperty("share").GetString());

        using HttpResponseMessage set = await _daemon.Client.PatchAsync("api/v1/settings", new StringContent("""{"storage": {"share": "1G"}}""", Encoding.UTF8, "application/json"), Ct);
        await ApiSecurityTests.AssertProblemAsync(set, HttpStatusCode.BadRequest, "needs a restart");
        Assert.Equal(8L << 20, (await _daemon.GetJsonAsync("api/v1/storage")).GetProperty("quotaBytes").GetInt64());
    }

    [Fact]
    public async Task Put_List_Get_Check_RoundTrip()
    {
        PeerNetNode provider = await StartProviderAsync();
        byte[] content = new byte[200_000];
        Random.Shared.NextBytes(content);

        // Put: a raw body, named; 2-of-3 (every share lands on the one provider there is).
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using HttpResponseMessage put = await _daemon.Client.PostAsync("api/v1/storage/files?name=report.bin&shares=2-of-3", body, Ct);
        string putText = await put.Content.ReadAsStringAsync(Ct);
        Assert.True(put.StatusCode == HttpStatusCode.Created, putText);
        JsonElement stored = JsonDocument.Parse(putText).RootElement;
        string capability = stored.GetProperty("capability").GetString()!;
        Assert.True(GridCapability.TryParse(capability, out GridCapability? parsed, out string? error), error);
        Assert.True(parsed!.CanRead);
        Assert.Equal(content.Length, parsed.Size);
        Assert.Null(put.Headers.Location); // the capability is a secret: not in a URL
        Assert.Equal(3, provider.Storage.SharesHeld);
        Assert.True(provider.Storage.LentBytes > content.Length, "the provider holds the shares");

        // List: the file, its name, k-of-n and healthy shares.
        JsonElement listed = (await _daemon.GetJsonAsync("api/v1/storage/files")).EnumerateArray().Single();
        Assert.Equal(capability, listed.GetProperty("capability").GetString());
        Assert.Equal(parsed.ToVerify().ToString(), listed.GetProperty("verifyCapability").GetString());
        Assert.Equal("report.bin", listed.GetProperty("name").GetString());
        Assert.Equal(content.Length, listed.GetProperty("size").GetInt64());
        Assert.Equal(2, listed.GetProperty("k").GetInt32());
        Assert.Equal(3, listed.GetProperty("n").GetInt32());
        Assert.Equal(3, listed.GetProperty("healthyShares").GetInt32());
        Assert.Equal(1, listed.GetProperty("providers").GetInt32());
        Assert.Equal(1, (await _daemon.GetJsonAsync("api/v1/storage")).GetProperty("files").GetInt32());

        // Get: byte-identical, with the name.
        using HttpResponseMessage got = await _daemon.Client.PostAsJsonAsync("api/v1/storage/get", new { capability }, Ct);
        Assert.Equal(HttpStatusCode.OK, got.StatusCode);
        Assert.Equal("application/octet-stream", got.Content.Headers.ContentType?.MediaType);
        Assert.Equal("report.bin", got.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Equal(content, await got.Content.ReadAsByteArrayAsync(Ct));

        // Check, with the verify capability: every share healthy.
        using HttpResponseMessage check = await _daemon.Client.PostAsJsonAsync("api/v1/storage/check", new { capability = parsed.ToVerify().ToString(), repair = true }, Ct);
        Assert.Equal(HttpStatusCode.OK, check.StatusCode);
        JsonElement health = await check.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal([0, 1, 2], health.GetProperty("healthyShares").EnumerateArray().Select(s => s.GetInt32()));
        Assert.Empty(health.GetProperty("repairedShares").EnumerateArray());
        Assert.True(health.GetProperty("healthy").GetBoolean());
        Assert.True(health.GetProperty("recoverable").GetBoolean());

        // A multipart upload too, its name from the part.
        using var form = new MultipartFormDataContent { { new ByteArrayContent("second file"u8.ToArray()), "file", "notes.txt" } };
        using HttpResponseMessage second = await _daemon.Client.PostAsync("api/v1/storage/files?shares=1-of-2", form, Ct);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        JsonElement secondFile = await second.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("notes.txt", secondFile.GetProperty("name").GetString());
        using HttpResponseMessage secondGot = await _daemon.Client.PostAsJsonAsync("api/v1/storage/get", new { capability = secondFile.GetProperty("capability").GetString() }, Ct);
        Assert.Equal("second file", await secondGot.Content.ReadAsStringAsync(Ct));
        Assert.Equal(["notes.txt", "report.bin"], (await _daemon.GetJsonAsync("api/v1/storage/files")).EnumerateArray().Select(f => f.GetProperty("name").GetString()));

        // The provider gone: the check says so, and a get is a problem, not a broken stream.
        await provider.DisposeAsync();
        _nodes.Remove(provider);
        using HttpResponseMessage lost = await _daemon.Client.PostAsJsonAsync("api/v1/storage/get", new { capability }, Ct);
        await ApiSecurityTests.AssertProblemAsync(lost, HttpStatusCode.BadGateway, "not retrievable");
        JsonElement after = await (await _daemon.Client.PostAsJsonAsync("api/v1/storage/check", new { capability }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.False(after.GetProperty("recoverable").GetBoolean());
        Assert.Equal(0, (await _daemon.GetJsonAsync("api/v1/storage/files")).EnumerateArray().Last().GetProperty("healthyShares").GetInt32());
    }

    [Fact]
    public async Task TheDaemonLends_WhatAnotherNodePuts()
    {
        PeerNetNode owner = await StartProviderAsync();
        byte[] content = new byte[50_000];
        Random.Shared.NextBytes(content);
        GridCapability capability = await owner.Storage.PutAsync(new MemoryStream(content), new GridPutOptions { K = 1, N = 2 }, Ct).WaitAsync(DaemonHarness.Timeout, Ct);

        JsonElement storage = await _daemon.GetJsonAsync("api/v1/storage");
        Assert.Equal(2, storage.GetProperty("sharesHeld").GetInt32());
        Assert.InRange(storage.GetProperty("lentBytes").GetInt64(), content.Length, 8L << 20);
        Assert.Equal(0, storage.GetProperty("files").GetInt32()); // put by the other node, not this one
        using var back = new MemoryStream();
        await owner.Storage.GetAsync(capability, back, Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        Assert.Equal(content, back.ToArray());
    }

    [Fact]
    public async Task BadInput_IsAProblem_AndNothingWithoutTheToken()
    {
        const string Malformed = "URI:PEERNET-CHK:not-base32:xyz:3:10:5";
        using (HttpResponseMessage r = await _daemon.Client.PostAsJsonAsync("api/v1/storage/get", new { capability = Malformed }, Ct))
        {
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.BadRequest, "not a storage capability");
        }

        using (HttpResponseMessage r = await _daemon.Client.PostAsJsonAsync("api/v1/storage/check", new { capability = "magnet:?xt=urn:btih:00" }, Ct))
        {
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.BadRequest, "not a storage capability");
        }

        using (HttpResponseMessage r = await _daemon.Client.PostAsJsonAsync("api/v1/storage/check", new { repair = true }, Ct))
        {
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.BadRequest, "capability needed");
        }

        GridCapability verify = GridCapability.ForRead(new byte[32], new byte[32], 3, 10, 1000).ToVerify();
        using (HttpResponseMessage r = await _daemon.Client.PostAsJsonAsync("api/v1/storage/get", new { capability = verify.ToString() }, Ct))
        {
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.BadRequest, "not a read capability");
        }

        // Over Storage:MaxUpload: refused from its Content-Length, and when sent without one (chunked), by counting.
        // (Each on a connection of its own: the daemon closes a connection whose body it refused unread.)
        using (HttpResponseMessage r = await SendOnceAsync("api/v1/storage/files?name=big", Raw(new byte[MaxUpload + 1])))
        {
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.RequestEntityTooLarge, "over the limit");
        }

        using (var chunked = new StreamContent(new MemoryStream(new byte[MaxUpload + 1])))
        {
            chunked.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using HttpResponseMessage r = await SendOnceAsync("api/v1/storage/files", chunked, chunkedBody: true);
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.RequestEntityTooLarge, "over the limit");
        }

        // The upload limit is that endpoint's alone: the rest of the API keeps Api:MaxRequestBodyBytes (64 KiB here).
        using (HttpResponseMessage r = await SendOnceAsync("api/v1/storage/check", Raw(new byte[100_000])))
        {
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.RequestEntityTooLarge, "over the limit");
        }

        using (HttpResponseMessage r = await _daemon.Client.PostAsync("api/v1/storage/files?shares=5-of-3", Raw([1, 2, 3]), Ct))
        {
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.BadRequest, "bad shares");
        }

        using (HttpResponseMessage r = await _daemon.Client.PostAsync("api/v1/storage/files", new StringContent("text"), Ct))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, r.StatusCode); // routing's own answer: the endpoint declares what it accepts
        }

        // No peer lends space: nothing is stored, and the problem says why.
        using (HttpResponseMessage r = await _daemon.Client.PostAsync("api/v1/storage/files?name=alone", Raw([1, 2, 3]), Ct))
        {
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.BadGateway, "not stored");
        }

        Assert.Equal(0, (await _daemon.GetJsonAsync("api/v1/storage/files")).GetArrayLength());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_daemon.State, "uploads")));

        using var anonymous = new HttpClient { BaseAddress = _daemon.BaseAddress };
        foreach (string path in new[] { "api/v1/storage", "api/v1/storage/files" })
        {
            using HttpResponseMessage r = await anonymous.GetAsync(path, Ct);
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.Unauthorized, "token");
        }

        using (HttpResponseMessage r = await anonymous.PostAsync("api/v1/storage/files", Raw([1]), Ct))
        {
            await ApiSecurityTests.AssertProblemAsync(r, HttpStatusCode.Unauthorized, "token");
        }
    }

    [Fact]
    public async Task OpenApi_DescribesTheStorageEndpoints()
    {
        using var anonymous = new HttpClient { BaseAddress = _daemon.BaseAddress };
        JsonElement paths = JsonDocument.Parse(await anonymous.GetStringAsync("openapi/v1.json", Ct)).RootElement.GetProperty("paths");
        JsonElement root = paths.TryGetProperty("/api/v1/storage/", out JsonElement slash) ? slash : paths.GetProperty("/api/v1/storage");
        foreach (JsonElement operation in new[]
        {
            root.GetProperty("get"),
            paths.GetProperty("/api/v1/storage/files").GetProperty("get"),
            paths.GetProperty("/api/v1/storage/files").GetProperty("post"),
            paths.GetProperty("/api/v1/storage/get").GetProperty("post"),
            paths.GetProperty("/api/v1/storage/check").GetProperty("post"),
        })
        {
            Assert.False(string.IsNullOrEmpty(operation.GetProperty("summary").GetString()));
            Assert.Equal("Storage", operation.GetProperty("tags")[0].GetString());
        }

        Assert.True(paths.GetProperty("/api/v1/storage/check").GetProperty("post").TryGetProperty("requestBody", out _), "the check describes its body");
    }

    /// <summary>POSTs on a connection closed after the answer.</summary>
    private async Task<HttpResponseMessage> SendOnceAsync(string path, HttpContent content, bool chunkedBody = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.ConnectionClose = true;
        request.Headers.TransferEncodingChunked = chunkedBody;
        return await _daemon.Client.SendAsync(request, Ct);
    }

    private static ByteArrayContent Raw(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }
}
