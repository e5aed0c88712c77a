using System.Diagnostics;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>Pieces verified before a crash are kept, not fetched again.</summary>
public sealed partial class SwarmInteropTests
{
    /// <summary>
    /// <c>peernet get</c> from an upload-limited libtorrent seeder, killed with SIGKILL once about half the pieces are
    /// verified, then started again on the same folder and resume folder: it completes byte-identical, reports at
    /// start at least the pieces it had verified before the kill, and receives only about what was still missing.
    /// </summary>
    [Fact(Timeout = SwarmTestTimeout)]
    public async Task PeerNetGet_KilledHalfwayAndRestarted_KeepsVerifiedPieces()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("pn-resume");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, 2 * SwarmTest.ContentSize, ct);

        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct, uploadLimit: SwarmTest.LimitedSeederRate);
        await using (seeder)
        {
            string target = temp.Combine("pn-dl");
            var options = new PeerNetOptions { Peers = [seeder.ListenPort], ResumeDirectory = temp.Combine("pn-resume") };

            PeerNetStatus beforeKill;
            await using (PeerNetProcess first = await PeerNetProcess.StartGetAsync(torrent.TorrentPath, target, options, ct))
            {
                beforeKill = await first.WaitForStatusAsync(s => s.PiecesVerified * 5 >= s.PieceCount * 2, SwarmTest.SwarmTimeout, ct);
                await first.Process.KillAsync();
                SwarmTest.Log(clock, $"killed peernet (SIGKILL) at {beforeKill.PiecesVerified}/{beforeKill.PieceCount} pieces verified, received {beforeKill.Received}");
            }

            Assert.True(beforeKill.PiecesVerified < beforeKill.PieceCount, $"the download finished before it could be killed: {beforeKill}; slow the seeder down");

            await using PeerNetProcess second = await PeerNetProcess.StartGetAsync(torrent.TorrentPath, target, options, ct);
            PeerNetCompletion done = await second.WaitForCompletionAsync(SwarmTest.SwarmTimeout, seeding: false, ct);
            PeerNetResumeLine? resumed = second.ResumeLine;
            SwarmTest.Log(clock, $"restarted peernet: {resumed} at start; complete, received {done.Received}");

            SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
            Assert.NotNull(resumed);
            Assert.Equal(torrent.PieceCount, resumed.PieceCount);
            Assert.InRange(resumed.PiecesVerified, beforeKill.PiecesVerified, torrent.PieceCount - 1);

            // Only the missing pieces travel again: at most what was not verified at restart, plus a few pieces in
            // flight or fetched twice in endgame, plus the rounding of the printed size. In particular, less than
            // the whole minus what was verified before the kill.
            long slack = (4 * torrent.PieceLength) + (torrent.TotalSize / 100);
            long missingAtRestart = torrent.TotalSize - (resumed.PiecesVerified * torrent.PieceLength);
            Assert.True(done.Received <= missingAtRestart + slack, $"received {done.Received} bytes after the restart, but only about {missingAtRestart} were missing");
            Assert.True(done.Received < torrent.TotalSize - (beforeKill.PiecesVerified * torrent.PieceLength) + slack);
        }
    }
}
