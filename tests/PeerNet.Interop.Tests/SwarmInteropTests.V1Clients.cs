using System.Diagnostics;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// Transmission and aria2, which read v1 torrents only. Neither dials 127.0.0.1 (Transmission refuses to; aria2 has
/// no flag to add a peer), so PeerNet dials them in both directions: <c>seed --peer</c> and <c>get --peer</c>.
/// </summary>
public sealed partial class SwarmInteropTests
{
    [Fact(Timeout = TestTimeout)]
    public async Task PeerNetGet_FromTransmissionSeeder_ByteIdentical()
    {
        ToolInfo transmission = ReferenceTools.Require(ReferenceTool.Transmission);
        ReferenceTools.Require(ReferenceTool.Libtorrent); // creates the torrent
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("pn-from-tr");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);

        await using TransmissionProcess seeder = await TransmissionProcess.StartAsync(transmission, torrent.TorrentPath, torrent.SourceParent, temp.Combine("tr-config"), ct);
        await seeder.WaitUntilSeedingAsync(TimeSpan.FromSeconds(60), ct);
        SwarmTest.Log(clock, $"Transmission seeds on port {seeder.Port}");
        await PeerNetGetFromAsync(torrent, temp, seeder.Port, SwarmTest.TransmissionTimeout, clock, ct);
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Transmission_FromPeerNetSeeder_PeerNetDials_ByteIdentical(bool superSeed)
    {
        ToolInfo transmission = ReferenceTools.Require(ReferenceTool.Transmission);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"tr-from-pn-{(superSeed ? "super" : "plain")}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);
        string target = temp.Combine("tr-dl");

        await using TransmissionProcess leecher = await TransmissionProcess.StartAsync(transmission, torrent.TorrentPath, target, temp.Combine("tr-config"), ct);
        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { Peers = [leecher.Port], SuperSeed = superSeed }, ct);
        SwarmTest.Log(clock, $"peernet seeds on port {seeder.ListenPort}, dialing Transmission on {leecher.Port}");
        await leecher.WaitForIdenticalAsync(torrent.ContentPath, torrent.ContentIn(target), SwarmTest.TransmissionTimeout, ct);
        SwarmTest.Log(clock, "Transmission's copy is identical");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task PeerNetGet_FromAria2Seeder_ByteIdentical()
    {
        ToolInfo aria2 = ReferenceTools.Require(ReferenceTool.Aria2);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("pn-from-aria2");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);

        await using Aria2Process seeder = await Aria2Process.StartSeedAsync(aria2, torrent.TorrentPath, torrent.SourceParent, ct);
        SwarmTest.Log(clock, $"aria2 seeds on port {seeder.Port}");
        await PeerNetGetFromAsync(torrent, temp, seeder.Port, SwarmTest.TransferTimeout, clock, ct);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Aria2_FromPeerNetSeeder_PeerNetDials_ByteIdentical()
    {
        ToolInfo aria2 = ReferenceTools.Require(ReferenceTool.Aria2);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("aria2-from-pn");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);
        string target = temp.Combine("aria2-dl");

        await using Aria2Process leecher = await Aria2Process.StartDownloadAsync(aria2, torrent.TorrentPath, target, ct);
        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { Peers = [leecher.Port] }, ct);
        SwarmTest.Log(clock, $"peernet seeds on port {seeder.ListenPort}, dialing aria2 on {leecher.Port}");
        await leecher.WaitForDownloadAsync(SwarmTest.TransferTimeout, ct);
        SwarmTest.Log(clock, "aria2 completed");

        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task OverIPv6_PeerNetAndTransmission_TransferBothWays_ByteIdentical()
    {
        // Transmission listens on ::1 too (bind-address-ipv6); PeerNet dials it there, as on 127.0.0.1.
        ToolInfo transmission = ReferenceTools.Require(ReferenceTool.Transmission);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("ipv6-tr");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);

        await using (TransmissionProcess seeder = await TransmissionProcess.StartAsync(transmission, torrent.TorrentPath, torrent.SourceParent, temp.Combine("tr-seed-config"), ct))
        {
            await seeder.WaitUntilSeedingAsync(TimeSpan.FromSeconds(60), ct);
            await PeerNetGetFromAsync(torrent, temp, seeder.Port, SwarmTest.TransmissionTimeout, clock, ct, new PeerNetOptions { Host = "::1" });
            SwarmTest.Log(clock, $"peernet got it from Transmission over [::1]:{seeder.Port}");
        }

        string target = temp.Combine("tr-dl");
        await using TransmissionProcess leecher = await TransmissionProcess.StartAsync(transmission, torrent.TorrentPath, target, temp.Combine("tr-config"), ct);
        await using PeerNetProcess peernet = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { Host = "::1", Peers = [leecher.Port] }, ct);
        await leecher.WaitForIdenticalAsync(torrent.ContentPath, torrent.ContentIn(target), SwarmTest.TransmissionTimeout, ct);
        SwarmTest.Log(clock, $"Transmission got it from peernet over [::1]:{leecher.Port}");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task OverIPv6_PeerNetAndAria2_TransferBothWays_ByteIdentical()
    {
        ToolInfo aria2 = ReferenceTools.Require(ReferenceTool.Aria2);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("ipv6-aria2");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);

        await using (Aria2Process seeder = await Aria2Process.StartSeedAsync(aria2, torrent.TorrentPath, torrent.SourceParent, ct, host: "::1"))
        {
            await PeerNetGetFromAsync(torrent, temp, seeder.Port, SwarmTest.TransferTimeout, clock, ct, new PeerNetOptions { Host = "::1" });
            SwarmTest.Log(clock, $"peernet got it from aria2 over [::1]:{seeder.Port}");
        }

        string target = temp.Combine("aria2-dl");
        await using Aria2Process leecher = await Aria2Process.StartDownloadAsync(aria2, torrent.TorrentPath, target, ct, host: "::1");
        await using PeerNetProcess peernet = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { Host = "::1", Peers = [leecher.Port] }, ct);
        await leecher.WaitForDownloadAsync(SwarmTest.TransferTimeout, ct);
        SwarmTest.Log(clock, $"aria2 got it from peernet over [::1]:{leecher.Port}");
        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }
}
