using System.Text.Json;
using System.Text.Json.Nodes;
using PeerNet.Daemon.Persistence;

namespace PeerNet.Daemon.Service;

/// <summary>
/// The daemon's settings as they are now, and the few that change while it runs: the node's rate limits. A change is
/// applied to the node and written into the settings file (atomically, its other keys kept), so the next start has
/// it too. Every other setting needs a restart, and a request to change one is refused naming it, with nothing changed.
/// A value set by a <c>PEERNET_</c> environment variable or a command-line flag still wins over the file at the next start.
/// </summary>
internal sealed class RuntimeSettings
{
    /// <summary>What <see cref="Current"/> shows instead of a token from the settings file.</summary>
    public const string Redacted = "(redacted)";

    private const string UploadKey = "node.uploadRateLimit";
    private const string DownloadKey = "node.downloadRateLimit";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly JsonSerializerOptions FileJson = new() { WriteIndented = true };
    private readonly DaemonSettings _settings;
    private readonly NodeService _node;
    private readonly IReadOnlyList<(string Section, object Values)> _others;
    private readonly Lock _gate = new();

    /// <param name="file">The settings file.</param>
    /// <param name="settings">The daemon's settings, as bound at start.</param>
    /// <param name="node">The node.</param>
    /// <param name="others">Other parts' settings, as bound at start, shown in their sections (camelCase) and changed only by a restart.</param>
    public RuntimeSettings(string file, DaemonSettings settings, NodeService node, IReadOnlyList<(string Section, object Values)> others)
    {
        File = file;
        _settings = settings;
        _node = node;
        _others = others;
    }

    /// <summary>The settings file changes are written to (the one the daemon read).</summary>
    public string File { get; }

    /// <summary>The effective settings, as the API shows them (camelCase), with the token redacted.</summary>
    public JsonObject Current()
    {
        lock (_gate)
        {
            JsonObject settings = JsonSerializer.SerializeToNode(_settings, Json)!.AsObject();
            foreach ((string section, object values) in _others)
            {
                if (settings[section] is not JsonObject into)
                {
                    settings[section] = into = [];
                }

                foreach ((string name, JsonNode? value) in JsonSerializer.SerializeToNode(values, values.GetType(), Json)!.AsObject())
                {
                    into[name] = value?.DeepClone();
                }
            }

            if (settings["api"] is JsonObject api && api["token"] is not null)
            {
                api["token"] = Redacted;
            }

            return settings;
        }
    }

    /// <summary>
    /// Applies a partial settings document (the shape of <see cref="Current"/>, names in any case). A value equal to the
    /// current one is accepted as it is (clients send back what they were given); the rest must be settings that
    /// change at run time. Returns null when applied, or the problem (title, detail) when nothing was changed.
    /// </summary>
    public (string Title, string Detail)? Apply(JsonElement patch)
    {
        if (patch.ValueKind != JsonValueKind.Object)
        {
            return ("malformed settings", "send a JSON object shaped as GET /api/v1/settings returns, holding the settings to change");
        }

        lock (_gate)
        {
            var current = new Dictionary<string, (string Name, JsonNode? Value)>(StringComparer.OrdinalIgnoreCase);
            Flatten(Current(), "", current);
            var requested = new List<(string Path, JsonElement Value)>();
            Flatten(patch, "", requested);
            var unknown = new List<string>();
            var restart = new List<string>();
            var invalid = new List<string>();
            long upload = _settings.Node.UploadRateLimit;
            long download = _settings.Node.DownloadRateLimit;
            foreach ((string path, JsonElement value) in requested)
            {
                if (!current.TryGetValue(path, out (string Name, JsonNode? Value) now))
                {
                    unknown.Add(DisplayText.Sanitize(path, 100));
                }
                else if (JsonNode.DeepEquals(now.Value, JsonSerializer.SerializeToNode(value)) || SameWords(now.Name, now.Value, value))
                {
                    // unchanged
                }
                else if (now.Name is UploadKey or DownloadKey)
                {
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long limit) || limit < 0)
                    {
                        invalid.Add($"{now.Name} must be a whole number of bytes per second, 0 for none");
                    }
                    else if (now.Name == UploadKey)
                    {
                        upload = limit;
                    }
                    else
                    {
                        download = limit;
                    }
                }
                else
                {
                    restart.Add(now.Name);
                }
            }

            if (unknown.Count > 0)
            {
                return ("unknown setting", $"the daemon has no setting {string.Join(", ", unknown)}; nothing was changed");
            }

            if (invalid.Count > 0)
            {
                return ("bad setting value", string.Join("; ", invalid) + "; nothing was changed");
            }

            if (restart.Count > 0)
            {
                return ("setting needs a restart", $"{string.Join(", ", restart)} cannot change while the daemon runs: set it in the settings file ({File}) and restart; {UploadKey} and {DownloadKey} change at once; nothing was changed");
            }

            SetNodeRateLimits(upload, download);
            return null;
        }
    }

    /// <summary>
    /// Sets the node's rate limits over every torrent (bytes per second, 0 for none) and keeps them in the settings
    /// file: the file first, so a failed write (an <see cref="IOException"/>) changes nothing.
    /// </summary>
    public void SetNodeRateLimits(long upload, long download)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(upload);
        ArgumentOutOfRangeException.ThrowIfNegative(download);
        lock (_gate)
        {
            if (upload == _settings.Node.UploadRateLimit && download == _settings.Node.DownloadRateLimit)
            {
                return;
            }

            Persist("Node", ("UploadRateLimit", upload), ("DownloadRateLimit", download));
            _node.Node.SetRateLimits(upload, download);
            _settings.Node.UploadRateLimit = upload;
            _settings.Node.DownloadRateLimit = download;
        }
    }

    /// <summary>Sets values in a section of the settings file, keeping everything else in it (comments aside).</summary>
    private void Persist(string section, params (string Name, long Value)[] values)
    {
        JsonObject root = new();
        if (System.IO.File.Exists(File))
        {
            var options = new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
            root = JsonNode.Parse(System.IO.File.ReadAllBytes(File), documentOptions: options) as JsonObject
                ?? throw new IOException($"the settings file {File} does not hold a JSON object");
        }

        JsonObject target = Member(root, section) as JsonObject ?? new JsonObject();
        SetMember(root, section, target);
        foreach ((string name, long value) in values)
        {
            SetMember(target, name, JsonValue.Create(value));
        }

        AtomicFile.Write(File, JsonSerializer.SerializeToUtf8Bytes(root, FileJson));
    }

    /// <summary>A member by name in any case (configuration keys are case-insensitive).</summary>
    private static JsonNode? Member(JsonObject o, string name) =>
        o.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    private static void SetMember(JsonObject o, string name, JsonNode value)
    {
        string? existing = o.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
        if (existing is not null && ReferenceEquals(o[existing], value))
        {
            return;
        }

        if (existing is not null)
        {
            o.Remove(existing);
        }

        o[name] = value;
    }

    /// <summary>
    /// Whether a connectivity setting (<c>node.encryption</c>, <c>node.encryptionLevel</c>, <c>node.utp</c>,
    /// <c>node.portMapping</c>) is given the words it has, spelt another way: the settings file and the CLI take them in
    /// any case (<c>forced</c>, <c>Forced</c>) and a port mapping list in any order, so sending back what the file says
    /// is no change.
    /// </summary>
    private static bool SameWords(string name, JsonNode? now, JsonElement value)
    {
        if (now is not JsonValue current || !current.TryGetValue(out string? was) || value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        string? given = value.GetString();
        return name switch
        {
            "node.encryption" => SameName<EncryptionPolicy>(was, given),
            "node.encryptionLevel" => SameName<EncryptionLevel>(was, given),
            "node.utp" => SameName<UtpMode>(was, given),
            "node.portMapping" => ConnectivityWords.TryParsePortMapping(was, out PortMappingOptions a, out _)
                && ConnectivityWords.TryParsePortMapping(given, out PortMappingOptions b, out _) && a == b,
            _ => false,
        };

        static bool SameName<TEnum>(string? a, string? b)
            where TEnum : struct, Enum =>
            ConnectivityWords.TryParseName(a, out TEnum x) && ConnectivityWords.TryParseName(b, out TEnum y) && x.Equals(y);
    }

    private static void Flatten(JsonObject o, string prefix, Dictionary<string, (string Name, JsonNode? Value)> into)
    {
        foreach ((string key, JsonNode? value) in o)
        {
            string path = prefix + key;
            if (value is JsonObject inner)
            {
                Flatten(inner, path + ".", into);
            }
            else
            {
                into[path] = (path, value);
            }
        }
    }

    private static void Flatten(JsonElement o, string prefix, List<(string Path, JsonElement Value)> into)
    {
        foreach (JsonProperty p in o.EnumerateObject())
        {
            string path = prefix + p.Name;
            if (p.Value.ValueKind == JsonValueKind.Object)
            {
                Flatten(p.Value, path + ".", into);
            }
            else
            {
                into.Add((path, p.Value));
            }
        }
    }
}
