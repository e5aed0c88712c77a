using System.Net;
using PeerNet.Dht;
using PeerNet.Discovery.Dht;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Dht;

/// <summary>Many DHT nodes on one in-memory datagram network, each at its own 10.x.y.z address (BEP 42 exempt).</summary>
internal sealed class DhtTestNet : IAsyncDisposable
{
    public const int Port = 6881;

    private readonly Lock _lock = new();
    private readonly List<DhtNode> _nodes = [];
    private int _nextAddress = 1;

    public DhtTestNet(InMemoryDatagramOptions? options = null, int seed = 1)
    {
        Network = new InMemoryDatagramNetwork(options ?? new InMemoryDatagramOptions { Seed = seed, ReceiveQueueCapacity = 1024 });
        Random = new Random(seed);
    }

    public InMemoryDatagramNetwork Network { get; }

    public Random Random { get; }

    /// <summary>A snapshot of the running nodes.</summary>
    public IReadOnlyList<DhtNode> Nodes
    {
        get
        {
            lock (_lock)
            {
                return [.. _nodes];
            }
        }
    }

    public static DhtNodeOptions DefaultOptions { get; } = new()
    {
        BootstrapNodes = [],
        QueryTimeout = TimeSpan.FromMilliseconds(500),

        // The simulated nodes all talk to each other much more than real ones: lift the per-address limits.
        QueriesPerSecondPerAddress = 1_000_000,
        ReplyBytesPerSecondPerAddress = 1_000_000_000,
    };

    /// <summary>A network of <paramref name="nodes"/> nodes, each joined through running ones.</summary>
    public static async Task<DhtTestNet> StartAsync(int nodes, int seed, CancellationToken cancellationToken)
    {
        var net = new DhtTestNet(seed: seed);
        for (int i = 0; i < nodes; i++)
        {
            await net.AddAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }

        return net;
    }

    /// <summary>
    /// Sends a hand-made packet from <paramref name="socket"/> to <paramref name="node"/> and returns the first
    /// response or error; null when none comes within <paramref name="wait"/> (default 5 s). The node may ping the
    /// probe (it would like queriers in its table): its queries are skipped.
    /// </summary>
    public static async Task<KrpcMessage?> AskAsync(IDatagramSocket socket, IPEndPoint node, byte[] packet, CancellationToken cancellationToken, TimeSpan? wait = null)
    {
        await socket.SendAsync(packet, node, cancellationToken);
        var buffer = new byte[2048];
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(wait ?? TimeSpan.FromSeconds(5));
        try
        {
            while (true)
            {
                DatagramReceived r = await socket.ReceiveAsync(buffer, cts.Token);
                Assert.True(KrpcMessage.TryDecode(buffer.AsMemory(0, r.Length), out KrpcMessage? m, out _));
                if (m.Type != KrpcMessageType.Query)
                {
                    return m;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    public IPAddress NextAddress()
    {
        int n = Interlocked.Increment(ref _nextAddress) - 1;
        return new IPAddress([10, (byte)(n >> 16), (byte)(n >> 8), (byte)n]);
    }

    /// <summary>Starts a node bootstrapping from up to three random running nodes.</summary>
    public async Task<DhtNode> AddAsync(CancellationToken cancellationToken, Func<DhtNodeOptions, DhtNodeOptions>? configure = null)
    {
        var bootstrap = new List<string>();
        int seed;
        lock (_lock)
        {
            for (int i = 0; i < 3 && _nodes.Count > 0; i++)
            {
                bootstrap.Add(_nodes[Random.Next(_nodes.Count)].LocalEndPoint.ToString());
            }

            seed = Random.Next();
        }

        DhtNodeOptions options = DefaultOptions with { BindEndPoint = new IPEndPoint(NextAddress(), Port), BootstrapNodes = bootstrap };
        options = configure?.Invoke(options) ?? options;
        var node = new DhtNode(options, Network, TimeProvider.System, new Random(seed));
        await node.StartAsync(cancellationToken);
        lock (_lock)
        {
            _nodes.Add(node);
        }

        return node;
    }

    /// <summary>Stops and removes a node (it leaves silently, as a crashed peer would).</summary>
    public async Task RemoveAsync(DhtNode node)
    {
        lock (_lock)
        {
            _nodes.Remove(node);
        }

        await node.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (DhtNode node in Nodes)
        {
            await node.DisposeAsync();
        }

        lock (_lock)
        {
            _nodes.Clear();
        }
    }
}
