using System.CommandLine;
using System.Runtime.CompilerServices;
using PeerNet.Metainfo;

namespace PeerNet.Cli.Commands;

/// <summary><c>peernet seed &lt;torrent&gt; &lt;path&gt;</c>: serves data in place, never writing to it.</summary>
internal static class SeedCommand
{
    public static Command Build()
    {
        var source = new Argument<string>("torrent") { Description = "The .torrent file." };
        var path = new Argument<string>("path") { Description = "The data: the file itself for a single-file torrent, the folder for a multi-file one." };
        var peers = new PeerOptions();
        var superSeed = new Option<bool>("--super-seed")
        {
            Description = "BEP 16 super-seeding: show each peer a few pieces at a time so the first copy goes out once. For the first seed of a new torrent.",
        };
        var command = new Command("seed", "Seed a torrent's data from where it is (read-only) until Ctrl+C.") { source, path, superSeed };
        peers.AddTo(command);
        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            return CommandRunner.RunAsync(stderr, async () =>
            {
                TorrentMetainfo metainfo = await InfoCommand.LoadAsync(parseResult.GetRequiredValue(source), cancellationToken).ConfigureAwait(false);
                string data = Path.GetFullPath(parseResult.GetRequiredValue(path));
                if (!File.Exists(data) && !Directory.Exists(data))
                {
                    throw new IOException($"'{data}' does not exist.");
                }

                // The folder that holds the content (as `get -o DIR` wrote it), or the content itself (its file or folder).
                bool holdsContent = Directory.Exists(data) && Path.Exists(Path.Combine(data, metainfo.Name));
                var options = new AddTorrentOptions
                {
                    SavePath = data,
                    SavePathIsContent = !holdsContent,
                    ReadOnly = true,
                    Peers = await PeerOptions.ResolveAsync(parseResult.GetValue(peers.Peers) ?? [], cancellationToken).ConfigureAwait(false),
                    UploadSlots = parseResult.GetValue(peers.UploadSlots),
                    UseTrackers = !parseResult.GetValue(peers.NoTrackers),
                    SuperSeeding = parseResult.GetValue(superSeed),
                };
                PeerNetNode node = await SessionFactory.StartNodeAsync(parseResult, peers, resumeDirectory: null, cancellationToken).ConfigureAwait(false);
                await using ConfiguredAsyncDisposable nodeScope = node.ConfigureAwait(false);
                await stdout.WriteLineAsync($"listening on port {node.ListenPort}").ConfigureAwait(false);
                TorrentHandle torrent = await node.AddTorrentAsync(TorrentSource.FromMetainfo(metainfo), options, cancellationToken).ConfigureAwait(false);
                TorrentStatus status = torrent.GetStatus();
                if (status.PiecesVerified == 0)
                {
                    throw new IOException($"no piece of '{metainfo.Name}' verified at '{data}': is this the right data?");
                }

                await stdout.WriteLineAsync($"seeding {DisplayText.Sanitize(metainfo.Name)}: {status.PiecesVerified}/{status.PieceCount} pieces verified; Ctrl+C to stop").ConfigureAwait(false);
                await TransferView.SeedUntilCancelledAsync(torrent, stdout, cancellationToken).ConfigureAwait(false);
                return 0;
            });
        });
        return command;
    }
}
