using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using PeerNet.Creation;
using PeerNet.Metainfo;

namespace PeerNet.Cli.Commands;

/// <summary><c>peernet create &lt;path&gt;</c>: hashes a file or folder into a .torrent.</summary>
internal static class CreateCommand
{
    /// <summary>Builds the <c>create</c> verb.</summary>
    public static Command Build()
    {
        var path = new Argument<string>("path") { Description = "The file or folder to share." };
        var v1 = new Option<bool>("--v1") { Description = $"BitTorrent v1 only (BEP 3). Use it for clients that refuse hybrids: {HybridRefusers}." };
        var v2 = new Option<bool>("--v2") { Description = "BitTorrent v2 only (BEP 52)." };
        var hybrid = new Option<bool>("--hybrid") { Description = "v1 and v2 in one torrent: the default (older clients refuse it: see --v1)." };
        var pieceSize = new Option<long>("--piece-size")
        {
            Description = "Bytes per piece, a power of two of at least 16K: 16384, 16K, 256KiB, 1M, 4MiB. Default: picked from the total size.",
            HelpName = "SIZE",
            CustomParser = ParsePieceSize,
        };
        var trackers = new Option<string[]>("--tracker")
        {
            Description = "Tracker announce URL; repeat for more, each its own tier.",
            HelpName = "URL",
        };
        var webSeeds = new Option<string[]>("--web-seed")
        {
            Description = "Web seed URL (BEP 19); repeat for more.",
            HelpName = "URL",
        };
        var isPrivate = new Option<bool>("--private") { Description = "Mark the torrent private (BEP 27): trackers only, no DHT or PEX." };
        var comment = new Option<string>("--comment") { Description = "A comment to store in the torrent.", HelpName = "TEXT" };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the .torrent. Default: <name>.torrent in the current folder.", HelpName = "FILE" };
        var force = new Option<bool>("--force", "-f") { Description = "Overwrite the output file if it exists." };

        var command = new Command("create", "Create a .torrent from a file or folder.")
        {
            path, v1, v2, hybrid, pieceSize, trackers, webSeeds, isPrivate, comment, output, force,
        };
        command.Validators.Add(result =>
        {
            int versions = (result.GetValue(v1) ? 1 : 0) + (result.GetValue(v2) ? 1 : 0) + (result.GetValue(hybrid) ? 1 : 0);
            if (versions > 1)
            {
                result.AddError("Choose one of --v1, --v2 and --hybrid.");
            }
        });

        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            var request = new CreateRequest(
                parseResult.GetRequiredValue(path),
                parseResult.GetValue(v1) ? TorrentVersion.V1 : parseResult.GetValue(v2) ? TorrentVersion.V2 : TorrentVersion.Hybrid,
                parseResult.GetValue(pieceSize),
                parseResult.GetValue(trackers) ?? [],
                parseResult.GetValue(webSeeds) ?? [],
                parseResult.GetValue(isPrivate),
                parseResult.GetValue(comment),
                parseResult.GetValue(output),
                parseResult.GetValue(force));
            return CommandRunner.RunAsync(stderr, () => RunAsync(request, stdout, cancellationToken));
        });
        return command;
    }

    private static long ParsePieceSize(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (!ByteSize.TryParse(text, out long bytes) || bytes <= 0)
        {
            result.AddError($"'{text}' is not a size: use bytes or a suffix, as in 16384, 16K, 256KiB, 1M, 4MiB.");
            return 0;
        }

        return bytes;
    }

    private static async Task<int> RunAsync(CreateRequest request, TextWriter stdout, CancellationToken cancellationToken)
    {
        string outputPath = Path.GetFullPath(request.Output ?? DefaultOutputName(request.Path));
        if (!request.Force && File.Exists(outputPath))
        {
            throw new IOException($"'{outputPath}' already exists; use --force to overwrite it.");
        }

        var options = new TorrentCreationOptions
        {
            SourcePath = request.Path,
            Version = request.Version,
            PieceLength = request.PieceSize,
            Trackers = request.Trackers,
            WebSeeds = request.WebSeeds,
            IsPrivate = request.IsPrivate,
            Comment = request.Comment,
            CreationDate = DateTimeOffset.UtcNow,
        };

        var clock = Stopwatch.StartNew();
        TorrentCreationResult result = IsInteractive(stdout)
            ? await CreateProgressView.RunAsync(options, cancellationToken).ConfigureAwait(false)
            : await TorrentCreator.CreateWithDetailsAsync(options, null, cancellationToken).ConfigureAwait(false);
        clock.Stop();

        // CreateNew refuses to replace a file that appeared while hashing.
        using (FileStream file = new(outputPath, request.Force ? FileMode.Create : FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            await file.WriteAsync(result.Torrent, cancellationToken).ConfigureAwait(false);
        }

        double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
        // A local name, but often a download's, which keeps C1 and bidi characters (legal in file names).
        await stdout.WriteLineAsync($"name:         {DisplayText.Sanitize(result.Name)}").ConfigureAwait(false);
        await stdout.WriteLineAsync($"files:        {result.FileCount}").ConfigureAwait(false);
        await stdout.WriteLineAsync($"size:         {ByteSize.Format(result.TotalLength)} ({result.TotalLength} bytes)").ConfigureAwait(false);
        await stdout.WriteLineAsync($"piece length: {ByteSize.Format(result.PieceLength)}").ConfigureAwait(false);
        await stdout.WriteLineAsync($"hashed in:    {seconds:0.00} s ({ByteSize.Format(result.TotalLength / seconds)}/s)").ConfigureAwait(false);
        if (request.Version == TorrentVersion.Hybrid)
        {
            await stdout.WriteLineAsync($"version:      hybrid (v1 + v2); {HybridRefusers} refuse hybrids: make a v1 torrent for them with --v1").ConfigureAwait(false);
        }

        if (result.InfoHashes.V1 is { } h1)
        {
            await stdout.WriteLineAsync($"info-hash v1: {h1}").ConfigureAwait(false);
        }

        if (result.InfoHashes.V2 is { } h2)
        {
            await stdout.WriteLineAsync($"info-hash v2: {h2}").ConfigureAwait(false);
        }

        await stdout.WriteLineAsync($"written to:   {outputPath}").ConfigureAwait(false);
        return 0;
    }

    /// <summary>Clients, still shipped by Debian, that refuse a hybrid torrent.</summary>
    private const string HybridRefusers = "Transmission 3.00 and aria2 1.36 (Debian's)";

    private static string DefaultOutputName(string source)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(source)));
        return (name.Length == 0 ? "torrent" : name) + ".torrent";
    }

    /// <summary>A progress bar only when writing to the real console and stdout is a terminal.</summary>
    private static bool IsInteractive(TextWriter stdout) =>
        ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;

    private sealed record CreateRequest(
        string Path,
        TorrentVersion Version,
        long PieceSize,
        string[] Trackers,
        string[] WebSeeds,
        bool IsPrivate,
        string? Comment,
        string? Output,
        bool Force);
}
