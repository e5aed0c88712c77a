using PeerNet.Metainfo;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>Stopping a torrent in the middle of a download, as a leaving peer does.</summary>
public sealed class SwarmStopTests
{
    [Fact]
    public async Task Dispose_WhileVerifiedPiecesAreBeingWritten_CompletesWithoutThrowing()
    {
        // Small pieces arriving fast keep writes in flight, so some stop lands between a piece's verification
        // and the start of its write; that write is cancelled, and disposal must still finish.
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [4_000_000], pieceLength: 16 * 1024);
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        for (int round = 0; round < 20; round++)
        {
            SwarmSession leecher = await harness.StartNodeAsync();
            (TorrentSwarm download, _) = await harness.LeechAsync(leecher, torrent, [seeder]);
            while (download.GetStatus().PiecesVerified < 8 + round && !download.Completed.IsCompleted)
            {
                await Task.Delay(1, TestContext.Current.CancellationToken);
            }

            await leecher.DisposeAsync().AsTask().WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        }
    }
}
