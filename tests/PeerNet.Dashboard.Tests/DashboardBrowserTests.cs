using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using PeerNet.Daemon.Tests;
using PeerNet.Discovery.Dht;
using PeerNet.Interop.Tests;

namespace PeerNet.Dashboard.Tests;

/// <summary>
/// The dashboard in a real browser: Playwright drives Debian's chromium (never a downloaded browser) through the
/// one-time sign-in link, adds a torrent by uploading its file on the page, watches it download from a libtorrent
/// seeder to 100%, and pauses, resumes and removes it with the page's buttons. With <c>PEERNET_SCREENSHOTS=DIR</c>
/// (relative to the repository) it saves the main views there (docs/dashboard holds the committed ones).
/// </summary>
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    public const string ScreenshotsVariable = "PEERNET_SCREENSHOTS";

    private static readonly TimeSpan DownloadTimeout = TimeSpan.FromSeconds(120);

    private readonly DaemonHarness _daemon = new();
    private readonly List<string> _browserErrors = [];
    private readonly List<DhtNode> _dhts = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _daemon.DisposeAsync();
        foreach (DhtNode dht in _dhts)
        {
            await dht.DisposeAsync();
        }
    }

    [Fact]
    public async Task TorrentAddedThroughThePage_DownloadsFromLibtorrent_AndIsSteeredByItsButtons()
    {
        ToolInfo chromium = ReferenceTools.Require(ReferenceTool.Chromium);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        string? screenshots = ScreenshotFolder();

        // DHT on, in a small DHT of its own on loopback: the node view has a live routing table to show.
        for (int i = 0; i < 8; i++)
        {
            var dht = new DhtNode(new DhtNodeOptions
            {
                BindEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
                BootstrapNodes = _dhts.Count == 0 ? [] : [_dhts[0].LocalEndPoint.ToString()],
                RestrictRoutingAddresses = false,
            });
            _dhts.Add(dht);
            await dht.StartAsync(Ct);
        }

        await _daemon.StartAsync(new Dictionary<string, string?>
        {
            ["Node:Dht"] = "true",
            ["Node:DhtBootstrapNodes:0"] = _dhts[0].LocalEndPoint.ToString(),
            ["Node:DhtBootstrapNodes:1"] = _dhts[^1].LocalEndPoint.ToString(),
        });
        int nodePort = (await _daemon.GetJsonAsync("api/v1/node")).GetProperty("listenPort").GetInt32();

        // 8 MiB seeded at 1 MiB/s: the download lasts long enough for the page to show it under way.
        const int Size = 8 * 1024 * 1024;
        (string content, byte[] torrent) = await _daemon.CreateContentAsync("ubuntu-mini.iso", Size);
        string torrentFile = Path.Combine(_daemon.Root, "ubuntu-mini.iso.torrent");
        await File.WriteAllBytesAsync(torrentFile, torrent, Ct);

        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium.Path,
            Headless = true,
            Args = ["--disable-dev-shm-usage", "--disable-gpu"],
        });
        await using IBrowserContext context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 860 } });
        context.SetDefaultTimeout(60_000);
        Assertions.SetDefaultExpectTimeout(60_000);
        IPage page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _browserErrors.Add(message.Text); // a CSP violation is reported here
            }
        };
        page.PageError += (_, error) => _browserErrors.Add(error);

        // Sign in: the one-time link sets the cookie and lands on / without the token.
        string link = (await File.ReadAllTextAsync(Path.Combine(_daemon.State, "dashboard-link"), Ct)).Trim();
        await page.GotoAsync(link);
        Assert.Equal(_daemon.BaseAddress.GetLeftPart(UriPartial.Authority) + "/", page.Url);
        BrowserContextCookiesResult cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "peernet-session");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("/", cookie.Path);
        await Assertions.Expect(page.Locator("#view-torrents")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("live");

        // Add it by uploading the .torrent on the page.
        await page.Locator("#add-file").SetInputFilesAsync(torrentFile);
        await page.Locator("#add-button").ClickAsync();
        await Assertions.Expect(page.Locator("#add-status")).ToContainTextAsync("added");
        string id = Assert.Single((await _daemon.GetJsonAsync("api/v1/torrents")).EnumerateArray()).GetProperty("id").GetString()!;
        ILocator row = page.Locator($"#torrents tr[data-id='{id}']");
        await Assertions.Expect(row.Locator("a")).ToHaveTextAsync("ubuntu-mini.iso");

        // The seeder dials the daemon's node (after the add: libtorrent backs off for a minute from a refused peer).
        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrentFile, content, Ct, dialPorts: [nodePort], uploadLimit: 1024 * 1024);
        await using LibtorrentProcess seederLifetime = seeder;

        // Its page, while it downloads: the libtorrent peer, the file, no trackers.
        await row.Locator("a").ClickAsync();
        await Assertions.Expect(page.Locator("#view-torrent")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#t-name")).ToHaveTextAsync("ubuntu-mini.iso");
        await Assertions.Expect(page.Locator("#t-peers tbody td.mono").First).ToContainTextAsync("127.0.0.1:");
        await Assertions.Expect(page.Locator("#t-files tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#t-files tbody td").First).ToHaveTextAsync("ubuntu-mini.iso");
        await Assertions.Expect(page.Locator("#t-trackers tbody")).ToContainTextAsync("no trackers");
        await Assertions.Expect(page.Locator("#t-percent")).Not.ToHaveTextAsync("0.0%"); // under way (or done)
        await ScreenshotAsync(page, screenshots, "torrent.png");

        // Back to the list: 100%, as the page shows it, and the bytes are the seeder's.
        await page.Locator("a[href='#/torrents']").First.ClickAsync();
        await Assertions.Expect(row.Locator(".meter span")).ToHaveTextAsync("100%", new LocatorAssertionsToHaveTextOptions { Timeout = (float)DownloadTimeout.TotalMilliseconds });
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Seeding");
        JsonElement done = await _daemon.GetJsonAsync($"api/v1/torrents/{id}");
        Assert.Equal(1.0, done.GetProperty("progress").GetDouble());
        string saved = Path.Combine(done.GetProperty("savePath").GetString()!, "ubuntu-mini.iso");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(content, "ubuntu-mini.iso"), Ct), await File.ReadAllBytesAsync(saved, Ct));
        await ScreenshotAsync(page, screenshots, "torrents.png");

        // Pause and resume with the row's buttons; the daemon's own state follows.
        await row.Locator("button.pause").ClickAsync();
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Paused");
        Assert.Equal("Paused", (await _daemon.GetJsonAsync($"api/v1/torrents/{id}")).GetProperty("state").GetString());
        await Assertions.Expect(row.Locator("button.pause")).ToBeHiddenAsync();
        await row.Locator("button.resume").ClickAsync();
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Seeding");
        Assert.Equal("Seeding", (await _daemon.GetJsonAsync($"api/v1/torrents/{id}")).GetProperty("state").GetString());

        // The node and its DHT.
        await page.Locator("#nav-node").ClickAsync();
        await Assertions.Expect(page.Locator("#view-node")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#dht-info")).ToContainTextAsync("Lookups");
        await Assertions.Expect(page.Locator("#dht-info")).ToContainTextAsync(new Regex("Routing table\\s*[1-9][0-9]* nodes")); // it found the loopback DHT
        await Assertions.Expect(page.Locator("#node-info")).ToContainTextAsync($"port {nodePort}");
        await Assertions.Expect(page.Locator("#events li").First).ToBeVisibleAsync();
        await ScreenshotAsync(page, screenshots, "node.png");

        // Remove, confirming the browser's dialog; the files stay.
        await page.Locator("#nav-torrents").ClickAsync();
        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await row.Locator("button.remove").ClickAsync();
        await Assertions.Expect(row).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#no-torrents")).ToBeVisibleAsync();
        Assert.Empty((await _daemon.GetJsonAsync("api/v1/torrents")).EnumerateArray());
        Assert.True(File.Exists(saved), "removing without 'and its files' keeps them");

        Assert.True(_browserErrors.Count == 0, "the browser reported errors:\n" + string.Join('\n', _browserErrors));
    }

    [Fact]
    public async Task MagnetPastedInThePage_FetchesTheMetadata_AndDownloadsFromLibtorrent()
    {
        ToolInfo chromium = ReferenceTools.Require(ReferenceTool.Chromium);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        await _daemon.StartAsync();
        (string content, byte[] torrent) = await _daemon.CreateContentAsync("notes.bin", 1024 * 1024);
        string torrentFile = Path.Combine(_daemon.Root, "notes.torrent");
        await File.WriteAllBytesAsync(torrentFile, torrent, Ct);
        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrentFile, content, Ct);
        await using LibtorrentProcess seederLifetime = seeder;
        string infoHash = TorrentSource.FromBytes(torrent).InfoHashes.V1!.ToString()!.ToLowerInvariant();
        string magnet = $"magnet:?xt=urn:btih:{infoHash}&dn=notes.bin&x.pe=127.0.0.1:{seeder.ListenPort}"; // the only way to the seeder

        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium.Path, Headless = true, Args = ["--disable-dev-shm-usage"] });
        IPage page = await browser.NewPageAsync();
        Assertions.SetDefaultExpectTimeout(60_000);
        page.PageError += (_, error) => _browserErrors.Add(error);
        await page.GotoAsync((await File.ReadAllTextAsync(Path.Combine(_daemon.State, "dashboard-link"), Ct)).Trim());

        await page.Locator("#add-magnet").FillAsync(magnet);
        await page.Locator("#add-button").ClickAsync();
        await Assertions.Expect(page.Locator("#add-status")).ToContainTextAsync("added");
        ILocator row = page.Locator($"#torrents tr[data-id='{infoHash}']");
        await Assertions.Expect(row.Locator(".meter span")).ToHaveTextAsync("100%", new LocatorAssertionsToHaveTextOptions { Timeout = (float)DownloadTimeout.TotalMilliseconds });
        await Assertions.Expect(row.Locator("a")).ToHaveTextAsync("notes.bin");
        JsonElement done = await _daemon.GetJsonAsync($"api/v1/torrents/{infoHash}");
        string saved = Path.Combine(done.GetProperty("savePath").GetString()!, "notes.bin");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(content, "notes.bin"), Ct), await File.ReadAllBytesAsync(saved, Ct));
        Assert.True(_browserErrors.Count == 0, "the page failed:\n" + string.Join('\n', _browserErrors));
    }

    [Fact]
    public async Task Libp2pPanel_ListsTheIdentityAndAPeer_SendsAMessage_AndShowsTheOneReceived()
    {
        ToolInfo chromium = ReferenceTools.Require(ReferenceTool.Chromium);
        await _daemon.StartAsync();
        await using PeerNetNode peer = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
            cancellationToken: Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        var received = new TaskCompletionSource<PeerNet.Libp2p.DirectMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        peer.Libp2p.SetMessageHandler((m, _) =>
        {
            received.TrySetResult(m);
            return Task.CompletedTask;
        });
        JsonElement self = await _daemon.GetJsonAsync("api/v1/libp2p");
        string daemonId = self.GetProperty("peerId").GetString()!;
        string peerId = peer.Libp2p.PeerId.ToString();

        await using SignedInBrowser browser = await SignInAsync(chromium);
        IPage page = browser.Page;
        await page.Locator("#nav-node").ClickAsync();
        await Assertions.Expect(page.Locator("#libp2p-info")).ToContainTextAsync(daemonId);
        await Assertions.Expect(page.Locator("#libp2p-info")).ToContainTextAsync(self.GetProperty("listenAddresses")[0].GetString()!);
        await Assertions.Expect(page.Locator("#no-libp2p-peers")).ToBeVisibleAsync();

        // The peer dials the daemon: the event stream makes the page list it.
        await peer.Libp2p.ConnectAsync(PeerNet.Libp2p.Multiaddr.Parse(self.GetProperty("listenAddresses")[0].GetString()!), Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        ILocator row = page.Locator("#libp2p-peers tbody tr");
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Assertions.Expect(row).ToContainTextAsync(peerId);
        await Assertions.Expect(row).ToContainTextAsync("inbound");
        await Assertions.Expect(row).ToContainTextAsync("peernet/");
        await Assertions.Expect(page.Locator("#no-libp2p-peers")).ToBeHiddenAsync();

        // A message typed on the page reaches the peer, and the page says it was delivered.
        await page.Locator("#dm-to").FillAsync(peerId);
        await page.Locator("#dm-text").FillAsync("hello from the page");
        await page.Locator("#dm-send").ClickAsync();
        await Assertions.Expect(page.Locator("#dm-status")).ToContainTextAsync("delivered");
        Assert.Equal("hello from the page", (await received.Task.WaitAsync(DaemonHarness.Timeout, Ct)).Text);

        // One the peer sends shows in the list of those received.
        await peer.Libp2p.SendMessageAsync(PeerNet.Libp2p.Libp2pPeerId.Parse(daemonId), "hello, page", Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        await Assertions.Expect(page.Locator("#dm-messages li")).ToContainTextAsync("hello, page");
        await Assertions.Expect(page.Locator("#events")).ToContainTextAsync("directMessageReceived");
        await ScreenshotAsync(page, ScreenshotFolder(), "libp2p.png");
        Assert.True(_browserErrors.Count == 0, "the page failed:\n" + string.Join('\n', _browserErrors));
    }

    [Fact]
    public async Task StoragePanel_ShowsTheSpaceLent_StoresAFile_ChecksAndDownloadsIt()
    {
        ToolInfo chromium = ReferenceTools.Require(ReferenceTool.Chromium);
        await _daemon.StartAsync(new Dictionary<string, string?> { ["Storage:Share"] = "16 MiB" });

        // Another node beside it, lending space too: each stores on the other.
        await using PeerNetNode provider = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false, StateDirectory = Path.Combine(_daemon.Root, "provider"), StorageShareBytes = 16 << 20 },
            cancellationToken: Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        JsonElement self = await _daemon.GetJsonAsync("api/v1/libp2p");
        await provider.Libp2p.ConnectAsync(PeerNet.Libp2p.Multiaddr.Parse(self.GetProperty("listenAddresses")[0].GetString()!), Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        const string Store = "/peernet/store/1.0.0";
        await DaemonHarness.UntilAsync(
            async () => (await _daemon.GetJsonAsync("api/v1/libp2p/peers")).EnumerateArray().Any(p => p.GetProperty("protocols").EnumerateArray().Any(x => x.GetString() == Store)),
            "the daemon sees the provider lend space");
        await DaemonHarness.UntilAsync(() => Task.FromResult(provider.Libp2p.ConnectedPeers.Any(p => p.Protocols.Contains(Store))), "the provider sees the daemon lend space");
        byte[] theirs = new byte[3 << 20];
        Random.Shared.NextBytes(theirs);
        await provider.Storage.PutAsync(new MemoryStream(theirs), new PeerNet.Grid.GridPutOptions { K = 1, N = 2 }, Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        long lent = (await _daemon.GetJsonAsync("api/v1/storage")).GetProperty("lentBytes").GetInt64();
        Assert.True(lent > 2 * theirs.Length, $"the daemon holds both shares ({lent} bytes)");

        string file = Path.Combine(_daemon.Root, "holiday-photos.tar");
        byte[] mine = new byte[700_000];
        Random.Shared.NextBytes(mine);
        await File.WriteAllBytesAsync(file, mine, Ct);

        await using SignedInBrowser browser = await SignInAsync(chromium);
        IPage page = browser.Page;
        await page.Locator("#nav-storage").ClickAsync();
        await Assertions.Expect(page.Locator("#view-storage")).ToBeVisibleAsync();

        // The space lent: the bar and the facts, from the daemon's own numbers.
        await Assertions.Expect(page.Locator("#storage-meter span")).ToHaveTextAsync(new Regex(@"^[0-9.]+ MiB of 16\.0 MiB$"));
        await Assertions.Expect(page.Locator("#storage-info")).ToContainTextAsync(new Regex(@"Shares held\s*2"));
        await Assertions.Expect(page.Locator("#no-storage-files")).ToBeVisibleAsync();

        // Store a file through the page: 2-of-3 on the one provider there is.
        await page.Locator("#store-file").SetInputFilesAsync(file);
        await page.Locator("#store-shares").FillAsync("2-of-3");
        await page.Locator("#store-button").ClickAsync();
        await Assertions.Expect(page.Locator("#store-status")).ToContainTextAsync("stored “holiday-photos.tar”: 3/3 shares placed");
        ILocator row = page.Locator("#storage-files tbody tr");
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Assertions.Expect(row.Locator("td").First).ToHaveTextAsync("holiday-photos.tar");
        await Assertions.Expect(row.Locator(".meter span")).ToHaveTextAsync("3/3 (need 2)");
        JsonElement stored = (await _daemon.GetJsonAsync("api/v1/storage/files")).EnumerateArray().Single();
        await Assertions.Expect(row.Locator("input.capability")).ToHaveValueAsync(stored.GetProperty("capability").GetString()!);
        Assert.Equal(3, provider.Storage.SharesHeld);

        // Check, then download: the bytes are the file's.
        await row.Locator("button.check").ClickAsync();
        await Assertions.Expect(page.Locator("#storage-check-status")).ToHaveTextAsync("holiday-photos.tar: 3/3 shares healthy (need 2)");
        await ScreenshotAsync(page, ScreenshotFolder(), "storage.png");
        IDownload download = await page.RunAndWaitForDownloadAsync(() => row.Locator("button.download").ClickAsync());
        Assert.Equal("holiday-photos.tar", download.SuggestedFilename);
        string saved = Path.Combine(_daemon.Root, "downloaded.tar");
        await download.SaveAsAsync(saved);
        Assert.Equal(mine, await File.ReadAllBytesAsync(saved, Ct));
        await Assertions.Expect(page.Locator("#storage-check-status")).ToContainTextAsync("every block verified");
        Assert.True(_browserErrors.Count == 0, "the page failed:\n" + string.Join('\n', _browserErrors));
    }

    [Fact]
    public async Task TopicsPanel_JoinsATopic_ShowsAMessageReceived_AndPublishes()
    {
        ToolInfo chromium = ReferenceTools.Require(ReferenceTool.Chromium);
        const string Topic = "peernet/chat/lobby";
        await _daemon.StartAsync();
        await using PeerNetNode peer = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
            cancellationToken: Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        using PeerNet.Libp2p.PubsubSubscription subscription = peer.Libp2p.Pubsub.Subscribe(Topic);
        JsonElement self = await _daemon.GetJsonAsync("api/v1/libp2p");
        var daemonId = PeerNet.Libp2p.Libp2pPeerId.Parse(self.GetProperty("peerId").GetString()!);
        await peer.Libp2p.ConnectAsync(PeerNet.Libp2p.Multiaddr.Parse(self.GetProperty("listenAddresses")[0].GetString()!), Ct).WaitAsync(DaemonHarness.Timeout, Ct);

        await using SignedInBrowser browser = await SignInAsync(chromium);
        IPage page = browser.Page;
        await page.Locator("#nav-node").ClickAsync();
        await Assertions.Expect(page.Locator("#no-topics")).ToBeVisibleAsync();

        // Join on the page: listed, and the peer subscribed to it counted.
        await page.Locator("#topic-name").FillAsync(Topic);
        await page.Locator("#topic-join").ClickAsync();
        await Assertions.Expect(page.Locator("#topic-status")).ToHaveTextAsync("joined " + Topic);
        ILocator row = page.Locator("#topics tbody tr");
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Assertions.Expect(row.Locator("td").First).ToHaveTextAsync(Topic);
        await Assertions.Expect(row.Locator("td").Nth(2)).ToHaveTextAsync("1");
        await DaemonHarness.UntilAsync(() => Task.FromResult(peer.Libp2p.Pubsub.TopicPeers(Topic).Contains(daemonId)), "the peer sees the daemon subscribed");

        // The peer publishes: the event stream puts it on the page.
        await peer.Libp2p.Pubsub.PublishAsync(Topic, "hello, lobby"u8.ToArray(), Ct);
        await Assertions.Expect(page.Locator("#topic-messages li")).ToContainTextAsync("hello, lobby");
        await Assertions.Expect(page.Locator("#events")).ToContainTextAsync("pubsubMessageReceived");

        // Publish from the page: the peer gets it.
        await Assertions.Expect(page.Locator("#publish-topic")).ToHaveValueAsync(Topic);
        await page.Locator("#publish-text").FillAsync("hello from the page");
        await page.Locator("#publish-send").ClickAsync();
        await Assertions.Expect(page.Locator("#publish-status")).ToHaveTextAsync("sent to 1 peer");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(DaemonHarness.Timeout);
        PeerNet.Libp2p.PubsubMessage got = await subscription.Messages.ReadAsync(deadline.Token);
        Assert.Equal("hello from the page", System.Text.Encoding.UTF8.GetString(got.Data.Span));
        await ScreenshotAsync(page, ScreenshotFolder(), "topics.png");

        // Leave with the row's button.
        await row.Locator("button.leave").ClickAsync();
        await Assertions.Expect(row).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#no-topics")).ToBeVisibleAsync();
        Assert.Equal(0, (await _daemon.GetJsonAsync("api/v1/libp2p/topics")).GetArrayLength());
        Assert.True(_browserErrors.Count == 0, "the page failed:\n" + string.Join('\n', _browserErrors));
    }

    [Fact]
    public async Task UsedLink_ShowsTheSignedOutPage_AndTheApiRefusesTheBrowser()
    {
        ToolInfo chromium = ReferenceTools.Require(ReferenceTool.Chromium);
        await _daemon.StartAsync();
        string link = (await File.ReadAllTextAsync(Path.Combine(_daemon.State, "dashboard-link"), Ct)).Trim();
        using (var spend = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }))
        {
            using HttpResponseMessage used = await spend.GetAsync(link, Ct);
            Assert.Equal(System.Net.HttpStatusCode.SeeOther, used.StatusCode);
        }

        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium.Path, Headless = true, Args = ["--disable-dev-shm-usage"] });
        IPage page = await browser.NewPageAsync();
        Assertions.SetDefaultExpectTimeout(60_000);
        IResponse? response = await page.GotoAsync(link);
        Assert.Equal(403, response!.Status);
        Assert.Empty(await page.Context.CookiesAsync());

        await page.GotoAsync(_daemon.BaseAddress.GetLeftPart(UriPartial.Authority) + "/");
        await Assertions.Expect(page.Locator("#signed-out")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#view-torrents")).ToBeHiddenAsync();
    }

    /// <summary>
    /// Chromium on the dashboard, signed in through the one-time link; page errors and console errors go to
    /// <see cref="_browserErrors"/>. A browser whose process dies before the first page loads (seen once in CI:
    /// "Target page, context or browser has been closed" while navigating) is launched once more; the daemon cannot
    /// close a browser, so this says nothing about the dashboard, and a second death fails the test.
    /// </summary>
    private async Task<SignedInBrowser> SignInAsync(ToolInfo chromium)
    {
        try
        {
            return await LaunchAndSignInAsync(chromium);
        }
        catch (PlaywrightException e) when (e.Message.StartsWith("Target page, context or browser has been closed", StringComparison.Ordinal))
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"chromium closed before the dashboard loaded ({e.Message.Split('\n')[0]}); launching it once more");
            return await LaunchAndSignInAsync(chromium);
        }
    }

    private async Task<SignedInBrowser> LaunchAndSignInAsync(ToolInfo chromium)
    {
        IPlaywright playwright = await Playwright.CreateAsync();
        IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium.Path, Headless = true, Args = ["--disable-dev-shm-usage", "--disable-gpu"] });
        IBrowserContext context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 860 }, AcceptDownloads = true });
        context.SetDefaultTimeout(60_000);
        Assertions.SetDefaultExpectTimeout(60_000);
        IPage page = await context.NewPageAsync();
        page.PageError += (_, error) => _browserErrors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _browserErrors.Add(message.Text);
            }
        };
        var signedIn = new SignedInBrowser(playwright, browser, context, page);
        try
        {
            await page.GotoAsync((await File.ReadAllTextAsync(Path.Combine(_daemon.State, "dashboard-link"), Ct)).Trim());
        }
        catch (PlaywrightException)
        {
            await signedIn.DisposeAsync();
            throw;
        }

        return signedIn;
    }

    private sealed record SignedInBrowser(IPlaywright Playwright, IBrowser Browser, IBrowserContext Context, IPage Page) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Context.DisposeAsync();
            await Browser.DisposeAsync();
            Playwright.Dispose();
        }
    }

    private static async Task ScreenshotAsync(IPage page, string? folder, string name)
    {
        if (folder is not null)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name), FullPage = true });
        }
    }

    /// <summary>PEERNET_SCREENSHOTS, relative to the repository's root (the folder with PeerNet.slnx); null if unset.</summary>
    private static string? ScreenshotFolder()
    {
        string? value = Environment.GetEnvironmentVariable(ScreenshotsVariable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "PeerNet.slnx")))
        {
            root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new InvalidOperationException("PeerNet.slnx not found above the tests");
        }

        string folder = Path.GetFullPath(value, root);
        Directory.CreateDirectory(folder);
        return folder;
    }
}
