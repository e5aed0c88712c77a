using System.Diagnostics;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// The swarm harness proven without PeerNet: libtorrent, Transmission and aria2 trade with each other through the
/// same helpers the PeerNet tests use, so a PeerNet failure is PeerNet's, not the harness's.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class ReferenceSwarmTests
{
    [Theory(Timeout = 180_000)]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task Libtorrent_ToLibtorrent_ByteIdentical(TorrentVersion version)
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"lt-lt-{version}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);

        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct);
        await using (seeder)
        {
            SwarmTest.Log(clock, $"libtorrent seeds on port {seeder.ListenPort}");
            string target = temp.Combine("lt-dl");
            await using LibtorrentProcess leecher = await LibtorrentProcess.StartDownloadAsync(torrent.TorrentPath, target, [seeder.ListenPort], SwarmTest.TransferTimeout, ct);
            LtDone done = await leecher.WaitForDoneAsync(SwarmTest.TransferTimeout + TimeSpan.FromSeconds(30), ct);
            SwarmTest.Log(clock, $"libtorrent downloaded {done.TotalPayloadDownload} bytes in {done.Seconds:F1} s");

            // libtorrent counts the zeros of v2's pad files (to piece boundaries) as payload.
            Assert.InRange(done.TotalPayloadDownload, torrent.TotalSize, torrent.PieceCount * torrent.PieceLength);
            SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task Libtorrent_ToTransmission_SeederDials_ByteIdentical()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        ToolInfo transmission = ReferenceTools.Require(ReferenceTool.Transmission);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("lt-tr");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);
        string target = temp.Combine("tr-dl");

        await using TransmissionProcess leecher = await TransmissionProcess.StartAsync(transmission, torrent.TorrentPath, target, temp.Combine("tr-config"), ct);
        SwarmTest.Log(clock, $"Transmission listens on port {leecher.Port}");
        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct, dialPorts: [leecher.Port]);
        await using (seeder)
        {
            await leecher.WaitForIdenticalAsync(torrent.ContentPath, torrent.ContentIn(target), SwarmTest.TransmissionTimeout, ct);
            SwarmTest.Log(clock, "Transmission's copy is identical");
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task Libtorrent_ToAria2_SeederDials_ByteIdentical()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        ToolInfo aria2 = ReferenceTools.Require(ReferenceTool.Aria2);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("lt-aria2");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);
        string target = temp.Combine("aria2-dl");

        await using Aria2Process leecher = await Aria2Process.StartDownloadAsync(aria2, torrent.TorrentPath, target, ct);
        SwarmTest.Log(clock, $"aria2 listens on port {leecher.Port}");
        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct, dialPorts: [leecher.Port]);
        await using (seeder)
        {
            await leecher.WaitForDownloadAsync(SwarmTest.TransferTimeout, ct);
            SwarmTest.Log(clock, "aria2 completed");
            SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task Transmission_ToLibtorrent_ByteIdentical()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        ToolInfo transmission = ReferenceTools.Require(ReferenceTool.Transmission);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("tr-lt");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);

        await using TransmissionProcess seeder = await TransmissionProcess.StartAsync(transmission, torrent.TorrentPath, torrent.SourceParent, temp.Combine("tr-config"), ct);
        await seeder.WaitUntilSeedingAsync(TimeSpan.FromSeconds(60), ct);
        SwarmTest.Log(clock, $"Transmission verified the data and seeds on port {seeder.Port}");
        string target = temp.Combine("lt-dl");
        await using LibtorrentProcess leecher = await LibtorrentProcess.StartDownloadAsync(torrent.TorrentPath, target, [seeder.Port], SwarmTest.TransmissionTimeout, ct);
        LtDone done = await leecher.WaitForDoneAsync(SwarmTest.TransmissionTimeout + TimeSpan.FromSeconds(30), ct);
        SwarmTest.Log(clock, $"libtorrent downloaded {done.TotalPayloadDownload} bytes in {done.Seconds:F1} s");

        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }

    [Fact(Timeout = 180_000)]
    public async Task Aria2_ToLibtorrent_ByteIdentical()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        ToolInfo aria2 = ReferenceTools.Require(ReferenceTool.Aria2);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("aria2-lt");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);

        await using Aria2Process seeder = await Aria2Process.StartSeedAsync(aria2, torrent.TorrentPath, torrent.SourceParent, ct);
        SwarmTest.Log(clock, $"aria2 verified the data and seeds on port {seeder.Port}");
        string target = temp.Combine("lt-dl");
        await using LibtorrentProcess leecher = await LibtorrentProcess.StartDownloadAsync(torrent.TorrentPath, target, [seeder.Port], SwarmTest.TransferTimeout, ct);
        LtDone done = await leecher.WaitForDoneAsync(SwarmTest.TransferTimeout + TimeSpan.FromSeconds(30), ct);
        SwarmTest.Log(clock, $"libtorrent downloaded {done.TotalPayloadDownload} bytes in {done.Seconds:F1} s");

        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }

    /// <summary>
    /// The mixed-swarm premise, with libtorrent alone: a seeder capped well below loopback speed and three leechers
    /// that know each other; they finish only by trading, which their upload counters show.
    /// </summary>
    [Fact(Timeout = 240_000)]
    public async Task Libtorrent_UploadLimitedSeederAndThreeLeechers_LeechersTrade()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("lt-swarm");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);

        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct, uploadLimit: SwarmTest.LimitedSeederRate);
        await using (seeder)
        {
            int[] ports = [LoopbackPorts.GetFree(), LoopbackPorts.GetFree(), LoopbackPorts.GetFree()];
            var leechers = new List<LibtorrentProcess>();
            try
            {
                for (int i = 0; i < ports.Length; i++)
                {
                    leechers.Add(await LibtorrentProcess.StartDownloadAsync(
                        torrent.TorrentPath, temp.Combine($"lt-{i}"), [seeder.ListenPort, .. ports.Where(p => p != ports[i])], SwarmTest.SwarmTimeout, ct, port: ports[i], seedAfter: true));
                }

                var done = new List<LtDone>();
                foreach (LibtorrentProcess leecher in leechers)
                {
                    done.Add(await leecher.WaitForDoneAsync(SwarmTest.SwarmTimeout + TimeSpan.FromSeconds(30), ct));
                }

                SwarmTest.Log(clock, "all complete: " + string.Join("; ", done.Select(d => $"{d.Seconds:F1} s, received {d.TotalPayloadDownload}, sent {d.TotalPayloadUpload}")));
                for (int i = 0; i < leechers.Count; i++)
                {
                    SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(temp.Combine($"lt-{i}")));
                }

                Assert.True(done.Sum(d => d.TotalPayloadUpload) > 0, "no libtorrent leecher uploaded anything: they did not trade");
            }
            finally
            {
                foreach (LibtorrentProcess leecher in leechers)
                {
                    await leecher.DisposeAsync();
                }
            }
        }
    }
}
