namespace PeerNet.Cli.Commands;

/// <summary>Runs a verb's body and turns failures into one line on stderr and an exit code.</summary>
internal static class CommandRunner
{
    /// <summary>Exit code after Ctrl+C.</summary>
    public const int ExitCancelled = 130;

    public static async Task<int> RunAsync(TextWriter error, Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("peernet: cancelled.").ConfigureAwait(false);
            return ExitCancelled;
        }
        catch (ArgumentException ex)
        {
            // The parameter name .NET appends means nothing to someone at a shell.
            string message = ex.ParamName is null ? ex.Message : ex.Message.Replace($" (Parameter '{ex.ParamName}')", "", StringComparison.Ordinal);
            await error.WriteLineAsync($"peernet: {message}").ConfigureAwait(false);
            return PeerNetCli.ExitFailure;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or NotSupportedException or FormatException)
        {
            await error.WriteLineAsync($"peernet: {ex.Message}").ConfigureAwait(false);
            return PeerNetCli.ExitFailure;
        }
#pragma warning disable CA1031 // The last line of defence: a CLI prints one line, never a stack trace.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await error.WriteLineAsync($"peernet: unexpected {ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
            return PeerNetCli.ExitFailure;
        }
    }
}
