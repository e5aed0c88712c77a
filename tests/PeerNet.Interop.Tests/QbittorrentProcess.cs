using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using PeerNet.Metainfo;
using PeerNet.PeerWire;

namespace PeerNet.Interop.Tests;

/// <summary>One torrent as qBittorrent's WebUI API v2 lists it (<c>/api/v2/torrents/info</c>), the fields the tests read.</summary>
internal sealed record QbtTorrent(
    string Hash,
    [property: JsonPropertyName("infohash_v1")] string InfohashV1,
    [property: JsonPropertyName("infohash_v2")] string InfohashV2,
    string Name,
    string State,
    double Progress,
    long AmountLeft,
    string SavePath)
{
    /// <summary>Has every piece and serves them (qBittorrent's "UP" states).</summary>
    public bool IsSeeding => Progress >= 1 && AmountLeft == 0 && State is "uploading" or "stalledUP" or "queuedUP" or "forcedUP";

    /// <summary>States that end a test at once: qBittorrent gave up on the torrent.</summary>
    public bool IsFailed => State is "error" or "missingFiles";
}

/// <summary>
/// qbittorrent-nox 4.5 (libtorrent 2.0 underneath) headless on loopback, with a profile folder of its own (never the
/// user's), driven through its WebUI API v2 on 127.0.0.1 (no login: local clients are trusted). TCP only, plaintext,
/// no DHT, LSD, PeX or port mapping; it takes several connections from one IP. Unlike Transmission and aria2 it reads
/// v2 and hybrid torrents, and it dials peers on 127.0.0.1 that it is told of (<see cref="AddPeerAsync"/>).
/// </summary>
internal sealed class QbittorrentProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly HttpClient _http;
    private readonly string _profile;
    private string? _lastInfo;

    private QbittorrentProcess(BackgroundProcess process, int port, int webUiPort, string profile)
    {
        Process = process;
        Port = port;
        _profile = profile;
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{webUiPort}/api/v2/"),
            Timeout = TimeSpan.FromSeconds(15),
        };
    }

    public BackgroundProcess Process { get; }

    /// <summary>The port it accepts peers on (127.0.0.1 only).</summary>
    public int Port { get; }

    /// <summary>
    /// Writes a profile under <paramref name="profileDirectory"/>, starts qbittorrent-nox on it, and returns once the WebUI
    /// answers, the preferences read back as written (so that nothing reaches beyond loopback) and the peer port listens.
    /// </summary>
    public static async Task<QbittorrentProcess> StartAsync(ToolInfo qbittorrent, string profileDirectory, CancellationToken cancellationToken)
    {
        int port = LoopbackPorts.GetFree();
        int webUiPort = LoopbackPorts.GetFree();
        string config = Path.Combine(profileDirectory, "qBittorrent", "config");
        Directory.CreateDirectory(config);
        await File.WriteAllTextAsync(Path.Combine(config, "qBittorrent.conf"), Config(port, webUiPort, Path.Combine(profileDirectory, "downloads")), cancellationToken).ConfigureAwait(false);

        var process = BackgroundProcess.Start("qbittorrent-nox", qbittorrent.Path!, [$"--profile={profileDirectory}"]);
        var qbt = new QbittorrentProcess(process, port, webUiPort, profileDirectory);
        try
        {
            await qbt.WaitForWebUiAsync(cancellationToken).ConfigureAwait(false);
            await qbt.AssertLoopbackOnlyAsync(cancellationToken).ConfigureAwait(false);
            await LoopbackPorts.WaitUntilListeningAsync(port, StartTimeout, qbt.Describe, cancellationToken).ConfigureAwait(false);
            return qbt;
        }
        catch
        {
            await qbt.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Adds the torrent (started, data under <paramref name="savePath"/>; checked first if any is there) and returns its id
    /// for the API: the v1 info-hash, or for v2 and hybrid torrents the v2 one cut to 40 digits, as qBittorrent lists it.
    /// </summary>
    public async Task<string> AddTorrentAsync(string torrentPath, string savePath, CancellationToken cancellationToken)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(torrentPath, cancellationToken).ConfigureAwait(false));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
        form.Add(file, "torrents", Path.GetFileName(torrentPath));
        form.Add(new StringContent(savePath), "savepath");
        form.Add(new StringContent("false"), "autoTMM");
        form.Add(new StringContent("false"), "paused");
        string answer = await PostAsync("torrents/add", form, cancellationToken).ConfigureAwait(false);
        Assert.True(answer.Trim() == "Ok.", $"qBittorrent refused {torrentPath}: '{answer}'.\n{Describe()}");

        TorrentMetainfo metainfo = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrentPath, cancellationToken).ConfigureAwait(false));
        string? v1 = metainfo.InfoHashes.V1?.ToString();
        string? v2 = metainfo.InfoHashes.V2?.ToString();
        QbtTorrent added = await WaitForTorrentAsync(
            null, t => t.InfohashV1 == v1 || t.InfohashV2 == v2, $"the torrent listed (v1 {v1}, v2 {v2})", StartTimeout, cancellationToken).ConfigureAwait(false);
        return added.Hash;
    }

    /// <summary>
    /// Adds the torrent with its data under <paramref name="savePath"/> and returns its id once qBittorrent has checked
    /// the data, lists it as seeding and answers a handshake for it.
    /// </summary>
    public async Task<string> SeedAsync(string torrentPath, string savePath, CancellationToken cancellationToken)
    {
        string hash = await AddTorrentAsync(torrentPath, savePath, cancellationToken).ConfigureAwait(false);
        await WaitForTorrentAsync(hash, t => t.IsSeeding, "seeding after checking the data", StartTimeout, cancellationToken).ConfigureAwait(false);
        Sha1Hash wireHash = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrentPath, cancellationToken).ConfigureAwait(false)).InfoHashes.WireHash;
        await WaitUntilServingAsync(wireHash, cancellationToken).ConfigureAwait(false);
        return hash;
    }

    /// <summary>
    /// Waits until it answers a handshake for <paramref name="infoHash"/> on its port. For about a second after it lists a
    /// checked torrent as seeding it still closes such connections, and a peer turned away waits before dialling again
    /// (PeerNet: 30 s), so a test lets its peer dial only once qBittorrent serves.
    /// </summary>
    private async Task WaitUntilServingAsync(Sha1Hash infoHash, CancellationToken cancellationToken)
    {
        byte[] handshake = new byte[Handshake.Length];
        new Handshake(HandshakeReserved.FastExtension, infoHash, new PeerId("-PT0000-readiness-00"u8)).WriteTo(handshake);
        DateTime deadline = DateTime.UtcNow + StartTimeout;
        string last = "";
        while (true)
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), cancellationToken).ConfigureAwait(false);
                await probe.SendAsync(handshake, cancellationToken).ConfigureAwait(false);
                byte[] answer = new byte[Handshake.Length];
                int read = await probe.ReceiveAsync(answer, cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                var buffer = new ReadOnlySequence<byte>(answer, 0, read);
                if (Handshake.TryReadHeader(ref buffer, out _, out Sha1Hash answered, out _) == OperationStatus.Done && answered == infoHash)
                {
                    return;
                }

                last = $"answered {read} bytes";
            }
            catch (Exception e) when (e is SocketException or TimeoutException)
            {
                last = e.Message;
            }

            Assert.False(Process.HasExited, $"qBittorrent exited before it answered a handshake.\n{Describe()}");
            Assert.True(DateTime.UtcNow < deadline, $"qBittorrent answered no handshake for {infoHash} within {StartTimeout.TotalSeconds:F0} s (last: {last}).\n{Describe()}");
            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Tells qBittorrent of a peer at 127.0.0.1:<paramref name="port"/> for the torrent; it dials it.</summary>
    public async Task AddPeerAsync(string hash, int port, CancellationToken cancellationToken)
    {
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["hashes"] = hash, ["peers"] = $"127.0.0.1:{port}" });
        string answer = await PostAsync("torrents/addPeers", form, cancellationToken).ConfigureAwait(false);
        using JsonDocument result = JsonDocument.Parse(answer);
        Assert.True(
            result.RootElement.TryGetProperty(hash, out JsonElement counts) && counts.GetProperty("added").GetInt32() == 1,
            $"qBittorrent did not take peer 127.0.0.1:{port}: {answer}\n{Describe()}");
    }

    /// <summary>
    /// Polls the torrent (every 200 ms) until <paramref name="done"/> holds; fails on timeout, when qBittorrent exits, or
    /// when the torrent is in error, each time with its listing, its log and its output. Null <paramref name="hash"/>: any
    /// torrent.
    /// </summary>
    public async Task<QbtTorrent> WaitForTorrentAsync(string? hash, Func<QbtTorrent, bool> done, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            string query = hash is null ? "torrents/info" : $"torrents/info?hashes={hash}";
            string info = await GetAsync(query, cancellationToken).ConfigureAwait(false);
            _lastInfo = info;
            foreach (QbtTorrent torrent in JsonSerializer.Deserialize<QbtTorrent[]>(info, Json) ?? [])
            {
                Assert.False(torrent.IsFailed, $"qBittorrent's torrent {torrent.Name} is in state {torrent.State}.\n{Describe()}");
                if (done(torrent))
                {
                    return torrent;
                }
            }

            Assert.False(Process.HasExited, $"qBittorrent exited while waiting for {what}.\n{Describe()}");
            Assert.True(DateTime.UtcNow < deadline, $"qBittorrent: not {what} within {timeout.TotalSeconds:F0} s.\n{Describe()}");
            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Its last torrent listing, the end of its log and its output: what a failure message needs.</summary>
    public string Describe()
    {
        string log = Path.Combine(_profile, "qBittorrent", "data", "logs", "qbittorrent.log");
        string logTail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(30)) : "(no log)";
        return $"--- torrents/info ---\n{_lastInfo ?? "(not read)"}\n--- qbittorrent.log (end) ---\n{logTail}\n{Process.Describe()}";
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await Process.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Waits until the WebUI answers (it starts a moment after the process); fails if the process ends first.</summary>
    private async Task WaitForWebUiAsync(CancellationToken cancellationToken)
    {
        DateTime deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            try
            {
                using HttpResponseMessage response = await _http.GetAsync("app/version", cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            Assert.False(Process.HasExited, $"qbittorrent-nox exited before its WebUI answered.\n{Describe()}");
            Assert.True(DateTime.UtcNow < deadline, $"qbittorrent-nox's WebUI did not answer within {StartTimeout.TotalSeconds:F0} s.\n{Describe()}");
            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The profile was read as written: loopback only, no discovery or port mapping, TCP only, plaintext.</summary>
    private async Task AssertLoopbackOnlyAsync(CancellationToken cancellationToken)
    {
        using JsonDocument preferences = JsonDocument.Parse(await GetAsync("app/preferences", cancellationToken).ConfigureAwait(false));
        JsonElement p = preferences.RootElement;
        string read = $"listen_port {p.GetProperty("listen_port")}, current_interface_address {p.GetProperty("current_interface_address")}, "
            + $"dht {p.GetProperty("dht")}, lsd {p.GetProperty("lsd")}, pex {p.GetProperty("pex")}, upnp {p.GetProperty("upnp")}, "
            + $"bittorrent_protocol {p.GetProperty("bittorrent_protocol")}, encryption {p.GetProperty("encryption")}, "
            + $"enable_multi_connections_from_same_ip {p.GetProperty("enable_multi_connections_from_same_ip")}, bypass_local_auth {p.GetProperty("bypass_local_auth")}";
        string expected = $"listen_port {Port}, current_interface_address 127.0.0.1, dht False, lsd False, pex False, upnp False, "
            + "bittorrent_protocol 1, encryption 2, enable_multi_connections_from_same_ip True, bypass_local_auth True";
        Assert.True(read == expected, $"qBittorrent did not take its profile's settings:\n  read     {read}\n  expected {expected}\n{Describe()}");
    }

    private async Task<string> GetAsync(string path, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await _http.GetAsync(path, cancellationToken).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}\n{Describe()}");
        return body;
    }

    private async Task<string> PostAsync(string path, HttpContent content, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await _http.PostAsync(path, content, cancellationToken).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {body}\n{Describe()}");
        return body;
    }

    /// <summary>
    /// The profile's qBittorrent.conf. The legal notice is accepted here (4.5 has no --confirm-legal-notice and would
    /// otherwise wait for 'y' on stdin); the WebUI trusts local clients, so no login is needed; Encryption=2 is off,
    /// BTProtocol=TCP leaves uTP out; GeoIP lookups (a download) are off.
    /// </summary>
    private static string Config(int port, int webUiPort, string savePath) => string.Create(CultureInfo.InvariantCulture, $"""
        [LegalNotice]
        Accepted=true

        [BitTorrent]
        Session\Port={port}
        Session\Interface=lo
        Session\InterfaceName=lo
        Session\InterfaceAddress=127.0.0.1
        Session\DHTEnabled=false
        Session\LSDEnabled=false
        Session\PeXEnabled=false
        Session\BTProtocol=TCP
        Session\Encryption=2
        Session\MultiConnectionsPerIp=true
        Session\QueueingSystemEnabled=false
        Session\DefaultSavePath={savePath}
        Session\TempPathEnabled=false
        Session\AddTorrentPaused=false

        [Preferences]
        WebUI\Enabled=true
        WebUI\Address=127.0.0.1
        WebUI\Port={webUiPort}
        WebUI\LocalHostAuth=false
        WebUI\HostHeaderValidation=false
        WebUI\CSRFProtection=false
        WebUI\UseUPnP=false
        Connection\UPnP=false
        Connection\ResolvePeerCountries=false
        General\UseRandomPort=false

        """);
}
