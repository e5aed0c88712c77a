using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PeerNet.Daemon.Persistence;
using PeerNet.Magnet;
using PeerNet.Metainfo;

namespace PeerNet.Daemon.Service;

/// <summary>
/// The daemon's node: started with the host (before the API listens), its kept torrents added back, and stopped with
/// it (every torrent's resume data saved, trackers told). Adding and removing through here keeps the catalog in step.
/// </summary>
internal sealed partial class NodeService : IHostedService, IDisposable
{
    private readonly DaemonSettings _settings;
    private readonly DaemonState _state;
    private readonly ILoggerFactory _loggerFactory;
    private readonly IMeterFactory _meterFactory;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _adding = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private PeerNetNode? _node;
    private Task _watcher = Task.CompletedTask;

    public NodeService(IOptions<DaemonSettings> settings, DaemonState state, ILoggerFactory loggerFactory, IMeterFactory meterFactory)
    {
        _settings = settings.Value;
        _state = state;
        _loggerFactory = loggerFactory;
        _meterFactory = meterFactory;
        _logger = loggerFactory.CreateLogger("PeerNet.Daemon");
        Catalog = new TorrentCatalog(state.CatalogFolder, _logger);
        StorageNames = new StorageNames(Path.Combine(state.Folder, "storage-names.json"));
        Topics = new PubsubTopics(Path.Combine(state.Folder, "topics.json"));
    }

    /// <summary>The direct messages the node received (it takes them once started).</summary>
    public DirectMessageInbox Messages { get; } = new();

    /// <summary>The gossipsub topics joined through the API, and their messages.</summary>
    public PubsubTopics Topics { get; }

    /// <summary>The names of the files put through the API.</summary>
    public StorageNames StorageNames { get; }

    /// <summary>The storage settings (the space lent, the largest upload).</summary>
    public StorageSettings StorageSettings => _settings.Storage;

    /// <summary>Where uploads to the storage API are staged (each file deleted when stored or refused).</summary>
    public string UploadFolder => Path.Combine(_state.Folder, "uploads");

    /// <summary>The running node.</summary>
    public PeerNetNode Node => _node ?? throw new InvalidOperationException("the node is not running");

    /// <summary>The kept torrents.</summary>
    public TorrentCatalog Catalog { get; }

    /// <summary>The folder a torrent goes in when its request names none.</summary>
    public string DownloadFolder => Path.GetFullPath(_settings.Torrents.DownloadFolder ?? _state.DefaultDownloadFolder, _state.Folder);

    /// <summary>A torrent's id in the API and the catalog: its swarm info-hash in hex.</summary>
    public static string IdOf(TorrentHandle torrent) => torrent.InfoHashes.WireHash.ToString()!.ToLowerInvariant();

    /// <summary>A DHT node's address family as the API and the metrics name it: <c>ipv6</c> on an IPv6 socket, else <c>ipv4</c>.</summary>
    public static string FamilyOf(PeerNet.Discovery.Dht.DhtNode dht) =>
        dht.LocalEndPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4";

    /// <summary>The torrent with this id (or the handle's number), if the node has it.</summary>
    public TorrentHandle? Find(string id) =>
        id.Length == 40 && Sha1Hash.TryParseHex(id, out Sha1Hash hash) ? Node.FindTorrent(new InfoHashes(hash, null))
        : long.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long number) ? Node.FindTorrent(number)
        : null;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        NodeSettings n = _settings.Node;
        (UtpOptions utp, bool outgoingTcp) = n.UtpOptions();
        var options = new PeerNetNodeOptions
        {
            ListenAddress = IPAddress.Parse(n.ListenAddress),
            ListenPort = n.ListenPort,
            Dht = n.Dht,
            DhtBootstrapNodes = n.DhtBootstrapNodes.Count > 0 ? [.. n.DhtBootstrapNodes] : null,
            LocalDiscovery = n.LocalDiscovery,
            Trackers = n.Trackers,
            UploadRateLimit = n.UploadRateLimit,
            DownloadRateLimit = n.DownloadRateLimit,
            MaxConnections = n.MaxConnections,
            Libp2pLimits = n.Libp2pLimits,
            Encryption = n.EncryptionOptions(),
            Utp = utp,
            OutgoingTcp = outgoingTcp,
            PortMapping = n.PortMappingOptions(),
            Holepunch = n.Holepunch,
            StorageShareBytes = _settings.Storage.ShareBytes,
            StorageAllowedPeers = [.. _settings.Storage.AllowedPeers.Select(PeerNet.Libp2p.Libp2pPeerId.Parse)],
            StateDirectory = _state.NodeFolder,
            ResumeDirectory = _state.ResumeFolder,
        };
        Directory.CreateDirectory(_state.NodeFolder);
        if (Directory.Exists(UploadFolder))
        {
            Directory.Delete(UploadFolder, recursive: true); // uploads a crash left behind: none was stored
        }

        Directory.CreateDirectory(_state.ResumeFolder);
        _node = await PeerNetNode.StartAsync(options, _loggerFactory, _meterFactory, null, cancellationToken);
        Messages.Attach(_node);
        Topics.Attach(_node.Libp2p.Pubsub);
        _watcher = Task.Run(() => KeepMetadataAsync(_node, _stopping.Token), CancellationToken.None);
        foreach ((TorrentRecord record, byte[]? torrent) in Catalog.Load())
        {
            await RestoreAsync(record, torrent, cancellationToken);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        Topics.Dispose();
        if (_node is { } node)
        {
            await node.DisposeAsync();
        }

        await _watcher.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _adding.Dispose();
    }

    /// <summary>
    /// Adds a torrent and keeps it: nothing is kept if the node refuses it, and the node drops it again if it cannot
    /// be kept, so a failed add leaves nothing behind. <paramref name="torrent"/> is the .torrent's bytes (empty for a magnet).
    /// </summary>
    public async Task<TorrentHandle> AddAsync(TorrentSource source, ReadOnlyMemory<byte> torrent, AddTorrentOptions options, CancellationToken cancellationToken)
    {
        await _adding.WaitAsync(cancellationToken);
        try
        {
            TorrentHandle handle = await Node.AddTorrentAsync(source, options, cancellationToken);
            var record = new TorrentRecord
            {
                Id = IdOf(handle),
                Magnet = source.Magnet?.ToString(),
                SavePath = handle.Options.SavePath,
                Paused = options.Paused,
                Sequential = options.Sequential,
                FilePriorities = options.FilePriorities,
                UploadRateLimit = options.UploadRateLimit,
                DownloadRateLimit = options.DownloadRateLimit,
                Added = DateTimeOffset.UtcNow,
            };
            try
            {
                Catalog.Save(record, torrent.Span);
            }
            catch
            {
                await handle.RemoveAsync(deleteData: false, CancellationToken.None);
                Catalog.Remove(record.Id);
                throw;
            }

            if (source.Magnet is not null && handle.Metainfo is { } metainfo)
            {
                KeepMetadata(handle, metainfo);
            }

            return handle;
        }
        finally
        {
            _adding.Release();
        }
    }

    /// <summary>Removes a torrent from the node and the catalog (its data too if asked).</summary>
    public async Task RemoveAsync(TorrentHandle handle, bool deleteData, CancellationToken cancellationToken)
    {
        string id = IdOf(handle);
        Catalog.Remove(id); // first: a crash in between leaves the torrent gone, as asked, rather than back on restart
        await handle.RemoveAsync(deleteData, cancellationToken);
    }

    /// <summary>Pauses or resumes a torrent, and keeps that choice for the next start.</summary>
    public async Task SetPausedAsync(TorrentHandle handle, bool paused, CancellationToken cancellationToken)
    {
        if (paused)
        {
            await handle.PauseAsync(cancellationToken);
        }
        else
        {
            await handle.ResumeAsync(cancellationToken);
        }

        Catalog.Update(IdOf(handle), r => r with { Paused = paused });
    }

    /// <summary>
    /// Sets a torrent's file priorities (one per file of its metadata, pad files included; 0 skips a file) and keeps them
    /// for the next start. Throws <see cref="InvalidOperationException"/> before a magnet link's metadata has come, and
    /// <see cref="ArgumentException"/> for a wrong count or a priority out of range (nothing changed or kept then).
    /// </summary>
    public async Task SetFilePrioritiesAsync(TorrentHandle handle, IReadOnlyList<int> priorities, CancellationToken cancellationToken)
    {
        int[] kept = [.. priorities];
        await handle.SetFilePrioritiesAsync(kept, cancellationToken);
        Catalog.Update(IdOf(handle), r => r with { FilePriorities = kept });
    }

    /// <summary>Sets a torrent's own rate limits (bytes per second, 0 for none) and keeps them for the next start.</summary>
    public void SetRateLimits(TorrentHandle handle, long upload, long download)
    {
        handle.SetRateLimits(upload, download);
        Catalog.Update(IdOf(handle), r => r with { UploadRateLimit = upload, DownloadRateLimit = download });
    }

    private async Task RestoreAsync(TorrentRecord record, byte[]? torrent, CancellationToken cancellationToken)
    {
        try
        {
            TorrentSource source = torrent is not null ? TorrentSource.FromBytes(torrent) : TorrentSource.FromMagnet(record.Magnet!);
            var options = new AddTorrentOptions
            {
                SavePath = record.SavePath,
                Paused = record.Paused,
                Sequential = record.Sequential,
                FilePriorities = record.FilePriorities,
                UploadRateLimit = record.UploadRateLimit,
                DownloadRateLimit = record.DownloadRateLimit,
            };
            TorrentHandle handle = await Node.AddTorrentAsync(source, options, cancellationToken);
            LogRestored(_logger, handle); // its ToString sanitizes the name
        }
        catch (Exception e) when (e is MetainfoException or MagnetException or IOException or InvalidOperationException or ArgumentException)
        {
            // Kept, not dropped: the owner sees it missing and the log says why; a later start may succeed (a disk back).
            LogRestoreFailed(_logger, record.Id, DisplayText.Sanitize(e.Message, 500));
        }
    }

    /// <summary>Writes a magnet-added torrent's metadata to the catalog when it arrives.</summary>
    private async Task KeepMetadataAsync(PeerNetNode node, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (NodeEvent e in node.WatchEventsAsync(cancellationToken))
            {
                if (e is MetadataReceived { Torrent: { Metainfo: { } metainfo } torrent })
                {
                    KeepMetadata(torrent, metainfo);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void KeepMetadata(TorrentHandle torrent, TorrentMetainfo metainfo)
    {
        try
        {
            IReadOnlyList<string> trackers = [.. torrent.GetTrackers().Select(t => t.Url).Distinct(StringComparer.Ordinal)];
            if (TorrentCatalog.TorrentFromMetadata(metainfo, trackers) is { } bytes)
            {
                Catalog.SaveMetadata(IdOf(torrent), bytes);
            }
        }
        catch (IOException e)
        {
            LogRestoreFailed(_logger, IdOf(torrent), DisplayText.Sanitize(e.Message, 500));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "restored {Torrent}")]
    private static partial void LogRestored(ILogger logger, TorrentHandle torrent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not restore or keep {Id}: {Reason}")]
    private static partial void LogRestoreFailed(ILogger logger, string id, string reason);
}
