using System.Diagnostics;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// qBittorrent 4.5 (libtorrent 2.0 underneath, a client people run) through its WebUI API: it downloads v1 and hybrid
/// torrents from <c>peernet seed</c>, told of the seeder with <c>torrents/addPeers</c>, and <c>peernet get</c> downloads
/// from it seeding.
/// </summary>
public sealed partial class SwarmInteropTests
{
    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task Qbittorrent_FromPeerNetSeeder_AddPeers_ByteIdentical(TorrentVersion version)
    {
        ToolInfo qbittorrent = ReferenceTools.Require(ReferenceTool.Qbittorrent);
        ReferenceTools.Require(ReferenceTool.Libtorrent); // creates the torrent
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"qbt-from-pn-{version}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);

        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions(), ct);
        await using QbittorrentProcess leecher = await QbittorrentProcess.StartAsync(qbittorrent, temp.Combine("qbt-profile"), ct);
        SwarmTest.Log(clock, $"peernet seeds on port {seeder.ListenPort}; qBittorrent listens on {leecher.Port}");
        string target = temp.Combine("qbt-dl");
        string hash = await leecher.AddTorrentAsync(torrent.TorrentPath, target, ct);
        await leecher.AddPeerAsync(hash, seeder.ListenPort, ct);
        QbtTorrent done = await leecher.WaitForTorrentAsync(hash, t => t.IsSeeding, "seeding a complete download", SwarmTest.TransferTimeout, ct);
        SwarmTest.Log(clock, $"qBittorrent complete ({done.State})");

        // Verified means written to its files (libtorrent maps them), so the copy is whole once qBittorrent seeds.
        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task PeerNetGet_FromQbittorrentSeeder_ByteIdentical(TorrentVersion version)
    {
        ToolInfo qbittorrent = ReferenceTools.Require(ReferenceTool.Qbittorrent);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"pn-from-qbt-{version}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);

        await using QbittorrentProcess seeder = await QbittorrentProcess.StartAsync(qbittorrent, temp.Combine("qbt-profile"), ct);
        await seeder.SeedAsync(torrent.TorrentPath, torrent.SourceParent, ct);
        SwarmTest.Log(clock, $"qBittorrent seeds on port {seeder.Port}");
        await PeerNetGetFromAsync(torrent, temp, seeder.Port, SwarmTest.TransferTimeout, clock, ct);
    }
}
