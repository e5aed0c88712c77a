using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using PeerNet.Daemon.Service;

namespace PeerNet.Daemon.Api;

/// <summary>What the API changes on a running daemon: a torrent's options and file priorities, and the daemon's settings.</summary>
internal static class OptionsEndpoints
{
    public static void Map(RouteGroupBuilder torrents, RouteGroupBuilder api)
    {
        torrents.MapPatch("/{id}", SetOptionsAsync).WithSummary("Set a torrent's options: uploadRateLimit and downloadRateLimit (bytes per second, 0 for none); kept across restarts")
            .Accepts<TorrentOptionsRequest>("application/json");
        torrents.MapPut("/{id}/files", SetFilesAsync).WithSummary("Set file priorities (0 skips a file, 1 to 7 order the rest): an array with one per file as GET .../files lists them, or an object {\"index\": priority}; kept across restarts")
            .Accepts<int[]>("application/json");
        RouteGroupBuilder settings = api.MapGroup("/settings").WithTags("Settings");
        settings.MapGet("/", (RuntimeSettings s) => TypedResults.Ok(s.Current())).WithSummary("The daemon's effective settings (the token redacted)");
        settings.MapPatch("/", SetSettingsAsync).WithSummary("Change settings: node.uploadRateLimit and node.downloadRateLimit change at once and are written to the settings file; any other change is refused, naming it (it needs a restart)")
            .Accepts<JsonObject>("application/json");
    }

    private static async Task<Results<Ok<TorrentDto>, ProblemHttpResult>> SetOptionsAsync(string id, HttpRequest request, NodeService node, CancellationToken ct)
    {
        if (node.Find(id) is not { } torrent)
        {
            return Problems.NotFound(id);
        }

        if (await ReadJsonAsync(request, ct) is not { } body)
        {
            return MalformedJson();
        }

        if (body.ValueKind != JsonValueKind.Object)
        {
            return Problems.BadRequest("malformed options", "send a JSON object: {\"uploadRateLimit\": N, \"downloadRateLimit\": N}");
        }

        long upload = torrent.Options.UploadRateLimit;
        long download = torrent.Options.DownloadRateLimit;
        foreach (JsonProperty p in body.EnumerateObject())
        {
            if (p.Name.Equals("uploadRateLimit", StringComparison.OrdinalIgnoreCase) || p.Name.Equals("downloadRateLimit", StringComparison.OrdinalIgnoreCase))
            {
                if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt64(out long limit) || limit < 0)
                {
                    return Problems.BadRequest("bad option value", $"'{p.Name}' is a whole number of bytes per second, 0 for none");
                }

                if (p.Name.Equals("uploadRateLimit", StringComparison.OrdinalIgnoreCase))
                {
                    upload = limit;
                }
                else
                {
                    download = limit;
                }
            }
            else if (p.Name.Equals("sequential", StringComparison.OrdinalIgnoreCase))
            {
                if (p.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    return Problems.BadRequest("bad option value", "'sequential' is true or false");
                }

                if (p.Value.GetBoolean() != torrent.Options.Sequential)
                {
                    return Problems.BadRequest("option not changeable", "'sequential' is chosen when a torrent is added: the engine cannot change it on a torrent it has; nothing was changed");
                }
            }
            else
            {
                return Problems.BadRequest("unknown option", $"a torrent has no option '{DisplayText.Sanitize(p.Name, 64)}' to set here (uploadRateLimit, downloadRateLimit); nothing was changed");
            }
        }

        try
        {
            node.SetRateLimits(torrent, upload, download);
        }
        catch (ObjectDisposedException)
        {
            return Problems.NotFound(id); // removed meanwhile
        }

        return TypedResults.Ok(TorrentDto.From(torrent));
    }

    private static async Task<Results<Ok<FileDto[]>, ProblemHttpResult>> SetFilesAsync(string id, HttpRequest request, NodeService node, CancellationToken ct)
    {
        if (node.Find(id) is not { } torrent)
        {
            return Problems.NotFound(id);
        }

        if (await ReadJsonAsync(request, ct) is not { } body)
        {
            return MalformedJson();
        }

        if (torrent.Metainfo is not { } metainfo)
        {
            return TypedResults.Problem("a magnet link's files are known once its metadata has come: set their priorities then", statusCode: StatusCodes.Status409Conflict, title: "no metadata yet");
        }

        int[] listed = FileChoices.Listed(metainfo);
        int[] priorities = FileChoices.Current(metainfo, torrent.Options.FilePriorities);
        const string Range = "a priority is 0 (skip the file) to 7 (first)";
        if (body.ValueKind == JsonValueKind.Array)
        {
            if (body.GetArrayLength() != listed.Length)
            {
                return Problems.BadRequest("wrong number of priorities", $"this torrent lists {listed.Length} files: send one priority for each, in the order GET .../files lists them");
            }

            int n = 0;
            foreach (JsonElement item in body.EnumerateArray())
            {
                if (Priority(item) is not { } priority)
                {
                    return Problems.BadRequest("priority out of range", $"file {listed[n]}: {Range}");
                }

                priorities[listed[n++]] = priority;
            }
        }
        else if (body.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty p in body.EnumerateObject())
            {
                if (!int.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || !listed.Contains(index))
                {
                    return Problems.BadRequest("unknown file", $"this torrent has no file with the index '{DisplayText.Sanitize(p.Name, 32)}' (the indices are those GET .../files lists)");
                }

                if (Priority(p.Value) is not { } priority)
                {
                    return Problems.BadRequest("priority out of range", $"file {index}: {Range}");
                }

                priorities[index] = priority;
            }
        }
        else
        {
            return Problems.BadRequest("malformed priorities", "send an array of priorities, one per file, or an object {\"index\": priority}");
        }

        try
        {
            await node.SetFilePrioritiesAsync(torrent, priorities, ct);
            return TypedResults.Ok((await torrent.GetFilesAsync(ct)).Select(FileDto.From).ToArray());
        }
        catch (ObjectDisposedException)
        {
            return Problems.NotFound(id); // removed meanwhile
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            return Problems.BadRequest("cannot set these priorities", DisplayText.Sanitize(e.Message, 300));
        }

        static int? Priority(JsonElement e) =>
            e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int p) && p is >= FilePriorities.Skip and <= FilePriorities.Highest ? p : null;
    }

    private static async Task<Results<Ok<JsonObject>, ProblemHttpResult>> SetSettingsAsync(HttpRequest request, RuntimeSettings settings, CancellationToken ct)
    {
        if (await ReadJsonAsync(request, ct) is not { } body)
        {
            return MalformedJson();
        }

        try
        {
            if (settings.Apply(body) is { } problem)
            {
                return Problems.BadRequest(problem.Title, problem.Detail);
            }
        }
        catch (IOException e)
        {
            return TypedResults.Problem($"the settings file could not be written, so nothing was changed: {DisplayText.Sanitize(e.Message, 300)}", statusCode: StatusCodes.Status500InternalServerError, title: "settings not saved");
        }

        return TypedResults.Ok(settings.Current());
    }

    /// <summary>The request's JSON body; null when it is not JSON (or not well-formed).</summary>
    private static async Task<JsonElement?> ReadJsonAsync(HttpRequest request, CancellationToken ct)
    {
        if (!request.HasJsonContentType())
        {
            return null;
        }

        try
        {
            using JsonDocument document = await JsonDocument.ParseAsync(request.Body, default, ct);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static ProblemHttpResult MalformedJson() => Problems.BadRequest("malformed JSON", "send a well-formed JSON body with Content-Type: application/json");
}

/// <summary>A torrent's options to set (PATCH /api/v1/torrents/{id}); each one absent stays as it is.</summary>
/// <param name="UploadRateLimit">The torrent's own upload limit, bytes per second; 0 for none.</param>
/// <param name="DownloadRateLimit">The torrent's own download limit, bytes per second; 0 for none.</param>
internal sealed record TorrentOptionsRequest(long? UploadRateLimit, long? DownloadRateLimit);
