using PeerNet.Metainfo;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// Two nodes that learn of each other at the same moment (as LSD makes them) dial each other: both ends must keep the
/// same one of the two connections. Each end used to close the newer one, so often neither survived.
/// </summary>
public sealed class SwarmSimultaneousDialTests
{
    [Fact]
    public async Task BothNodesDialEachOtherAtOnce_OneConnectionSurvives_AndTheTransferCompletes()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [400_000]);
        for (int round = 0; round < 5; round++)
        {
            SwarmSession seeder = await harness.StartNodeAsync();
            TorrentSwarm seeding = await SwarmHarness.SeedAsync(seeder, torrent, content);
            SwarmSession leecher = await harness.StartNodeAsync();
            (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, []);

            download.AddPeerEndpoint(seeder.LocalEndPoint!);
            seeding.AddPeerEndpoint(leecher.LocalEndPoint!);
            await SwarmHarness.WaitCompletedAsync(download);
            SwarmHarness.AssertSameFiles(torrent, content, folder);
        }
    }
}
