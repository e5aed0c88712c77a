using System.Globalization;
using PeerNet.Cli.Output;
using Spectre.Console;

namespace PeerNet.Cli.Commands;

/// <summary>Shows a torrent's transfer live: a progress bar on a terminal, a status line every two seconds otherwise.</summary>
internal static class TransferView
{
    /// <summary>
    /// Waits until the torrent has checked its data and started (after its metadata, for a magnet link), and returns its
    /// status then; throws what stopped it if it failed first.
    /// </summary>
    public static async Task<TorrentStatus> WaitForStartAsync(TorrentHandle torrent, CancellationToken cancellationToken)
    {
        while (true)
        {
            TorrentStatus status = torrent.GetStatus();
            switch (status.State)
            {
                case TorrentState.FetchingMetadata or TorrentState.Checking:
                    await Task.Delay(20, cancellationToken).ConfigureAwait(false);
                    continue;
                case TorrentState.Error:
                    throw new IOException(status.Error);
                default:
                    return status;
            }
        }
    }

    /// <summary>
    /// The files a <c>--only</c> download wants, their size and how much of them is verified; null when every file is
    /// wanted (the torrent's own totals say it then).
    /// </summary>
    public static async Task<Selection?> SelectionAsync(TorrentHandle torrent, CancellationToken cancellationToken)
    {
        IReadOnlyList<TorrentFileStatus> files = await torrent.GetFilesAsync(cancellationToken).ConfigureAwait(false);
        if (files.All(f => f.Priority > 0))
        {
            return null;
        }

        List<TorrentFileStatus> wanted = [.. files.Where(f => f.Priority > 0)];
        return new Selection(wanted.Count, wanted.Sum(f => f.Length), wanted.Sum(f => f.BytesVerified));
    }

    /// <summary>Waits until the torrent completes (or fails), showing progress.</summary>
    public static async Task WaitForCompletionAsync(TorrentHandle torrent, TextWriter stdout, CancellationToken cancellationToken)
    {
        Task completed = torrent.WaitForCompletionAsync(cancellationToken);
        if (Terminal.IsInteractive(stdout))
        {
            await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    // The bar counts the selected files' bytes under --only, the torrent's pieces otherwise.
                    TorrentStatus first = torrent.GetStatus();
                    Selection? selection = await SelectionAsync(torrent, cancellationToken).ConfigureAwait(false);
                    ProgressTask task = context.AddTask(Describe(first, selection), maxValue: Math.Max(1, selection?.Bytes ?? first.PieceCount));
                    while (!await WaitAsync(completed, TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false))
                    {
                        TorrentStatus status = torrent.GetStatus();
                        selection = selection is null ? null : await SelectionAsync(torrent, cancellationToken).ConfigureAwait(false);
                        task.Value = selection?.Verified ?? status.PiecesVerified;
                        task.Description = Describe(status, selection);
                    }

                    task.Value = task.MaxValue;
                    task.Description = Describe(torrent.GetStatus(), selection is null ? null : await SelectionAsync(torrent, cancellationToken).ConfigureAwait(false));
                }).ConfigureAwait(false);
        }
        else
        {
            while (!await WaitAsync(completed, TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false))
            {
                TorrentStatus status = torrent.GetStatus();
                await stdout.WriteLineAsync(Line(status, await SelectionAsync(torrent, cancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
            }
        }

        await completed.ConfigureAwait(false); // rethrows a torrent's fatal error
    }

    /// <summary>Shows upload status until cancelled (Ctrl+C).</summary>
    public static Task SeedUntilCancelledAsync(TorrentHandle torrent, TextWriter stdout, CancellationToken cancellationToken)
        => SeedUntilCancelledAsync(torrent.GetStatus, stdout, Terminal.IsInteractive(stdout), TimeProvider.System, cancellationToken);

    /// <summary>
    /// The status line every second on a terminal; elsewhere (a log file, a pipe) every 5 s but only when it changed, so
    /// an idle seed does not fill a log with the same line.
    /// </summary>
    internal static async Task SeedUntilCancelledAsync(Func<TorrentStatus> getStatus, TextWriter stdout, bool interactive, TimeProvider time, CancellationToken cancellationToken)
    {
        using var ticks = new PeriodicTimer(TimeSpan.FromSeconds(interactive ? 1 : 5), time);
        string? last = null;
        try
        {
            while (await ticks.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                TorrentStatus status = getStatus();
                if (status.State == TorrentState.Error)
                {
                    throw new IOException(status.Error);
                }

                string line = Line(status);
                if (interactive || line != last)
                {
                    await stdout.WriteLineAsync(line).ConfigureAwait(false);
                    last = line;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static async Task<bool> WaitAsync(Task task, TimeSpan period, CancellationToken cancellationToken)
    {
        await Task.WhenAny(task, Task.Delay(period, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return task.IsCompleted;
    }

    /// <summary>
    /// The status line: progress in pieces, or under <c>--only</c> (<paramref name="selection"/>) in the selected
    /// files' bytes, since the pieces of the files left out are never fetched.
    /// </summary>
    public static string Line(TorrentStatus s, Selection? selection = null) => string.Create(CultureInfo.InvariantCulture,
        $"{s.State.ToString().ToLowerInvariant()} {Progress(s, selection)}  down {ByteSize.Format(s.DownloadRate)}/s  up {ByteSize.Format(s.UploadRate)}/s  peers {s.Peers}  received {ByteSize.Format(s.Downloaded)}  sent {ByteSize.Format(s.Uploaded)}{Trackers(s)}");

    /// <summary>"  trackers: 1 ok" (and how many fail, with the last error when none works); empty without trackers.</summary>
    public static string Trackers(TorrentStatus s)
    {
        if (s.TrackerCount == 0)
        {
            return "";
        }

        string text = string.Create(CultureInfo.InvariantCulture, $"  trackers: {s.TrackersWorking} ok");
        if (s.TrackersFailing > 0)
        {
            text += string.Create(CultureInfo.InvariantCulture, $", {s.TrackersFailing} failing");
        }

        if (s.TrackersWorking == 0 && s.TrackerError is { } error)
        {
            text += $" ({error})";
        }

        return text;
    }

    private static string Progress(TorrentStatus s, Selection? selection) => selection is { } only
        ? string.Create(CultureInfo.InvariantCulture, $"{only.Progress * 100:0.0}% of {Count.Of(only.Files, "selected file")} ({ByteSize.Format(only.Verified)} of {ByteSize.Format(only.Bytes)} verified)")
        : string.Create(CultureInfo.InvariantCulture, $"{s.Progress * 100:0.0}% ({s.PiecesVerified}/{s.PieceCount} pieces verified)");

    /// <summary>The progress bar's label; the name is the torrent's, exact, so it is cleaned here (the tracker error already is).</summary>
    internal static string Describe(TorrentStatus s, Selection? selection = null) => Markup.Escape(string.Create(CultureInfo.InvariantCulture,
        $"{DisplayText.Sanitize(s.Name)}  {(selection is { } only ? $"{ByteSize.Format(only.Verified)}/{ByteSize.Format(only.Bytes)} of {Count.Of(only.Files, "selected file")}" : $"{s.PiecesVerified}/{s.PieceCount} pieces")}  down {ByteSize.Format(s.DownloadRate)}/s  up {ByteSize.Format(s.UploadRate)}/s  {Count.Of(s.Peers, "peer")}{Trackers(s)}"));
}

/// <summary>What <c>--only</c> selected: how many files, their bytes, and how many of those bytes are verified.</summary>
internal sealed record Selection(int Files, long Bytes, long Verified)
{
    public double Progress => Bytes == 0 ? 1 : (double)Verified / Bytes;
}
