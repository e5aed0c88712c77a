using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Transport;
using static PeerNet.Engine.Tests.Transport.TransportTestKit;

namespace PeerNet.Engine.Tests.Transport;

/// <summary>What only the in-memory network does: addresses and ports, bandwidth caps, latency, many nodes.</summary>
public sealed class InMemoryNetworkTests
{
    private static IPAddress Node(int i) => new([127, 3, (byte)(i >> 8), (byte)(i & 0xFF)]);

    [Fact]
    public async Task BandwidthCap_2MBps_4MBTakesTwoSecondsOfTheClock()
    {
        var time = new FakeTimeProvider();
        var network = new InMemoryNetwork(time);
        await using InMemoryTransport capped = network.CreateTransport(Node(1), new InMemoryLinkOptions { BytesPerSecond = 2_000_000 });
        await using InMemoryTransport receiver = network.CreateTransport(Node(2));
        (IPeerListener listener, IDuplexConnection client, IDuplexConnection server) = await ConnectPairAsync(receiver, capped, new IPEndPoint(Node(2), 0));
        await using IPeerListener _ = listener;
        const long n = 4_000_000;

        Task write = WriteStreamAsync(client.Output, n, seed: 6, chunk: 16 * 1024);
        Task read = ReadStreamAsync(server.Input, n, seed: 6);
        TimeSpan clock = await RunClockUntilDeliveredAsync(time, () => server.BytesReceived, n, 2_000_000, [write, read]);
        await Task.WhenAll(write, read).WaitAsync(TestTimeout, Ct);

        TestContext.Current.TestOutputHelper?.WriteLine($"4 MB at 2 MB/s: {clock.TotalSeconds:F2} s of the clock");
        Assert.InRange(clock.TotalSeconds, 1.95, 2.1);
        Assert.Equal(n, client.BytesSent);
        Assert.Equal(n, server.BytesReceived);
    }

    [Fact]
    public async Task BandwidthCap_IsTheNodesUpload_SharedByItsConnections()
    {
        var time = new FakeTimeProvider();
        var network = new InMemoryNetwork(time);
        await using InMemoryTransport capped = network.CreateTransport(Node(1), new InMemoryLinkOptions { BytesPerSecond = 2_000_000 });
        await using InMemoryTransport a = network.CreateTransport(Node(2));
        await using InMemoryTransport b = network.CreateTransport(Node(3));
        (IPeerListener la, IDuplexConnection toA, IDuplexConnection atA) = await ConnectPairAsync(a, capped, new IPEndPoint(Node(2), 0));
        (IPeerListener lb, IDuplexConnection toB, IDuplexConnection atB) = await ConnectPairAsync(b, capped, new IPEndPoint(Node(3), 0));
        await using IPeerListener _ = la, __ = lb;
        const long n = 2_000_000;

        Task[] streams =
        [
            WriteStreamAsync(toA.Output, n, seed: 7, chunk: 16 * 1024),
            WriteStreamAsync(toB.Output, n, seed: 8, chunk: 16 * 1024),
            ReadStreamAsync(atA.Input, n, seed: 7),
            ReadStreamAsync(atB.Input, n, seed: 8),
        ];
        TimeSpan clock = await RunClockUntilDeliveredAsync(time, () => atA.BytesReceived + atB.BytesReceived, 2 * n, 2_000_000, streams);
        await Task.WhenAll(streams).WaitAsync(TestTimeout, Ct);

        TestContext.Current.TestOutputHelper?.WriteLine($"2 x 2 MB at 2 MB/s shared: {clock.TotalSeconds:F2} s of the clock");
        Assert.InRange(clock.TotalSeconds, 1.95, 2.1);
    }

    /// <summary>
    /// Moves the fake clock in 50 ms steps until <paramref name="total"/> bytes were delivered, and returns the clock time
    /// that took. After each step it waits (boundedly) for the link to deliver what the rate allows by then, and checks
    /// that it delivered no more: the cap is measured on the clock the node runs on, not on a busy machine's wall clock.
    /// </summary>
    private static async Task<TimeSpan> RunClockUntilDeliveredAsync(FakeTimeProvider time, Func<long> delivered, long total, long bytesPerSecond, Task[] streams)
    {
        // The node's bucket hands out ~10 ms of traffic at a time: it starts with one such quantum and may keep back
        // less than one between steps. A 50 ms step stays under its 100 ms burst, so nothing accrued is lost.
        long slack = bytesPerSecond / 100;
        TimeSpan step = TimeSpan.FromMilliseconds(50);
        TimeSpan clock = TimeSpan.Zero;
        while (delivered() < total)
        {
            Assert.True(clock < TimeSpan.FromSeconds(10), $"only {delivered()} of {total} bytes after {clock.TotalSeconds:F2} s of the clock");
            time.Advance(step);
            clock += step;
            long allowed = (long)(bytesPerSecond * clock.TotalSeconds);
            await Poll.UntilAsync(
                () => delivered() >= Math.Min(total, allowed - slack),
                $"{Math.Min(total, allowed - slack)} bytes delivered after {clock.TotalMilliseconds} ms of the clock (got {delivered()})",
                TestTimeout,
                TimeSpan.FromMilliseconds(1),
                watched: streams);
            Assert.True(delivered() <= allowed + slack, $"{delivered()} bytes delivered after {clock.TotalMilliseconds} ms of the clock at {bytesPerSecond} B/s");
        }

        return clock;
    }

    [Fact]
    public async Task Latency_DelaysConnectByARoundTrip_AndEveryByteByOneWay_OnTheInjectedClock()
    {
        var time = new FakeTimeProvider();
        var network = new InMemoryNetwork(time);
        var link = new InMemoryLinkOptions { Latency = TimeSpan.FromMilliseconds(50) };
        await using InMemoryTransport server = network.CreateTransport(Node(1), link);
        await using InMemoryTransport client = network.CreateTransport(Node(2), link);
        await using IPeerListener listener = await server.ListenAsync(new IPEndPoint(Node(1), 6881), Ct);

        Task<IDuplexConnection> connect = client.ConnectAsync(listener.LocalEndPoint, Ct).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(99));
        await Task.Delay(50, Ct);
        Assert.False(connect.IsCompleted, "The connect finished before a round trip.");
        time.Advance(TimeSpan.FromMilliseconds(1));
        await using IDuplexConnection clientEnd = await connect.WaitAsync(TestTimeout, Ct);
        await using IDuplexConnection serverEnd = await listener.AcceptAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct);

        await WriteAsync(clientEnd.Output, [1, 2, 3]).WaitAsync(TestTimeout, Ct);
        Task<byte[]> read = ReadExactlyAsync(serverEnd.Input, 3);
        time.Advance(TimeSpan.FromMilliseconds(49));
        await Task.Delay(100, Ct);
        Assert.False(read.IsCompleted, "Bytes arrived before the latency passed.");
        Assert.Equal(3, clientEnd.BytesSent);
        Assert.Equal(0, serverEnd.BytesReceived);
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal([1, 2, 3], await read.WaitAsync(TestTimeout, Ct));
        Assert.Equal(3, serverEnd.BytesReceived);
    }

    [Fact]
    public async Task TokenBucket_HandsOutQuanta_PacedByTheClock_AndBanksAtMostTheBurst()
    {
        var time = new FakeTimeProvider();
        var bucket = TokenBucket.ForLink(100_000, time); // Quantum 1,000 B (10 ms), burst 10,000 B (100 ms).

        Assert.Equal(1000, await bucket.TakeUpToAsync(64 * 1024, Ct).AsTask().WaitAsync(TestTimeout, Ct));
        Task<int> next = bucket.TakeUpToAsync(64 * 1024, Ct).AsTask();
        await Task.Delay(50, Ct);
        Assert.False(next.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(1000, await next.WaitAsync(TestTimeout, Ct));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(10_000, await bucket.TakeUpToAsync(64 * 1024, Ct).AsTask().WaitAsync(TestTimeout, Ct));
        time.Advance(TimeSpan.FromMilliseconds(3));
        Assert.Equal(200, await bucket.TakeUpToAsync(200, Ct).AsTask().WaitAsync(TestTimeout, Ct));
    }

    [Fact]
    public async Task Ring_200Nodes_EachConnectsToTheNext_AndTheyExchangeTheirNumbers()
    {
        const int nodes = 200;
        var network = new InMemoryNetwork();
        InMemoryTransport[] transports = [.. Enumerable.Range(0, nodes).Select(i => network.CreateTransport(Node(i + 1)))];
        IPeerListener[] listeners = new IPeerListener[nodes];
        for (int i = 0; i < nodes; i++)
        {
            listeners[i] = await transports[i].ListenAsync(new IPEndPoint(IPAddress.Any, 6881), Ct);
            Assert.Equal(new IPEndPoint(Node(i + 1), 6881), listeners[i].LocalEndPoint);
        }

        await Task.WhenAll(Enumerable.Range(0, nodes).Select(async i =>
        {
            int next = (i + 1) % nodes;
            int previous = (i + nodes - 1) % nodes;
            ValueTask<IDuplexConnection> accept = listeners[i].AcceptAsync(Ct);
            await using IDuplexConnection outbound = await transports[i].ConnectAsync(listeners[next].LocalEndPoint, Ct);
            await using IDuplexConnection inbound = await accept;

            Assert.Equal(transports[previous].Address, inbound.RemoteEndPoint.Address);
            await WriteAsync(outbound.Output, Number(i));
            Assert.Equal(Number(previous), await ReadExactlyAsync(inbound.Input, 4));
            await WriteAsync(inbound.Output, Number(i));
            Assert.Equal(Number(next), await ReadExactlyAsync(outbound.Input, 4));
        })).WaitAsync(TestTimeout, Ct);

        foreach (InMemoryTransport transport in transports)
        {
            await transport.DisposeAsync();
        }

        static byte[] Number(int i)
        {
            byte[] bytes = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(bytes, i);
            return bytes;
        }
    }

    [Fact]
    public async Task Ports_Port0GivesDistinctFreePorts_AndOtherAddressesAreNotAvailable()
    {
        var network = new InMemoryNetwork();
        await using InMemoryTransport node = network.CreateTransport(Node(1));
        await using InMemoryTransport other = network.CreateTransport(Node(2));

        await using IPeerListener first = await node.ListenAsync(new IPEndPoint(Node(1), 0), Ct);
        await using IPeerListener second = await node.ListenAsync(new IPEndPoint(IPAddress.IPv6Any, 0), Ct);
        await using IPeerListener sameNumberElsewhere = await other.ListenAsync(new IPEndPoint(Node(2), first.LocalEndPoint.Port), Ct);

        Assert.NotEqual(first.LocalEndPoint.Port, second.LocalEndPoint.Port);
        Assert.Equal(Node(1), second.LocalEndPoint.Address);
        var e = await Assert.ThrowsAsync<SocketException>(async () => await node.ListenAsync(new IPEndPoint(Node(2), 0), Ct));
        Assert.Equal(SocketError.AddressNotAvailable, e.SocketErrorCode);

        ValueTask<IDuplexConnection> accept = first.AcceptAsync(Ct);
        await using IDuplexConnection dialled = await other.ConnectAsync(first.LocalEndPoint, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        await using IDuplexConnection accepted = await accept.AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(Node(2), dialled.LocalEndPoint.Address);
        Assert.NotEqual(sameNumberElsewhere.LocalEndPoint, dialled.LocalEndPoint);
    }
}
