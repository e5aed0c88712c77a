using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// Issue 6: memory per connection, with 500 idle peers connected to one seeding node after the handshake and the
/// piece-set exchange (each peer announces half the pieces; the node sends have-all and its extension handshake).
/// The managed heap is measured after a full collection, the working set from the OS, both before the peers
/// connect and once all 500 are attached; the difference is divided by 500. Over TCP the peers are bare sockets,
/// so the figure is nearly all the node's; in memory both ends are pipes in this process, so a calibration run
/// (the same connections to a bare listener) measures the transport pair, and half of it is the peers' side.
/// The working set is reported but is mostly noise at this scale: the GC reuses memory it already holds.
/// </summary>
/// <remarks>
/// Figures: <c>PEERNET_MEMORY_BENCH=1 dotnet test -c Release --project tests/PeerNet.Engine.Tests --filter-class
/// "*ConnectionMemoryTests" --output Detailed</c> (docs/performance.md, "Memory per connection").
/// </remarks>
[Collection(MeasuredCollection.Name)]
public sealed class ConnectionMemoryTests
{
    private const int IdlePeers = 500;

    /// <summary>
    /// Generous bounds, per idle connection: the measured heap is about 8.5 KiB in memory and 12 KiB over TCP
    /// (docs/performance.md), so these only catch a regression of the kind "a 64 KiB buffer held by every idle peer".
    /// </summary>
    private const long HeapPerConnectionBound = 48 * 1024;

    private const long WorkingSetPerConnectionBound = 256 * 1024;

    public enum Network
    {
        InMemory,
        Tcp,
    }

    [Theory]
    [InlineData(Network.InMemory)]
    [InlineData(Network.Tcp)]
    public async Task IdlePeers500_MemoryPerConnection_StaysWithinBound(Network network)
    {
        Figures figures = await MeasureAsync(network);
        TestContext.Current.TestOutputHelper?.WriteLine(figures.ToString());
        Assert.True(figures.HeapPerConnection < HeapPerConnectionBound, figures.ToString());
        Assert.True(figures.WorkingSetPerConnection < WorkingSetPerConnectionBound, figures.ToString());
    }

    [Theory]
    [InlineData(Network.InMemory)]
    [InlineData(Network.Tcp)]
    public async Task IdlePeers500_MemoryPerConnection_Measure(Network network)
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("PEERNET_MEMORY_BENCH") == "1", "Set PEERNET_MEMORY_BENCH=1 to measure memory per connection.");
        for (int run = 0; run < 3; run++)
        {
            Figures figures = await MeasureAsync(network);
            TestContext.Current.TestOutputHelper?.WriteLine($"run {run + 1}: {figures}");
        }

        for (int run = 0; run < 3; run++)
        {
            (long heap, long workingSet) = await MeasureTransportAsync(network);
            TestContext.Current.TestOutputHelper?.WriteLine($"transport alone {run + 1}: {(network == Network.Tcp ? "an accepted TCP connection" : "an in-memory connection pair (both ends)")} costs {heap / 1024.0:F1} KiB heap, {workingSet / 1024.0:F1} KiB working set");
        }
    }

    private static async Task<Figures> MeasureAsync(Network network)
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [1_000_000], pieceLength: 32 * 1024);
        var limits = new SessionOptions
        {
            ListenEndPoint = new IPEndPoint(network == Network.Tcp ? IPAddress.Loopback : IPAddress.Parse("10.0.1.1"), network == Network.Tcp ? 0 : 6881),
            MaxConnections = 2 * IdlePeers,
            MaxPendingHandshakes = 64,
            MaxPendingHandshakesPerAddress = 64,
            PeerLimits = new PeerLimits { MaxConnectionsPerAddress = 2 * IdlePeers }, // the idle peers share 127.0.0.1
        };
        SwarmSession node = network == Network.Tcp ? await harness.StartTcpNodeAsync(limits) : await harness.StartNodeAsync(limits);
        await SwarmHarness.SeedAsync(node, torrent, content, new TorrentOptions { MaxConnections = 2 * IdlePeers });
        byte[] opening = Opening(torrent);
        Func<Task<IAsyncDisposable>> connect = network == Network.Tcp
            ? async () => await IdleSocket.ConnectAsync(node.LocalEndPoint!, TestPeerIds.WithNewPeerId(opening))
            : async () => await IdleMemoryPeer.ConnectAsync(harness.Network, node.LocalEndPoint!, TestPeerIds.WithNewPeerId(opening));

        // Warm up (JIT, pools, the thread pool's size), so that one-time costs are not counted per connection.
        await DisposeAllAsync(await ConnectManyAsync(connect, 50));
        await SwarmHarness.WaitUntilAsync(() => node.ConnectionCount == 0);
        await Task.Delay(500, TestContext.Current.CancellationToken); // their closes finish on the thread pool
        (long heapBefore, long workingSetBefore) = ProcessMemory.Measure();

        List<IAsyncDisposable> peers = await ConnectManyAsync(connect, IdlePeers);
        await SwarmHarness.WaitUntilAsync(() => node.ConnectionCount == IdlePeers && node.Torrents.Single().PeerCount == IdlePeers);
        await Task.Delay(200, TestContext.Current.CancellationToken); // let the loops settle into their idle waits
        (long heapAfter, long workingSetAfter) = ProcessMemory.Measure();
        Assert.Equal(IdlePeers, node.ConnectionCount);
        await DisposeAllAsync(peers);
        return new Figures(network, (heapAfter - heapBefore) / IdlePeers, (workingSetAfter - workingSetBefore) / IdlePeers);
    }

    /// <summary>
    /// The transport alone: <see cref="IdlePeers"/> connections accepted by a bare listener. In memory both ends
    /// are counted; over TCP the accepted end only (the client is a bare socket).
    /// </summary>
    private static async Task<(long Heap, long WorkingSet)> MeasureTransportAsync(Network network)
    {
        var memory = new InMemoryNetwork();
        await using IPeerTransport server = network == Network.Tcp ? new TcpTransport() : memory.CreateTransport(IPAddress.Parse("10.0.1.1"));
        InMemoryTransport client = memory.CreateTransport(IPAddress.Parse("10.0.1.2"));
        await using IPeerListener listener = await server.ListenAsync(new IPEndPoint(network == Network.Tcp ? IPAddress.Loopback : IPAddress.Parse("10.0.1.1"), network == Network.Tcp ? 0 : 6881), TestContext.Current.CancellationToken);
        await Task.Delay(500, TestContext.Current.CancellationToken); // what an earlier run released settles first
        (long heapBefore, long workingSetBefore) = ProcessMemory.Measure();
        var connections = new List<IAsyncDisposable>();
        for (int i = 0; i < IdlePeers; i++)
        {
            if (network == Network.Tcp)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(listener.LocalEndPoint, TestContext.Current.CancellationToken);
                connections.Add(new IdleSocket(socket));
            }
            else
            {
                connections.Add(await client.ConnectAsync(listener.LocalEndPoint, TestContext.Current.CancellationToken));
            }

            connections.Add(await listener.AcceptAsync(TestContext.Current.CancellationToken));
        }

        (long heapAfter, long workingSetAfter) = ProcessMemory.Measure();
        await DisposeAllAsync(connections);
        await client.DisposeAsync();
        return ((heapAfter - heapBefore) / IdlePeers, (workingSetAfter - workingSetBefore) / IdlePeers);
    }

    /// <summary>What an idle peer sends: the handshake (fast and extension bits), then a bitfield with every other piece.</summary>
    private static byte[] Opening(TorrentMetainfo torrent)
    {
        int bits = (torrent.PieceCount + 7) / 8;
        byte[] opening = new byte[Handshake.Length + PeerMessageWriter.BitfieldHeaderLength + bits];
        new Handshake(HandshakeReserved.FastExtension | HandshakeReserved.ExtensionProtocol, torrent.InfoHashes.WireHash, TestPeerIds.Next()).WriteTo(opening);
        PeerMessageWriter.WriteBitfieldHeader(opening.AsSpan(Handshake.Length), bits);
        Span<byte> field = opening.AsSpan(Handshake.Length + PeerMessageWriter.BitfieldHeaderLength);
        for (int piece = 0; piece < torrent.PieceCount; piece += 2)
        {
            field[piece / 8] |= (byte)(0x80 >> (piece % 8));
        }

        return opening;
    }

    private static async Task<List<IAsyncDisposable>> ConnectManyAsync(Func<Task<IAsyncDisposable>> connect, int count)
    {
        var peers = new List<IAsyncDisposable>(count);
        for (int done = 0; done < count; done += 25)
        {
            peers.AddRange(await Task.WhenAll(Enumerable.Range(0, Math.Min(25, count - done)).Select(_ => connect())).WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken));
        }

        return peers;
    }

    private static async Task DisposeAllAsync(List<IAsyncDisposable> peers)
    {
        foreach (IAsyncDisposable peer in peers)
        {
            await peer.DisposeAsync();
        }
    }

    private sealed record Figures(Network Network, long HeapPerConnection, long WorkingSetPerConnection)
    {
        public override string ToString() => $"{Network}, {IdlePeers} idle peers: {HeapPerConnection / 1024.0:F1} KiB managed heap and {WorkingSetPerConnection / 1024.0:F1} KiB working set per connection";
    }

    /// <summary>Reads frames after the node's handshake until have-all, the node's piece set, has arrived.</summary>
    private static bool SawHaveAll(ReadOnlySpan<byte> received)
    {
        if (received.Length < Handshake.Length)
        {
            return false;
        }

        for (ReadOnlySpan<byte> rest = received[Handshake.Length..]; rest.Length >= 5;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(rest);
            if (length > 0 && rest[4] == (byte)PeerMessageId.HaveAll)
            {
                return true;
            }

            if (rest.Length < 4 + length)
            {
                return false;
            }

            rest = rest[(4 + length)..];
        }

        return false;
    }

    /// <summary>An idle peer over TCP as a bare socket (no pipes), so that what is measured is the node's side.</summary>
    private sealed class IdleSocket(Socket socket) : IAsyncDisposable
    {
        public static async Task<IdleSocket> ConnectAsync(IPEndPoint target, byte[] opening)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(target, TestContext.Current.CancellationToken);
                await socket.SendAsync(opening, TestContext.Current.CancellationToken);
                byte[] received = new byte[4096];
                int length = 0;
                while (!SawHaveAll(received.AsSpan(0, length)))
                {
                    int read = await socket.ReceiveAsync(received.AsMemory(length), TestContext.Current.CancellationToken).AsTask().WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
                    Assert.True(read > 0, "the node closed an idle peer during the exchange");
                    length += read;
                }

                return new IdleSocket(socket);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        public ValueTask DisposeAsync()
        {
            socket.LingerState = new LingerOption(true, 0); // a reset: no TIME_WAIT left behind
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>An idle peer on the in-memory network, from an address of its own.</summary>
    private sealed class IdleMemoryPeer(IDuplexConnection connection) : IAsyncDisposable
    {
        private static int _next;

        public static async Task<IdleMemoryPeer> ConnectAsync(InMemoryNetwork network, IPEndPoint target, byte[] opening)
        {
            int n = Interlocked.Increment(ref _next);
            InMemoryTransport transport = network.CreateTransport(new IPAddress([10, 9, (byte)(n >> 8), (byte)n]));
            IDuplexConnection connection = await transport.ConnectAsync(target, TestContext.Current.CancellationToken).AsTask().WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
            await connection.Output.WriteAsync(opening, TestContext.Current.CancellationToken);
            while (true)
            {
                System.IO.Pipelines.ReadResult result = await connection.Input.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
                byte[] received = result.Buffer.ToArray();
                Assert.False(result.IsCompleted, "the node closed an idle peer during the exchange");
                if (SawHaveAll(received))
                {
                    connection.Input.AdvanceTo(result.Buffer.End);
                    return new IdleMemoryPeer(connection);
                }

                connection.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }

        public async ValueTask DisposeAsync()
        {
            connection.Abort();
            await connection.DisposeAsync();
        }
    }
}
