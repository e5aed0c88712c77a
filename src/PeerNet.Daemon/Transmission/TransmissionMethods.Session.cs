using System.Text.Json;
using PeerNet.Daemon.Service;

namespace PeerNet.Daemon.Transmission;

/// <summary>Transmission's units: speeds and sizes in 1000s (kB/s, kB), memory in 1024s.</summary>
internal static class TransmissionUnits
{
    public const int SpeedBytes = 1000;

    public static void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        WriteList(writer, "speed-units", ["kB/s", "MB/s", "GB/s", "TB/s"]);
        writer.WriteNumber("speed-bytes", SpeedBytes);
        WriteList(writer, "size-units", ["kB", "MB", "GB", "TB"]);
        writer.WriteNumber("size-bytes", 1000);
        WriteList(writer, "memory-units", ["KiB", "MiB", "GiB", "TiB"]);
        writer.WriteNumber("memory-bytes", 1024);
        writer.WriteEndObject();
    }

    private static void WriteList(Utf8JsonWriter writer, string name, string[] values)
    {
        writer.WriteStartArray(name);
        foreach (string value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }
}

/// <summary>session-get, session-set and session-stats.</summary>
internal sealed partial class TransmissionMethods
{
    /// <summary>
    /// The session as Transmission names it. Settings PeerNet does not have are given as what PeerNet does instead
    /// (no alternative speeds, no queue, no blocklist), so a GUI shows what happens rather than blanks. Encryption is
    /// the node's MSE policy in Transmission's words (<see cref="EncryptionWord"/>); port-forwarding-enabled is whether
    /// the settings ask the router to forward the port (<c>Node:PortMapping</c>); utp-enabled whether uTP is used at all.
    /// </summary>
    internal Dictionary<string, object> SessionValues()
    {
        PeerNetNode node = _node.Node;
        PeerNetNodeOptions o = node.Options;
        string downloads = _node.DownloadFolder;
        long free = Directory.Exists(downloads) ? DiskSpace(downloads).Free : -1;
        return new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["alt-speed-down"] = 0L,
            ["alt-speed-enabled"] = false,
            ["alt-speed-time-begin"] = 540L,
            ["alt-speed-time-day"] = 127L,
            ["alt-speed-time-enabled"] = false,
            ["alt-speed-time-end"] = 1020L,
            ["alt-speed-up"] = 0L,
            ["blocklist-enabled"] = false,
            ["blocklist-size"] = 0L,
            ["blocklist-url"] = "",
            ["config-dir"] = _state.Folder,
            ["dht-enabled"] = o.Dht,
            ["download-dir"] = downloads,
            ["download-dir-free-space"] = free,
            ["download-queue-enabled"] = false,
            ["download-queue-size"] = 0L,
            ["encryption"] = EncryptionWord(o.Encryption.Policy),
            ["idle-seeding-limit"] = 0L,
            ["idle-seeding-limit-enabled"] = false,
            ["incomplete-dir"] = downloads,
            ["incomplete-dir-enabled"] = false,
            ["lpd-enabled"] = o.LocalDiscovery,
            ["peer-limit-global"] = (long)o.MaxConnections,
            ["peer-limit-per-torrent"] = (long)new AddTorrentOptions { SavePath = downloads }.MaxConnections,
            ["peer-port"] = (long)node.ListenPort,
            ["peer-port-random-on-start"] = false,
            ["pex-enabled"] = true,
            ["port-forwarding-enabled"] = o.PortMapping.Enabled,
            ["queue-stalled-enabled"] = false,
            ["queue-stalled-minutes"] = 0L,
            ["rename-partial-files"] = false,
            ["rpc-version"] = (long)RpcVersion,
            ["rpc-version-minimum"] = 14L,
            ["script-torrent-done-enabled"] = false,
            ["script-torrent-done-filename"] = "",
            ["seed-queue-enabled"] = false,
            ["seed-queue-size"] = 0L,
            ["seedRatioLimit"] = 0.0,
            ["session-id"] = SessionId,
            ["seedRatioLimited"] = false,
            ["speed-limit-down"] = o.DownloadRateLimit / TransmissionUnits.SpeedBytes,
            ["speed-limit-down-enabled"] = o.DownloadRateLimit > 0,
            ["speed-limit-up"] = o.UploadRateLimit / TransmissionUnits.SpeedBytes,
            ["speed-limit-up-enabled"] = o.UploadRateLimit > 0,
            ["start-added-torrents"] = true,
            ["trash-original-torrent-files"] = false,
            ["units"] = (Action<Utf8JsonWriter>)TransmissionUnits.Write,
            ["utp-enabled"] = o.Utp.Outgoing || o.Utp.Incoming,
            ["version"] = "PeerNet " + (typeof(PeerNetNode).Assembly.GetName().Version?.ToString(3) ?? "?"),
        };
    }

    /// <summary>
    /// An MSE policy as Transmission's <c>encryption</c> names it: forced is "required" (encrypted only); enabled is
    /// "preferred" (PeerNet dials encrypted first and accepts both, as Transmission's "preferred"); disabled is
    /// "tolerated", the closest word Transmission has, though PeerNet then refuses encrypted connections where
    /// Transmission would accept them.
    /// </summary>
    internal static string EncryptionWord(EncryptionPolicy policy) => policy switch
    {
        EncryptionPolicy.Forced => "required",
        EncryptionPolicy.Disabled => "tolerated",
        _ => "preferred",
    };

    private void SessionGet(RpcArguments arguments, Utf8JsonWriter writer)
    {
        IReadOnlyList<string>? fields = arguments.GetStrings("fields");
        HashSet<string>? wanted = fields is { Count: > 0 } ? new HashSet<string>(fields, StringComparer.Ordinal) : null;
        foreach ((string name, object value) in SessionValues().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (wanted is null || wanted.Contains(name))
            {
                writer.WritePropertyName(name);
                WriteValue(writer, value);
            }
        }
    }

    /// <summary>The session-set keys that change at run time: the node's rate limits (<see cref="RuntimeSettings"/>).</summary>
    private static readonly string[] SpeedLimitKeys = ["speed-limit-down", "speed-limit-down-enabled", "speed-limit-up", "speed-limit-up-enabled"];

    /// <summary>
    /// session-set: the node's rate limits (<c>speed-limit-down/up</c> and their <c>-enabled</c>) change at once and
    /// are kept in the settings file, as the REST API's settings do. Every other setting is taken at start, so a value
    /// can be "set" only to what it is already (GUIs send back what they were given); any other change is refused,
    /// naming the keys, and nothing changes. Transmission itself ignores names it does not know, which would hide that.
    /// </summary>
    private void SessionSet(RpcArguments arguments)
    {
        Dictionary<string, object> current = SessionValues();
        var refused = new List<string>();
        foreach (string name in arguments.Names.Where(n => !SpeedLimitKeys.Contains(n)))
        {
            arguments.TryGet(name, out JsonElement value);
            if (!current.TryGetValue(name, out object? now) || !SameValue(now, value))
            {
                refused.Add(DisplayText.Sanitize(name, 64));
            }
        }

        if (refused.Count > 0)
        {
            throw new RpcException($"PeerNet cannot change {string.Join(", ", refused)} while it runs: set the node's settings in its settings file (Node:...) and restart it; nothing was changed");
        }

        PeerNetNodeOptions o = _node.Node.Options;
        long down = Limit(arguments, "speed-limit-down", "speed-limit-down-enabled", o.DownloadRateLimit);
        long up = Limit(arguments, "speed-limit-up", "speed-limit-up-enabled", o.UploadRateLimit);
        try
        {
            _settings.SetNodeRateLimits(up, down);
        }
        catch (IOException e)
        {
            throw new RpcException("the settings file could not be written, so nothing was changed: " + DisplayText.Sanitize(e.Message, 300));
        }
    }

    private static bool SameValue(object now, JsonElement value) => now switch
    {
        bool b => value.ValueKind == (b ? JsonValueKind.True : JsonValueKind.False)
            || (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long n) && (n != 0) == b),
        long l => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double d) && d == l,
        double x => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double d) && Math.Abs(d - x) < 1e-9,
        string s => value.ValueKind == JsonValueKind.String && value.GetString() == s,
        _ => false,
    };

    private void SessionStats(Utf8JsonWriter writer)
    {
        PeerNetNode node = _node.Node;
        NodeStatus status = node.GetStatus();
        IReadOnlyList<TorrentHandle> torrents = node.Torrents;
        int paused = torrents.Count(t => t.GetStatus().State is TorrentState.Paused or TorrentState.Stopped or TorrentState.Error);
        writer.WriteNumber("activeTorrentCount", torrents.Count - paused);
        writer.WriteNumber("downloadSpeed", (long)status.DownloadRate);
        writer.WriteNumber("pausedTorrentCount", paused);
        writer.WriteNumber("torrentCount", torrents.Count);
        writer.WriteNumber("uploadSpeed", (long)status.UploadRate);

        // The node's totals: payload of all its torrents (removed ones too) since the node started. PeerNet keeps no
        // totals across runs, so there is no "cumulative-stats" to give.
        writer.WriteStartObject("current-stats");
        writer.WriteNumber("downloadedBytes", status.Downloaded);
        writer.WriteNumber("uploadedBytes", status.Uploaded);
        writer.WriteNumber("secondsActive", (long)(DateTimeOffset.UtcNow - _started).TotalSeconds);
        writer.WriteNumber("sessionCount", 1);
        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object value)
    {
        switch (value)
        {
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case double d:
                writer.WriteNumberValue(d);
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case Action<Utf8JsonWriter> write:
                write(writer);
                break;
            default:
                throw new InvalidOperationException($"no JSON for {value.GetType()}");
        }
    }
}
