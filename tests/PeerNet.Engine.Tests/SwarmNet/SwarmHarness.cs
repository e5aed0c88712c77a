using System.Net;
using System.Security.Cryptography;
using PeerNet.Creation;
using PeerNet.Discovery.Trackers;
using PeerNet.Metainfo;
using PeerNet.Storage;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// Many PeerNet nodes in one process over the in-memory network: each node is a session with its own
/// address and folder. Every wait has a timeout, so a protocol bug fails a test instead of hanging it.
/// </summary>
internal sealed class SwarmHarness : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly List<SwarmSession> _sessions = [];
    private readonly List<TcpTransport> _tcpTransports = [];
    private int _nextAddress = 1;

    public SwarmHarness()
    {
        Root = Directory.CreateTempSubdirectory("peernet-swarm-").FullName;
        Network = new InMemoryNetwork();
    }

    public string Root { get; }

    public InMemoryNetwork Network { get; }

    /// <summary>Writes random content (a folder with a few files of odd sizes, or one file) and creates its torrent.</summary>
    public async Task<(TorrentMetainfo Torrent, string Content)> CreateContentAsync(TorrentVersion version, long[] sizes, long pieceLength = 32 * 1024, bool isPrivate = false)
    {
        string content = Path.Combine(Root, "content-" + Guid.NewGuid().ToString("N")[..8]);
        string source = content;
        if (sizes.Length == 1)
        {
            Directory.CreateDirectory(content);
            source = Path.Combine(content, "data.bin");
            await File.WriteAllBytesAsync(source, RandomNumberGenerator.GetBytes((int)sizes[0]));
        }
        else
        {
            string folder = Path.Combine(content, "data");
            Directory.CreateDirectory(Path.Combine(folder, "sub"));
            for (int i = 0; i < sizes.Length; i++)
            {
                string path = Path.Combine(folder, i % 2 == 0 ? "sub" : "", $"file{i}.bin");
                await File.WriteAllBytesAsync(path, RandomNumberGenerator.GetBytes((int)sizes[i]));
            }

            source = folder;
        }

        byte[] torrent = await TorrentCreator.CreateAsync(new TorrentCreationOptions { SourcePath = source, Version = version, PieceLength = pieceLength, IsPrivate = isPrivate });
        return (TorrentMetainfo.Parse(torrent), content);
    }

    public async Task<SwarmSession> StartNodeAsync(long uploadLimit = 0, InMemoryLinkOptions? link = null, TrackerClientOptions? trackers = null, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        var address = IPAddress.Parse($"10.0.0.{_nextAddress++}");
        InMemoryTransport transport = link is null ? Network.CreateTransport(address) : Network.CreateTransport(address, link);
        var options = new SessionOptions { ListenEndPoint = new IPEndPoint(address, 6881), UploadRateLimit = uploadLimit, LoggerFactory = loggerFactory };
        return await StartNodeAsync(trackers is null ? options : options with { TrackerOptions = trackers }, transport);
    }

    /// <summary>Starts an in-memory node with the given limits, at the address of <paramref name="options"/>' endpoint.</summary>
    public Task<SwarmSession> StartNodeAsync(SessionOptions options)
        => StartNodeAsync(options, Network.CreateTransport(options.ListenEndPoint.Address));

    /// <summary>Starts an in-memory node at <paramref name="options"/>' address, over its transport as <paramref name="wrap"/> wraps it (to watch it).</summary>
    public Task<SwarmSession> StartNodeAsync(SessionOptions options, Func<IPeerTransport, IPeerTransport> wrap)
        => StartNodeAsync(options, wrap(Network.CreateTransport(options.ListenEndPoint.Address)));

    /// <summary>Starts a node on real TCP, listening on <paramref name="options"/>' endpoint (127.0.0.1 and a free port by default).</summary>
    public Task<SwarmSession> StartTcpNodeAsync(SessionOptions? options = null)
    {
        var transport = new TcpTransport();
        _tcpTransports.Add(transport);
        return StartNodeAsync(options ?? new SessionOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) }, transport);
    }

    private async Task<SwarmSession> StartNodeAsync(SessionOptions options, IPeerTransport transport)
    {
        var session = new SwarmSession(options, transport);
        _sessions.Add(session);
        await session.StartAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        return session;
    }

    /// <summary>Adds the torrent to a node as a seed of the content at <paramref name="content"/>.</summary>
    public static Task<TorrentSwarm> SeedAsync(SwarmSession node, TorrentMetainfo torrent, string content, TorrentOptions? options = null)
        => node.AddTorrentAsync(torrent, content, options ?? new TorrentOptions { UploadSlots = 0 }, null, TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);

    /// <summary>
    /// Adds the torrent to a node as a seed of <paramref name="content"/> that corrupts every block it uploads (a byte
    /// flipped in the middle) and unchokes every interested peer: its disk lies once its own check of the data is done.
    /// </summary>
    public static async Task<TorrentSwarm> SeedCorruptAsync(SwarmSession node, TorrentMetainfo torrent, string content)
    {
        bool armed = false;
        var disk = HookedFileSystem.CorruptingUploads(() => Volatile.Read(ref armed));
        TorrentSwarm seed = await node.AddTorrentAsync(torrent, content, new TorrentOptions { UploadSlots = 0 }, new StorageOptions { FileSystem = disk }, TestContext.Current.CancellationToken)
            .WaitAsync(Timeout, TestContext.Current.CancellationToken);
        Volatile.Write(ref armed, true);
        return seed;
    }

    /// <summary>Adds the torrent to a node that downloads into a fresh folder, connecting to <paramref name="peers"/>.</summary>
    public async Task<(TorrentSwarm Torrent, string Folder)> LeechAsync(SwarmSession node, TorrentMetainfo torrent, IEnumerable<SwarmSession> peers, TorrentOptions? options = null, string? folder = null)
    {
        folder ??= Path.Combine(Root, "download-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        options ??= new TorrentOptions { UploadSlots = 0 };
        options = options with { Peers = [.. options.Peers, .. peers.Select(p => p.LocalEndPoint!)] };
        TorrentSwarm swarm = await node.AddTorrentAsync(torrent, folder, options, null, TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        return (swarm, folder);
    }

    /// <summary>Waits for a download to complete; on timeout, fails with the torrent's internal state.</summary>
    public static async Task WaitCompletedAsync(TorrentSwarm torrent)
    {
        try
        {
            await torrent.Completed.WaitAsync(Timeout, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            Assert.Fail("download stalled:\n" + torrent.DescribeState());
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 20 ms; fails naming <paramref name="what"/> if it does not hold within <see cref="Timeout"/>.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, string what = "condition")
        => Poll.UntilAsync(condition, what, Timeout);

    /// <summary>Asserts every non-pad file of the torrent is byte-identical under both folders.</summary>
    public static void AssertSameFiles(TorrentMetainfo torrent, string expectedRoot, string actualRoot)
    {
        foreach (TorrentFile file in torrent.Files.Where(f => !f.IsPadFile))
        {
            byte[] expected = File.ReadAllBytes(Path.Combine(expectedRoot, file.Path));
            byte[] actual = File.ReadAllBytes(Path.Combine(actualRoot, file.Path));
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{file.Path} differs");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (SwarmSession session in _sessions)
        {
            await session.DisposeAsync().AsTask().WaitAsync(Timeout, TestContext.Current.CancellationToken);
        }

        foreach (TcpTransport transport in _tcpTransports)
        {
            await transport.DisposeAsync().AsTask().WaitAsync(Timeout, TestContext.Current.CancellationToken);
        }

        if (Environment.GetEnvironmentVariable("PEERNET_KEEP_TEMP") != "1")
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
