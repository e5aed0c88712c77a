using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PeerNet.Metainfo;

namespace PeerNet.Daemon.Persistence;

/// <summary>
/// One torrent the daemon keeps across restarts: where it came from and how it was added. Its .torrent (when it has
/// one) lies beside it as <c>&lt;id&gt;.torrent</c>.
/// </summary>
internal sealed record TorrentRecord
{
    /// <summary>The torrent's swarm info-hash, hex: its id in the API and its file name here.</summary>
    public required string Id { get; init; }

    /// <summary>The magnet link it was added by, exact; null for a .torrent.</summary>
    public string? Magnet { get; init; }

    /// <summary>The folder its content goes in.</summary>
    public required string SavePath { get; init; }

    /// <summary>Paused by its owner (so it starts paused again).</summary>
    public bool Paused { get; init; }

    /// <summary>Pieces in index order.</summary>
    public bool Sequential { get; init; }

    /// <summary>When it was added.</summary>
    public DateTimeOffset Added { get; init; }

    /// <summary>Each file's priority as set after the add (0 skips a file); null for every file at normal priority.</summary>
    public IReadOnlyList<int>? FilePriorities { get; init; }

    /// <summary>The torrent's own upload limit, bytes per second; 0 for none.</summary>
    public long UploadRateLimit { get; init; }

    /// <summary>The torrent's own download limit, bytes per second; 0 for none.</summary>
    public long DownloadRateLimit { get; init; }
}

/// <summary>
/// The torrents the daemon keeps: <c>&lt;state&gt;/torrents/&lt;id&gt;.json</c> (a <see cref="TorrentRecord"/>) and
/// <c>&lt;id&gt;.torrent</c>, each written atomically (<see cref="AtomicFile"/>). The .torrent is written first and
/// the record last, so a record on disk always has what it needs; a record removed first, so a torrent half-removed
/// is gone. The pieces' own state is the node's resume data, not this.
/// </summary>
internal sealed partial class TorrentCatalog
{
    /// <summary>The largest record read back (a record is a few hundred bytes; a magnet link is at most 64 KiB here).</summary>
    private const int MaxRecordBytes = 128 * 1024;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private readonly ILogger _logger;
    private readonly Lock _gate = new();

    public TorrentCatalog(string folder, ILogger logger)
    {
        Folder = folder;
        _logger = logger;
        Directory.CreateDirectory(folder);
        AtomicFile.RemoveLeftovers(folder);
    }

    /// <summary>The catalog's folder.</summary>
    public string Folder { get; }

    /// <summary>Keeps a torrent: its .torrent bytes (if any), then its record.</summary>
    public void Save(TorrentRecord record, ReadOnlySpan<byte> torrent)
    {
        lock (_gate)
        {
            if (!torrent.IsEmpty)
            {
                AtomicFile.Write(TorrentPath(record.Id), torrent);
            }

            AtomicFile.Write(RecordPath(record.Id), JsonSerializer.SerializeToUtf8Bytes(record, Json));
        }
    }

    /// <summary>Rewrites a kept torrent's record (paused, resumed, its options or file priorities changed); nothing if it is no longer kept.</summary>
    public void Update(string id, Func<TorrentRecord, TorrentRecord> change)
    {
        lock (_gate)
        {
            if (ReadRecord(RecordPath(id)) is { } record)
            {
                AtomicFile.Write(RecordPath(id), JsonSerializer.SerializeToUtf8Bytes(change(record), Json));
            }
        }
    }

    /// <summary>A kept torrent's record; null if it is not kept (or unreadable).</summary>
    public TorrentRecord? Get(string id)
    {
        if (!IsId(id))
        {
            return null;
        }

        lock (_gate)
        {
            return ReadRecord(RecordPath(id));
        }
    }

    /// <summary>Keeps the metadata a magnet link's torrent received, so a restart needs no peer to start it.</summary>
    public void SaveMetadata(string id, ReadOnlySpan<byte> torrent)
    {
        lock (_gate)
        {
            if (File.Exists(RecordPath(id)) && !File.Exists(TorrentPath(id)))
            {
                AtomicFile.Write(TorrentPath(id), torrent);
            }
        }
    }

    /// <summary>Forgets a torrent: its record first, then its .torrent.</summary>
    public void Remove(string id)
    {
        lock (_gate)
        {
            AtomicFile.Delete(RecordPath(id));
            AtomicFile.Delete(TorrentPath(id));
        }
    }

    /// <summary>Every kept torrent with its .torrent bytes (null for a magnet link whose metadata never came); unreadable ones are logged and skipped.</summary>
    public IReadOnlyList<(TorrentRecord Record, byte[]? Torrent)> Load()
    {
        var loaded = new List<(TorrentRecord, byte[]?)>();
        lock (_gate)
        {
            foreach (string path in Directory.EnumerateFiles(Folder, "*.json").Order(StringComparer.Ordinal))
            {
                TorrentRecord? record = ReadRecord(path);
                if (record is null || !IsId(record.Id) || Path.GetFileNameWithoutExtension(path) != record.Id)
                {
                    LogUnreadable(_logger, path);
                    continue;
                }

                string torrentPath = TorrentPath(record.Id);
                byte[]? torrent = File.Exists(torrentPath) && new FileInfo(torrentPath).Length <= MetainfoLimits.Default.MaxTorrentSize
                    ? File.ReadAllBytes(torrentPath)
                    : null;
                if (torrent is null && record.Magnet is null)
                {
                    LogUnreadable(_logger, torrentPath);
                    continue;
                }

                loaded.Add((record, torrent));
            }
        }

        return loaded;
    }

    /// <summary>Whether <paramref name="id"/> is a swarm info-hash in hex (40 lower-case digits): the only names used here.</summary>
    public static bool IsId(string id) => id.Length == 40 && id.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    /// <summary>A torrent file holding only <paramref name="metainfo"/>'s info dictionary and <paramref name="trackers"/>, for a v1 torrent fetched by magnet link.</summary>
    public static byte[]? TorrentFromMetadata(TorrentMetainfo metainfo, IReadOnlyList<string> trackers)
    {
        if (metainfo.Version != TorrentVersion.V1)
        {
            return null; // a v2 torrent needs its piece layers too, which the metadata exchange does not carry
        }

        using var buffer = new MemoryStream();
        buffer.WriteByte((byte)'d');
        if (trackers.Count > 0)
        {
            WriteString(buffer, "announce-list"u8);
            buffer.WriteByte((byte)'l');
            foreach (string tracker in trackers)
            {
                buffer.WriteByte((byte)'l');
                WriteString(buffer, Encoding.UTF8.GetBytes(tracker));
                buffer.WriteByte((byte)'e');
            }

            buffer.WriteByte((byte)'e');
        }

        WriteString(buffer, "info"u8);
        buffer.Write(metainfo.InfoBytes.Span);
        buffer.WriteByte((byte)'e');
        return buffer.ToArray();
    }

    private static void WriteString(MemoryStream buffer, ReadOnlySpan<byte> value)
    {
        buffer.Write(Encoding.ASCII.GetBytes(value.Length.ToString(CultureInfo.InvariantCulture) + ":"));
        buffer.Write(value);
    }

    private string RecordPath(string id) => Path.Combine(Folder, id + ".json");

    private string TorrentPath(string id) => Path.Combine(Folder, id + ".torrent");

    private static TorrentRecord? ReadRecord(string path)
    {
        try
        {
            if (!File.Exists(path) || new FileInfo(path).Length > MaxRecordBytes)
            {
                return null;
            }

            return JsonSerializer.Deserialize<TorrentRecord>(File.ReadAllBytes(path), Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "skipping {Path}: unreadable or incomplete (not a torrent this daemon wrote)")]
    private static partial void LogUnreadable(ILogger logger, string path);
}
