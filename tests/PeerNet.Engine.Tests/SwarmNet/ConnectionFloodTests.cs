using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// Issue 6 over real TCP loopback: slowloris handshakes and 10,000 connection attempts against a seeding node.
/// Attackers are raw sockets bound to their own loopback addresses (127.0.1.x), honest peers come from
/// 127.0.0.1. Every attacker socket is closed with a reset (linger 0), as the node closes the ones it refuses,
/// so no TIME_WAIT is left to exhaust ephemeral ports however often the test runs.
/// </summary>
[Collection(MeasuredCollection.Name)]
public sealed class ConnectionFloodTests
{
    private const int FloodAttempts = 10_000;
    private const int FloodConcurrency = 128;
    private const int FloodAddresses = 16;

    /// <summary>Bound on the managed heap's growth over the whole attack, measured after a full collection.</summary>
    private const long HeapGrowthBound = 16L * 1024 * 1024;

    /// <summary>Bound on how far the managed heap (garbage included) rises above its start during the flood.</summary>
    private const long HeapPeakBound = 96L * 1024 * 1024;

    /// <summary>Bound on the process working set's growth over the whole attack (thread-pool threads and GC segments included).</summary>
    private const long WorkingSetGrowthBound = 128L * 1024 * 1024;

    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Small caps so that a short attack reaches them: 40 connections, 32 handshakes pending, 8 of them per address.</summary>
    private static readonly SessionOptions Limits = new()
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        MaxConnections = 40,
        MaxPendingHandshakes = 32,
        MaxPendingHandshakesPerAddress = 8,
        HandshakeTimeout = HandshakeTimeout,
        PeerLimits = new PeerLimits { MaxConnectionsPerAddress = 40 }, // every attacker is on 127.0.0.1: the node-wide caps are under test
    };

    [Fact]
    public async Task Slowloris_HandshakesTimeOut_PerAddressCapHolds_HonestLeecherServedMeanwhile()
    {
        const int Addresses = 3;
        const int PerAddress = 20;
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [1_000_000]);
        SwarmSession seeder = await harness.StartTcpNodeAsync(Limits);
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        byte[] handshake = HandshakeFor(torrent);

        await using var monitor = new CapMonitor(seeder);
        Task<TimeSpan>[] slow = [.. Enumerable.Range(0, Addresses * PerAddress).Select(i => SlowHandshakeAsync(Attacker(i % Addresses), seeder.LocalEndPoint!, handshake, TestContext.Current.CancellationToken))];
        await SwarmHarness.WaitUntilAsync(() => seeder.PendingHandshakeCount == Addresses * Limits.MaxPendingHandshakesPerAddress);

        // Meanwhile an honest node downloads the whole torrent from the same node.
        SwarmSession leecher = await harness.StartTcpNodeAsync();
        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, [seeder]);
        await SwarmHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);

        TimeSpan[] closedAfter = await Task.WhenAll(slow).WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        int timedOut = closedAfter.Count(t => t >= HandshakeTimeout * 0.9);
        TestContext.Current.TestOutputHelper?.WriteLine($"most pending {monitor.MostPending}, most connected {monitor.MostConnected}; {timedOut} slow handshakes timed out, the rest refused; closed after ms: {string.Join(' ', closedAfter.Select(t => (int)t.TotalMilliseconds).Order())}");

        // One byte every 200 ms would take 14 s to finish: the timeout covers the whole handshake, not each read.
        Assert.All(closedAfter, t => Assert.True(t < HandshakeTimeout + TimeSpan.FromSeconds(4), $"a slow handshake stayed open {t.TotalMilliseconds:F0} ms"));
        Assert.InRange(timedOut, Addresses, Addresses * Limits.MaxPendingHandshakesPerAddress);
        Assert.InRange(monitor.MostPending, 1, (Addresses * Limits.MaxPendingHandshakesPerAddress) + 1); // + the leecher's own
        Assert.True(monitor.MostConnected <= Limits.MaxConnections);
        Assert.Equal(0, seeder.PendingHandshakeCount);
    }

    [Fact]
    public async Task TenThousandConnects_StayAtCaps_MemoryBounded_HonestPeerServedDuringAndAfter()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [1_000_000]);
        byte[] data = await File.ReadAllBytesAsync(Path.Combine(content, "data.bin"), TestContext.Current.CancellationToken);
        SwarmSession seeder = await harness.StartTcpNodeAsync(Limits);
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        byte[] handshake = HandshakeFor(torrent);
        await using var client = new TcpTransport();
        await using RawPeer honest = await RawPeer.ConnectAsync(client, seeder.LocalEndPoint!, torrent.InfoHashes.WireHash);
        await honest.BecomeInterestedAsync();
        (long heapBefore, long workingSetBefore) = ProcessMemory.Measure();

        var clock = Stopwatch.StartNew();
        await using var monitor = new CapMonitor(seeder);
        int refused = 0;
        // 10,000 attempts that send part of a handshake or nothing, and wait to be timed out or refused.
        Task flood = Parallel.ForEachAsync(Enumerable.Range(0, FloodAttempts), new ParallelOptions { MaxDegreeOfParallelism = FloodConcurrency, CancellationToken = TestContext.Current.CancellationToken }, async (i, token) =>
        {
            Socket? socket = await ConnectFromAsync(Attacker(i % FloodAddresses), seeder.LocalEndPoint!, token);
            if (socket is null)
            {
                Interlocked.Increment(ref refused);
                return;
            }

            try
            {
                await SendQuietlyAsync(socket, handshake.AsMemory(0, 16 * (i % 5)), token);
                if (await WaitClosedAsync(socket, token) < TimeSpan.FromMilliseconds(100))
                {
                    Interlocked.Increment(ref refused);
                }
            }
            finally
            {
                Reset(socket);
            }
        });

        // Meanwhile idle but valid peers, retrying until they get in, fill the connection cap (with the honest one).
        var held = new ConcurrentBag<Socket>();
        Task fill = Task.WhenAll(Enumerable.Range(0, Limits.MaxConnections - 1).Select(i => HoldIdlePeerAsync(Filler(i % 8), seeder.LocalEndPoint!, TestPeerIds.WithNewPeerId(handshake), held)));

        // The peer that was already connected is served throughout: each request answered within 2 s.
        var latencies = new List<TimeSpan>();
        for (int i = 0; !flood.IsCompleted || !fill.IsCompleted; i = (i + 1) % (data.Length / PeerWireLimits.BlockLength))
        {
            long start = Stopwatch.GetTimestamp();
            byte[] block = await honest.RequestAsync(i * PeerWireLimits.BlockLength / (int)torrent.PieceLength, i * PeerWireLimits.BlockLength % (int)torrent.PieceLength, PeerWireLimits.BlockLength, SwarmHarness.Timeout);
            latencies.Add(Stopwatch.GetElapsedTime(start));
            Assert.True(data.AsSpan(i * PeerWireLimits.BlockLength, PeerWireLimits.BlockLength).SequenceEqual(block));
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        await Task.WhenAll(flood, fill).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        TimeSpan floodTime = clock.Elapsed;

        // At the cap, even a valid handshake is refused.
        for (int i = 0; i < 20; i++)
        {
            Socket? extra = await ConnectFromAsync(Filler(i % 8), seeder.LocalEndPoint!, TestContext.Current.CancellationToken);
            if (extra is not null)
            {
                Assert.False(await TryHandshakeAsync(extra, TestPeerIds.WithNewPeerId(handshake), TestContext.Current.CancellationToken), "a valid peer got in past the connection cap");
                Reset(extra);
            }
        }

        int heldCount = held.Count;
        foreach (Socket socket in held)
        {
            Reset(socket);
        }

        (long heapPeak, long workingSetPeak) = (monitor.MostHeap, monitor.MostWorkingSet);
        await monitor.DisposeAsync();
        TestContext.Current.TestOutputHelper?.WriteLine($"{FloodAttempts} attempts in {floodTime.TotalSeconds:F1} s: {refused} refused at once; {heldCount} idle peers held; most pending {monitor.MostPending}, most connected {monitor.MostConnected}; {latencies.Count} requests meanwhile, slowest {latencies.Max().TotalMilliseconds:F0} ms; heap peak +{(heapPeak - heapBefore) / 1024} KiB, working set peak +{(workingSetPeak - workingSetBefore) / 1024} KiB");

        Assert.True(monitor.MostPending <= Limits.MaxPendingHandshakes, $"{monitor.MostPending} handshakes pending at once");
        Assert.Equal(Limits.MaxConnections, monitor.MostConnected); // reached, never passed
        Assert.True(refused > FloodAttempts / 2, $"only {refused} attempts were refused at once");
        Assert.All(latencies, l => Assert.True(l < TimeSpan.FromSeconds(2), $"a request took {l.TotalMilliseconds:F0} ms during the flood"));

        // Afterwards the held sockets are gone and an honest node downloads everything.
        await SwarmHarness.WaitUntilAsync(() => seeder.ConnectionCount == 1 && seeder.PendingHandshakeCount == 0);
        SwarmSession leecher = await harness.StartTcpNodeAsync();
        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, [seeder]);
        await SwarmHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);

        (long heapAfter, long workingSetAfter) = ProcessMemory.Measure();
        TestContext.Current.TestOutputHelper?.WriteLine($"after: heap +{(heapAfter - heapBefore) / 1024} KiB, working set +{(workingSetAfter - workingSetBefore) / 1024} KiB");
        Assert.True(heapPeak - heapBefore < HeapPeakBound, $"the heap peaked {heapPeak - heapBefore} bytes above its start");
        Assert.True(heapAfter - heapBefore < HeapGrowthBound, $"the heap grew by {heapAfter - heapBefore} bytes");
        Assert.True(workingSetAfter - workingSetBefore < WorkingSetGrowthBound, $"the working set grew by {workingSetAfter - workingSetBefore} bytes");
    }

    /// <summary>Connects and handshakes, again every 20 ms (for at most 20 s) until the node keeps the connection.</summary>
    private static async Task HoldIdlePeerAsync(IPAddress source, IPEndPoint target, byte[] handshake, ConcurrentBag<Socket> held)
    {
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            Socket? socket = await ConnectFromAsync(source, target, TestContext.Current.CancellationToken);
            if (socket is not null)
            {
                if (await TryHandshakeAsync(socket, handshake, TestContext.Current.CancellationToken))
                {
                    held.Add(socket);
                    return;
                }

                Reset(socket);
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    private static IPAddress Filler(int index) => new([127, 0, 2, (byte)(index + 1)]);

    private static IPAddress Attacker(int index) => new([127, 0, 1, (byte)(index + 1)]);

    private static byte[] HandshakeFor(TorrentMetainfo torrent)
    {
        byte[] handshake = new byte[Handshake.Length];
        new Handshake(HandshakeReserved.FastExtension, torrent.InfoHashes.WireHash, TestPeerIds.Next()).WriteTo(handshake);
        return handshake;
    }

    /// <summary>Connects from <paramref name="source"/>; null when the node reset the connection before the connect completed.</summary>
    private static async Task<Socket?> ConnectFromAsync(IPAddress source, IPEndPoint target, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(target, cancellationToken).AsTask().WaitAsync(SwarmHarness.Timeout, cancellationToken);
            return socket;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused)
        {
            socket.Dispose();
            return null;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends a whole handshake and reads the node's; false if the node closed instead.</summary>
    private static async Task<bool> TryHandshakeAsync(Socket socket, byte[] handshake, CancellationToken cancellationToken)
    {
        if (!await SendQuietlyAsync(socket, handshake, cancellationToken))
        {
            return false;
        }

        byte[] answer = new byte[Handshake.Length];
        try
        {
            int read = await socket.ReceiveAsync(answer.AsMemory(), cancellationToken).AsTask().WaitAsync(SwarmHarness.Timeout, cancellationToken);
            return read > 0; // the node answers only after the info-hash matched
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Sends; false when the node has already closed.</summary>
    private static async Task<bool> SendQuietlyAsync(Socket socket, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        try
        {
            await socket.SendAsync(bytes, cancellationToken).AsTask().WaitAsync(SwarmHarness.Timeout, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Reads until the node closes or resets the connection; returns how long that took.</summary>
    private static async Task<TimeSpan> WaitClosedAsync(Socket socket, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        byte[] sink = new byte[256];
        try
        {
            while (await socket.ReceiveAsync(sink.AsMemory(), cancellationToken).AsTask().WaitAsync(SwarmHarness.Timeout, cancellationToken) > 0)
            {
            }
        }
        catch (SocketException)
        {
        }

        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>Connects from <paramref name="source"/>, then sends a valid handshake one byte every 200 ms until the node closes; returns how long it stayed open.</summary>
    private static async Task<TimeSpan> SlowHandshakeAsync(IPAddress source, IPEndPoint target, byte[] handshake, CancellationToken cancellationToken)
    {
        Socket? socket = await ConnectFromAsync(source, target, cancellationToken);
        if (socket is null)
        {
            return TimeSpan.Zero; // refused before the connect completed
        }

        try
        {
            Task<TimeSpan> closed = WaitClosedAsync(socket, cancellationToken);
            for (int i = 0; i < handshake.Length && !closed.IsCompleted; i++)
            {
                await SendQuietlyAsync(socket, handshake.AsMemory(i, 1), cancellationToken);
                await Task.WhenAny(closed, Task.Delay(200, cancellationToken));
            }

            return await closed;
        }
        finally
        {
            Reset(socket);
        }
    }

    /// <summary>Closes with a reset (linger 0): no TIME_WAIT is left behind.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }

        socket.Dispose();
    }

    /// <summary>Samples a node's pending handshakes and connections, and the process's memory, every few milliseconds.</summary>
    private sealed class CapMonitor : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public CapMonitor(SwarmSession session) => _loop = Task.Run(() => SampleAsync(session));

        public int MostPending { get; private set; }

        public int MostConnected { get; private set; }

        public long MostHeap { get; private set; }

        public long MostWorkingSet { get; private set; }

        private async Task SampleAsync(SwarmSession session)
        {
            using var process = Process.GetCurrentProcess();
            for (int i = 0; !_stop.IsCancellationRequested; i++)
            {
                MostPending = Math.Max(MostPending, session.PendingHandshakeCount);
                MostConnected = Math.Max(MostConnected, session.ConnectionCount);
                if (i % 50 == 0)
                {
                    process.Refresh();
                    MostHeap = Math.Max(MostHeap, GC.GetTotalMemory(forceFullCollection: false));
                    MostWorkingSet = Math.Max(MostWorkingSet, process.WorkingSet64);
                }

                await Task.Delay(2, CancellationToken.None);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_stop.IsCancellationRequested)
            {
                await _stop.CancelAsync();
                await _loop;
            }

            _stop.Dispose();
        }
    }
}
