using System.Text;

namespace PeerNet.Interop.Tests;

/// <summary>
/// Where a reference helper may leave a core dump, and the native backtrace read from one. The helper runs in a fresh
/// folder of its own; <c>PEERNET_CORE_DUMPS=1</c> tells our Python scripts (lt_common.py) to raise their core-size
/// limit, so a crash (segfault, abort) leaves <c>core</c> there when the kernel's core_pattern is a plain file name.
/// A process that died by such a signal is then described with <c>gdb</c>'s "thread apply all bt" of its core,
/// beside the Python tracebacks that faulthandler printed to stderr. The folder is deleted on dispose.
/// </summary>
internal sealed class CrashDumps : IDisposable
{
    /// <summary>The environment variable our scripts read.</summary>
    public const string EnvironmentVariable = "PEERNET_CORE_DUMPS";

    private static readonly TimeSpan GdbTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Signals that mean a crash, not a kill: SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGSEGV.</summary>
    private static readonly int[] CrashSignals = [4, 6, 7, 8, 11];

    private const int ReportLimit = 30_000;

    private readonly string _executable;

    /// <param name="executable">The program whose core it is (for gdb's symbols): the Python interpreter.</param>
    public CrashDumps(string executable)
    {
        _executable = executable;
        Folder = Path.Combine(TempDirectory.Root, $"cwd-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Folder);
    }

    /// <summary>The helper's working directory.</summary>
    public string Folder { get; }

    /// <summary>True when <paramref name="exitCode"/> (as .NET reports a signal death: 128 + signal) is a crash.</summary>
    public static bool IsCrash(int exitCode) => exitCode > 128 && CrashSignals.Contains(exitCode - 128);

    /// <summary>
    /// The backtrace of every thread in the core this folder holds, or why there is none. Never throws: a report
    /// that fails says so.
    /// </summary>
    public async Task<string> ReportAsync()
    {
        string[] cores = Directory.Exists(Folder) ? Directory.GetFiles(Folder, "core*") : [];
        if (cores.Length == 0)
        {
            string pattern = File.Exists("/proc/sys/kernel/core_pattern") ? File.ReadAllText("/proc/sys/kernel/core_pattern").Trim() : "?";
            return $"no core file in {Folder} (kernel core_pattern: '{pattern}'; a plain name is needed)";
        }

        var report = new StringBuilder();
        foreach (string core in cores)
        {
            try
            {
                ProcessResult gdb = await ProcessRunner.RunAsync(
                    "gdb",
                    ["-batch", "-nx", "-ex", "set print thread-events off", "-ex", "thread apply all bt 40", _executable, core],
                    GdbTimeout,
                    checkExitCode: false).ConfigureAwait(false);
                report.Append($"gdb on {core} ({new FileInfo(core).Length / 1_000_000} MB):\n{gdb.StandardOutput}\n{gdb.StandardError}\n");
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                report.Append($"gdb on {core} failed: {e.Message}\n");
            }
        }

        string text = report.ToString();
        return text.Length <= ReportLimit ? text : text[..ReportLimit] + "\n(... cut ...)";
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
