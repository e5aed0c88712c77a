using System.Diagnostics;
using System.Globalization;
using System.Net;
using PeerNet.Libp2p;

namespace PeerNet.Benchmarks;

/// <summary>
/// The real-time channel measured as a voice call uses it (bench/datagram.sh): a datagram channel
/// (<c>/peernet/datagram/1.0.0</c>) between two PeerNet nodes, RATE datagrams a second of SIZE bytes for SECONDS,
/// default options (16 KiB in flight, 200 ms lateness). The receiver reports the one-way latency of each datagram
/// (received minus sent; both nodes on one machine read one clock, also across network namespaces), RFC 3550's
/// interarrival jitter (the channel's own estimate) and the loss: datagrams never delivered, of those the sender was
/// asked to send (dropped by the sender when too much was in flight, or by the receiver as late).
/// <code>
///   --datagram-loopback [--seconds S] [--rate R] [--size B]     both nodes here, on 127.0.0.1
///   --datagram-listen IP [same]                                 prints "listening MULTIADDR", reports after one channel
///   --datagram-send MULTIADDR [--bind IP] [same]                sends, prints the sender's counters
/// </code>
/// </summary>
internal static class DatagramLatency
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(string[] args)
    {
        var (mode, target) = (args[0], args.Length > 1 && !args[1].StartsWith("--", StringComparison.Ordinal) ? args[1] : null);
        int seconds = Option(args, "--seconds", 20);
        int rate = Option(args, "--rate", 50);
        int size = Option(args, "--size", 160);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(seconds) + TimeSpan.FromSeconds(60));
        CancellationToken ct = deadline.Token;
        switch (mode)
        {
            case "--datagram-loopback":
                {
                    await using PeerNetNode receiver = await StartAsync(IPAddress.Loopback, ct);
                    await using PeerNetNode sender = await StartAsync(IPAddress.Loopback, ct);
                    Task<string> report = ReceiveAsync(receiver, seconds, rate, ct);
                    Console.WriteLine(await SendAsync(sender, receiver.Libp2p.ListenAddresses[0], seconds, rate, size, ct));
                    Console.WriteLine(await report);
                    return 0;
                }

            case "--datagram-listen" when target is not null:
                {
                    await using PeerNetNode receiver = await StartAsync(IPAddress.Parse(target), ct);
                    Task<string> report = ReceiveAsync(receiver, seconds, rate, ct);
                    Console.WriteLine("listening " + receiver.Libp2p.ListenAddresses[0]);
                    Console.WriteLine(await report);
                    return 0;
                }

            case "--datagram-send" when target is not null:
                {
                    Multiaddr address = Multiaddr.Parse(target);
                    int bind = Array.IndexOf(args, "--bind");
                    await using PeerNetNode sender = await StartAsync(bind > 0 ? IPAddress.Parse(args[bind + 1]) : IPAddress.Loopback, ct);
                    Console.WriteLine(await SendAsync(sender, address, seconds, rate, size, ct));
                    return 0;
                }

            default:
                Console.Error.WriteLine("usage: --datagram-loopback | --datagram-listen IP | --datagram-send MULTIADDR [--bind IP], then [--seconds S] [--rate R] [--size B]");
                return 2;
        }
    }

    private static Task<PeerNetNode> StartAsync(IPAddress address, CancellationToken ct) => PeerNetNode.StartAsync(
        new PeerNetNodeOptions { ListenAddress = address, ListenPort = 0, Dht = false, Trackers = false, LocalDiscovery = false, PortMapping = PortMappingOptions.None },
        cancellationToken: ct);

    /// <summary>Sends <paramref name="rate"/> datagrams a second for <paramref name="seconds"/>, each due on a fixed schedule.</summary>
    private static async Task<string> SendAsync(PeerNetNode node, Multiaddr address, int seconds, int rate, int size, CancellationToken ct)
    {
        Libp2pPeerInfo peer = await node.Libp2p.ConnectAsync(address, ct);
        await using DatagramChannel channel = await node.Libp2p.OpenDatagramChannelAsync(peer.PeerId, cancellationToken: ct);
        byte[] frame = new byte[size];
        int count = seconds * rate;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            // Sleep to the datagram's due time (not a fixed 20 ms after the last one, which would drift).
            TimeSpan due = TimeSpan.FromSeconds((double)i / rate) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, ct);
            }

            Random.Shared.NextBytes(frame);
            channel.TrySend(frame);
        }

        DatagramChannelStats stats = channel.Stats;
        TimeSpan took = Stopwatch.GetElapsedTime(start);
        await Task.Delay(Grace, ct); // let the last ones arrive before the channel ends
        return string.Create(CultureInfo.InvariantCulture, $"sender: asked {count}, sent {stats.Sent}, dropped (too much in flight) {stats.Dropped}, in {took.TotalSeconds:F1} s");
    }

    /// <summary>Takes one channel and reports on its datagrams once it ends (or the time is up).</summary>
    private static async Task<string> ReceiveAsync(PeerNetNode node, int seconds, int rate, CancellationToken ct)
    {
        var accepted = new TaskCompletionSource<DatagramChannel>(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        node.Libp2p.SetDatagramChannelHandler(async (channel, token) =>
        {
            accepted.TrySetResult(channel);
            await done.Task.WaitAsync(token);
        });
        DatagramChannel channel = await accepted.Task.WaitAsync(ct);
        var latencies = new List<double>(seconds * rate);
        using var window = CancellationTokenSource.CreateLinkedTokenSource(ct);
        window.CancelAfter(TimeSpan.FromSeconds(seconds) + Grace + Grace);
        try
        {
            await foreach (Datagram d in channel.ReadAllAsync(window.Token))
            {
                latencies.Add((d.Received - d.Sent).TotalMilliseconds);
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // The sender's channel did not end in time: report what came.
        }

        DatagramChannelStats stats = channel.Stats;
        done.TrySetResult();
        int expected = seconds * rate;
        latencies.Sort();
        return string.Create(CultureInfo.InvariantCulture,
            $"receiver: delivered {latencies.Count} of {expected}, late (dropped) {stats.Late}, loss {100.0 * (expected - latencies.Count) / expected:F2}%; " +
            $"one-way latency ms p50 {Percentile(latencies, 0.50):F3} p99 {Percentile(latencies, 0.99):F3} max {(latencies.Count > 0 ? latencies[^1] : double.NaN):F3}; " +
            $"jitter (RFC 3550) {stats.JitterMilliseconds:F3} ms");
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
