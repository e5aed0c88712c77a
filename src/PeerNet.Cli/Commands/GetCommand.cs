using System.CommandLine;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using PeerNet.Cli.Output;
using PeerNet.Magnet;
using PeerNet.Metainfo;

namespace PeerNet.Cli.Commands;

/// <summary><c>peernet get &lt;torrent&gt;</c>: downloads a torrent from its peers, verifying every piece.</summary>
internal static class GetCommand
{
    public static Command Build()
    {
        var source = new Argument<string>("torrent") { Description = "What to download: a .torrent file or a magnet link (magnet:?xt=urn:btih:... or urn:btmh:..., quoted)." };
        var output = new Option<string>("--output", "-o") { Description = "Folder to download into. Default: the current folder.", HelpName = "DIR" };
        var seed = new Option<bool>("--seed") { Description = "Keep seeding after the download completes, until Ctrl+C." };
        var recheck = new Option<bool>("--recheck") { Description = "Check every piece already on disk, ignoring resume data." };
        var resumeDir = new Option<string>("--resume-dir") { Description = "Where resume data is kept. Default: $XDG_STATE_HOME/peernet/resume.", HelpName = "DIR" };
        var only = new Option<string>("--only") { Description = "Download only these files, by the index `peernet info` shows: e.g. 0,2-4.", HelpName = "LIST" };
        var sequential = new Option<bool>("--sequential") { Description = "Fetch pieces in order (for playing while downloading) instead of rarest first." };
        var bufferedWrites = new Option<bool>("--buffered-writes")
        {
            Description = "Write verified pieces through the page cache instead of with O_DIRECT (Linux), keeping the download cached for reading.",
        };
        var peers = new PeerOptions();
        var command = new Command("get", "Download a .torrent or a magnet link from its peers; exits 0 once every piece is verified.") { source, output, seed, recheck, resumeDir, only, sequential, bufferedWrites };
        peers.AddTo(command);
        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            return CommandRunner.RunAsync(stderr, async () =>
            {
                // Everything the user gave is checked before a socket opens.
                string input = parseResult.GetRequiredValue(source);
                MagnetLink? magnet = input.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase) ? MagnetLink.Parse(input) : null;
                TorrentMetainfo? metainfo = magnet is null ? await InfoCommand.LoadAsync(input, cancellationToken).ConfigureAwait(false) : null;
                List<System.Net.IPEndPoint> peerList = await PeerOptions.ResolveAsync(parseResult.GetValue(peers.Peers) ?? [], cancellationToken).ConfigureAwait(false);
                string? selection = parseResult.GetValue(only);
                IReadOnlyList<FileIndexRange>? selected = selection is null ? null : FilePriorities.ParseSelection(selection);
                IReadOnlyList<int>? priorities = selection is not null && metainfo is not null ? FilePriorities.Parse(selection, metainfo.Files) : null;
                bool useTrackers = !parseResult.GetValue(peers.NoTrackers);
                if (magnet is not null && peerList.Count == 0 && magnet.Peers.Count == 0 && !(useTrackers && magnet.Trackers.Count > 0)
                    && parseResult.GetValue(peers.NoDht) && parseResult.GetValue(peers.NoLsd))
                {
                    throw new InvalidOperationException("a magnet link needs somewhere to find peers: give --peer HOST:PORT, a magnet with x.pe or tr, or leave the DHT or local discovery on.");
                }

                string folder = Path.GetFullPath(parseResult.GetValue(output) ?? ".");
                OutputFolder.Prepare(folder);
                PeerNetNode node = await SessionFactory.StartNodeAsync(parseResult, peers, parseResult.GetValue(resumeDir) ?? DefaultResumeDirectory(), cancellationToken).ConfigureAwait(false);
                await using ConfiguredAsyncDisposable nodeScope = node.ConfigureAwait(false);
                await stdout.WriteLineAsync($"listening on port {node.ListenPort}").ConfigureAwait(false);
                var clock = Stopwatch.StartNew();
                var options = new AddTorrentOptions
                {
                    SavePath = folder,
                    Peers = peerList,
                    Recheck = parseResult.GetValue(recheck),
                    UploadSlots = parseResult.GetValue(peers.UploadSlots),
                    FilePriorities = priorities,
                    SelectedFiles = metainfo is null ? selected : null,
                    Sequential = parseResult.GetValue(sequential),
                    UseTrackers = useTrackers,
                    DirectWrites = !parseResult.GetValue(bufferedWrites),
                };
                if (magnet is not null)
                {
                    await stdout.WriteLineAsync($"fetching metadata for {DisplayText.Sanitize(magnet.DisplayName) ?? magnet.InfoHashes.ToString()} from {Sources(node, magnet, peerList, useTrackers)}").ConfigureAwait(false);
                }

                TorrentHandle torrent = await node.AddTorrentAsync(magnet is null ? TorrentSource.FromMetainfo(metainfo!) : TorrentSource.FromMagnet(magnet), options, cancellationToken).ConfigureAwait(false);
                if (magnet is not null)
                {
                    metainfo = await torrent.WaitForMetadataAsync(cancellationToken).ConfigureAwait(false);
                    await stdout.WriteLineAsync($"metadata verified: {DisplayText.Sanitize(metainfo.Name)}, {ByteSize.Format(metainfo.TotalSize)} in {Count.Of(metainfo.Files.Count(f => !f.IsPadFile), "file")}").ConfigureAwait(false);
                }

                // Under --only the summaries count the selected files: the others are never fetched.
                TorrentStatus started = await TransferView.WaitForStartAsync(torrent, cancellationToken).ConfigureAwait(false);
                Selection? wanted = await TransferView.SelectionAsync(torrent, cancellationToken).ConfigureAwait(false);
                string onDisk = wanted is not null
                    ? $"{ByteSize.Format(wanted.Verified)} of {ByteSize.Format(wanted.Bytes)} in {Count.Of(wanted.Files, "selected file")}"
                    : $"{started.PiecesFoundOnDisk}/{started.PieceCount} pieces";
                await stdout.WriteLineAsync($"{DisplayText.Sanitize(metainfo!.Name)}: {onDisk} already verified on disk").ConfigureAwait(false);
                await TransferView.WaitForCompletionAsync(torrent, stdout, cancellationToken).ConfigureAwait(false);
                TorrentStatus done = torrent.GetStatus();
                string verified = wanted is not null ? $"{ByteSize.Format(wanted.Bytes)} in {Count.Of(wanted.Files, "selected file")}" : ByteSize.Format(done.TotalSize);
                await stdout.WriteLineAsync($"complete: {verified} verified in {clock.Elapsed.TotalSeconds:0.0} s; received {ByteSize.Format(done.Downloaded)}, sent {ByteSize.Format(done.Uploaded)}, saved to {folder}").ConfigureAwait(false);
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

    /// <summary>Where a magnet's metadata is looked for, for the line that says so.</summary>
    private static string Sources(PeerNetNode node, MagnetLink magnet, List<System.Net.IPEndPoint> peers, bool useTrackers)
    {
        var sources = new List<string>();
        int given = peers.Count + magnet.Peers.Count;
        if (given > 0)
        {
            sources.Add(Count.Of(given, "peer"));
        }

        if (useTrackers && magnet.Trackers.Count > 0)
        {
            sources.Add($"its {Count.Of(magnet.Trackers.Count, "tracker")}");
        }

        if (node.Dht is not null)
        {
            sources.Add("the DHT");
        }

        if (node.Options.LocalDiscovery)
        {
            sources.Add("the local network");
        }

        return string.Join(", ", sources);
    }

    private static string DefaultResumeDirectory() => Path.Combine(PeerOptions.StateDirectory(), "resume");
}
