using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace PeerNet.Cli.Output;

/// <summary>
/// How the client verbs print the daemon's answers: tables for a person, or the JSON itself for scripts. Every text
/// from the daemon (names, paths, client names, tracker errors) is cleaned with <see cref="DisplayText"/> and shown
/// as plain text, never as Spectre markup.
/// </summary>
internal static class ClientView
{
    private static readonly JsonSerializerOptions Indented = new(JsonSerializerOptions.Web) { WriteIndented = true };

    /// <summary>The shortened id <c>list</c> shows (any unique start of the info-hash is accepted back).</summary>
    public const int ShortId = 8;

    /// <summary>Writes <paramref name="value"/> as indented JSON and a line feed.</summary>
    public static Task JsonAsync(TextWriter stdout, object value) =>
        stdout.WriteLineAsync(JsonSerializer.Serialize(value, Indented));

    /// <summary>One line saying what was done: <c>paused 0123abcd… name (Paused)</c>.</summary>
    public static string Done(string what, JsonElement torrent) =>
        $"{what} {Str(torrent, "id")} {Clean(Str(torrent, "name"))} ({Str(torrent, "state")})";

    /// <summary><c>peernet list</c>: a row per torrent.</summary>
    public static void List(TextWriter stdout, JsonElement torrents)
    {
        IAnsiConsole console = PlainConsole.For(stdout);
        if (torrents.GetArrayLength() == 0)
        {
            console.WriteLine("no torrents ('peernet add FILE|MAGNET' adds one)");
            return;
        }

        var table = new Table().Border(TableBorder.Simple)
            .AddColumn("id").AddColumn("name").AddColumn("state")
            .AddColumn(new TableColumn("done").RightAligned()).AddColumn(new TableColumn("size").RightAligned())
            .AddColumn(new TableColumn("down").RightAligned()).AddColumn(new TableColumn("up").RightAligned())
            .AddColumn(new TableColumn("peers").RightAligned()).AddColumn(new TableColumn("eta").RightAligned());
        table.Columns[0].NoWrap();
        foreach (JsonElement t in torrents.EnumerateArray())
        {
            table.AddRow(Cells(
                Str(t, "id")[..Math.Min(ShortId, Str(t, "id").Length)],
                Clean(Str(t, "name")),
                State(t),
                Num(t, "totalSize") > 0 ? Percent(Num(t, "progress")) : "-", // a magnet without its metadata has no size to be done with
                ByteSize.Format(Num(t, "totalSize")),
                Rate(Num(t, "downloadRate")),
                Rate(Num(t, "uploadRate")),
                $"{Num(t, "peers"):0} ({Num(t, "seeds"):0})",
                Eta(t)));
        }

        console.Write(table);
        long count = torrents.GetArrayLength();
        console.WriteLine($"{Count.Of(count, "torrent")}; peers (seeds); rates per second");
    }

    /// <summary><c>peernet show</c>: the torrent, then its files, trackers and peers.</summary>
    public static void Show(TextWriter stdout, JsonElement torrent, JsonElement files, JsonElement trackers, JsonElement peers)
    {
        IAnsiConsole console = PlainConsole.For(stdout);
        var rows = new List<(string, string)>
        {
            ("name", Clean(Str(torrent, "name"))),
            ("id", Str(torrent, "id")),
            ("state", State(torrent)),
            ("progress", $"{Percent(Num(torrent, "progress"))} of {ByteSize.Format(Num(torrent, "totalSize"))} ({Num(torrent, "piecesVerified"):0}/{Num(torrent, "pieceCount"):0} pieces)"),
            ("transferred", $"{ByteSize.Format(Num(torrent, "downloaded"))} down, {ByteSize.Format(Num(torrent, "uploaded"))} up"),
            ("rates", $"{Rate(Num(torrent, "downloadRate"))} down, {Rate(Num(torrent, "uploadRate"))} up"),
            ("peers", $"{Count.Of((long)Num(torrent, "peers"), "peer")}, {Count.Of((long)Num(torrent, "seeds"), "seed")}"),
            ("eta", Eta(torrent)),
            ("saved in", Clean(Str(torrent, "savePath"))),
        };
        if (torrent.TryGetProperty("infoHashV1", out JsonElement v1))
        {
            rows.Add(("info-hash v1", v1.GetString() ?? ""));
        }

        if (torrent.TryGetProperty("infoHashV2", out JsonElement v2))
        {
            rows.Add(("info-hash v2", v2.GetString() ?? ""));
        }

        console.Write(KeyValues(rows));

        var fileTable = new Table().Border(TableBorder.Simple).Title("files")
            .AddColumn(new TableColumn("#").RightAligned()).AddColumn("path").AddColumn(new TableColumn("size").RightAligned())
            .AddColumn(new TableColumn("done").RightAligned()).AddColumn(new TableColumn("priority").RightAligned());
        foreach (JsonElement f in files.EnumerateArray())
        {
            fileTable.AddRow(Cells($"{Num(f, "index"):0}", Clean(Str(f, "path")), ByteSize.Format(Num(f, "length")), Percent(Num(f, "progress")), $"{Num(f, "priority"):0}"));
        }

        console.Write(files.GetArrayLength() == 0 ? new Text("files: none known yet (a magnet's metadata has not arrived)\n") : fileTable);

        var trackerTable = new Table().Border(TableBorder.Simple).Title("trackers")
            .AddColumn("url").AddColumn(new TableColumn("tier").RightAligned()).AddColumn("state").AddColumn("last error");
        foreach (JsonElement t in trackers.EnumerateArray())
        {
            trackerTable.AddRow(Cells(Clean(Str(t, "url")), $"{Num(t, "tier"):0}", Str(t, "state"), Clean(Str(t, "lastError"))));
        }

        console.Write(trackers.GetArrayLength() == 0 ? new Text("trackers: none\n") : trackerTable);

        var peerTable = new Table().Border(TableBorder.Simple).Title("peers")
            .AddColumn("address").AddColumn("client").AddColumn("flags").AddColumn(new TableColumn("has").RightAligned())
            .AddColumn(new TableColumn("down").RightAligned()).AddColumn(new TableColumn("up").RightAligned());
        foreach (JsonElement p in peers.EnumerateArray())
        {
            peerTable.AddRow(Cells(Str(p, "address"), Clean(Str(p, "client")), Str(p, "flags"), Percent(Num(p, "progress")), Rate(Num(p, "downloadRate")), Rate(Num(p, "uploadRate"))));
        }

        console.Write(peers.GetArrayLength() == 0 ? new Text("peers: none connected\n") : peerTable);
    }

    /// <summary><c>peernet status</c>: the node.</summary>
    public static void Status(TextWriter stdout, Uri api, JsonElement node)
    {
        var rows = new List<(string, string)>
        {
            ("daemon", $"{api.GetLeftPart(UriPartial.Authority)} (PeerNet {Str(node, "version")})"),
            ("state folder", Clean(Str(node, "stateFolder"))),
            ("downloads", Clean(Str(node, "downloadFolder"))),
            ("listening", $"{Str(node, "listenAddress")} port {Num(node, "listenPort"):0} (TCP, and UDP for the DHT)"),
            ("torrents", $"{Num(node, "torrents"):0}"),
            ("connections", $"{Num(node, "connections"):0}"),
            ("rates", $"{Rate(Num(node, "downloadRate"))} down, {Rate(Num(node, "uploadRate"))} up"),
            ("totals", $"{ByteSize.Format(Num(node, "downloaded"))} down, {ByteSize.Format(Num(node, "uploaded"))} up (since the daemon started)"),
        };
        if (node.TryGetProperty("dht", out JsonElement dht) && dht.ValueKind == JsonValueKind.Object)
        {
            string external = dht.TryGetProperty("externalAddress", out JsonElement e) ? $"; sees us as {e.GetString()}" : "";
            rows.Add(("dht", $"{Count.Of((long)Num(dht, "nodes"), "node")} ({Num(dht, "goodNodes"):0} good) in {Count.Of((long)Num(dht, "buckets"), "bucket")}; "
                + $"{Num(dht, "queriesReceived"):0} queries received, {Num(dht, "queriesSent"):0} sent{external}"));
            rows.Add(("dht node id", Str(dht, "nodeId")));
        }
        else
        {
            rows.Add(("dht", "off"));
        }

        rows.Add(("local discovery", OnOff(node, "localDiscovery")));
        rows.Add(("trackers", OnOff(node, "trackers")));
        PlainConsole.For(stdout).Write(KeyValues(rows));
    }

    private static Table KeyValues(IEnumerable<(string Key, string Value)> rows)
    {
        var table = new Table().Border(TableBorder.None).HideHeaders().AddColumn("").AddColumn("");
        table.Columns[0].NoWrap();
        foreach ((string key, string value) in rows)
        {
            table.AddRow(new Text(key), new Text(value));
        }

        return table;
    }

    private static IRenderable[] Cells(params string[] values) => [.. values.Select(v => new Text(v))];

    private static string Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    private static double Num(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;

    private static string OnOff(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.True ? "on" : "off";

    private static string Clean(string text) => DisplayText.Sanitize(text, 300);

    private static string State(JsonElement t) =>
        Str(t, "error") is { Length: > 0 } error ? $"{Str(t, "state")}: {Clean(error)}" : Str(t, "state");

    private static string Percent(double ratio) => string.Create(CultureInfo.InvariantCulture, $"{ratio * 100:0.0}%");

    private static string Rate(double bytesPerSecond) => bytesPerSecond < 1 ? "-" : ByteSize.Format(bytesPerSecond) + "/s";

    /// <summary>Time left: <c>1h02m</c>, <c>3m10s</c>, <c>42s</c>; <c>-</c> when done or unknown.</summary>
    private static string Eta(JsonElement t)
    {
        if (!t.TryGetProperty("etaSeconds", out JsonElement v) || v.ValueKind != JsonValueKind.Number || Num(t, "progress") >= 1)
        {
            return "-";
        }

        var left = TimeSpan.FromSeconds(Math.Min(v.GetDouble(), TimeSpan.FromDays(999).TotalSeconds));
        return left.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)left.TotalHours}h{left.Minutes:00}m")
            : left.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{left.Minutes}m{left.Seconds:00}s") : string.Create(CultureInfo.InvariantCulture, $"{left.Seconds}s");
    }
}
