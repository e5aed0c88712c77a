using System.Globalization;
using PeerNet.Cli.Output;
using Spectre.Console;

namespace PeerNet.Cli.Demo;

/// <summary>The end of a demo: times against client-server and the peer-to-peer ideal, who uploaded, every copy checked.</summary>
internal static class DemoSummary
{
    /// <summary>Writes the summary table to <paramref name="stdout"/> (colours only on a terminal).</summary>
    public static void Write(DemoResult r, TextWriter stdout)
    {
        IAnsiConsole console = PlainConsole.For(stdout);

        var table = new Table().Border(TableBorder.Rounded).Title("[bold]PeerNet demo summary[/]").HideHeaders()
            .AddColumn("").AddColumn("");
        table.Columns[0].NoWrap();
        foreach ((string label, string value) in Rows(r))
        {
            table.AddRow(new Text(label), new Text(value));
        }

        console.Write(table);
        console.MarkupLine(r.Success
            ? "[green]OK[/]: every copy verified."
            : $"[red]FAILED[/]: {Markup.Escape(r.Failure ?? $"{r.CopiesVerified}/{r.Peers} copies verified")}.");
    }

    /// <summary>The summary as label and value pairs (also for tests and logs).</summary>
    public static IEnumerable<(string Label, string Value)> Rows(DemoResult r)
    {
        CultureInfo c = CultureInfo.InvariantCulture;
        string size = ByteSize.Format(r.Size);
        yield return ("content", string.Create(c, $"{size}, {Count.Of(r.PieceCount, "piece")} of {ByteSize.Format(r.PieceLength)}; {Count.Of(r.Peers, "leecher")}"));
        yield return (string.Create(c, $"elapsed (all {r.Peers} copies)"), r.Failure is null ? Seconds(r.Elapsed) : "did not finish");
        if (r.Copies.Where(x => x.CompletedAfter is not null).Select(x => x.CompletedAfter!.Value).DefaultIfEmpty().Min() is { } first && first > TimeSpan.Zero)
        {
            yield return ("first copy complete", Seconds(first));
        }

        if (r.ClientServerTime is { } clientServer)
        {
            yield return (string.Create(c, $"client-server: {r.Peers} × {size} ÷ {DemoView.Cap(r.SeedRate)}"),
                Seconds(clientServer) + (r.Failure is null ? string.Create(c, $"  ({clientServer / r.Elapsed:0.0}× the elapsed time)") : ""));
        }

        if (r.IdealTime is { } ideal)
        {
            string how = r.IdealLimitedByPeers
                ? string.Create(c, $"peer-to-peer ideal: {r.Peers} × {size} ÷ all upload caps")
                : string.Create(c, $"peer-to-peer ideal: {size} ÷ {DemoView.Cap(r.SeedRate)}");
            yield return (how, Seconds(ideal) + (r.Failure is null ? string.Create(c, $"  (elapsed is {r.Elapsed / ideal:0.00}× this)") : ""));
        }

        long total = r.SeederUploaded + r.LeecherUploaded;
        yield return ("uploaded by the seeder", string.Create(c, $"{ByteSize.Format(r.SeederUploaded)}  ({Share(r.SeederUploaded, total)} of the honest uploads; one copy is {size})"));
        yield return ("uploaded by the leechers", string.Create(c, $"{ByteSize.Format(r.LeecherUploaded)}  ({Share(r.LeecherUploaded, total)})"));
        if (r.HadBadPeer)
        {
            yield return ("bad peer", string.Create(c,
                $"sent {ByteSize.Format(r.BadPeerUploaded)} of corrupt blocks; banned by {r.BannedBadPeer}/{r.Peers} leechers; {Count.Of(r.HashFailures, "hash failure")} (each piece fetched again)"));
        }

        foreach ((string name, DemoRejoin j) in r.Rejoins)
        {
            yield return (name + " left and rejoined", string.Create(c,
                $"left with {j.PiecesAtLeave}/{r.PieceCount} pieces, found {j.PiecesFoundOnRejoin} verified on disk; then fetched {ByteSize.Format(j.DownloadedAfter - j.WastedAfter)} for the at most {ByteSize.Format(j.MissingBytes)} it lacked"));
        }

        yield return ("wasted (duplicates, failed pieces)", ByteSize.Format(r.Wasted));
        yield return ("copies verified", string.Create(c, $"{r.CopiesVerified}/{r.Peers} byte-identical to the original (SHA-256)"));
    }

    private static string Seconds(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.0} s");

    private static string Share(long part, long total) => total == 0 ? "0%" : string.Create(CultureInfo.InvariantCulture, $"{100.0 * part / total:0.0}%");
}
