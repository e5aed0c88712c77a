using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PeerNet.Discovery.Dht;
using PeerNet.Magnet;
using PeerNet.Metainfo;
using PeerNet.Storage;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet;

public sealed partial class PeerNetNode
{
    /// <summary>
    /// Adds a torrent. From a .torrent or metainfo it returns once the data on disk is checked (resume data spares
    /// the check of what was verified before) and peers are being looked for; from a magnet link it returns at once,
    /// in <see cref="TorrentState.FetchingMetadata"/>, and the torrent starts when its metadata arrives
    /// (<see cref="TorrentHandle.WaitForMetadataAsync"/>). Throws <see cref="InvalidOperationException"/> if the node
    /// has the torrent already or a magnet link has nowhere to find peers, <see cref="ArgumentException"/> for unusable
    /// options, and <see cref="StorageException"/> when the save path cannot hold it (nothing of it is left in the node).
    /// </summary>
    public async Task<TorrentHandle> AddTorrentAsync(TorrentSource source, AddTorrentOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ArgumentException.ThrowIfNullOrEmpty(options.SavePath, nameof(options));
        if (options.FilePriorities is { } priorities && source.Metainfo is { } metainfo
            && (priorities.Count != metainfo.Files.Count || priorities.Any(p => p is < FilePriorities.Skip or > FilePriorities.Highest)))
        {
            throw new ArgumentException($"FilePriorities needs one priority from 0 to 7 per file ({metainfo.Files.Count}).", nameof(options));
        }

        if (source.Magnet is { } magnet && options.Peers.Count == 0 && magnet.Peers.Count == 0 && _dht is null && _session.LocalDiscovery is null
            && !(Options.Trackers && options.UseTrackers && magnet.Trackers.Count > 0))
        {
            throw new InvalidOperationException("a magnet link needs somewhere to find peers: give peers, a magnet with x.pe or tr, or turn the DHT or local discovery on");
        }

        options = options with { SavePath = Path.GetFullPath(options.SavePath) };
        TorrentHandle handle;
        lock (_torrentsGate)
        {
            if (FindLocked(source.InfoHashes) is { } existing)
            {
                throw new InvalidOperationException($"the node has {existing} already");
            }

            handle = new TorrentHandle(this, Interlocked.Increment(ref _nextId), source, options);
            AddLocked(handle);
        }

        // Announced before its swarm starts, so no event of the torrent (a peer connected, a piece verified) comes
        // before the one saying it is there (a CI run saw PeerConnected first); a start that fails removes it again.
        Publish(new TorrentAdded(handle));
        try
        {
            if (options.Paused)
            {
                await handle.StopAsync(TorrentState.Paused).ConfigureAwait(false);
            }
            else
            {
                await handle.StartAsync(options.Recheck, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            Forget(handle);
            Publish(new TorrentRemoved(handle));
            throw;
        }

        return handle;
    }

    /// <summary>Runs a torrent's swarm on this node's session: storage opened, data checked, peers sought.</summary>
    internal Task<TorrentSwarm> StartSwarmAsync(TorrentHandle handle, TorrentMetainfo metainfo, bool recheck, CancellationToken cancellationToken)
    {
        AddTorrentOptions options = handle.Options;
        var torrentOptions = new TorrentOptions
        {
            Peers = options.Peers,
            ResumeDirectory = Options.ResumeDirectory ?? (Options.StateDirectory is { } state ? Path.Combine(state, "resume") : null),
            Recheck = recheck,
            MaxConnections = options.MaxConnections,
            UploadSlots = options.UploadSlots,
            FilePriorities = options.FilePriorities ?? (options.SelectedFiles is { } selected ? FilePriorities.FromSelection(selected, metainfo.Files) : null),
            Sequential = options.Sequential,
            UseTrackers = Options.Trackers && options.UseTrackers,
            UseDht = options.UseDht,
            UseLocalDiscovery = options.UseLocalDiscovery,
            SuperSeeding = options.SuperSeeding,
            UploadRateLimit = options.UploadRateLimit,
            DownloadRateLimit = options.DownloadRateLimit,
        };
        var storage = new StorageOptions { ReadOnly = options.ReadOnly, PathIsContent = options.SavePathIsContent, DirectWrites = options.DirectWrites };
        return _session.AddTorrentAsync(metainfo, options.SavePath, torrentOptions, storage, cancellationToken, observer: handle);
    }

    /// <summary>Stops a torrent's swarm (resume data saved, trackers told) and takes it off the session.</summary>
    internal Task StopSwarmAsync(TorrentSwarm swarm) => _session.RemoveTorrentAsync(swarm);

    /// <summary>
    /// BEP 9: asks the magnet's peers, the given ones, its trackers, the DHT and the local network for the info
    /// dictionary, and accepts it only if it hashes to the magnet's info-hashes and parses as a safe torrent.
    /// </summary>
    /// <returns>The verified metadata, and the magnet's <c>x.pe</c> peers resolved (the torrent dials them too).</returns>
    internal async Task<(TorrentMetainfo Metainfo, IReadOnlyList<IPEndPoint> MagnetPeers)> FetchMetadataAsync(MagnetLink magnet, AddTorrentOptions options, CancellationToken cancellationToken)
    {
        bool trackers = Options.Trackers && options.UseTrackers && magnet.Trackers.Count > 0;
        var fetcher = new MetadataFetcher(_session, magnet.InfoHashes)
        {
            Trackers = magnet.Trackers,
            AnnounceToTrackers = trackers,
            ExactLength = magnet.ExactLength,
            UseDht = options.UseDht,
            UseLocalDiscovery = options.UseLocalDiscovery,
        };
        foreach (IPEndPoint peer in options.Peers)
        {
            fetcher.AddPeer(peer);
        }

        var magnetPeers = new List<IPEndPoint>();
        foreach (MagnetPeer peer in magnet.Peers)
        {
            foreach (IPEndPoint endpoint in await ResolveAsync(peer, cancellationToken).ConfigureAwait(false))
            {
                fetcher.AddPeer(endpoint);
                magnetPeers.Add(endpoint);
            }
        }

        if (!trackers && (_dht is null || !options.UseDht) && (_session.LocalDiscovery is null || !options.UseLocalDiscovery))
        {
            fetcher.CompleteAdding(); // nobody else will ever be found: fail once every given peer has been tried
        }

        return (await fetcher.FetchAsync(cancellationToken).ConfigureAwait(false), magnetPeers);
    }

    /// <summary>A magnet's <c>x.pe</c> peer: its address, or what its host name resolves to (nothing if it does not).</summary>
    private static async Task<IReadOnlyList<IPEndPoint>> ResolveAsync(MagnetPeer peer, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(peer.Host, out IPAddress? address))
        {
            return [new IPEndPoint(address, peer.Port)];
        }

        try
        {
            IPAddress[] addresses = await Dns.GetHostAddressesAsync(peer.Host, cancellationToken).ConfigureAwait(false);
            return [.. addresses.Select(a => new IPEndPoint(a, peer.Port))];
        }
        catch (System.Net.Sockets.SocketException)
        {
            return [];
        }
    }

    /// <summary>
    /// The node's DHT nodes: one on the UDP socket of the listen address's family (IPv4 for a wildcard), and for a node
    /// that listens on both families an IPv6 one beside it (BEP 32), each knowing the other to answer <c>want</c>.
    /// They start together.
    /// </summary>
    private static async Task<(DhtNode Dht, DhtNode? Dht6)> StartDhtsAsync(PeerNetNodeOptions options, IReadOnlyList<DatagramDemux> datagrams, ILoggerFactory? loggerFactory, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        IPAddress bind = options.ListenAddress.Equals(IPAddress.IPv6Any) ? IPAddress.Any : options.ListenAddress;
        DatagramDemux? v6 = options.ListenAddress.Equals(IPAddress.IPv6Any) ? datagrams.FirstOrDefault(d => d.Family == AddressFamily.InterNetworkV6) : null;
        Task<DhtNode> first = StartDhtAsync(options, datagrams.First(d => d.Family == bind.AddressFamily), bind, loggerFactory, logger, time, cancellationToken);
        Task<DhtNode>? second = v6 is null ? null : StartDhtAsync(options, v6, IPAddress.IPv6Any, loggerFactory, logger, time, cancellationToken);
        DhtNode dht = await first.ConfigureAwait(false);
        DhtNode? dht6 = second is null ? null : await second.ConfigureAwait(false);
        if (dht6 is not null)
        {
            dht.OtherFamily = dht6;
            dht6.OtherFamily = dht;

            // BEP 32: a family whose bootstrap found nobody (bootstrap nodes of the other family only, say) joins now
            // through the nodes the other family's table knows, asked with want, rather than at its first upkeep.
            foreach ((DhtNode empty, DhtNode joined) in new[] { (dht6, dht), (dht, dht6) })
            {
                if (empty.GetStats().Bootstrap == DhtBootstrapState.NobodyAnswered && joined.GetStats().Bootstrap == DhtBootstrapState.Joined)
                {
                    await JoinAsync(empty.BootstrapAsync(cancellationToken), logger, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return (dht, dht6);
    }

    /// <summary>Waits at most 15 s for a DHT's bootstrap; joining goes on in the background after that.</summary>
    private static async Task JoinAsync(Task bootstrap, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await bootstrap.WaitAsync(TimeSpan.FromSeconds(15), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            NodeLog.DhtStillJoining(logger);
        }
    }

    /// <summary>
    /// A DHT node on <paramref name="udp"/> (the listening port's number, as libtorrent: one port to open), its ID and
    /// table kept in the state folder when there is one and no other process holds it. Waits at most 15 s for the
    /// bootstrap; joining goes on in the background after that.
    /// </summary>
    private static async Task<DhtNode> StartDhtAsync(PeerNetNodeOptions options, DatagramDemux udp, IPAddress bind, ILoggerFactory? loggerFactory, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> bootstrap = options.DhtBootstrapNodes ?? DhtNodeOptions.DefaultBootstrapNodes;
        var node = new DhtNode(
            new DhtNodeOptions
            {
                BindEndPoint = udp.LocalEndPoint,
                BootstrapNodes = bootstrap,
                StatePath = DhtStateLock.Claim(options.StateDirectory, bind),

                // Loopback and private addresses are what a test or a LAN swarm has: let them into the table.
                RestrictRoutingAddresses = !(IPAddress.IsLoopback(bind) || options.DhtBootstrapNodes is not null),
            },
            udp.DhtTransport,
            time,
            null,
            loggerFactory);
        try
        {
            await JoinAsync(node.StartAsync(cancellationToken), logger, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            NodeLog.DhtFailed(logger, e.Message);
        }

        return node;
    }
}
