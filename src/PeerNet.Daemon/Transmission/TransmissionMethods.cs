using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PeerNet.Daemon.Service;
using PeerNet.Magnet;
using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Daemon.Transmission;

/// <summary>
/// The Transmission RPC's methods on the daemon's node. Each writes its answer's <c>arguments</c> members, or throws
/// an <see cref="RpcException"/> whose message is the answer's <c>result</c>. What PeerNet cannot do is refused in
/// words rather than pretended (docs/transmission-rpc.md lists every method and field).
/// </summary>
internal sealed partial class TransmissionMethods
{
    /// <summary>Transmission's RPC version whose names and shapes this follows (Transmission 3.00's).</summary>
    public const int RpcVersion = 16;

    /// <summary>What Transmission counts as recently active, and how long a removed id is reported.</summary>
    internal static readonly TimeSpan RecentlyActive = TimeSpan.FromSeconds(60);

    private readonly NodeService _node;
    private readonly RuntimeSettings _settings;
    private readonly DaemonState _state;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _logger;
    private readonly TransmissionIds _ids;
    private readonly ConcurrentDictionary<long, DateTimeOffset> _removed = new();
    private readonly ConcurrentDictionary<long, DateTimeOffset> _completed = new();
    private readonly ConcurrentDictionary<string, long> _addedDates = new(StringComparer.Ordinal);
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private int _watching;

    public TransmissionMethods(NodeService node, RuntimeSettings settings, DaemonState state, IHostApplicationLifetime lifetime, ILogger logger)
    {
        _node = node;
        _settings = settings;
        _state = state;
        _lifetime = lifetime;
        _logger = logger;
        _ids = new TransmissionIds(Path.Combine(state.Folder, "transmission-ids.json"));
        lifetime.ApplicationStopping.Register(_ids.Flush);
    }

    /// <summary>This run's session id (<see cref="TransmissionRpc"/>'s handshake; session-get shows it): 24 random bytes.</summary>
    public string SessionId { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');

    /// <summary>Runs <paramref name="method"/>, writing its arguments' members into the open object of <paramref name="writer"/>.</summary>
    public Task InvokeAsync(string method, RpcArguments arguments, Utf8JsonWriter writer, CancellationToken ct)
    {
        StartWatching();
        switch (method)
        {
            case "session-get":
                SessionGet(arguments, writer);
                return Task.CompletedTask;
            case "session-set":
                SessionSet(arguments);
                return Task.CompletedTask;
            case "session-stats":
                SessionStats(writer);
                return Task.CompletedTask;
            case "session-close":
                LogClosing(_logger);
                _lifetime.StopApplication(); // a graceful stop: this answer is sent first
                return Task.CompletedTask;
            case "torrent-get":
                return TorrentGetAsync(arguments, writer, ct);
            case "torrent-add":
                return TorrentAddAsync(arguments, writer, ct);
            case "torrent-start":
            case "torrent-start-now": // no queue here: every started torrent starts now
                return ActAsync(arguments, t => _node.SetPausedAsync(t, paused: false, ct));
            case "torrent-stop":
                return ActAsync(arguments, t => _node.SetPausedAsync(t, paused: true, ct));
            case "torrent-verify":
                return ActAsync(arguments, VerifyInBackground);
            case "torrent-remove":
                bool deleteData = arguments.GetBool("delete-local-data") ?? false;
                return ActAsync(arguments, t => RemoveAsync(t, deleteData, ct));
            case "torrent-set":
                return TorrentSetAsync(arguments, ct);
            case "torrent-set-location":
                return SetLocationAsync(arguments, ct);
            case "free-space":
                FreeSpace(arguments, writer);
                return Task.CompletedTask;
            case "port-test":
                throw new RpcException("port-test: PeerNet cannot test its port from outside (it has no outside service to ask); try connecting to the peer port from another network");
            case "torrent-reannounce" or "torrent-rename-path" or "blocklist-update" or "queue-move-top" or "queue-move-up" or "queue-move-down" or "queue-move-bottom":
                throw new RpcException($"{method} is not supported by PeerNet");
            default:
                throw new RpcException("method name not recognized");
        }
    }

    /// <summary>Every torrent's number for the RPC (<see cref="TransmissionIds"/>: kept across restarts).</summary>
    internal Dictionary<TorrentHandle, long> Numbers() => _ids.Number(_node.Node.Torrents);

    /// <summary>The torrents <c>ids</c> names: all when absent; a number, a hash, a list of either, or <c>"recently-active"</c>.</summary>
    internal IReadOnlyList<TorrentHandle> Select(RpcArguments arguments)
    {
        IReadOnlyList<TorrentHandle> all = _node.Node.Torrents;
        if (!arguments.TryGet("ids", out JsonElement ids))
        {
            return all;
        }

        if (ids.ValueKind == JsonValueKind.String && ids.GetString() == "recently-active")
        {
            return [.. all.Where(IsRecentlyActive)];
        }

        IEnumerable<JsonElement> items = ids.ValueKind == JsonValueKind.Array ? ids.EnumerateArray() : [ids];
        var numbers = new HashSet<long>();
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (JsonElement item in items)
        {
            if (item.ValueKind == JsonValueKind.Number && item.TryGetInt64(out long number))
            {
                numbers.Add(number);
            }
            else if (item.ValueKind == JsonValueKind.String)
            {
                hashes.Add(item.GetString()!);
            }
            else
            {
                throw new RpcException("'ids' must be a torrent's id, its hash string, a list of them, or \"recently-active\"");
            }
        }

        Dictionary<TorrentHandle, long> numbered = _ids.Number(all);
        return [.. all.Where(t => numbers.Contains(numbered[t]) || hashes.Contains(NodeService.IdOf(t))
            || (t.InfoHashes.V1 is { } v1 && hashes.Contains(v1.ToString()!)) || (t.InfoHashes.V2 is { } v2 && hashes.Contains(v2.ToString()!)))];
    }

    private bool IsRecentlyActive(TorrentHandle torrent)
    {
        TorrentStatus s = torrent.GetStatus();
        return s.DownloadRate >= 1 || s.UploadRate >= 1 || s.State is TorrentState.Checking or TorrentState.FetchingMetadata
            || DateTimeOffset.UtcNow - DateTimeOffset.FromUnixTimeSeconds(AddedDate(torrent)) < RecentlyActive
            || (_completed.TryGetValue(torrent.Id, out DateTimeOffset done) && DateTimeOffset.UtcNow - done < RecentlyActive);
    }

    /// <summary>When the torrent was added (the catalog's date; this run's start for one the catalog does not keep).</summary>
    internal long AddedDate(TorrentHandle torrent)
    {
        string id = NodeService.IdOf(torrent);
        return _addedDates.GetOrAdd(id, key => (_node.Catalog.Get(key)?.Added ?? _started).ToUnixTimeSeconds());
    }

    /// <summary>When the torrent completed in this run (0 if it has not, or was complete at start: the date is not kept).</summary>
    internal long DoneDate(TorrentHandle torrent) => _completed.TryGetValue(torrent.Id, out DateTimeOffset done) ? done.ToUnixTimeSeconds() : 0;

    private async Task ActAsync(RpcArguments arguments, Func<TorrentHandle, Task> action)
    {
        foreach (TorrentHandle torrent in Select(arguments))
        {
            try
            {
                await action(torrent);
            }
            catch (ObjectDisposedException)
            {
                // Removed meanwhile: Transmission skips ids it no longer has, too.
            }
            catch (InvalidOperationException e)
            {
                throw new RpcException(DisplayText.Sanitize(e.Message, 300));
            }
        }
    }

    private async Task RemoveAsync(TorrentHandle torrent, bool deleteData, CancellationToken ct)
    {
        await _node.RemoveAsync(torrent, deleteData, ct);
        if (_ids.Forget(torrent) is { } id)
        {
            _removed[id] = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>A check can take long: Transmission answers at once and checks in the background, so does this.</summary>
    private Task VerifyInBackground(TorrentHandle torrent)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                await torrent.RecheckAsync(_lifetime.ApplicationStopping);
            }
            catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
            {
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
            {
                LogVerifyFailed(_logger, torrent, DisplayText.Sanitize(e.Message, 300));
            }
        });
        return Task.CompletedTask;
    }

    private async Task TorrentAddAsync(RpcArguments arguments, Utf8JsonWriter writer, CancellationToken ct)
    {
        string? filename = arguments.GetString("filename");
        string? metainfo = arguments.GetString("metainfo");
        byte[] torrent = [];
        TorrentSource source;
        try
        {
            if (!string.IsNullOrEmpty(metainfo))
            {
                torrent = Convert.FromBase64String(metainfo);
                source = TorrentSource.FromBytes(torrent);
            }
            else if (string.IsNullOrEmpty(filename))
            {
                throw new RpcException("no filename or metainfo specified");
            }
            else if (filename.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase))
            {
                if (filename.Length > Api.TorrentEndpoints.MaxMagnetLength)
                {
                    throw new RpcException($"invalid magnet link: at most {Api.TorrentEndpoints.MaxMagnetLength} characters here");
                }

                source = TorrentSource.FromMagnet(filename);
            }
            else
            {
                throw new RpcException("PeerNet takes a 'filename' only when it is a magnet link (it reads no paths or URLs for a client): send the .torrent's content as 'metainfo', as transmission-remote does for a file on its machine");
            }
        }
        catch (MetainfoException e)
        {
            throw new RpcException("invalid or corrupt torrent file: " + DisplayText.Sanitize(e.Message, 300));
        }
        catch (MagnetException e)
        {
            throw new RpcException("invalid magnet link: " + DisplayText.Sanitize(e.Message, 300));
        }
        catch (FormatException)
        {
            throw new RpcException("invalid or corrupt torrent file: 'metainfo' is not base64");
        }

        if (_node.Node.FindTorrent(source.InfoHashes) is { } existing)
        {
            WriteAdded(writer, "torrent-duplicate", existing);
            return;
        }

        int[]? priorities = null;
        if (FilePriorityChange.IsRequested(arguments))
        {
            TorrentMetainfo files = source.Metainfo
                ?? throw new RpcException("file choices for a magnet link must wait for its metadata: set them with torrent-set once its files are listed");
            priorities = FilePriorityChange.Apply(arguments, files, null);
        }

        string? folder = arguments.GetString("download-dir");
        var options = new AddTorrentOptions
        {
            SavePath = string.IsNullOrWhiteSpace(folder) ? _node.DownloadFolder : Path.GetFullPath(folder, _node.DownloadFolder),
            Paused = arguments.GetBool("paused") ?? false,
            FilePriorities = priorities,
        };
        TorrentHandle handle;
        try
        {
            handle = await _node.AddAsync(source, torrent, options, ct);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or StorageException)
        {
            throw new RpcException("cannot add this torrent there: " + DisplayText.Sanitize(e.Message, 300));
        }

        WriteAdded(writer, "torrent-added", handle);
    }

    private void WriteAdded(Utf8JsonWriter writer, string name, TorrentHandle torrent)
    {
        writer.WriteStartObject(name);
        writer.WriteString("hashString", NodeService.IdOf(torrent));
        writer.WriteNumber("id", _ids.Of(torrent));
        writer.WriteString("name", DisplayText.Sanitize(torrent.Name, 1000));
        writer.WriteEndObject();
    }

    /// <summary>The torrent-set keys PeerNet can honour; any other is refused, naming it, before anything changes.</summary>
    private static readonly HashSet<string> TorrentSetKeys = new(StringComparer.Ordinal)
    {
        "ids", "files-wanted", "files-unwanted", "priority-high", "priority-normal", "priority-low",
        "downloadLimit", "downloadLimited", "uploadLimit", "uploadLimited",
    };

    private async Task TorrentSetAsync(RpcArguments arguments, CancellationToken ct)
    {
        string[] refused = [.. arguments.Names.Where(n => !TorrentSetKeys.Contains(n))];
        if (refused.Length > 0)
        {
            throw new RpcException($"PeerNet cannot set {string.Join(", ", refused.Select(n => DisplayText.Sanitize(n, 64)))} (it sets files-wanted, files-unwanted, priority-high/normal/low, downloadLimit(ed) and uploadLimit(ed)); nothing was changed");
        }

        IReadOnlyList<TorrentHandle> torrents = Select(arguments);
        bool files = FilePriorityChange.IsRequested(arguments);
        if (files && torrents.FirstOrDefault(t => t.Metainfo is null) is { } waiting)
        {
            throw new RpcException($"torrent {_ids.Of(waiting)} has no metadata yet: its files are not known; nothing was changed");
        }

        foreach (TorrentHandle torrent in torrents)
        {
            try
            {
                if (files)
                {
                    int[] priorities = FilePriorityChange.Apply(arguments, torrent.Metainfo!, torrent.Options.FilePriorities);
                    await _node.SetFilePrioritiesAsync(torrent, priorities, ct);
                }

                long down = Limit(arguments, "downloadLimit", "downloadLimited", torrent.Options.DownloadRateLimit);
                long up = Limit(arguments, "uploadLimit", "uploadLimited", torrent.Options.UploadRateLimit);
                if (down != torrent.Options.DownloadRateLimit || up != torrent.Options.UploadRateLimit)
                {
                    _node.SetRateLimits(torrent, up, down);
                }
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>
    /// A torrent's limit after torrent-set, bytes per second (0 for none). Transmission keeps the limit and whether it
    /// applies apart; PeerNet has the one number, so a limit sent while unlimited applies only with <c>*Limited: true</c>.
    /// </summary>
    private static long Limit(RpcArguments arguments, string limit, string limited, long current)
    {
        bool? on = arguments.GetBool(limited);
        long? kilobytes = arguments.GetLong(limit);
        if (kilobytes is < 0)
        {
            throw new RpcException($"'{limit}' cannot be negative");
        }

        if (on == false)
        {
            return 0;
        }

        return kilobytes is { } k && (on == true || current > 0) ? checked(k * TransmissionUnits.SpeedBytes) : current;
    }

    private async Task SetLocationAsync(RpcArguments arguments, CancellationToken ct)
    {
        string location = arguments.GetString("location") ?? throw new RpcException("no location");
        if (arguments.GetBool("move") != true)
        {
            throw new RpcException("PeerNet moves a torrent's data to its new location ('move': true); it cannot be told the data is elsewhere already");
        }

        string folder = Path.GetFullPath(location, _node.DownloadFolder);
        foreach (TorrentHandle torrent in Select(arguments))
        {
            try
            {
                await torrent.MoveStorageAsync(folder, ct);
                _node.Catalog.Update(NodeService.IdOf(torrent), r => r with { SavePath = folder });
            }
            catch (ObjectDisposedException)
            {
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                throw new RpcException("cannot move it there: " + DisplayText.Sanitize(e.Message, 300));
            }
        }
    }

    private static void FreeSpace(RpcArguments arguments, Utf8JsonWriter writer)
    {
        string path = arguments.GetString("path") ?? throw new RpcException("no path");
        if (!Path.IsPathFullyQualified(path) || !Directory.Exists(path))
        {
            throw new RpcException($"free-space: '{DisplayText.Sanitize(path, 300)}' is not an existing folder's absolute path");
        }

        (long free, long total) = DiskSpace(path);
        writer.WriteString("path", path);
        writer.WriteNumber("size-bytes", free);
        writer.WriteNumber("total_size", total);
    }

    /// <summary>The space free for an unprivileged user and the file system's size: statvfs(3) of the path, through <see cref="DriveInfo"/>.</summary>
    internal static (long Free, long Total) DiskSpace(string path)
    {
        try
        {
            var drive = new DriveInfo(path);
            return (drive.AvailableFreeSpace, drive.TotalSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new RpcException("free-space: " + DisplayText.Sanitize(e.Message, 300));
        }
    }

    /// <summary>Follows the node's events for what Transmission reports and the engine does not keep: completion times.</summary>
    private void StartWatching()
    {
        if (Interlocked.Exchange(ref _watching, 1) == 1)
        {
            return;
        }

        PeerNetNode node = _node.Node;
        CancellationToken stopping = _lifetime.ApplicationStopping;
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (NodeEvent e in node.WatchEventsAsync(stopping))
                {
                    if (e is TorrentCompleted c)
                    {
                        _completed[c.Torrent.Id] = e.Time;
                    }
                    else if (e is TorrentRemoved r && _ids.Forget(r.Torrent) is { } id)
                    {
                        _removed[id] = e.Time; // removed through the REST API, or by the dashboard
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
    }

    /// <summary>Ids removed within <see cref="RecentlyActive"/>, for torrent-get of <c>"recently-active"</c>.</summary>
    internal IEnumerable<long> RecentlyRemoved()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        foreach ((long id, DateTimeOffset when) in _removed)
        {
            if (now - when > RecentlyActive)
            {
                _removed.TryRemove(id, out _);
            }
            else
            {
                yield return id;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "session-close over the Transmission RPC: stopping the daemon")]
    private static partial void LogClosing(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "torrent-verify of {Torrent} failed: {Reason}")]
    private static partial void LogVerifyFailed(ILogger logger, TorrentHandle torrent, string reason);
}
