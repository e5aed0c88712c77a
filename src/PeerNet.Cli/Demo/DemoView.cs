using System.Globalization;
using PeerNet.Cli.Output;
using Spectre.Console;

namespace PeerNet.Cli.Demo;

/// <summary>
/// Shows a <see cref="DemoSwarm"/> run: on a terminal a live table (a bar per peer with its rates, the swarm's
/// total rates, the latest events); otherwise an event per line and a status line every two seconds. Ends with
/// the summary (<see cref="DemoSummary"/>).
/// </summary>
internal static class DemoView
{
    private const int BarWidth = 30;
    private const int EventLines = 8;

    public static async Task<DemoResult> RunAsync(DemoSwarm swarm, TextWriter stdout, CancellationToken cancellationToken)
    {
        await stdout.WriteLineAsync(Header(swarm.Options)).ConfigureAwait(false);
        Task<DemoResult> run = swarm.RunAsync(cancellationToken);
        if (Terminal.IsInteractive(stdout))
        {
            await LiveAsync(swarm, run).ConfigureAwait(false);
        }
        else
        {
            await PlainAsync(swarm, run, stdout).ConfigureAwait(false);
        }

        DemoResult result = await run.ConfigureAwait(false);
        DemoSummary.Write(result, stdout);
        return result;
    }

    private static string Header(DemoOptions o) => string.Create(CultureInfo.InvariantCulture,
        $"PeerNet demo: 1 seeder and {Count.Of(o.Peers, "leecher")}{(o.BadPeer ? " and a bad peer" : "")} on TCP loopback, sharing {ByteSize.Format(o.Size)}; upload caps: seeder {Cap(o.SeedRate)}, each leecher {Cap(o.PeerRate)}{(o.Churn ? "; with churn" : "")} (--seed {o.Seed})");

    /// <summary>An upload cap: <c>4 MiB/s</c>, or <c>none</c> for 0.</summary>
    internal static string Cap(long bytesPerSecond) => bytesPerSecond <= 0 ? "none" : Rate(bytesPerSecond);

    internal static string Rate(double bytesPerSecond) => ByteSize.Format(bytesPerSecond) + "/s";

    private static async Task LiveAsync(DemoSwarm swarm, Task run)
    {
        var events = new Queue<string>();
        await AnsiConsole.Live(new Text(""))
            .AutoClear(false)
            .Overflow(VerticalOverflow.Ellipsis)
            .StartAsync(async context =>
            {
                while (true)
                {
                    while (swarm.TryReadEvent(out string message))
                    {
                        events.Enqueue(message);
                        if (events.Count > EventLines)
                        {
                            events.Dequeue();
                        }
                    }

                    context.UpdateTarget(Render(swarm.GetSnapshot(), events));
                    if (run.IsCompleted)
                    {
                        return;
                    }

                    await Task.WhenAny(run, Task.Delay(250)).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
    }

    private static async Task PlainAsync(DemoSwarm swarm, Task run, TextWriter stdout)
    {
        DateTime nextStatus = DateTime.UtcNow.AddSeconds(2);
        while (true)
        {
            while (swarm.TryReadEvent(out string message))
            {
                await stdout.WriteLineAsync(message).ConfigureAwait(false);
            }

            if (run.IsCompleted)
            {
                return;
            }

            if (DateTime.UtcNow >= nextStatus)
            {
                nextStatus = DateTime.UtcNow.AddSeconds(2);
                DemoSnapshot snapshot = swarm.GetSnapshot();
                if (snapshot.Phase == "swarming")
                {
                    await stdout.WriteLineAsync(StatusLine(snapshot)).ConfigureAwait(false);
                }
            }

            await Task.WhenAny(run, Task.Delay(200)).ConfigureAwait(false);
        }
    }

    /// <summary>One line for logs: the swarm's rates and every leecher's progress in percent.</summary>
    internal static string StatusLine(DemoSnapshot s)
    {
        (double down, double up, int done, double share) = Totals(s);
        double seeder = s.Nodes.Where(n => n.Node.Role == DemoRole.Seeder).Sum(n => n.UploadRate);
        IEnumerable<string> progress = s.Nodes.Where(n => n.Node.Role == DemoRole.Leecher)
            .Select(n => n.Online ? string.Create(CultureInfo.InvariantCulture, $"{Percent(n, s.PieceCount):0}") : "off");
        return string.Create(CultureInfo.InvariantCulture,
            $"{s.Elapsed.TotalSeconds,5:0.0} s  swarm down {Rate(down)} up {Rate(up)} (seeder {Rate(seeder)})  complete {done}/{s.Nodes.Count(n => n.Node.Role == DemoRole.Leecher)}  seeder share {share * 100:0}%  progress % {string.Join(' ', progress)}");
    }

    private static (double Down, double Up, int Done, double SeederShare) Totals(DemoSnapshot s)
    {
        double down = s.Nodes.Sum(n => n.DownloadRate);
        double up = s.Nodes.Sum(n => n.UploadRate);
        int done = s.Nodes.Count(n => n.Node.Role == DemoRole.Leecher && n.Node.CompletedAfter is not null);
        long seeder = s.Nodes.Where(n => n.Node.Role == DemoRole.Seeder).Sum(n => n.Uploaded);
        long leechers = s.Nodes.Where(n => n.Node.Role == DemoRole.Leecher).Sum(n => n.Uploaded);
        return (down, up, done, seeder + leechers == 0 ? 0 : (double)seeder / (seeder + leechers));
    }

    private static double Percent(DemoNodeStatus n, int pieceCount) => pieceCount == 0 ? 0 : 100.0 * n.PiecesVerified / pieceCount;

    private static Rows Render(DemoSnapshot s, IEnumerable<string> events)
    {
        (double down, double up, int done, double share) = Totals(s);
        int leechers = s.Nodes.Count(n => n.Node.Role == DemoRole.Leecher);
        int bannedBy = s.Nodes.Count(n => n.Node.Role == DemoRole.Leecher && n.Banned > 0);
        var title = new Markup(string.Create(CultureInfo.InvariantCulture,
            $"[bold]{Markup.Escape(s.Phase)}[/] {s.Elapsed.TotalSeconds:0.0} s   swarm [green]↓ {Rate(down)}[/] [blue]↑ {Rate(up)}[/]   complete {done}/{leechers}   seeder's share of uploads {share * 100:0}%"));
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("peer").AddColumn("verified pieces").AddColumn(new TableColumn("").RightAligned())
            .AddColumn(new TableColumn("down").RightAligned()).AddColumn(new TableColumn("up").RightAligned())
            .AddColumn(new TableColumn("sent").RightAligned()).AddColumn("");
        foreach (DemoNodeStatus n in s.Nodes)
        {
            string color = n.Node.Role switch
            {
                DemoRole.Seeder => "yellow",
                DemoRole.BadPeer => "red",
                _ when n.Node.CompletedAfter is not null => "green",
                _ when !n.Online => "grey",
                _ => "aqua",
            };
            table.AddRow(
                new Markup($"[{color}]{n.Node.Name}[/]"),
                new Markup(Bar(n.PiecesVerified, s.PieceCount, color)),
                new Text(string.Create(CultureInfo.InvariantCulture, $"{n.PiecesVerified}/{s.PieceCount}")),
                new Text(n.Online ? Rate(n.DownloadRate) : "-"),
                new Text(n.Online ? Rate(n.UploadRate) : "-"),
                new Text(ByteSize.Format(n.Uploaded)),
                new Markup(Note(n, bannedBy, leechers)));
        }

        var log = new Markup("[grey]" + Markup.Escape(string.Join('\n', events)) + "[/]");
        return new Rows(title, table, log);
    }

    private static string Bar(int value, int max, string color)
    {
        int filled = max == 0 ? 0 : (int)Math.Round((double)value * BarWidth / max);
        return $"[{color}]{new string('━', filled)}[/][grey23]{new string('━', BarWidth - filled)}[/]";
    }

    private static string Note(DemoNodeStatus n, int bannedBy, int leechers) => n.Node.Role switch
    {
        DemoRole.Seeder => "",
        DemoRole.BadPeer => string.Create(CultureInfo.InvariantCulture, $"[red]sends corrupt blocks; banned by {bannedBy}/{leechers}[/]"),
        _ when n.Node.CompletedAfter is { } at => string.Create(CultureInfo.InvariantCulture, $"[green]complete {at.TotalSeconds:0.0} s[/]"),
        _ when !n.Online => "[grey]left; rejoins soon[/]",
        _ when n.Node.Rejoin is { PiecesFoundOnRejoin: > 0 } r => string.Create(CultureInfo.InvariantCulture, $"rejoined, kept {r.PiecesFoundOnRejoin} pieces"),
        _ when n.Banned > 0 => "[red]banned the bad peer[/]",
        _ => "",
    };
}
