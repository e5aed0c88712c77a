namespace PeerNet.Cli.Commands;

/// <summary>Runs a verb's body and turns failures into one line on stderr and an exit code.</summary>
internal static class CommandRunner
{
    /// <summary>Exit code of a verb that failed (one line on stderr says why).</summary>
    public const int ExitFailure = 1;

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
            return await FailAsync(error, message).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or NotSupportedException or FormatException)
        {
            return await FailAsync(error, ex.Message).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The last line of defence: a CLI prints one line, never a stack trace.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return await FailAsync(error, $"unexpected {ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The one line a failure prints. Messages quote what failed, often from the network or a torrent (a path, a
    /// name, a tracker's or peer's words, a magnet's value), and this is the one way they reach the terminal: cleaned
    /// here (DisplayText), whatever raised them.
    /// </summary>
    private static async Task<int> FailAsync(TextWriter error, string message)
    {
        await error.WriteLineAsync($"peernet: {DisplayText.Sanitize(message)}").ConfigureAwait(false);
        return CommandRunner.ExitFailure;
    }
}
