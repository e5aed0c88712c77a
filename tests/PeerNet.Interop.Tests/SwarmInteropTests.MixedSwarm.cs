using System.Diagnostics;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>PeerNet as one member of a swarm of libtorrent peers, where finishing requires trading.</summary>
public sealed partial class SwarmInteropTests
{
    /// <summary>
    /// One libtorrent seeder capped at <see cref="SwarmTest.LimitedSeederRate"/>, two PeerNet and two libtorrent
    /// leechers, each told about every other peer. All finish byte-identical, and the upload counters show that the
    /// leechers traded: PeerNet received and sent, and the libtorrent leechers sent (to leechers, the only ones that
    /// download).
    /// </summary>
    [Fact(Timeout = SwarmTestTimeout)]
    public async Task MixedSwarm_LimitedLibtorrentSeeder_PeerNetAndLibtorrentLeechersTrade()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("mixed-swarm");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, SwarmTest.ContentSize, ct);

        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct, uploadLimit: SwarmTest.LimitedSeederRate);
        await using (seeder)
        {
            // Ports up front, so that every leecher can be told about every other.
            int[] peerNetPorts = [LoopbackPorts.GetFree(), LoopbackPorts.GetFree()];
            int[] libtorrentPorts = [LoopbackPorts.GetFree(), LoopbackPorts.GetFree()];
            int[] all = [seeder.ListenPort, .. peerNetPorts, .. libtorrentPorts];
            var libtorrentLeechers = new List<LibtorrentProcess>();
            var peerNetLeechers = new List<PeerNetProcess>();
            try
            {
                // libtorrent first: it dials again every 2 s, so it reaches the PeerNet leechers once they listen.
                for (int i = 0; i < libtorrentPorts.Length; i++)
                {
                    libtorrentLeechers.Add(await LibtorrentProcess.StartDownloadAsync(
                        torrent.TorrentPath, temp.Combine($"lt-{i}"), [.. all.Where(p => p != libtorrentPorts[i])], SwarmTest.SwarmTimeout, ct, port: libtorrentPorts[i], seedAfter: true));
                }

                for (int i = 0; i < peerNetPorts.Length; i++)
                {
                    var options = new PeerNetOptions { Port = peerNetPorts[i], Peers = [.. all.Where(p => p != peerNetPorts[i])], Seed = true };
                    peerNetLeechers.Add(await PeerNetProcess.StartGetAsync(torrent.TorrentPath, temp.Combine($"pn-{i}"), options, ct));
                }

                SwarmTest.Log(clock, $"swarm up: seeder {seeder.ListenPort}, peernet {string.Join(',', peerNetPorts)}, libtorrent {string.Join(',', libtorrentPorts)}");

                // Everyone keeps seeding after completing, so that late finishers can still fetch from early ones.
                Task<PeerNetCompletion[]> peerNetDone = Task.WhenAll(peerNetLeechers.Select(p => p.WaitForCompletionAsync(SwarmTest.SwarmTimeout, seeding: true, ct)));
                Task<LtDone[]> libtorrentDone = Task.WhenAll(libtorrentLeechers.Select(l => l.WaitForDoneAsync(SwarmTest.SwarmTimeout + ReportSlack, ct)));
                PeerNetCompletion[] peerNet = await peerNetDone;
                LtDone[] libtorrent = await libtorrentDone;
                SwarmTest.Log(clock, "all complete; peernet: " + string.Join("; ", peerNet.Select(c => $"received {c.Received}, sent {c.Sent}"))
                    + "; libtorrent: " + string.Join("; ", libtorrent.Select(d => $"{d.Seconds:F1} s, received {d.TotalPayloadDownload}, sent {d.TotalPayloadUpload}")));

                for (int i = 0; i < peerNetPorts.Length; i++)
                {
                    SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(temp.Combine($"pn-{i}")));
                }

                for (int i = 0; i < libtorrentPorts.Length; i++)
                {
                    SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(temp.Combine($"lt-{i}")));
                }

                Assert.All(peerNet, c => Assert.True(c.Received > 0, $"a PeerNet leecher received nothing: {c}"));
                Assert.True(peerNet.Any(c => c.Sent > 0), "no PeerNet leecher sent anything by the time it completed: PeerNet did not upload to the other leechers.\n"
                    + string.Join('\n', peerNetLeechers.Select(p => p.Process.Describe())));
                Assert.True(libtorrent.Sum(d => d.TotalPayloadUpload) > 0, "the libtorrent leechers sent nothing: the leechers did not trade");
            }
            finally
            {
                foreach (PeerNetProcess leecher in peerNetLeechers)
                {
                    await leecher.DisposeAsync();
                }

                foreach (LibtorrentProcess leecher in libtorrentLeechers)
                {
                    await leecher.DisposeAsync();
                }
            }
        }
    }
}
