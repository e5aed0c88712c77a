using PeerNet.Cli;

namespace PeerNet.Engine.Tests.Cli;

/// <summary>Runs <c>peernet</c> in process, as the CLI tests do, with the test's cancellation and a 60 s bound.</summary>
internal static class CliRun
{
    /// <summary>Runs the command line <paramref name="args"/>; returns the exit code and everything printed.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        int exit = await PeerNetCli.RunAsync(args, stdout, stderr, cancellationToken).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
