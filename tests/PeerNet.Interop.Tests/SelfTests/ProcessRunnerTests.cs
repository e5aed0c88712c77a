namespace PeerNet.Interop.Tests.SelfTests;

public sealed class ProcessRunnerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_Success_CapturesStdoutAndStderr()
    {
        ProcessResult result = await ProcessRunner.RunAsync("/bin/sh", ["-c", "echo out; echo err >&2"], Timeout, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("out\n", result.StandardOutput);
        Assert.Equal("err\n", result.StandardError);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_ArgumentsWithSpacesAndQuotes_PassedVerbatim()
    {
        ProcessResult result = await ProcessRunner.RunAsync("/bin/sh", ["-c", "printf '%s|' \"$@\"", "sh", "a b", "it's", ""], Timeout, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("a b|it's||", result.StandardOutput);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_NonZeroExit_ThrowsWithFullOutput()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(
            () => ProcessRunner.RunAsync("/bin/sh", ["-c", "echo hello; echo oops >&2; exit 3"], Timeout, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("exit code: 3", e.Message, StringComparison.Ordinal);
        Assert.Contains("hello", e.Message, StringComparison.Ordinal);
        Assert.Contains("oops", e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_NonZeroExitNotChecked_ReturnsResult()
    {
        ProcessResult result = await ProcessRunner.RunAsync("/bin/sh", ["-c", "exit 7"], Timeout, checkExitCode: false, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(7, result.ExitCode);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_MissingProgram_ThrowsNamingIt()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(
            () => ProcessRunner.RunAsync("/nonexistent/peernet-no-such-tool", ["x"], Timeout, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("/nonexistent/peernet-no-such-tool", e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task RunAsync_Timeout_KillsProcessTreeAndKeepsOutput()
    {
        using var temp = new TempDirectory("timeout");
        string pidFile = temp.Combine("child.pid");

        // The shell starts a grandchild (sleep) and waits for it: both must die.
        var e = await Assert.ThrowsAsync<TimeoutException>(
            () => ProcessRunner.RunAsync("/bin/sh", ["-c", $"echo started; sleep 120 & echo $! > '{pidFile}'; wait"], TimeSpan.FromSeconds(2), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("started", e.Message, StringComparison.Ordinal);
        int pid = int.Parse(File.ReadAllText(pidFile).Trim());
        Assert.True(await IsGoneAsync(pid), $"grandchild {pid} (sleep) survived the timeout");
    }

    private static async Task<bool> IsGoneAsync(int pid)
    {
        for (int i = 0; i < 50 && !ProcessTree.IsGone(pid); i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        return ProcessTree.IsGone(pid);
    }
}
