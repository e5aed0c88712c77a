using System.CommandLine;
using PeerNet.Cli.Commands;

namespace PeerNet.Cli;

/// <summary>The <c>peernet</c> command tree: each verb is built by a factory under <c>Commands/</c>.</summary>
internal static class PeerNetCli
{
    /// <summary>Exit code for a failed command.</summary>
    public const int ExitFailure = CommandRunner.ExitFailure;

    /// <summary>Exit code for a command line that does not parse.</summary>
    public const int ExitUsage = 2;

    /// <summary>Builds the root command with every verb; <paramref name="input"/> is what <c>chat</c> reads (stdin when null).</summary>
    public static RootCommand BuildRootCommand(TextReader? input = null)
    {
        var root = new RootCommand("peernet: a peer-to-peer node for files, storage, compute and messaging, speaking BitTorrent.")
        {
            CreateCommand.Build(),
            InfoCommand.Build(),
            GetCommand.Build(),
            SeedCommand.Build(),
            DemoCommand.Build(),
            DhtCommand.Build(),
            DaemonCommand.Build(),
            IdCommand.Build(),
            ChatCommand.Build(input),
            SendCommand.Build(),
            ListenCommand.Build(),
            StoreCommand.Build(),
            DoctorCommand.Build(),
        };
        foreach (Command client in ClientCommands.Build())
        {
            root.Subcommands.Add(client);
        }

        return root;
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/>; usage errors exit 2 with a short message on stderr. Cancelling
    /// <paramref name="cancellationToken"/> stops a verb as Ctrl+C does (exit 130), which lets tests end the verbs that
    /// run until interrupted.
    /// </summary>
    public static Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default) =>
        RunAsync(args, null, output, error, cancellationToken);

    /// <summary>As <see cref="RunAsync(string[], TextWriter?, TextWriter?, CancellationToken)"/>, with <paramref name="input"/> for stdin (what <c>chat</c> reads).</summary>
    public static async Task<int> RunAsync(string[] args, TextReader? input, TextWriter? output, TextWriter? error, CancellationToken cancellationToken)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        ParseResult parsed = BuildRootCommand(input).Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (System.CommandLine.Parsing.ParseError parseError in parsed.Errors)
            {
                // Parse errors quote the arguments, which may be a pasted magnet link.
                await error.WriteLineAsync($"peernet: {DisplayText.Sanitize(parseError.Message)}").ConfigureAwait(false);
            }

            string verb = parsed.CommandResult.Command is RootCommand ? "peernet" : $"peernet {parsed.CommandResult.Command.Name}";
            await error.WriteLineAsync($"Run '{verb} --help' for usage.").ConfigureAwait(false);
            return ExitUsage;
        }

        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,

            // Commands report their own failures in one line; no stack traces.
            EnableDefaultExceptionHandler = false,
        };
        if (parsed.CommandResult.Command.Name == DaemonCommand.Name)
        {
            // The daemon's generic host handles SIGTERM and SIGINT itself, stopping within its 5 s; this handler
            // would end the process after its own 2 s, mid-stop.
            configuration.ProcessTerminationTimeout = null;
        }

        return await parsed.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }
}
