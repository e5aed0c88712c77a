using System.CommandLine;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using PeerNet.Metainfo;
using PeerNet.Swarm;

namespace PeerNet.Cli.Commands;

/// <summary><c>peernet get &lt;torrent&gt;</c>: downloads a torrent from its peers, verifying every piece.</summary>
internal static class GetCommand
{
    public static Command Build()
    {
        var source = new Argument<string>("torrent") { Description = "The .torrent file to download." };
        var output = new Option<string>("--output", "-o") { Description = "Folder to download into. Default: the current folder.", HelpName = "DIR" };
        var seed = new Option<bool>("--seed") { Description = "Keep seeding after the download completes, until Ctrl+C." };
        var recheck = new Option<bool>("--recheck") { Description = "Check every piece already on disk, ignoring resume data." };
        var resumeDir = new Option<string>("--resume-dir") { Description = "Where resume data is kept. Default: $XDG_STATE_HOME/peernet/resume.", HelpName = "DIR" };
        var peers = new PeerOptions();
        var command = new Command("get", "Download a torrent from its peers; exits 0 once every piece is verified.") { source, output, seed, recheck, resumeDir };
        peers.AddTo(command);
        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            return CommandRunner.RunAsync(stderr, async () =>
            {
                string input = parseResult.GetRequiredValue(source);
                if (input.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase))
                {
                    throw new NotSupportedException("magnet links need metadata from peers (BEP 9), which arrives with peer discovery; use the .torrent file for now.");
                }

                TorrentMetainfo metainfo = await InfoCommand.LoadAsync(input, cancellationToken).ConfigureAwait(false);
                string folder = Path.GetFullPath(parseResult.GetValue(output) ?? ".");
                Directory.CreateDirectory(folder);
                var torrentOptions = new TorrentOptions
                {
                    Peers = await PeerOptions.ResolveAsync(parseResult.GetValue(peers.Peers) ?? [], cancellationToken).ConfigureAwait(false),
                    Recheck = parseResult.GetValue(recheck),
                    ResumeDirectory = parseResult.GetValue(resumeDir) ?? DefaultResumeDirectory(),
                    UploadSlots = parseResult.GetValue(peers.UploadSlots),
                    UseTrackers = !parseResult.GetValue(peers.NoTrackers),
                };

                SwarmSession session = await SessionFactory.StartAsync(parseResult, peers, cancellationToken).ConfigureAwait(false);
                await using ConfiguredAsyncDisposable sessionScope = session.ConfigureAwait(false);
                await stdout.WriteLineAsync($"listening on port {session.ListenPort}").ConfigureAwait(false);
                var clock = Stopwatch.StartNew();
                TorrentSwarm torrent = await session.AddTorrentAsync(metainfo, folder, torrentOptions, null, cancellationToken).ConfigureAwait(false);
                await stdout.WriteLineAsync($"{metainfo.Name}: {torrent.PiecesFoundAtStart}/{torrent.PieceCount} pieces already verified on disk").ConfigureAwait(false);
                await TransferView.WaitForCompletionAsync(torrent, stdout, cancellationToken).ConfigureAwait(false);
                TorrentStatus done = torrent.GetStatus();
                await stdout.WriteLineAsync($"complete: {ByteSize.Format(done.TotalSize)} verified in {clock.Elapsed.TotalSeconds:0.0} s; received {ByteSize.Format(done.Downloaded)}, sent {ByteSize.Format(done.Uploaded)}, saved to {folder}").ConfigureAwait(false);
                if (parseResult.GetValue(seed))
                {
                    await stdout.WriteLineAsync("seeding until Ctrl+C").ConfigureAwait(false);
                    await TransferView.SeedUntilCancelledAsync(torrent, stdout, cancellationToken).ConfigureAwait(false);
                }

                return 0;
            });
        });
        return command;
    }

    private static string DefaultResumeDirectory()
    {
        string? state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (string.IsNullOrEmpty(state))
        {
            state = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        }

        return Path.Combine(state, "peernet", "resume");
    }
}
