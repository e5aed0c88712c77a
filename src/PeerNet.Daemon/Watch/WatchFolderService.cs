using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PeerNet.Daemon.Service;
using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Daemon.Watch;

/// <summary>The watch folder's settings, in the <c>Torrents</c> section beside <c>DownloadFolder</c>.</summary>
internal sealed class WatchSettings
{
    /// <summary>A folder whose new .torrent files are added (relative to the state folder); null for none.</summary>
    public string? WatchFolder { get; set; }

    /// <summary>Seconds between full looks at the folder, besides the file system's own notices. Default 10.</summary>
    public int WatchInterval { get; set; } = 10;

    public IEnumerable<string> Validate()
    {
        if (WatchInterval is < 1 or > 3600)
        {
            yield return $"Torrents:WatchInterval {WatchInterval} must be from 1 to 3600 seconds";
        }

        if (WatchFolder is { Length: 0 })
        {
            yield return "Torrents:WatchFolder is empty: name a folder, or leave it out";
        }
    }
}

/// <summary>
/// <c>Torrents:WatchFolder</c>: each <c>*.torrent</c> dropped there is added to the node (saved to the download folder)
/// and renamed <c>NAME.torrent.added</c>, or <c>NAME.torrent.invalid</c> with the reason in the log when it cannot be
/// (corrupt, too large, refused). A file the node already has counts as added. A <see cref="FileSystemWatcher"/> notices
/// new files at once; a full look every <see cref="WatchSettings.WatchInterval"/> seconds catches what it missed (a
/// network file system, an overflow) and what was there before the start. A file written within the last second is
/// left for the next look, so a half-copied .torrent is not read.
/// </summary>
internal sealed partial class WatchFolderService : BackgroundService
{
    /// <summary>How long a file must have been left alone before it is read.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(1);

    private readonly NodeService _node;
    private readonly string? _folder;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _wake = new(0, 1);

    public WatchFolderService(NodeService node, DaemonState state, IOptions<WatchSettings> settings, ILoggerFactory loggerFactory)
    {
        _node = node;
        _folder = settings.Value.WatchFolder is { } folder ? Path.GetFullPath(folder, state.Folder) : null;
        _interval = TimeSpan.FromSeconds(settings.Value.WatchInterval);
        _logger = loggerFactory.CreateLogger("PeerNet.Daemon.Watch");
    }

    /// <summary>Registers the service when <c>Torrents:WatchFolder</c> is set; throws <see cref="OptionsValidationException"/> for unusable settings.</summary>
    public static void AddWatchFolder(WebApplicationBuilder builder)
    {
        IConfigurationSection section = builder.Configuration.GetSection("Torrents");
        var settings = new WatchSettings();
        section.Bind(settings);
        string[] problems = [.. settings.Validate()];
        if (problems.Length > 0)
        {
            throw new OptionsValidationException(nameof(WatchSettings), typeof(WatchSettings), problems);
        }

        if (settings.WatchFolder is not null)
        {
            builder.Services.Configure<WatchSettings>(section);
            builder.Services.AddHostedService<WatchFolderService>(); // after NodeService: the node runs by then
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_folder is null)
        {
            return;
        }

        Directory.CreateDirectory(_folder);
        using var watcher = new FileSystemWatcher(_folder, "*.torrent") { NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size };
        watcher.Created += (_, _) => Wake();
        watcher.Renamed += (_, _) => Wake();
        watcher.Changed += (_, _) => Wake();
        watcher.Error += (_, _) => Wake();
        watcher.EnableRaisingEvents = true;
        LogWatching(_logger, _folder);
        while (!stoppingToken.IsCancellationRequested)
        {
            bool unsettled = await ScanAsync(stoppingToken);
            try
            {
                // A file still being written is looked at again once it may have settled; else at the next notice or interval.
                await _wake.WaitAsync(unsettled ? Settle : _interval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (Exception e) when (e is SemaphoreFullException or ObjectDisposedException)
        {
            // already awake, or stopped
        }
    }

    /// <summary>Adds every settled .torrent in the folder; true if some file was too fresh to read yet.</summary>
    private async Task<bool> ScanAsync(CancellationToken cancellationToken)
    {
        bool unsettled = false;
        IEnumerable<string> files;
        try
        {
            files = [.. Directory.EnumerateFiles(_folder!, "*.torrent").Order(StringComparer.Ordinal)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogUnreadable(_logger, _folder!, e.Message);
            return false;
        }

        foreach (string file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(file) < Settle)
                {
                    unsettled = true;
                    continue;
                }

                await AddAsync(file, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogUnreadable(_logger, file, e.Message); // gone meanwhile, or not ours to read: left as it is
            }
        }

        return unsettled;
    }

    private async Task AddAsync(string file, CancellationToken cancellationToken)
    {
        string shown = DisplayText.Sanitize(Path.GetFileName(file), 300);
        long length = new FileInfo(file).Length;
        if (length > MetainfoLimits.Default.MaxTorrentSize)
        {
            Invalid(file, $"{length} bytes, over the {MetainfoLimits.Default.MaxTorrentSize}-byte limit for a .torrent");
            return;
        }

        byte[] bytes = await File.ReadAllBytesAsync(file, cancellationToken);
        TorrentSource source;
        try
        {
            source = TorrentSource.FromBytes(bytes);
        }
        catch (MetainfoException e)
        {
            Invalid(file, e.Message);
            return;
        }

        if (_node.Node.FindTorrent(source.InfoHashes) is { } existing)
        {
            Move(file, ".added");
            string id = NodeService.IdOf(existing);
            LogAlreadyThere(_logger, shown, id);
            return;
        }

        try
        {
            TorrentHandle handle = await _node.AddAsync(source, bytes, new AddTorrentOptions { SavePath = _node.DownloadFolder }, cancellationToken);
            Move(file, ".added");
            string id = NodeService.IdOf(handle);
            LogAdded(_logger, shown, id);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or StorageException)
        {
            Invalid(file, e.Message);
        }
    }

    private void Invalid(string file, string reason)
    {
        Move(file, ".invalid");
        string shown = DisplayText.Sanitize(Path.GetFileName(file), 300);
        string why = DisplayText.Sanitize(reason, 500);
        LogInvalid(_logger, shown, why);
    }

    private static void Move(string file, string suffix) => File.Move(file, file + suffix, overwrite: true);

    [LoggerMessage(Level = LogLevel.Information, Message = "watching {Folder} for .torrent files")]
    private static partial void LogWatching(ILogger logger, string folder);

    [LoggerMessage(Level = LogLevel.Information, Message = "watch folder: added {File} as {Id}")]
    private static partial void LogAdded(ILogger logger, string file, string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "watch folder: {File} is there already, as {Id}")]
    private static partial void LogAlreadyThere(ILogger logger, string file, string id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "watch folder: {File} is not added, renamed .invalid: {Reason}")]
    private static partial void LogInvalid(ILogger logger, string file, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "watch folder: cannot read {Path}: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);
}
