using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PeerNet.Cli.Output;
using PeerNet.Creation;
using PeerNet.Metainfo;

namespace PeerNet.Cli.Demo;

/// <summary>
/// The demo's swarm, with no console: random content and its torrent in a temporary folder, a seeder and
/// leechers as real PeerNet nodes (<see cref="PeerNetNode"/>, the public API only) over TCP on loopback, each with
/// its own address (127.0.0.x), port, folder and upload cap; optionally churn and a bad peer. A view reads
/// <see cref="GetSnapshot"/> and <see cref="TryReadEvent"/> while <see cref="RunAsync"/> runs. Peers learn of each
/// other only from the demo (no tracker, DHT or PEX yet).
/// </summary>
internal sealed partial class DemoSwarm(DemoOptions options) : IAsyncDisposable
{
    private const string ContentName = "peernet-demo.bin";
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly Random _random = new(options.Seed);
    private readonly ConcurrentQueue<string> _events = new();
    private readonly List<Task> _churning = [];
    private readonly Stopwatch _clock = new();
    private DemoNode[] _nodes = [];
    private bool _createdRoot;

    public DemoOptions Options { get; } = options;

    /// <summary>The temporary folder: content, torrent, and one folder per leecher.</summary>
    public string? Root { get; private set; }

    public TorrentMetainfo? Metainfo { get; private set; }

    /// <summary>The state of every unfinished torrent when the run stalled; null otherwise.</summary>
    public string? Diagnostics { get; private set; }

    /// <summary>What the run is doing now, for the view.</summary>
    public string Phase { get; private set; } = "starting";

    /// <summary>Every event so far (leaves, rejoins, bans, completions), in order.</summary>
    public IReadOnlyList<string> Log => [.. _log];

    private readonly ConcurrentQueue<string> _log = new();

    /// <summary>Takes the next event the view has not shown yet.</summary>
    public bool TryReadEvent(out string message) => _events.TryDequeue(out message!);

    /// <summary>Every node's progress and rates now, and the time since the leechers started.</summary>
    public DemoSnapshot GetSnapshot()
    {
        DemoNode[] nodes = Volatile.Read(ref _nodes);
        return new DemoSnapshot(Phase, _clock.Elapsed, Metainfo?.PieceCount ?? 0, [.. nodes.Select(n => n.GetStatus())]);
    }

    /// <summary>Runs the whole demo: prepare, swarm until every honest copy is complete, stop, verify.</summary>
    public async Task<DemoResult> RunAsync(CancellationToken cancellationToken)
    {
        Options.Validate();
        TorrentMetainfo metainfo = await PrepareAsync(cancellationToken).ConfigureAwait(false);
        IPAddress[] addresses = LoopbackAddresses(Options.Peers + 2);
        if (Options.BadPeer && addresses[0].Equals(addresses[1]))
        {
            throw new NotSupportedException("--bad-peer needs one loopback address per node (127.0.0.2 and up), which this system does not route; peers are banned by address.");
        }

        Phase = "starting nodes";
        var seeder = new DemoNode("seeder", DemoRole.Seeder, addresses[0], Path.Combine(Root!, "seed"), Options.SeedRate);
        DemoNode? bad = Options.BadPeer ? new DemoNode("bad-peer", DemoRole.BadPeer, addresses[1], seeder.Folder, Options.PeerRate) : null;
        var leechers = new DemoNode[Options.Peers];
        for (int i = 0; i < leechers.Length; i++)
        {
            string name = string.Create(CultureInfo.InvariantCulture, $"peer-{i + 1:00}");
            leechers[i] = new DemoNode(name, DemoRole.Leecher, addresses[i + 2], Path.Combine(Root!, "peers", name), Options.PeerRate);
        }

        PlanTopology(seeder, bad, leechers);
        PlanChurn(leechers);
        Volatile.Write(ref _nodes, [seeder, .. bad is null ? Array.Empty<DemoNode>() : [bad], .. leechers]);
        await StartNodeAsync(seeder, 0, cancellationToken).ConfigureAwait(false);
        if (bad is not null)
        {
            await StartNodeAsync(bad, 0, cancellationToken).ConfigureAwait(false);
            Report($"bad-peer joined with a full copy; it corrupts every block it sends");
        }

        Phase = "swarming";
        Report(Options.SeedRate > 0
            ? $"seeder capped at {DemoView.Cap(Options.SeedRate)}; {Count.Of(Options.Peers, "leecher")} join, each told about the seeder and up to {Options.KnownPeers} earlier peers (no tracker, DHT or PEX yet)"
            : $"{Count.Of(Options.Peers, "leecher")} join, each told about the seeder and up to {Options.KnownPeers} earlier peers (no tracker, DHT or PEX yet)");
        _clock.Start();
        foreach (DemoNode leecher in leechers)
        {
            await StartNodeAsync(leecher, 0, cancellationToken).ConfigureAwait(false);
        }

        string? failure = await WaitForCopiesAsync(leechers, cancellationToken).ConfigureAwait(false);
        _clock.Stop();
        TimeSpan elapsed = _clock.Elapsed;

        Phase = "stopping";
        try
        {
            await Task.WhenAll(_churning).ConfigureAwait(false);
        }
        catch (Exception) when (failure is not null)
        {
            // Already the reason the run failed.
        }
        foreach (DemoNode node in Volatile.Read(ref _nodes))
        {
            await node.StopAsync().ConfigureAwait(false);
        }

        Phase = "verifying copies";
        IReadOnlyList<DemoCopy> copies = failure is null ? await VerifyCopiesAsync(metainfo, seeder, leechers, cancellationToken).ConfigureAwait(false) : [];
        Phase = "done";
        return BuildResult(metainfo, elapsed, seeder, bad, leechers, copies, failure);
    }

    /// <summary>Writes seeded random content and creates its torrent (hybrid, as <c>peernet create</c> does).</summary>
    private async Task<TorrentMetainfo> PrepareAsync(CancellationToken cancellationToken)
    {
        Root = Options.TempRoot is null
            ? Directory.CreateTempSubdirectory("peernet-demo-").FullName
            : Directory.CreateDirectory(Path.Combine(Options.TempRoot, "peernet-demo-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        _createdRoot = true;
        string content = Path.Combine(Root, "seed", ContentName);
        Directory.CreateDirectory(Path.GetDirectoryName(content)!);
        Phase = "generating data";
        await WriteRandomAsync(content, Options.Size, new Random(Options.Seed), cancellationToken).ConfigureAwait(false);

        Phase = "creating the torrent";
        var clock = Stopwatch.StartNew();
        TorrentCreationResult created = await TorrentCreator.CreateWithDetailsAsync(
            new TorrentCreationOptions { SourcePath = content, PieceLength = DemoOptions.PieceLengthFor(Options.Size) }, null, cancellationToken).ConfigureAwait(false);
        await File.WriteAllBytesAsync(Path.Combine(Root, "peernet-demo.torrent"), created.Torrent, cancellationToken).ConfigureAwait(false);
        Metainfo = TorrentMetainfo.Parse(created.Torrent);
        Report(string.Create(CultureInfo.InvariantCulture,
            $"created {ByteSize.Format(Options.Size)} of random data (seed {Options.Seed}) and its torrent: {Count.Of(Metainfo.PieceCount, "piece")} of {ByteSize.Format(created.PieceLength)}, hashed in {clock.Elapsed.TotalSeconds:0.0} s"));
        return Metainfo;
    }

    private static async Task WriteRandomAsync(string path, long size, Random random, CancellationToken cancellationToken)
    {
        byte[] chunk = new byte[1 << 20];
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, useAsync: true);
        await using var scope = file.ConfigureAwait(false);
        file.SetLength(size);
        for (long written = 0; written < size; written += chunk.Length)
        {
            random.NextBytes(chunk);
            int n = (int)Math.Min(chunk.Length, size - written);
            await file.WriteAsync(chunk.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One address per node, 127.0.0.1 upward, so that a ban (by address) hits one node only. Where the system
    /// routes only 127.0.0.1, every node shares it.
    /// </summary>
    private static IPAddress[] LoopbackAddresses(int count)
    {
        bool distinct;
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
            distinct = true;
        }
        catch (SocketException)
        {
            distinct = false;
        }

        return [.. Enumerable.Range(0, count).Select(i => distinct ? new IPAddress([127, 0, (byte)((i + 1) >> 8), (byte)((i + 1) & 0xFF)]) : IPAddress.Loopback)];
    }

    /// <summary>
    /// Leecher i dials the seeder, the bad peer, and up to <see cref="DemoOptions.KnownPeers"/> random earlier
    /// leechers (already listening), so every pair is connected once and later peers find the earlier ones.
    /// </summary>
    private void PlanTopology(DemoNode seeder, DemoNode? bad, DemoNode[] leechers)
    {
        for (int i = 0; i < leechers.Length; i++)
        {
            Link(leechers[i], seeder);
            if (bad is not null)
            {
                Link(leechers[i], bad);
            }

            int[] earlier = [.. Enumerable.Range(0, i)];
            _random.Shuffle(earlier);
            foreach (int j in earlier.Take(Options.KnownPeers))
            {
                Link(leechers[i], leechers[j]);
            }
        }

        static void Link(DemoNode from, DemoNode to)
        {
            from.Neighbours.Add(to);
            to.Neighbours.Add(from);
        }
    }

    /// <summary>
    /// Starts a node on its own address with its upload cap and adds the torrent (a leecher dials the neighbours that
    /// are up); the bad peer starts listening instead.
    /// </summary>
    private async Task StartNodeAsync(DemoNode node, int port, CancellationToken cancellationToken)
    {
        if (node.Role == DemoRole.BadPeer)
        {
            node.Attach(DemoBadPeer.Start(node.Address, Metainfo!, Path.Combine(node.Folder, ContentName), node.UploadRate));
            return;
        }

        bool leecher = node.Role == DemoRole.Leecher;
        PeerNetNode peerNode = await PeerNetNode.StartAsync(new PeerNetNodeOptions
        {
            ListenAddress = node.Address,
            ListenPort = port,
            Dht = false,
            LocalDiscovery = false,
            Trackers = false,
            UploadRateLimit = node.UploadRate,
            HashingThreads = 1, // a dozen nodes share the machine's cores

            // Its own: a leecher that leaves and rejoins finds the pieces it verified (the seeder has them all).
            ResumeDirectory = leecher ? Path.Combine(Root!, "resume", node.Name) : null,
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        Task watching = WatchAsync(node, peerNode.WatchEventsAsync(CancellationToken.None)); // from before the torrent is added
        try
        {
            Directory.CreateDirectory(node.Folder);
            TorrentHandle torrent = await peerNode.AddTorrentAsync(TorrentSource.FromMetainfo(Metainfo!), new AddTorrentOptions
            {
                SavePath = node.Folder,
                ReadOnly = !leecher,

                // Only a leecher dials: earlier nodes are told of later ones by their incoming connections.
                Peers = leecher ? [.. node.Neighbours.Where(n => n.IsOnline).Select(n => n.EndPoint)] : [],
                SuperSeeding = node.Role == DemoRole.Seeder && Options.SuperSeed,
            }, cancellationToken).ConfigureAwait(false);
            node.Attach(peerNode, torrent, watching);
        }
        catch
        {
            await peerNode.DisposeAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Follows a node's events until it stops: counts its failed pieces and names each address it bans, once over all
    /// its sessions. (A watcher that fell behind would lose its oldest events, <see cref="EventsDropped"/>; this one only
    /// counts, so it keeps up.)
    /// </summary>
    private async Task WatchAsync(DemoNode node, IAsyncEnumerable<NodeEvent> events)
    {
        await foreach (NodeEvent e in events.ConfigureAwait(false))
        {
            if (e is HashFailed)
            {
                node.NoteHashFailure();
            }
            else if (e is PeerBanned banned && node.NoteBan(banned.Peer.Address))
            {
                string who = Volatile.Read(ref _nodes).FirstOrDefault(n => n.Address.Equals(banned.Peer.Address))?.Name ?? banned.Peer.Address.ToString();
                Report($"{node.Name} banned {who}: a piece it sent failed the hash check");
            }
        }
    }

    /// <summary>Polls until every honest copy is complete; returns why it stopped early, or null.</summary>
    private async Task<string?> WaitForCopiesAsync(DemoNode[] leechers, CancellationToken cancellationToken)
    {
        int lastVerified = -1;
        TimeSpan lastProgress = TimeSpan.Zero;
        while (true)
        {
            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            int verified = 0;
            foreach (DemoNode node in leechers)
            {
                if (node.Torrent is not { } torrent)
                {
                    continue;
                }

                TorrentStatus status = torrent.GetStatus();
                verified += status.PiecesVerified;
                if (status.State == TorrentState.Error)
                {
                    return $"{node.Name} stopped: {status.Error}";
                }

                if (node.CompletedAfter is null && status.PiecesVerified == status.PieceCount)
                {
                    node.CompletedAfter = _clock.Elapsed;
                    Report(string.Create(CultureInfo.InvariantCulture, $"{node.Name} has every piece ({node.CompletedAfter.Value.TotalSeconds:0.0} s)"));
                }
                else if (node.CompletedAfter is null && node.LeaveAt is { } at && node.Rejoin is null && status.Progress >= at)
                {
                    _churning.Add(LeaveAndRejoinAsync(node, cancellationToken));
                }
            }

            if (_churning.Find(t => t.IsFaulted || (t.IsCanceled && !cancellationToken.IsCancellationRequested)) is { } failed)
            {
                return $"a peer could not leave and rejoin: {failed.Exception?.InnerException?.Message ?? "its stop was cancelled"}";
            }

            if (leechers.All(n => n.CompletedAfter is not null))
            {
                return null;
            }

            if (verified != lastVerified)
            {
                lastVerified = verified;
                lastProgress = _clock.Elapsed;
            }
            else if (_clock.Elapsed - lastProgress > Options.StallTimeout)
            {
                Diagnostics = await DescribeStalledAsync(leechers, cancellationToken).ConfigureAwait(false);
                return string.Create(CultureInfo.InvariantCulture, $"no copy gained a piece for {Options.StallTimeout.TotalSeconds:0} s");
            }
        }
    }

    /// <summary>What the stuck torrents were doing, for a bug report: each one's status and its peers.</summary>
    private static async Task<string> DescribeStalledAsync(DemoNode[] leechers, CancellationToken cancellationToken)
    {
        var text = new System.Text.StringBuilder();
        foreach (DemoNode node in leechers.Where(n => n.CompletedAfter is null))
        {
            if (node.Torrent is not { } torrent)
            {
                continue;
            }

            TorrentStatus s = torrent.GetStatus();
            text.Append(CultureInfo.InvariantCulture, $"{node.Name} ({node.Address}): {s.State}, {s.PiecesVerified}/{s.PieceCount} pieces, {Count.Of(s.Peers, "peer")}, down {DemoView.Rate(s.DownloadRate)}, {Count.Of(s.HashFailures, "hash failure")}, {s.PeersBanned} banned\n");
            foreach (PeerStatus peer in await torrent.GetPeersAsync(cancellationToken).ConfigureAwait(false))
            {
                text.Append(CultureInfo.InvariantCulture, $"  {peer.EndPoint} {peer.Flags} has {peer.Progress * 100:0}%, down {DemoView.Rate(peer.DownloadRate)}, up {DemoView.Rate(peer.UploadRate)}\n");
            }
        }

        return text.ToString().TrimEnd('\n');
    }

    private void Report(string message)
    {
        // Before the leechers start (preparing), there is no swarm time yet.
        string line = _clock.IsRunning || _clock.Elapsed > TimeSpan.Zero
            ? string.Create(CultureInfo.InvariantCulture, $"{_clock.Elapsed.TotalSeconds,5:0.0} s  {message}")
            : "         " + message;
        _events.Enqueue(line);
        _log.Enqueue(line);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // A leecher still leaving or rejoining (a run cut short) is stopped after, not in the middle.
            await Task.WhenAll(_churning).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (DemoNode node in Volatile.Read(ref _nodes))
            {
                await node.StopAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            if (_createdRoot && !Options.Keep && Root is not null && Directory.Exists(Root))
            {
                Directory.Delete(Root, recursive: true);
            }
        }
    }
}

/// <summary>The demo at one moment, for the view.</summary>
internal sealed record DemoSnapshot(string Phase, TimeSpan Elapsed, int PieceCount, IReadOnlyList<DemoNodeStatus> Nodes);
