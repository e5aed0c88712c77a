using System.Diagnostics;
using System.Net;
using PeerNet.Creation;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// One PeerNet node (the public API, in this process) hosts 20 torrents on one port and serves every one of them to
/// libtorrent, aria2 and Transmission at once: libtorrent in one session dialling the node, aria2 in one process and
/// Transmission in one process per torrent, both dialled by the node (neither dials 127.0.0.1 on its own). Incoming
/// connections find their torrent by info-hash; every copy must be byte-identical.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class ManyTorrentsInteropTests
{
    private const int Torrents = 20;
    private const int ContentSize = 192 * 1024;

    [Fact(Timeout = 300_000)]
    public async Task OneNode_TwentyTorrents_ServedToLibtorrentAria2AndTransmissionAtOnce()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        ToolInfo aria2 = ReferenceTools.Require(ReferenceTool.Aria2);
        ToolInfo transmission = ReferenceTools.Require(ReferenceTool.Transmission);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("many-torrents");

        // 20 small v1 torrents (aria2 and Transmission read v1 only), each one file under one folder.
        string source = temp.Combine("source");
        Directory.CreateDirectory(source);
        var torrents = new List<(string Path, TorrentMetainfo Metainfo)>();
        for (int i = 0; i < Torrents; i++)
        {
            string file = Path.Combine(source, $"item{i:D2}.bin");
            await File.WriteAllBytesAsync(file, System.Security.Cryptography.RandomNumberGenerator.GetBytes(ContentSize + (i * 1031)), ct);
            byte[] encoded = await TorrentCreator.CreateAsync(new TorrentCreationOptions { SourcePath = file, Version = TorrentVersion.V1, PieceLength = 16 * 1024 }, cancellationToken: ct);
            string path = temp.Combine($"item{i:D2}.torrent");
            await File.WriteAllBytesAsync(path, encoded, ct);
            torrents.Add((path, TorrentMetainfo.Parse(encoded)));
        }

        await using PeerNetNode node = await PeerNetNode.StartAsync(new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, Trackers = false }, cancellationToken: ct);
        var handles = new List<TorrentHandle>();
        foreach ((_, TorrentMetainfo metainfo) in torrents)
        {
            handles.Add(await node.AddTorrentAsync(TorrentSource.FromMetainfo(metainfo), new AddTorrentOptions { SavePath = source, ReadOnly = true, UploadSlots = 0 }, ct));
        }

        Assert.All(handles, h => Assert.Equal(TorrentState.Seeding, h.GetStatus().State));
        SwarmTest.Log(clock, $"the node seeds {handles.Count} torrents on port {node.ListenPort}");

        // libtorrent: one session, every torrent, dialling the node.
        string ltFolder = temp.Combine("lt");
        Directory.CreateDirectory(ltFolder);
        await using var libtorrent = BackgroundProcess.Start(
            "libtorrent (20 torrents)",
            ReferenceTools.SystemPython,
            [PythonScripts.Resolve("lt_download_many.py"), ltFolder, "--peer", $"127.0.0.1:{node.ListenPort}", "--timeout", "240", .. torrents.Select(t => t.Path)],
            exitsWhenStdinCloses: true);

        // aria2: one process, every torrent at once (-j), dialled by the node for each.
        string aria2Folder = temp.Combine("aria2");
        int aria2Port = LoopbackPorts.GetFree();
        Directory.CreateDirectory(aria2Folder);
        await using var aria = BackgroundProcess.Start("aria2c (20 torrents)", aria2.Path!,
        [
            "--no-conf", "--interface=127.0.0.1", "--disable-ipv6=true", $"--listen-port={aria2Port}", "-j", Torrents.ToString(),
            "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
            "--file-allocation=none", "--summary-interval=1", "--console-log-level=notice", "--enable-color=false",
            $"--dir={aria2Folder}", "--seed-time=0", .. torrents.Select(t => t.Path),
        ]);
        await LoopbackPorts.WaitUntilListeningAsync(aria2Port, TimeSpan.FromSeconds(60), aria.Describe, ct);

        // Transmission: one process per torrent, each dialled by the node.
        var transmissions = new List<TransmissionProcess>();
        try
        {
            for (int i = 0; i < Torrents; i++)
            {
                transmissions.Add(await TransmissionProcess.StartAsync(transmission, torrents[i].Path, temp.Combine($"tr{i:D2}"), temp.Combine($"tr{i:D2}-config"), ct));
            }

            for (int i = 0; i < Torrents; i++)
            {
                handles[i].AddPeers([new IPEndPoint(IPAddress.Loopback, aria2Port), new IPEndPoint(IPAddress.Loopback, transmissions[i].Port)]);
            }

            SwarmTest.Log(clock, "libtorrent, aria2 and 20 Transmissions started; the node dials aria2 and each Transmission");
            int ltExit = await libtorrent.WaitForExitAsync(TimeSpan.FromSeconds(240), ct);
            Assert.True(ltExit == 0, libtorrent.Describe());
            SwarmTest.Log(clock, "libtorrent has all 20");
            int ariaExit = await aria.WaitForExitAsync(TimeSpan.FromSeconds(240), ct);
            Assert.True(ariaExit == 0, aria.Describe());
            SwarmTest.Log(clock, "aria2 has all 20");
            await Task.WhenAll(transmissions.Select(t => t.WaitUntilSeedingAsync(TimeSpan.FromSeconds(240), ct)));
            SwarmTest.Log(clock, "every Transmission has its torrent");

            for (int i = 0; i < Torrents; i++)
            {
                string name = torrents[i].Metainfo.Name;
                byte[] expected = await File.ReadAllBytesAsync(Path.Combine(source, name), ct);
                foreach (string copy in new[] { Path.Combine(ltFolder, name), Path.Combine(aria2Folder, name), Path.Combine(temp.Combine($"tr{i:D2}"), name) })
                {
                    byte[] actual = await File.ReadAllBytesAsync(copy, ct);
                    Assert.True(expected.SequenceEqual(actual), $"{copy} differs");
                }
            }

            NodeStatus status = node.GetStatus();
            SwarmTest.Log(clock, $"the node sent {status.Uploaded / 1e6:F1} MB over {status.Torrents} torrents");
            Assert.True(status.Uploaded >= 3L * Torrents * ContentSize, $"the node sent {status.Uploaded} bytes");
        }
        finally
        {
            foreach (TransmissionProcess t in transmissions)
            {
                await t.DisposeAsync();
            }
        }
    }
}
