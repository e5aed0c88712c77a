using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace PeerNet.Interop.Tests;

/// <summary>
/// A long-running peer for swarm tests: arguments passed verbatim, stdin held open (the Python peers exit when it
/// closes), stdout read line by line as it comes (a '\r' ends a line too), every wait bounded. Dispose closes stdin,
/// gives the process a moment, kills its whole tree and checks that nothing of that tree survived.
/// </summary>
internal sealed class BackgroundProcess : IAsyncDisposable
{
    /// <summary>How long a process may take to leave on its own once stdin closes, before it is killed.</summary>
    private static readonly TimeSpan GracefulExit = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Failure messages keep the end of long outputs (aria2 and Transmission print every second).</summary>
    private const int DescribeLimit = 12_000;

    /// <summary>A long output keeps one routine (periodic status) line in this many, plus the last <see cref="RoutineKeepLast"/>.</summary>
    private const int RoutineKeepEvery = 10;

    private const int RoutineKeepLast = 5;

    /// <summary>How much of each output goes to the test's log when the process is disposed.</summary>
    private const int DisposeLogLimit = 3_000;

    private readonly Process _process;
    private readonly string _commandLine;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly StringBuilder _stderr = new();
    private readonly List<string> _stderrLines = [];
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private readonly Task _pumps;
    private readonly bool _exitsWhenStdinCloses;
    private readonly CrashDumps? _crashDumps;
    private readonly Func<string, bool>? _isRoutine;
    private string? _crashReport;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    private BackgroundProcess(string name, Process process, string commandLine, bool exitsWhenStdinCloses, CrashDumps? crashDumps, Func<string, bool>? isRoutine)
    {
        Name = name;
        _process = process;
        _commandLine = commandLine;
        _exitsWhenStdinCloses = exitsWhenStdinCloses;
        _crashDumps = crashDumps;
        _isRoutine = isRoutine;
        _stdoutPump = PumpStdoutAsync();
        _stderrPump = PumpStderrAsync();
        _pumps = Task.WhenAll(_stdoutPump, _stderrPump);
    }

    /// <summary>A short name for messages: "libtorrent seeder", "peernet get", ...</summary>
    public string Name { get; }

    public int Id => _process.Id;

    public TimeSpan Elapsed => _clock.Elapsed;

    public bool HasExited => _process.HasExited;

    /// <summary>The stdout lines so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="fileName"/>. With <paramref name="exitsWhenStdinCloses"/> (our Python peers), dispose
    /// first closes stdin and lets it leave on its own for a moment; other programs are killed at once. With
    /// <paramref name="crashDumps"/> (our Python scripts) it runs in that folder with core dumps asked for, and a crash
    /// is described with the native backtrace of every thread. <paramref name="isRoutine"/> picks the periodic lines
    /// (status every second) that a long output may thin out, so that every event line fits in a failure message.
    /// <paramref name="environment"/> sets (or, with null, removes) variables of the child's environment.
    /// </summary>
    public static BackgroundProcess Start(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        bool exitsWhenStdinCloses = false,
        string? workingDirectory = null,
        CrashDumps? crashDumps = null,
        Func<string, bool>? isRoutine = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        string[] args = [.. arguments];
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = crashDumps?.Folder ?? workingDirectory ?? "",
        };
        foreach (string arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        if (crashDumps is not null)
        {
            startInfo.Environment[CrashDumps.EnvironmentVariable] = "1";
        }

        foreach ((string key, string? value) in environment ?? new Dictionary<string, string?>())
        {
            startInfo.Environment[key] = value;
        }

        var process = new Process { StartInfo = startInfo };
        string commandLine = ProcessRunner.FormatCommandLine(fileName, args);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            process.Dispose();
            crashDumps?.Dispose();
            throw new InvalidOperationException($"Could not start {name}: {commandLine}: {e.Message}", e);
        }

        return new BackgroundProcess(name, process, commandLine, exitsWhenStdinCloses, crashDumps, isRoutine);
    }

    /// <summary>
    /// Waits for a stdout line that <paramref name="match"/> accepts and returns it; throws
    /// <see cref="TimeoutException"/> on timeout and <see cref="InvalidOperationException"/> if the process ends
    /// without printing one, each with the whole story. <paramref name="match"/> sees each line once, in order.
    /// </summary>
    public Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
        => WaitForLineAsync(_lines, _stdoutPump, "line", match, timeout, cancellationToken);

    /// <summary>
    /// As <see cref="WaitForLineAsync(Func{string, bool}, TimeSpan, CancellationToken)"/>, for a whole line of stderr
    /// (where <c>peernet chat</c> says who it is and who joined).
    /// </summary>
    public Task<string> WaitForErrorLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
        => WaitForLineAsync(_stderrLines, _stderrPump, "stderr line", match, timeout, cancellationToken);

    private async Task<string> WaitForLineAsync(List<string> lines, Task pump, string what, Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        int next = 0;
        while (true)
        {
            Task changed;
            bool ended;
            lock (_gate)
            {
                for (; next < lines.Count; next++)
                {
                    if (match(lines[next]))
                    {
                        return lines[next];
                    }
                }

                changed = _changed.Task;
                ended = pump.IsCompleted;
            }

            if (ended)
            {
                await DrainAsync().ConfigureAwait(false); // stderr too, for the message
                try
                {
                    // stdout closes a moment before the process is reaped: wait, so the message has the exit code.
                    await _process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }

                await CollectCrashReportAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"{Name} ended without printing the expected {what}.\n{Describe()}");
            }

            TimeSpan left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"{Name}: no expected {what} within {timeout.TotalSeconds:F0} s.\n{Describe()}");
            }

            try
            {
                // WaitAsync drops its timer as soon as a line arrives (aria2 prints several a second).
                await changed.WaitAsync(left, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Checked at the top of the next round, with the output so far.
            }
        }
    }

    /// <summary>Waits for the process to exit and returns its exit code; on timeout kills nothing and throws.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds:F0} s.\n{Describe()}");
        }

        await DrainAsync().ConfigureAwait(false);
        await CollectCrashReportAsync().ConfigureAwait(false);
        return _process.ExitCode;
    }

    /// <summary>Writes one line to the process's stdin (a command to a peer driven that way, such as the js-libp2p peer).</summary>
    public async Task WriteLineAsync(string line, CancellationToken cancellationToken)
    {
        await _process.StandardInput.WriteLineAsync(line.AsMemory(), cancellationToken).ConfigureAwait(false);
        await _process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the process's stdin (the Python peers exit on that).</summary>
    public void CloseInput()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The process is gone and the pipe with it.
        }
    }

    /// <summary>SIGKILL to the process and all its descendants (kill -9), then waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        IReadOnlyList<int> tree = ProcessTree.Snapshot(_process.Id);
        ProcessRunner.KillTree(_process);
        await DrainAsync().ConfigureAwait(false);
        await ProcessTree.AssertGoneAsync(tree, Name).ConfigureAwait(false);
    }

    /// <summary>Command, pid, elapsed time, exit code, stdout and stderr (each cut to its end when long).</summary>
    public string Describe() => Describe(DescribeLimit);

    private string Describe(int limit)
    {
        string exit = !_process.HasExited ? "still running"
            : _process.ExitCode > 128 ? $"exit code {_process.ExitCode} (killed by signal {_process.ExitCode - 128}: it crashed or was killed)"
            : $"exit code {_process.ExitCode}";
        string stdout;
        lock (_gate)
        {
            stdout = string.Join('\n', _lines);
            if (stdout.Length > limit && _isRoutine is not null)
            {
                stdout = ThinRoutineLines(_lines, _isRoutine);
            }
        }

        string crash = _crashReport is null ? "" : $"--- native backtrace ---\n{_crashReport}\n";
        return $"{Name}: {_commandLine}\npid {Id}, {exit} after {Elapsed.TotalSeconds:F1} s\n--- stdout ---\n{Tail(stdout, limit)}\n--- stderr ---\n{Tail(StandardError, limit)}\n{crash}--- end ---";
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        IReadOnlyList<int> tree = _process.HasExited ? [] : ProcessTree.Snapshot(_process.Id);
        CloseInput();

        if (_exitsWhenStdinCloses)
        {
            try
            {
                await _process.WaitForExitAsync().WaitAsync(GracefulExit).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }

        ProcessRunner.KillTree(_process);
        await DrainAsync().ConfigureAwait(false);
        await CollectCrashReportAsync().ConfigureAwait(false);

        // Every peer's last words in the test's log: when a transfer fails, the other side often says why.
        TestContext.Current.TestOutputHelper?.WriteLine(Describe(DisposeLogLimit));
        _process.Dispose();
        _crashDumps?.Dispose();
        await ProcessTree.AssertGoneAsync(tree, Name).ConfigureAwait(false);
    }

    /// <summary>Once the process has died by a crash signal, reads its core (if it left one) for <see cref="Describe()"/>.</summary>
    private async Task CollectCrashReportAsync()
    {
        if (_crashDumps is null || _crashReport is not null || !_process.HasExited || !CrashDumps.IsCrash(_process.ExitCode))
        {
            return;
        }

        _crashReport = await _crashDumps.ReportAsync().ConfigureAwait(false);
    }

    private async Task DrainAsync()
    {
        try
        {
            await _pumps.WaitAsync(DrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A grandchild still holds the pipes; ProcessTree.AssertGoneAsync reports it.
        }
    }

    private async Task PumpStdoutAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                TaskCompletionSource changed;
                lock (_gate)
                {
                    _lines.Add(line);
                    changed = _changed;
                    _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                changed.TrySetResult();
            }
        }
        finally
        {
            lock (_gate)
            {
                _changed.TrySetResult();
            }
        }
    }

    private async Task PumpStderrAsync()
    {
        char[] buffer = new char[4096];
        int read;
        int lineStart = 0;
        try
        {
            while ((read = await _process.StandardError.ReadAsync(buffer.AsMemory()).ConfigureAwait(false)) > 0)
            {
                TaskCompletionSource changed;
                lock (_gate)
                {
                    int scanFrom = _stderr.Length;
                    _stderr.Append(buffer, 0, read);
                    for (int i = scanFrom; i < _stderr.Length; i++)
                    {
                        if (_stderr[i] == '\n')
                        {
                            _stderrLines.Add(_stderr.ToString(lineStart, i - lineStart).TrimEnd('\r'));
                            lineStart = i + 1;
                        }
                    }

                    changed = _changed;
                    _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                changed.TrySetResult();
            }
        }
        finally
        {
            lock (_gate)
            {
                _changed.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Every event line, and of the routine lines only every <see cref="RoutineKeepEvery"/>th and the last few: when a
    /// transfer stalls, the connection that closed a minute before the end is the evidence.
    /// </summary>
    private static string ThinRoutineLines(List<string> lines, Func<string, bool> isRoutine)
    {
        var kept = new StringBuilder();
        int routine = 0, routineTotal = lines.Count(isRoutine), dropped = 0;
        foreach (string line in lines)
        {
            if (isRoutine(line))
            {
                routine++;
                if (routine % RoutineKeepEvery != 1 && routine <= routineTotal - RoutineKeepLast)
                {
                    dropped++;
                    continue;
                }
            }

            kept.Append(line).Append('\n');
        }

        return $"({dropped} of {routineTotal} routine lines left out: every {RoutineKeepEvery}th and the last {RoutineKeepLast} kept)\n{kept.ToString().TrimEnd('\n')}";
    }

    private static string Tail(string text, int limit)
        => text.Length <= limit ? text : $"(... {text.Length - limit} characters cut ...)\n{text[^limit..]}";
}
