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

    /// <summary>Starts <paramref name="args"/> in the background, for a verb that runs until Ctrl+C.</summary>
    public static BackgroundRun Start(params string[] args) => new(args, null);

    /// <summary>Starts <paramref name="args"/> in the background reading <paramref name="input"/> as its stdin.</summary>
    public static BackgroundRun StartWithInput(TextReader input, params string[] args) => new(args, input);

    /// <summary>
    /// A verb running in the background, its output readable while it is written; <see cref="StopAsync"/> (or
    /// disposing) ends it as Ctrl+C does.
    /// </summary>
    internal sealed class BackgroundRun : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        public BackgroundRun(string[] args, TextReader? input) => Exit = PeerNetCli.RunAsync(args, input, Out, Err, _stop.Token);

        public LockedStringWriter Out { get; } = new();

        public LockedStringWriter Err { get; } = new();

        /// <summary>The verb's exit code, once it ends.</summary>
        public Task<int> Exit { get; }

        /// <summary>Waits until stdout (or stderr, with <paramref name="onStderr"/>) shows <paramref name="text"/>, or the verb ends first.</summary>
        public async Task<bool> WaitForAsync(string text, bool onStderr = false)
        {
            LockedStringWriter writer = onStderr ? Err : Out;
            Task seen = writer.WaitForAsync(text, TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            await Task.WhenAny(seen, Exit);
            return writer.Text.Contains(text, StringComparison.Ordinal);
        }

        /// <summary>Cancels the verb as Ctrl+C would and returns its exit code.</summary>
        public async Task<int> StopAsync()
        {
            await _stop.CancelAsync();
            return await Exit.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            if (!Exit.IsCompleted)
            {
                await StopAsync();
            }

            _stop.Dispose();
            Out.Dispose();
            Err.Dispose();
        }
    }
}
