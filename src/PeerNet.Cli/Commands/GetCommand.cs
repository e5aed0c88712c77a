using System.CommandLine;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using PeerNet.Cli.Output;
using PeerNet.Magnet;
using PeerNet.Metainfo;
using PeerNet.Storage;
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
        var only = new Option<string>("--only") { Description = "Download only these files, by the index `peernet info` shows: e.g. 0,2-4.", HelpName = "LIST" };
        var sequential = new Option<bool>("--sequential") { Description = "Fetch pieces in order (for playing while downloading) instead of rarest first." };
        var bufferedWrites = new Option<bool>("--buffered-writes")
        {
            Description = "Write verified pieces through the page cache instead of with O_DIRECT (Linux), keeping the download cached for reading.",
        };
        var peers = new PeerOptions();
        var command = new Command("get", "Download a torrent from its peers; exits 0 once every piece is verified.") { source, output, seed, recheck, resumeDir, only, sequential, bufferedWrites };
        peers.AddTo(command);
        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            return CommandRunner.RunAsync(stderr, async () =>
            {
                string input = parseResult.GetRequiredValue(source);
                MagnetLink? magnet = input.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase) ? MagnetLink.Parse(input) : null;
                List<System.Net.IPEndPoint> peerList = [.. await PeerOptions.ResolveAsync(parseResult.GetValue(peers.Peers) ?? [], cancellationToken).ConfigureAwait(false)];
                if (magnet is not null)
                {
                    peerList.AddRange(await PeerOptions.ResolveAsync([.. magnet.Peers.Select(p => p.ToString())], cancellationToken).ConfigureAwait(false));
                }

                string folder = Path.GetFullPath(parseResult.GetValue(output) ?? ".");
                Directory.CreateDirectory(folder);
                SwarmSession session = await SessionFactory.StartAsync(parseResult, peers, cancellationToken).ConfigureAwait(false);
                await using ConfiguredAsyncDisposable sessionScope = session.ConfigureAwait(false);
                await stdout.WriteLineAsync($"listening on port {session.ListenPort}").ConfigureAwait(false);
                var clock = Stopwatch.StartNew();
                TorrentMetainfo metainfo = magnet is null
                    ? await InfoCommand.LoadAsync(input, cancellationToken).ConfigureAwait(false)
                    : await FetchMetadataAsync(session, magnet, peerList, !parseResult.GetValue(peers.NoTrackers), stdout, cancellationToken).ConfigureAwait(false);
                string? selection = parseResult.GetValue(only);
                var torrentOptions = new TorrentOptions
                {
                    Peers = peerList,
                    Recheck = parseResult.GetValue(recheck),
                    ResumeDirectory = parseResult.GetValue(resumeDir) ?? DefaultResumeDirectory(),
                    UploadSlots = parseResult.GetValue(peers.UploadSlots),
                    FilePriorities = selection is not null ? FileSelection.Parse(selection, metainfo.Files)
                        : magnet is { SelectOnly.Count: > 0 } ? FileSelection.FromMagnet(magnet, metainfo.Files) : null,
                    Sequential = parseResult.GetValue(sequential),
                    UseTrackers = !parseResult.GetValue(peers.NoTrackers),
                };

                StorageOptions? storage = parseResult.GetValue(bufferedWrites) ? new StorageOptions { DirectWrites = false } : null;
                TorrentSwarm torrent = await session.AddTorrentAsync(metainfo, folder, torrentOptions, storage, cancellationToken).ConfigureAwait(false);
                await stdout.WriteLineAsync($"{DisplayText.Sanitize(metainfo.Name)}: {torrent.PiecesFoundAtStart}/{torrent.PieceCount} pieces already verified on disk").ConfigureAwait(false);
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

    /// <summary>BEP 9: asks the magnet's peers (and --peer ones) for the info dictionary and checks it against the info-hash.</summary>
    private static async Task<TorrentMetainfo> FetchMetadataAsync(SwarmSession session, MagnetLink magnet, List<System.Net.IPEndPoint> peers, bool useTrackers, TextWriter stdout, CancellationToken cancellationToken)
    {
        bool trackers = useTrackers && magnet.Trackers.Count > 0;
        bool dht = session.Options.Dht is not null;
        bool lsd = session.LocalDiscovery is not null;
        if (peers.Count == 0 && !trackers && !dht && !lsd)
        {
            throw new InvalidOperationException("a magnet link needs somewhere to find peers: give --peer HOST:PORT, a magnet with x.pe or tr, or leave the DHT or local discovery on.");
        }

        var sourceList = new List<string>();
        if (peers.Count > 0)
        {
            sourceList.Add($"{peers.Count} peer(s)");
        }

        if (trackers)
        {
            sourceList.Add($"its {magnet.Trackers.Count} tracker(s)");
        }

        if (dht)
        {
            sourceList.Add("the DHT");
        }

        if (lsd)
        {
            sourceList.Add("the local network");
        }

        string sources = string.Join(", ", sourceList);
        await stdout.WriteLineAsync($"fetching metadata for {DisplayText.Sanitize(magnet.DisplayName) ?? magnet.InfoHashes.ToString()} from {sources}").ConfigureAwait(false);
        var fetcher = new MetadataFetcher(session, magnet.InfoHashes) { Trackers = magnet.Trackers, AnnounceToTrackers = trackers, ExactLength = magnet.ExactLength };
        foreach (System.Net.IPEndPoint peer in peers)
        {
            fetcher.AddPeer(peer);
        }

        if (!trackers && !dht && !lsd)
        {
            fetcher.CompleteAdding(); // nobody else will ever be found: fail once every given peer has been tried
        }

        TorrentMetainfo metainfo = await fetcher.FetchAsync(cancellationToken).ConfigureAwait(false);
        await stdout.WriteLineAsync($"metadata verified: {DisplayText.Sanitize(metainfo.Name)}, {ByteSize.Format(metainfo.TotalSize)} in {metainfo.Files.Count(f => !f.IsPadFile)} file(s)").ConfigureAwait(false);
        return metainfo;
    }

    private static string DefaultResumeDirectory() => Path.Combine(PeerOptions.StateDirectory(), "resume");
}
