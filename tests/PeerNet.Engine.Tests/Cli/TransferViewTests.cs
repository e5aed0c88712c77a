using PeerNet.Cli.Commands;
using PeerNet.Discovery.Trackers;

namespace PeerNet.Engine.Tests.Cli;

public sealed class TransferViewTests
{
    private static TorrentStatus Status(TrackerSummary trackers, string name = "x") => new()
    {
        Name = name,
        InfoHashes = new InfoHashes(Sha1Hash.Compute([1]), null),
        State = TorrentState.Downloading,
        PieceCount = 4,
        PiecesVerified = 1,
        TrackerCount = trackers.Total,
        TrackersWorking = trackers.Working,
        TrackersFailing = trackers.Failing,
        TrackerError = trackers.LastError,
    };

    [Fact]
    public void Line_NoTrackers_SaysNothingOfThem()
        => Assert.EndsWith("sent 0 B", TransferView.Line(Status(default)), StringComparison.Ordinal);

    [Fact]
    public void Line_WorkingTracker_SaysHowManyAreOk()
        => Assert.EndsWith("sent 0 B  trackers: 1 ok", TransferView.Line(Status(new TrackerSummary(2, 1, 0, null))), StringComparison.Ordinal);

    [Fact]
    public void Line_EveryTrackerFailing_GivesTheLastError()
        => Assert.EndsWith("trackers: 0 ok, 2 failing (udp://t:1: no answer)", TransferView.Line(Status(new TrackerSummary(2, 0, 2, "udp://t:1: no answer"))), StringComparison.Ordinal);

    [Fact]
    public void Describe_HostileName_ShowsItReplaced()
    {
        string name = "evil" + TerminalText.C1Red + TerminalText.RightToLeftOverride + TerminalText.ClearScreen;
        string label = TransferView.Describe(Status(default, name));
        TerminalText.AssertClean(label, "the progress label");
        Assert.StartsWith(Spectre.Console.Markup.Escape(TerminalText.Replaced(name)) + "  ", label, StringComparison.Ordinal); // markup doubles the [
    }

    [Fact]
    public async Task Seed_OffTerminal_PrintsTheStatusOnlyWhenItChanges()
    {
        TorrentStatus idle = Status(default) with { State = TorrentState.Seeding, PiecesVerified = 4 };
        TorrentStatus serving = idle with { Peers = 1, Uploaded = 16384 };
        TorrentStatus[] statuses = [idle, idle, idle, serving, serving, idle];
        var asked = System.Threading.Channels.Channel.CreateUnbounded<int>();
        int calls = 0;
        TorrentStatus Next()
        {
            int call = calls++;
            asked.Writer.TryWrite(call);
            return statuses[Math.Min(call, statuses.Length - 1)];
        }

        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var stdout = new LockedStringWriter();
        using var stop = new CancellationTokenSource();
        Task seeding = TransferView.SeedUntilCancelledAsync(Next, stdout, interactive: false, time, stop.Token);

        // One tick per status, and one more: the line of the last status is written before the next is asked for.
        for (int i = 0; i <= statuses.Length; i++)
        {
            time.Advance(TimeSpan.FromSeconds(5));
            await asked.Reader.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }

        await stop.CancelAsync();
        await seeding.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        string[] lines = stdout.Text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([TransferView.Line(idle), TransferView.Line(serving), TransferView.Line(idle)], lines);
    }
}
