using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using PeerNet.Transport;
using static PeerNet.Engine.Tests.Transport.TransportTestKit;

namespace PeerNet.Engine.Tests.Transport;

/// <summary>
/// Measures, does not assert: set PEERNET_TRANSPORT_BENCH=1 and run in Release
/// (<c>PEERNET_TRANSPORT_BENCH=1 dotnet test -c Release --project tests/PeerNet.Engine.Tests --filter-class "*TransportThroughputTests" --output Detailed</c>).
/// Raw sockets first as the baseline, then the same bytes through the transports' pipes.
/// </summary>
public sealed class TransportThroughputTests
{
    private const long Size = 1L << 30;
    private const int Chunk = 64 * 1024;
    private static readonly TimeSpan BenchTimeout = TimeSpan.FromMinutes(5);

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task Loopback_1GiB_RawSocketsVersusTransports()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("PEERNET_TRANSPORT_BENCH") == "1", "Set PEERNET_TRANSPORT_BENCH=1 to measure transport throughput.");
        Output.WriteLine($"cores: {Environment.ProcessorCount}, server GC: {System.Runtime.GCSettings.IsServerGC}");

        await MeasureAsync("raw sockets, 256 KiB send/receive", 1, RawSocketsAsync);
        await using (var tcp = new TcpTransport())
        {
            await MeasureAsync("TcpTransport 127.0.0.1, one way", 1, () => OneWayAsync(tcp, new IPEndPoint(IPAddress.Loopback, 0)));
            await MeasureAsync("TcpTransport [::1], one way", 1, () => OneWayAsync(tcp, new IPEndPoint(IPAddress.IPv6Loopback, 0)));
            await MeasureAsync("TcpTransport 127.0.0.1, both ways at once", 2, () => BothWaysAsync(tcp, new IPEndPoint(IPAddress.Loopback, 0)));
        }

        var network = new InMemoryNetwork();
        await using InMemoryTransport a = network.CreateTransport(IPAddress.Parse("127.9.0.1"));
        await using InMemoryTransport b = network.CreateTransport(IPAddress.Parse("127.9.0.2"));
        await MeasureAsync("InMemoryNetwork unshaped, one way", 1, () => OneWayAsync(a, new IPEndPoint(IPAddress.Parse("127.9.0.2"), 0), b));
    }

    private static async Task MeasureAsync(string what, int streams, Func<Task> run)
    {
        // The machine may be shared: report the best of several runs, and the median as a hint of the noise.
        int runs = int.TryParse(Environment.GetEnvironmentVariable("PEERNET_TRANSPORT_BENCH_RUNS"), out int r) ? r : 5;
        await run().WaitAsync(BenchTimeout, Ct); // Warm up: JIT, pools, socket buffers.
        var results = new List<(TimeSpan Elapsed, TimeSpan Cpu, long Allocated)>();
        for (int i = 0; i < runs; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long allocated = GC.GetTotalAllocatedBytes(precise: true);
            TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var stopwatch = Stopwatch.StartNew();
            await run().WaitAsync(BenchTimeout, Ct);
            TimeSpan elapsed = stopwatch.Elapsed;
            results.Add((elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu, GC.GetTotalAllocatedBytes(precise: true) - allocated));
        }

        results.Sort((x, y) => x.Elapsed.CompareTo(y.Elapsed));
        (TimeSpan best, TimeSpan bestCpu, long bestAllocated) = results[0];
        TimeSpan median = results[results.Count / 2].Elapsed;
        double bytes = (double)Size * streams;
        Output.WriteLine(
            $"{what}: best {bytes / 1e6 / best.TotalSeconds:F0} MB/s, median {bytes / 1e6 / median.TotalSeconds:F0} MB/s of {runs}; " +
            $"best run: CPU {bestCpu.TotalMilliseconds * 1e6 / bytes:F2} ns/B, allocated {bestAllocated / 1024.0:F0} KiB ({bestAllocated * 1024.0 * 1024 / bytes:F1} B/MiB)");
    }

    private static async Task RawSocketsAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Task<Socket> accept = listener.AcceptAsync(Ct).AsTask();
        await client.ConnectAsync(listener.LocalEndPoint!, Ct);
        using Socket server = await accept;

        Task send = Task.Run(async () =>
        {
            byte[] buffer = new byte[256 * 1024];
            for (long sent = 0; sent < Size; sent += buffer.Length)
            {
                await client.SendAsync(buffer, SocketFlags.None, Ct);
            }
        }, Ct);
        byte[] receiveBuffer = new byte[256 * 1024];
        long received = 0;
        while (received < Size)
        {
            int n = await server.ReceiveAsync(receiveBuffer, SocketFlags.None, Ct);
            Assert.NotEqual(0, n);
            received += n;
        }

        await send;
    }

    private static async Task OneWayAsync(IPeerTransport transport, IPEndPoint listenOn, IPeerTransport? serverTransport = null)
    {
        (IPeerListener listener, IDuplexConnection client, IDuplexConnection server) = await ConnectPairAsync(serverTransport ?? transport, transport, listenOn);
        await using (listener)
        await using (client)
        await using (server)
        {
            Task send = Task.Run(() => SendAsync(client.Output), Ct);
            await DrainAsync(server.Input);
            await send;
        }
    }

    private static async Task BothWaysAsync(IPeerTransport transport, IPEndPoint listenOn)
    {
        (IPeerListener listener, IDuplexConnection client, IDuplexConnection server) = await ConnectPairAsync(transport, transport, listenOn);
        await using (listener)
        await using (client)
        await using (server)
        {
            await Task.WhenAll(
                Task.Run(() => SendAsync(client.Output), Ct),
                Task.Run(() => SendAsync(server.Output), Ct),
                Task.Run(() => DrainAsync(server.Input), Ct),
                Task.Run(() => DrainAsync(client.Input), Ct));
        }
    }

    /// <summary>What an uploader does: copies 64 KiB blocks (as if from a disk cache) into the pipe and flushes.</summary>
    private static async Task SendAsync(PipeWriter writer)
    {
        byte[] block = new byte[Chunk];
        for (long sent = 0; sent < Size; sent += Chunk)
        {
            block.CopyTo(writer.GetSpan(Chunk));
            writer.Advance(Chunk);
            FlushResult result = await writer.FlushAsync(Ct);
            Assert.False(result.IsCompleted);
        }
    }

    private static async Task DrainAsync(PipeReader reader)
    {
        long received = 0;
        while (received < Size)
        {
            ReadResult result = await reader.ReadAsync(Ct);
            ReadOnlySequence<byte> buffer = result.Buffer;
            received += buffer.Length;
            reader.AdvanceTo(buffer.End);
            Assert.False(result.IsCompleted && received < Size, "The stream ended early.");
        }
    }
}
