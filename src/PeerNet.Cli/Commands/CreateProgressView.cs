using PeerNet.Creation;
using Spectre.Console;

namespace PeerNet.Cli.Commands;

/// <summary>A Spectre.Console progress bar for torrent creation: bytes hashed, rate and time left.</summary>
internal static class CreateProgressView
{
    public static async Task<TorrentCreationResult> RunAsync(TorrentCreationOptions options, CancellationToken cancellationToken)
    {
        TorrentCreationResult? result = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new DownloadedColumn(),
                new TransferSpeedColumn(),
                new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                ProgressTask task = context.AddTask("Hashing", autoStart: true, maxValue: 1);
                var progress = new TaskProgress(task);
                result = await TorrentCreator.CreateWithDetailsAsync(options, progress, cancellationToken).ConfigureAwait(false);
                task.MaxValue = Math.Max(1, result.TotalLength);
                task.Value = task.MaxValue;
                task.StopTask();
            }).ConfigureAwait(false);
        return result!;
    }

    /// <summary>Applies reports straight from the hashing threads (ProgressTask is thread-safe).</summary>
    private sealed class TaskProgress(ProgressTask task) : IProgress<CreationProgress>
    {
        public void Report(CreationProgress value)
        {
            task.MaxValue = Math.Max(1, value.TotalBytes);
            if (value.BytesHashed > task.Value)
            {
                task.Value = value.BytesHashed;
            }
        }
    }
}
