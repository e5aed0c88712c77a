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
}
