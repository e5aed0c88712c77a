using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PeerNet.Daemon.Hosting;
using PeerNet.Daemon.Service;
using PeerNet.Utp;

namespace PeerNet.Daemon.Tests;

/// <summary><c>/metrics</c>: Prometheus' text format, read strictly; behind the token and the Host allow-list; bytes counted.</summary>
public sealed class MetricsTests : IAsyncLifetime
{
    private readonly DaemonHarness _daemon = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();

    private static CancellationToken Ct => DaemonHarness.Ct;

    [Fact]
    public async Task Scrape_NeedsTheToken_AndAnAllowedHost()
    {
        await _daemon.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = _daemon.BaseAddress };
        using HttpResponseMessage noToken = await anonymous.GetAsync("metrics", Ct);
        await ApiSecurityTests.AssertProblemAsync(noToken, HttpStatusCode.Unauthorized, "token");

        using var rebound = new HttpRequestMessage(HttpMethod.Get, "metrics");
        rebound.Headers.Host = $"evil.example:{_daemon.BaseAddress.Port}";
        using HttpResponseMessage wrongHost = await _daemon.Client.SendAsync(rebound, Ct);
        await ApiSecurityTests.AssertProblemAsync(wrongHost, HttpStatusCode.MisdirectedRequest, "host");

        using HttpResponseMessage scraped = await _daemon.Client.GetAsync("metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.Equal("text/plain", scraped.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Scrape_AfterADownload_TheBytesCountersMoved()
    {
        await _daemon.StartAsync();
        PrometheusText before = await ScrapeAsync();
        double downloadedBefore = before.Value("peernet_transfer_downloaded_bytes_total") ?? 0;

        (string source, byte[] torrent) = await _daemon.CreateContentAsync("scraped.bin", 300_000);
        PeerNetNode seeder = await _daemon.StartSeederAsync(torrent, source);
        using HttpResponseMessage added = await _daemon.AddAsync(torrent, Path.Combine(_daemon.Root, "downloads"), [$"127.0.0.1:{seeder.ListenPort}"]);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        string id = JsonDocument.Parse(await added.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
        await _daemon.WaitTorrentAsync(id, t => t.GetProperty("progress").GetDouble() == 1, "the download completes");

        // The exporter keeps a scrape for 300 ms: wait for one taken after the completion.
        PrometheusText after = before;
        await DaemonHarness.UntilAsync(
            async () => (after = await ScrapeAsync()).Value("peernet_torrent_progress_ratio", $"info_hash={id}") == 1,
            "a scrape shows the torrent complete",
            () => string.Join("\n", after.Samples.Select(s => $"{s.Name}{{{string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {s.Value}")));

        // Node-wide, from the engine's own counters: this daemon's node only, not the seeder's (another node in this
        // process, whose meter has the same name) nor those of other tests' daemons.
        Assert.True(after.Value("peernet_transfer_downloaded_bytes_total") - downloadedBefore >= 300_000, "the node's downloaded bytes counted the download");
        Assert.Equal("counter", after.Families["peernet_transfer_downloaded_bytes_total"].Type);
        Assert.Equal(0, after.Value("peernet_transfer_uploaded_bytes_total") ?? 0);
        Assert.True(after.Value("peernet_pieces_verified_total") >= 300_000 / 16_384);

        // Per torrent, from the daemon's own series.
        Assert.True(after.Value("peernet_torrent_downloaded_bytes_total", $"info_hash={id}") >= 300_000);
        Assert.Equal(300_000, after.Value("peernet_torrent_size_bytes", $"info_hash={id}"));
        Assert.Equal(1, after.Value("peernet_torrent_info", $"info_hash={id}", "name=scraped.bin", "state=seeding"));
        Assert.Equal("gauge", after.Families["peernet_torrent_progress_ratio"].Type);
        Assert.True(after.Value("peernet_torrents", "state=seeding") >= 1);
        Assert.Equal(0, after.Value("peernet_torrents_unlisted"));

        // Every PeerNet family says what it is, and byte counts say so in their names.
        foreach (PrometheusText.Family family in after.Families.Values.Where(f => f.Name.StartsWith("peernet_", StringComparison.Ordinal)))
        {
            Assert.False(string.IsNullOrWhiteSpace(family.Help), $"{family.Name} has no HELP");
            Assert.NotEqual("untyped", family.Type);
        }

        Assert.Contains(after.Families.Keys, n => n.StartsWith("http_server_request_duration_seconds", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Scrape_AfterSynsFromAStranger_TheUtpSeriesMoved()
    {
        await _daemon.StartAsync();
        int port = _daemon.App!.Services.GetRequiredService<NodeService>().Node.ListenPort;

        // Ten SYNs from one address: 8 take its share of the half-open table, 2 are refused, none opens a connection.
        using var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        stranger.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        byte[] syn = new byte[UtpHeader.Length];
        for (int i = 0; i < 10; i++)
        {
            new UtpHeader(UtpPacketType.Syn, (ushort)(7000 + i), 1, 0, 65536, 1, 0).WriteTo(syn, 0);
            await stranger.SendToAsync(syn, new IPEndPoint(IPAddress.Loopback, port), Ct);
        }

        PrometheusText scrape = await ScrapeAsync();
        await DaemonHarness.UntilAsync(
            async () => (scrape = await ScrapeAsync()).Value("peernet_utp_syns_received_total", "family=ipv4") == 10,
            "a scrape shows the ten SYNs",
            () => string.Join("\n", scrape.Samples.Where(s => s.Name.StartsWith("peernet_utp", StringComparison.Ordinal)).Select(s => $"{s.Name}{{{string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {s.Value}")));

        Assert.Equal(8, scrape.Value("peernet_utp_syns_answered_total", "family=ipv4"));
        Assert.Equal(2, scrape.Value("peernet_utp_syns_refused_total", "family=ipv4", "reason=address_limit"));
        Assert.Equal(0, scrape.Value("peernet_utp_syns_refused_total", "family=ipv4", "reason=half_open_limit"));
        Assert.Equal(8, scrape.Value("peernet_utp_half_open", "family=ipv4"));
        Assert.Equal(10 * UtpHeader.Length, scrape.Value("peernet_utp_syns_bytes_total", "family=ipv4", "direction=in"));
        Assert.Equal(8 * UtpHeader.Length, scrape.Value("peernet_utp_syns_bytes_total", "family=ipv4", "direction=out"));
        Assert.True(scrape.Value("peernet_utp_received_bytes_total", "family=ipv4") >= 10 * UtpHeader.Length);
        Assert.True(scrape.Value("peernet_utp_packets_sent_total", "family=ipv4") >= 8);
        Assert.Equal(0, scrape.Value("peernet_utp_connections", "family=ipv4", "direction=in"));
        Assert.Equal(0, scrape.Value("peernet_utp_connections_opened_total", "family=ipv4", "direction=in"));
        Assert.Equal("gauge", scrape.Families["peernet_utp_half_open"].Type);
        Assert.Equal("gauge", scrape.Families["peernet_utp_connections"].Type);
        Assert.Equal("counter", scrape.Families["peernet_utp_syns_received_total"].Type);
        Assert.Equal("counter", scrape.Families["peernet_utp_retransmissions_total"].Type);
        Assert.Equal("counter", scrape.Families["peernet_utp_timeouts_total"].Type);
        Assert.Equal("counter", scrape.Families["peernet_utp_connections_closed_total"].Type);
        Assert.Equal("counter", scrape.Families["peernet_utp_connects_failed_total"].Type);
    }

    [Fact]
    public async Task PerTorrentSeries_AreCapped_AndARemovedTorrentsStop()
    {
        await _daemon.StartAsync(new Dictionary<string, string?> { ["Metrics:PerTorrentLimit"] = "1" });
        var ids = new List<string>();
        foreach (string name in new[] { "one.bin", "two.bin" })
        {
            (string folder, byte[] torrent) = await _daemon.CreateContentAsync(name, 20_000);
            using HttpResponseMessage added = await _daemon.AddAsync(torrent, folder, paused: true);
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
            ids.Add(JsonDocument.Parse(await added.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!);
        }

        // Both idle: the first by info-hash is listed, the other counted as unlisted.
        ids.Sort(StringComparer.Ordinal);
        PrometheusText scrape = await ScrapeAsync();
        await DaemonHarness.UntilAsync(async () => (scrape = await ScrapeAsync()).Value("peernet_torrents", "state=paused") == 2, "both torrents are counted as paused");
        Assert.Equal(1, scrape.Value("peernet_torrent_info", $"info_hash={ids[0]}"));
        Assert.Null(scrape.Value("peernet_torrent_info", $"info_hash={ids[1]}"));
        Assert.Equal(1, scrape.Value("peernet_torrents_unlisted"));

        using (HttpResponseMessage removed = await _daemon.Client.DeleteAsync($"api/v1/torrents/{ids[0]}", Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        }

        await DaemonHarness.UntilAsync(async () => (scrape = await ScrapeAsync()).Value("peernet_torrents", "state=paused") == 1, "the removal is seen");
        Assert.Null(scrape.Value("peernet_torrent_info", $"info_hash={ids[0]}"));
        Assert.Null(scrape.Value("peernet_torrent_size_bytes", $"info_hash={ids[0]}"));
        Assert.Equal(20_000, scrape.Value("peernet_torrent_size_bytes", $"info_hash={ids[1]}"));
        Assert.Equal(0, scrape.Value("peernet_torrents_unlisted"));
    }

    [Fact]
    public void BadLimit_StopsTheStart_NamingIt()
    {
        Dictionary<string, string?> settings = DaemonHarness.LoopbackSettings();
        settings["Metrics:PerTorrentLimit"] = "-1";
        OptionsValidationException e = Assert.Throws<OptionsValidationException>(() => PeerNetDaemon.Build(new DaemonLaunch(_daemon.State) { Overrides = settings }));
        Assert.Contains("Metrics:PerTorrentLimit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parser_RefusesWhatPrometheusWould()
    {
        Assert.Throws<FormatException>(() => PrometheusText.Parse("a_total 1\n# TYPE a_total counter\n")); // TYPE after samples
        Assert.Throws<FormatException>(() => PrometheusText.Parse("# TYPE a counter\na 1\n")); // a counter not ..._total
        Assert.Throws<FormatException>(() => PrometheusText.Parse("# TYPE a gauge\na{x=\"1\"} 1\nb 2\na{x=\"2\"} 1\n")); // a split group
        Assert.Throws<FormatException>(() => PrometheusText.Parse("# TYPE a gauge\na 1\na 2\n")); // a series twice
        Assert.Throws<FormatException>(() => PrometheusText.Parse("a{x=1} 1\n")); // an unquoted label value
        Assert.Throws<FormatException>(() => PrometheusText.Parse("a.b 1\n")); // a dotted name
        Assert.Throws<FormatException>(() => PrometheusText.Parse("a 1,5\n")); // not a number
        Assert.Throws<FormatException>(() => PrometheusText.Parse("a 1")); // no final line feed
        PrometheusText ok = PrometheusText.Parse("# HELP a_total A \"thing\".\n# TYPE a_total counter\na_total{x=\"q\\\"\\n\",y=\"\"} 3 1700000000000\n\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 0.5\nh_count 1\n");
        Assert.Equal(3, ok.Value("a_total", "x=q\"\n"));
        Assert.Equal(1, ok.Value("h_count"));
    }

    private async Task<PrometheusText> ScrapeAsync()
    {
        using HttpResponseMessage response = await _daemon.Client.GetAsync("metrics", Ct);
        string text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        try
        {
            return PrometheusText.Parse(text);
        }
        catch (FormatException e)
        {
            Assert.Fail($"/metrics is not Prometheus' text format: {e.Message}\n{text}");
            throw;
        }
    }
}
