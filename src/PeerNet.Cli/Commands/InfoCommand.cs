using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PeerNet.Magnet;
using PeerNet.Metainfo;

namespace PeerNet.Cli.Commands;

/// <summary><c>peernet info &lt;torrent|magnet&gt; [--json]</c>: what a torrent or magnet link describes.</summary>
internal static class InfoCommand
{
    /// <summary>Builds the <c>info</c> verb.</summary>
    public static Command Build()
    {
        var source = new Argument<string>("torrent") { Description = "A .torrent file or a magnet:?… link." };
        var json = new Option<bool>("--json") { Description = "Print JSON for scripts instead of text." };
        var command = new Command("info", "Show a torrent's name, info-hashes, files, piece size, trackers and web seeds.")
        {
            source, json,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            string input = parseResult.GetRequiredValue(source);
            bool asJson = parseResult.GetValue(json);
            return CommandRunner.RunAsync(stderr, () => RunAsync(input, asJson, stdout, cancellationToken));
        });
        return command;
    }

    private static async Task<int> RunAsync(string input, bool asJson, TextWriter stdout, CancellationToken cancellationToken)
    {
        if (input.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase))
        {
            MagnetLink magnet = MagnetLink.Parse(input);
            await stdout.WriteAsync(asJson ? MagnetJson(magnet) : MagnetText(magnet)).ConfigureAwait(false);
            return 0;
        }

        TorrentMetainfo torrent = await LoadAsync(input, cancellationToken).ConfigureAwait(false);
        await stdout.WriteAsync(asJson ? TorrentJson(torrent) : TorrentText(torrent)).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Reads a .torrent with its size checked before reading, so a huge file is refused, not loaded.</summary>
    internal static async Task<TorrentMetainfo> LoadAsync(string path, CancellationToken cancellationToken)
    {
        byte[] data = await ReadBytesAsync(path, cancellationToken).ConfigureAwait(false);
        if (!TorrentMetainfo.TryParse(data, out TorrentMetainfo? torrent, out MetainfoError error))
        {
            throw new InvalidOperationException($"'{path}': {error}");
        }

        return torrent;
    }

    /// <summary>A .torrent's bytes, unparsed, its size checked before reading.</summary>
    internal static async Task<byte[]> ReadBytesAsync(string path, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new IOException(Directory.Exists(path) ? $"'{path}' is a folder, not a .torrent file." : $"'{path}' does not exist.");
        }

        int limit = MetainfoLimits.Default.MaxTorrentSize;
        if (info.Length > limit)
        {
            throw new IOException($"'{path}' is {info.Length} bytes, over the {limit}-byte limit for a .torrent.");
        }

        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"'{path}' cannot be read: permission denied.", e);
        }
    }

    private static string VersionName(TorrentVersion version) => version switch
    {
        TorrentVersion.V1 => "v1",
        TorrentVersion.V2 => "v2",
        _ => "hybrid",
    };

    private static string TorrentText(TorrentMetainfo t)
    {
        var sb = new StringBuilder();
        int padFiles = t.Files.Count(f => f.IsPadFile);
        int files = t.Files.Count - padFiles;
        Line(sb, "name", t.Name);
        Line(sb, "version", t.Version == TorrentVersion.Hybrid ? "hybrid (v1 + v2)" : VersionName(t.Version));
        if (t.InfoHashes.V1 is { } v1)
        {
            Line(sb, "info-hash v1", v1.ToString());
        }

        if (t.InfoHashes.V2 is { } v2)
        {
            Line(sb, "info-hash v2", v2.ToString());
        }

        Line(sb, "magnet", Magnet(t).ToString());
        Line(sb, "size", $"{ByteSize.Format(t.TotalSize)} ({t.TotalSize.ToString("N0", CultureInfo.InvariantCulture)} bytes) in {files} file{(files == 1 ? "" : "s")}");
        Line(sb, "pieces", $"{t.PieceCount} x {ByteSize.Format(t.PieceLength)}");
        Line(sb, "private", t.IsPrivate ? "yes" : "no");
        if (t.CreatedBy is not null || t.CreationDate is not null)
        {
            Line(sb, "created", $"{t.CreationDate?.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) ?? "?"}{(t.CreatedBy is null ? "" : " by " + t.CreatedBy)}");
        }

        if (t.Comment is not null)
        {
            Line(sb, "comment", t.Comment);
        }

        for (int i = 0; i < t.Trackers.Count; i++)
        {
            Line(sb, i == 0 ? "trackers" : "", $"tier {i + 1}: {string.Join(' ', t.Trackers[i])}");
        }

        foreach (string seed in t.WebSeeds)
        {
            Line(sb, seed == t.WebSeeds[0] ? "web seeds" : "", seed);
        }

        sb.Append(CultureInfo.InvariantCulture, $"files{(padFiles > 0 ? $" ({padFiles} pad files not shown)" : "")}:\n");
        for (int i = 0; i < t.Files.Count; i++)
        {
            TorrentFile f = t.Files[i];
            if (f.IsPadFile)
            {
                continue;
            }

            // The index is the file's position in the torrent (pad files count), as `get --only` and BEP 53 use it.
            string flags = (f.IsExecutable ? "x" : "") + (f.IsHidden ? "h" : "") + (f.IsSymlink ? "l" : "");
            sb.Append(CultureInfo.InvariantCulture, $"  {i,4}  {f.Length,15:N0}  {DisplayText.Sanitize(f.Path)}{(flags.Length > 0 ? $"  [{flags}]" : "")}{(f.IsSymlink ? $" -> {DisplayText.Sanitize(f.SymlinkTarget)}" : "")}\n");
        }

        return sb.ToString();
    }

    /// <summary>
    /// One "label: value" line. Every value of a torrent or magnet passes here, and most are the sender's text (name,
    /// comment, created by, tracker and web seed URLs, dn), so it is cleaned here, once (DisplayText).
    /// </summary>
    private static void Line(StringBuilder sb, string label, string value)
        => sb.Append(CultureInfo.InvariantCulture, $"{(label.Length > 0 ? label + ":" : ""),-14}{DisplayText.Sanitize(value)}\n");

    private static MagnetLink Magnet(TorrentMetainfo t)
        => MagnetLink.Create(t.InfoHashes, t.Name, t.Trackers.SelectMany(tier => tier).Take(MagnetLimits.MaxTrackers), t.WebSeeds.Take(MagnetLimits.MaxWebSeeds), exactLength: t.Files.Count(f => !f.IsPadFile) == 1 ? t.TotalSize : null);

    private static string MagnetText(MagnetLink m)
    {
        var sb = new StringBuilder();
        Line(sb, "name", m.DisplayName ?? "(none)");
        if (m.InfoHashes.V1 is { } v1)
        {
            Line(sb, "info-hash v1", v1.ToString());
        }

        if (m.InfoHashes.V2 is { } v2)
        {
            Line(sb, "info-hash v2", v2.ToString());
        }

        if (m.ExactLength is { } xl)
        {
            Line(sb, "size", $"{ByteSize.Format(xl)} ({xl.ToString("N0", CultureInfo.InvariantCulture)} bytes)");
        }

        for (int i = 0; i < m.Trackers.Count; i++)
        {
            Line(sb, i == 0 ? "trackers" : "", m.Trackers[i]);
        }

        for (int i = 0; i < m.WebSeeds.Count; i++)
        {
            Line(sb, i == 0 ? "web seeds" : "", m.WebSeeds[i]);
        }

        for (int i = 0; i < m.Peers.Count; i++)
        {
            Line(sb, i == 0 ? "peers" : "", m.Peers[i].ToString());
        }

        if (m.SelectOnly.Count > 0)
        {
            Line(sb, "select only", string.Join(',', m.SelectOnly));
        }

        sb.Append("(a magnet link carries no file list: the files come from peers, BEP 9)\n");
        return sb.ToString();
    }

    private static string TorrentJson(TorrentMetainfo t) => Json(w =>
    {
        w.WriteString("kind", "torrent");
        w.WriteString("name", t.Name);
        w.WriteString("version", VersionName(t.Version));
        WriteHashes(w, t.InfoHashes);
        w.WriteString("magnet", Magnet(t).ToString());
        w.WriteNumber("totalSize", t.TotalSize);
        w.WriteNumber("pieceLength", t.PieceLength);
        w.WriteNumber("pieceCount", t.PieceCount);
        w.WriteBoolean("private", t.IsPrivate);
        w.WriteString("createdBy", t.CreatedBy);
        if (t.CreationDate is { } date)
        {
            w.WriteString("creationDate", date);
        }
        else
        {
            w.WriteNull("creationDate");
        }

        w.WriteString("comment", t.Comment);
        w.WriteStartArray("trackers");
        foreach (IReadOnlyList<string> tier in t.Trackers)
        {
            w.WriteStartArray();
            foreach (string url in tier)
            {
                w.WriteStringValue(url);
            }

            w.WriteEndArray();
        }

        w.WriteEndArray();
        WriteStrings(w, "webSeeds", t.WebSeeds);
        w.WriteStartArray("files");
        foreach (TorrentFile f in t.Files)
        {
            w.WriteStartObject();
            w.WriteString("path", f.Path);
            w.WriteNumber("length", f.Length);
            w.WriteNumber("offset", f.Offset);
            w.WriteBoolean("pad", f.IsPadFile);
            w.WriteBoolean("executable", f.IsExecutable);
            w.WriteBoolean("hidden", f.IsHidden);
            w.WriteString("symlinkTarget", f.SymlinkTarget);
            w.WriteString("piecesRoot", f.PiecesRoot?.ToString());
            w.WriteEndObject();
        }

        w.WriteEndArray();
    });

    private static string MagnetJson(MagnetLink m) => Json(w =>
    {
        w.WriteString("kind", "magnet");
        w.WriteString("name", m.DisplayName);
        WriteHashes(w, m.InfoHashes);
        if (m.ExactLength is { } xl)
        {
            w.WriteNumber("exactLength", xl);
        }
        else
        {
            w.WriteNull("exactLength");
        }

        WriteStrings(w, "trackers", m.Trackers);
        WriteStrings(w, "webSeeds", m.WebSeeds);
        WriteStrings(w, "peers", [.. m.Peers.Select(p => p.ToString())]);
        WriteStrings(w, "selectOnly", [.. m.SelectOnly.Select(r => r.ToString())]);
    });

    private static void WriteHashes(Utf8JsonWriter w, InfoHashes hashes)
    {
        w.WriteString("infoHashV1", hashes.V1?.ToString());
        w.WriteString("infoHashV2", hashes.V2?.ToString());
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (string value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }

    private static string Json(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return EscapeBidiControls(Encoding.UTF8.GetString(buffer.ToArray())) + "\n";
    }

    /// <summary>
    /// JSON stays data: names, paths and comments come out exact once parsed. The relaxed encoder already escapes the
    /// C0, DEL and C1 controls (\u001B) but writes the bidi controls raw, which would reorder the JSON on a terminal.
    /// Outside a string JSON has only whitespace (\n, \r, \t, space), so any other character DisplayText flags is
    /// inside a string, where its \uXXXX escape parses to the same character.
    /// </summary>
    private static string EscapeBidiControls(string json)
    {
        StringBuilder? sb = null;
        int copied = 0;
        int next = 0;
        int found;
        while ((found = DisplayText.IndexOfUnsafe(json.AsSpan(next))) >= 0)
        {
            int at = next + found;
            next = at + 1;
            if (json[at] is '\n' or '\r' or '\t')
            {
                continue; // the writer's own whitespace between tokens
            }

            sb ??= new StringBuilder(json.Length + 16);
            sb.Append(json, copied, at - copied).Append(CultureInfo.InvariantCulture, $"\\u{(int)json[at]:X4}");
            copied = at + 1;
        }

        return sb is null ? json : sb.Append(json, copied, json.Length - copied).ToString();
    }
}
