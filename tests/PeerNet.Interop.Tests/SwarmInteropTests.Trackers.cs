using System.Diagnostics;
using System.Globalization;
using System.Net;
using PeerNet.Creation;
using PeerNet.Discovery.Trackers;
using PeerNet.Metainfo;
using PeerNet.Tracker;

namespace PeerNet.Interop.Tests;

/// <summary>
/// Peers that are given no address find each other through opentracker: the torrent names the tracker, the seeder
/// announces, and the leecher (no --peer) gets the seeder from its announce. Afterwards the tracker's counts show the
/// leecher's <c>completed</c> and <c>stopped</c> arrived.
/// </summary>
public sealed partial class SwarmInteropTests
{
    private static readonly TimeSpan AnnounceWait = TimeSpan.FromSeconds(30);

    [Theory(Timeout = TestTimeout)]
    [InlineData("http")]
    [InlineData("udp")]
    public async Task PeerNetGet_NoPeerGiven_FindsPeerNetSeederThroughOpentracker(string scheme)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"pn-tracker-{scheme}");
        (string torrentPath, string content, Sha1Hash hash, Func<OpentrackerProcess, string> url) = await CreateTrackedTorrentAsync(temp, scheme, ct);
        await using OpentrackerProcess opentracker = await OpentrackerProcess.StartAsync(temp, [hash], ct);
        await File.WriteAllBytesAsync(torrentPath, await CreateTorrentAsync(content, url(opentracker)), ct);

        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrentPath, content, new PeerNetOptions(), ct);
        await WaitForCountsAsync(opentracker, hash, s => s.Complete == 1, ct);
        SwarmTest.Log(clock, $"peernet seeder on port {seeder.ListenPort} announced over {scheme}");

        string target = temp.Combine("pn-dl");
        await using (PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(torrentPath, target, new PeerNetOptions(), ct))
        {
            PeerNetCompletion done = await leecher.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
            SwarmTest.Log(clock, $"peernet leecher complete: received {done.Received} bytes");
        }

        SwarmContent.AssertIdentical(content, Path.Combine(target, SwarmContent.FolderName));

        // completed counted once; stopped took the leecher away again, leaving the seeder.
        ScrapeStats after = await WaitForCountsAsync(opentracker, hash, s => s is { Downloaded: 1, Complete: 1, Incomplete: 0 }, ct);
        SwarmTest.Log(clock, $"opentracker after the leecher left: {after}");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task PeerNetGet_NoPeerGiven_FindsLibtorrentSeederThroughOpentracker()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("lt-tracker");
        (string torrentPath, string content, Sha1Hash hash, Func<OpentrackerProcess, string> url) = await CreateTrackedTorrentAsync(temp, "http", ct);
        await using OpentrackerProcess opentracker = await OpentrackerProcess.StartAsync(temp, [hash], ct);
        await File.WriteAllBytesAsync(torrentPath, await CreateTorrentAsync(content, url(opentracker)), ct);

        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrentPath, Path.GetDirectoryName(content)!, ct, trackers: [url(opentracker)]);
        await using (seeder)
        {
            await WaitForCountsAsync(opentracker, hash, s => s.Complete == 1, ct);
            SwarmTest.Log(clock, $"libtorrent seeder on port {seeder.ListenPort} announced");
            string target = temp.Combine("pn-dl");
            await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(torrentPath, target, new PeerNetOptions(), ct);
            PeerNetCompletion done = await leecher.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
            SwarmTest.Log(clock, $"peernet leecher complete: received {done.Received} bytes");
            SwarmContent.AssertIdentical(content, Path.Combine(target, SwarmContent.FolderName));
        }
    }

    [Fact(Timeout = TestTimeout)]
    public async Task PeerNetGetMagnet_TrackerOnly_FindsLibtorrentSeederThroughOpentracker()
    {
        // A magnet with nothing but its info-hash and a tr: the metadata fetch itself announces to find peers.
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("lt-tracker-magnet");
        (string torrentPath, string content, Sha1Hash hash, Func<OpentrackerProcess, string> url) = await CreateTrackedTorrentAsync(temp, "udp", ct);
        await using OpentrackerProcess opentracker = await OpentrackerProcess.StartAsync(temp, [hash], ct);
        await File.WriteAllBytesAsync(torrentPath, await CreateTorrentAsync(content, url(opentracker)), ct);
        TorrentMetainfo metainfo = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrentPath, ct));
        string magnet = PeerNet.Magnet.MagnetLink.Create(metainfo.InfoHashes, metainfo.Name, [url(opentracker)]).ToString();

        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrentPath, Path.GetDirectoryName(content)!, ct, trackers: [url(opentracker)]);
        await using (seeder)
        {
            await WaitForCountsAsync(opentracker, hash, s => s.Complete == 1, ct);
            string target = temp.Combine("pn-dl");
            await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(magnet, target, new PeerNetOptions(), ct);
            PeerNetCompletion done = await leecher.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
            SwarmTest.Log(clock, $"peernet leecher complete from a tracker-only magnet: received {done.Received} bytes");
            SwarmContent.AssertIdentical(content, Path.Combine(target, SwarmContent.FolderName));
        }
    }

    /// <summary>
    /// Writes the content and a v1 torrent of it (the info-hash does not depend on the tracker URL, which is only known
    /// once opentracker runs: the caller writes the final torrent with <see cref="CreateTorrentAsync"/>).
    /// </summary>
    [Theory(Timeout = TestTimeout)]
    [InlineData("peernet")]
    [InlineData("libtorrent")]
    public async Task OverIPv6_PeerNetGet_FindsItsSeederThroughQbittorrentsEmbeddedTracker(string seederClient)
    {
        // BEP 7 with a real tracker: Debian's opentracker is IPv4-only, qBittorrent's embedded tracker listens on both
        // families and answers IPv6 announcers in compact peers6. Seeder and leecher bind ::1 and announce to [::1];
        // the leecher (no DHT, no LSD) has no peer but what the tracker returns.
        ToolInfo qbittorrent = ReferenceTools.Require(ReferenceTool.Qbittorrent);
        if (seederClient == "libtorrent")
        {
            ReferenceTools.Require(ReferenceTool.Libtorrent);
        }

        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"ipv6-qbt-tracker-{seederClient}");
        int trackerPort = LoopbackPorts.GetFree();
        string content = SwarmContent.Write(temp.Combine("source"), SwarmTest.ContentSize, seed: 6);
        string torrentPath = temp.Combine("tracked.torrent");
        string url = $"http://[::1]:{trackerPort}/announce";
        await File.WriteAllBytesAsync(torrentPath, await CreateTorrentAsync(content, url), ct);

        string profile = temp.Combine("qbt");
        Directory.CreateDirectory(Path.Combine(profile, "qBittorrent", "config"));
        await File.WriteAllTextAsync(Path.Combine(profile, "qBittorrent", "config", "qBittorrent.conf"), string.Create(CultureInfo.InvariantCulture, $"""
            [LegalNotice]
            Accepted=true

            [BitTorrent]
            Session\Port={LoopbackPorts.GetFree()}
            Session\Interface=lo
            Session\InterfaceName=lo
            Session\DHTEnabled=false
            Session\LSDEnabled=false
            Session\PeXEnabled=false

            [Preferences]
            WebUI\Enabled=true
            WebUI\Address=127.0.0.1
            WebUI\Port={LoopbackPorts.GetFree()}
            Connection\UPnP=false
            Connection\ResolvePeerCountries=false
            Advanced\trackerEnabled=true
            Advanced\trackerPort={trackerPort}

            """), ct);
        await using var tracker = BackgroundProcess.Start("qbittorrent-nox tracker", qbittorrent.Path!, [$"--profile={profile}"]);
        await WaitUntilListeningAsync(new IPEndPoint(IPAddress.IPv6Loopback, trackerPort), tracker, ct);
        SwarmTest.Log(clock, $"qBittorrent's tracker listens on [::1]:{trackerPort}");

        await using IAsyncDisposable seeder = seederClient == "peernet"
            ? await PeerNetProcess.StartSeedAsync(torrentPath, content, new PeerNetOptions { Host = "::1" }, ct)
            : (await LibtorrentProcess.StartSeedAsync(torrentPath, Path.GetDirectoryName(content)!, ct, host: "::1", trackers: [url])).Item1;
        string target = temp.Combine("pn-dl");
        await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(torrentPath, target, new PeerNetOptions { Host = "::1" }, ct);
        PeerNetCompletion done = await leecher.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
        SwarmTest.Log(clock, $"peernet leecher complete over IPv6 from the {seederClient} seeder in peers6: received {done.Received} bytes");
        SwarmContent.AssertIdentical(content, Path.Combine(target, SwarmContent.FolderName));
    }

    /// <summary>Polls until <paramref name="endPoint"/> accepts a TCP connection (60 s at most).</summary>
    private static async Task WaitUntilListeningAsync(IPEndPoint endPoint, BackgroundProcess process, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var probe = new System.Net.Sockets.Socket(endPoint.AddressFamily, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(endPoint, ct);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
            {
                await Task.Delay(250, ct);
            }
        }
    }

    private static async Task<(string TorrentPath, string Content, Sha1Hash Hash, Func<OpentrackerProcess, string> Url)> CreateTrackedTorrentAsync(TempDirectory temp, string scheme, CancellationToken cancellationToken)
    {
        string content = SwarmContent.Write(temp.Combine("source"), SwarmTest.ContentSize, seed: scheme.Length);
        TorrentMetainfo metainfo = TorrentMetainfo.Parse(await CreateTorrentAsync(content, "http://placeholder/announce"));
        cancellationToken.ThrowIfCancellationRequested();
        return (temp.Combine("tracked.torrent"), content, metainfo.InfoHashes.V1!.Value, o => scheme == "udp" ? o.UdpAnnounceUrl : o.HttpAnnounceUrl);
    }

    private static Task<byte[]> CreateTorrentAsync(string content, string tracker) => TorrentCreator.CreateAsync(new TorrentCreationOptions
    {
        SourcePath = content,
        Version = TorrentVersion.V1,
        PieceLength = SwarmContent.PieceLength,
        Trackers = [tracker],
        CreationDate = DateTimeOffset.UnixEpoch,
    });

    /// <summary>Scrapes opentracker (HTTP) every 200 ms until its counts for <paramref name="hash"/> satisfy <paramref name="match"/>.</summary>
    private static async Task<ScrapeStats> WaitForCountsAsync(OpentrackerProcess opentracker, Sha1Hash hash, Func<ScrapeStats, bool> match, CancellationToken cancellationToken)
    {
        using var client = new TrackerClient(new TrackerClientOptions { HttpTimeout = TimeSpan.FromSeconds(5) }, TimeProvider.System);
        using ITracker tracker = client.Create(opentracker.HttpAnnounceUrl)!;
        var clock = Stopwatch.StartNew();
        ScrapeStats last = default;
        while (clock.Elapsed < AnnounceWait)
        {
            IReadOnlyDictionary<Sha1Hash, ScrapeStats> files = await tracker.ScrapeAsync([hash], cancellationToken);
            if (files.TryGetValue(hash, out last) && match(last))
            {
                return last;
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException($"opentracker's counts stayed at {last} for {AnnounceWait.TotalSeconds:0} s.\n{opentracker.Process.Describe()}");
    }
}
