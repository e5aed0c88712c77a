using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace PeerNet.Testing;

/// <summary>What a finished process printed and returned.</summary>
internal sealed record ProcessResult(string FileName, IReadOnlyList<string> Arguments, int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed)
{
    public string CommandLine => ProcessRunner.FormatCommandLine(FileName, Arguments);

    /// <summary>The whole story, for failure messages: command, exit code, elapsed time, stdout and stderr.</summary>
    public string Describe()
        => $"command: {CommandLine}\nexit code: {ExitCode} after {Elapsed.TotalSeconds:F1} s\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}\n--- end ---";
}

/// <summary>
/// Runs external programs for tests: arguments passed verbatim (no shell), stdin closed, stdout and stderr captured,
/// every wait bounded. On timeout the whole process tree is killed and a <see cref="TimeoutException"/> carries the
/// output so far; a non-zero exit throws an <see cref="InvalidOperationException"/> carrying the full output.
/// </summary>
internal static class ProcessRunner
{
    /// <summary>How long to wait for the output pipes to close once the process is gone (a grandchild may hold them).</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        string? workingDirectory = null,
        bool checkExitCode = true,
        CancellationToken cancellationToken = default)
    {
        string[] args = [.. arguments];
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (string arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = startInfo };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var stopwatch = Stopwatch.StartNew();
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"Could not start {FormatCommandLine(fileName, args)}: {e.Message}", e);
        }

        process.StandardInput.Close();
        Task pumps = Task.WhenAll(PumpAsync(process.StandardOutput, stdout), PumpAsync(process.StandardError, stderr));

        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillTree(process);
            await DrainAsync(pumps).ConfigureAwait(false);
            ProcessResult partial = Snapshot(fileName, args, stdout, stderr, stopwatch, exitCode: -1);
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException($"Cancelled; killed the process tree.\n{partial.Describe()}", cancellationToken);
            }

            throw new TimeoutException($"No exit within {timeout.TotalSeconds:F0} s; killed the process tree.\n{partial.Describe()}");
        }

        bool drained = await DrainAsync(pumps).ConfigureAwait(false);
        ProcessResult result = Snapshot(fileName, args, stdout, stderr, stopwatch, process.ExitCode);
        if (!drained)
        {
            result = result with { StandardError = result.StandardError + "\n(output may be cut: a child process still holds the pipes)" };
        }

        if (checkExitCode && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"Process exited with code {result.ExitCode}.\n{result.Describe()}");
        }

        return result;
    }

    public static string FormatCommandLine(string fileName, IEnumerable<string> arguments)
        => string.Join(' ', arguments.Prepend(fileName).Select(Quote));

    private static string Quote(string arg)
        => arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? arg : $"'{arg.Replace("'", "'\\''", StringComparison.Ordinal)}'";

    private static async Task PumpAsync(StreamReader reader, StringBuilder sink)
    {
        char[] buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory()).ConfigureAwait(false)) > 0)
        {
            lock (sink)
            {
                sink.Append(buffer, 0, read);
            }
        }
    }

    private static async Task<bool> DrainAsync(Task pumps)
    {
        try
        {
            await pumps.WaitAsync(DrainTimeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL to the process and its descendants, then a bounded wait for it to exit; quiet if already gone.</summary>
    internal static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(DrainTimeout);
        }
        catch (InvalidOperationException)
        {
            // It exited on its own in the meantime.
        }
        catch (Win32Exception)
        {
            // Part of the tree was already gone.
        }
    }

    private static ProcessResult Snapshot(string fileName, string[] args, StringBuilder stdout, StringBuilder stderr, Stopwatch stopwatch, int exitCode)
    {
        string output, error;
        lock (stdout)
        {
            output = stdout.ToString();
        }

        lock (stderr)
        {
            error = stderr.ToString();
        }

        return new ProcessResult(fileName, args, exitCode, output, error, stopwatch.Elapsed);
    }
}
