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
            // Polled every millisecond, so the stop lands while pieces are still arriving; a stall fails the test.
            int pieces = 8 + round;
            await Poll.UntilAsync(
                () => download.GetStatus().PiecesVerified >= pieces || download.Completed.IsCompleted,
                $"round {round}: {pieces} pieces verified",
                SwarmHarness.Timeout,
                TimeSpan.FromMilliseconds(1),
                download.DescribeState);

            await leecher.DisposeAsync().AsTask().WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        }
    }
}
