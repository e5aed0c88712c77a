using System.Diagnostics;
using PeerNet.Magnet;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// Whole transfers between the <c>peernet</c> CLI and real clients on loopback, both directions, checked byte for
/// byte (SHA-256 of every file). This file: libtorrent, for v1, v2 and hybrid torrents. The other clients, the mixed
/// swarm and the resume after kill -9 are in the <c>SwarmInteropTests.*.cs</c> files.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed partial class SwarmInteropTests
{
    private const int TestTimeout = 180_000;
    private const int SwarmTestTimeout = 240_000;

    /// <summary>Extra time for a peer to report, beyond its own transfer bound.</summary>
    private static readonly TimeSpan ReportSlack = TimeSpan.FromSeconds(30);

    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task PeerNetGet_FromLibtorrentSeeder_ByteIdentical(TorrentVersion version)
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"pn-from-lt-{version}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);

        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct);
        await using (seeder)
        {
            SwarmTest.Log(clock, $"libtorrent seeds on port {seeder.ListenPort}");
            await PeerNetGetFromAsync(torrent, temp, seeder.ListenPort, SwarmTest.TransferTimeout, clock, ct);
        }
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task PeerNetGetMagnet_FromLibtorrentSeeder_FetchesMetadataAndLayers_ByteIdentical(TorrentVersion version)
    {
        // peernet get given only a magnet: the info dictionary comes from libtorrent over BEP 9 and, for v2, the
        // piece layers over BEP 52 hash requests, each proved against the info-hash or the file's pieces root.
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"pn-magnet-from-lt-{version}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);
        string magnet = await MagnetOfAsync(torrent, ct);

        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct);
        await using (seeder)
        {
            string target = temp.Combine("pn-dl");
            await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(magnet, target, new PeerNetOptions { Peers = [seeder.ListenPort] }, ct);
            PeerNetCompletion done = await leecher.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
            SwarmTest.Log(clock, $"peernet complete from a magnet: received {done.Received} bytes");

            SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
            AssertReceivedAboutAll(torrent, done);
        }
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1, false)]
    [InlineData(TorrentVersion.V2, false)]
    [InlineData(TorrentVersion.Hybrid, false)]
    [InlineData(TorrentVersion.V1, true)]
    [InlineData(TorrentVersion.V2, true)]
    public async Task Libtorrent_FromPeerNetSeeder_ByteIdentical(TorrentVersion version, bool superSeed)
    {
        // Super-seeding (BEP 16): libtorrent sees have-none and one `have` at a time, and must still get every piece.
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"lt-from-pn-{version}-{(superSeed ? "super" : "plain")}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);

        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { SuperSeed = superSeed }, ct);
        SwarmTest.Log(clock, $"peernet seeds on port {seeder.ListenPort}");
        string target = temp.Combine("lt-dl");
        await using LibtorrentProcess leecher = await LibtorrentProcess.StartDownloadAsync(torrent.TorrentPath, target, [seeder.ListenPort], SwarmTest.TransferTimeout, ct);
        LtDone done = await leecher.WaitForDoneAsync(SwarmTest.TransferTimeout + ReportSlack, ct);
        SwarmTest.Log(clock, $"libtorrent downloaded {done.TotalPayloadDownload} bytes in {done.Seconds:F1} s");

        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task Libtorrent_MagnetFromPeerNetSeeder_FetchesMetadataAndHashes_ByteIdentical(TorrentVersion version)
    {
        // Given only a magnet link, libtorrent needs the info dictionary from us (BEP 9) and, for v2 files
        // longer than a piece, each file's piece layer through BEP 52 hash requests before it can verify anything.
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"lt-magnet-from-pn-{version}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);
        string magnet = await MagnetOfAsync(torrent, ct);

        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions(), ct);
        string target = temp.Combine("lt-dl");
        await using LibtorrentProcess leecher = await LibtorrentProcess.StartDownloadAsync(magnet, target, [seeder.ListenPort], SwarmTest.TransferTimeout, ct);
        LtDone done = await leecher.WaitForDoneAsync(SwarmTest.TransferTimeout + ReportSlack, ct);
        SwarmTest.Log(clock, $"libtorrent fetched the metadata and {done.TotalPayloadDownload} bytes in {done.Seconds:F1} s");

        Assert.Equal(torrent.PieceCount, done.NumPieces);
        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task OverIPv6_PeerNetAndLibtorrent_TransferBothWays_ByteIdentical()
    {
        // One listening port per node serves IPv4 and IPv6; here every connection is on ::1.
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("ipv6");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.Hybrid, SwarmTest.ContentSize, ct);

        (LibtorrentProcess ltSeeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct, host: "::1");
        await using (ltSeeder)
        {
            string target = temp.Combine("pn-dl");
            await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(torrent.TorrentPath, target, new PeerNetOptions { Host = "::1", Peers = [ltSeeder.ListenPort] }, ct);
            PeerNetCompletion done = await leecher.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
            SwarmTest.Log(clock, $"peernet got {done.Received} bytes from libtorrent over ::1");
            SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
        }

        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { Host = "::1" }, ct);
        string ltTarget = temp.Combine("lt-dl");
        await using LibtorrentProcess ltLeecher = await LibtorrentProcess.StartDownloadAsync(torrent.TorrentPath, ltTarget, [seeder.ListenPort], SwarmTest.TransferTimeout, ct, host: "::1");
        LtDone ltDone = await ltLeecher.WaitForDoneAsync(SwarmTest.TransferTimeout + ReportSlack, ct);
        SwarmTest.Log(clock, $"libtorrent got {ltDone.TotalPayloadDownload} bytes from peernet over ::1");
        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(ltTarget));
    }

    /// <summary>
    /// Runs <c>peernet get --peer</c> against the seeder on <paramref name="seederPort"/> until it completes, then checks
    /// the copy byte for byte and that about all of it came over the wire.
    /// </summary>
    private static async Task PeerNetGetFromAsync(SwarmTorrent torrent, TempDirectory temp, int seederPort, TimeSpan timeout, Stopwatch clock, CancellationToken ct, PeerNetOptions? options = null)
    {
        string target = temp.Combine("pn-dl");
        await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(torrent.TorrentPath, target, (options ?? new PeerNetOptions()) with { Peers = [seederPort] }, ct);
        PeerNetCompletion done = await leecher.WaitForCompletionAsync(timeout, seeding: false, ct);
        SwarmTest.Log(clock, $"peernet complete: received {done.Received} bytes, sent {done.Sent}");

        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
        AssertReceivedAboutAll(torrent, done);
    }

    /// <summary>A magnet link with the torrent's info-hashes and name only: no trackers, no peers, no metadata.</summary>
    private static async Task<string> MagnetOfAsync(SwarmTorrent torrent, CancellationToken ct)
    {
        TorrentMetainfo metainfo = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent.TorrentPath, ct));
        return MagnetLink.Create(metainfo.InfoHashes, metainfo.Name).ToString();
    }

    /// <summary>
    /// <c>received</c> counts payload, printed to 3 significant digits: at least the content (give or take rounding),
    /// and not wildly more (a few pieces fetched twice in endgame are fine; everything twice is not).
    /// </summary>
    private static void AssertReceivedAboutAll(SwarmTorrent torrent, PeerNetCompletion done)
    {
        long rounding = torrent.TotalSize / 100;
        Assert.InRange(done.Received, torrent.TotalSize - rounding, (torrent.PieceCount + 8) * torrent.PieceLength + rounding);
    }
}
