using PeerNet.Engine.Tests.Transport;
using PeerNet.Libp2p;

namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>
/// Receive-window auto-tuning over an in-memory link with latency: a stream whose reader keeps up grows its window
/// (doubling, reserved from the resource manager) up to the maximum or the memory budget; one whose reader does not
/// read stays at the initial window. The assertions are on windows and reservations, never on speeds.
/// </summary>
public sealed class YamuxWindowTuningTests
{
    private const int Initial = YamuxOptions.SpecInitialWindow;

    /// <summary>One way; a 100 ms round trip puts a 256 KiB window's limit far below what the in-memory link carries.</summary>
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan Timeout = TransportTestKit.TestTimeout;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task UntilAsync(Func<bool> condition, string what, Func<string> describe, params Task[] watched) =>
        Poll.UntilAsync(condition, what, Timeout, TimeSpan.FromMilliseconds(10), describe, watched);

    /// <summary>Ends the transfer, closes both sides and checks every scope came back to zero.</summary>
    private static async Task FinishAsync(YamuxDelayedLink link, YamuxStream outbound, YamuxStream inbound, Task<long> writing, Task<long> reading)
    {
        long sent = await writing.WaitAsync(Timeout, Ct);
        Assert.Equal(sent, await reading.WaitAsync(Timeout, Ct));
        await inbound.DisposeAsync();
        await outbound.DisposeAsync();
        Assert.Null(link.Writer.CloseReason); // no grant ever passed the writer's MaxSendWindow
        Assert.Null(link.Reader.CloseReason);
        await YamuxSessionTests.WaitUntilAsync(() => link.Resources.Snapshot().System is { Memory: 0, InboundStreams: 0 });
        await link.DisposeAsync();
        Libp2pResourceUsage usage = link.Resources.Snapshot();
        Assert.Equal((0, 0, 0, 0L), (usage.System.InboundConnections, usage.System.InboundStreams, usage.TransientStreams, usage.System.Memory));
        Assert.Empty(usage.Peers);
    }

    /// <summary>
    /// A stream whose writer has 1 MiB to send and whose reader has read nothing yet, once its first window (256 KiB) has
    /// arrived; the round trip is measured first, so growth would be possible.
    /// </summary>
    private static async Task<(YamuxStream Outbound, YamuxStream Inbound, Task<long> Writing)> FillTheFirstWindowAsync(YamuxDelayedLink link)
    {
        await link.Reader.PingAsync(Ct).WaitAsync(Timeout, Ct);
        YamuxStream outbound = await link.Writer.OpenStreamAsync(Ct);
        Task<long> writing = Task.Run(() => YamuxDelayedLink.WriteUntilAsync(outbound, () => false, cap: 4L * Initial), Ct);
        YamuxStream? inbound = await link.Reader.AcceptStreamAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.NotNull(inbound);
        await UntilAsync(() => inbound.BufferedBytes == Initial, "the first window to arrive", () => $"buffered {inbound.BufferedBytes}", writing);
        return (outbound, inbound, writing);
    }

    [Fact]
    public async Task A_reader_that_keeps_up_over_a_delayed_link_grows_its_window_past_the_initial_one_with_memory_reserved()
    {
        await using YamuxDelayedLink link = await YamuxDelayedLink.CreateAsync(Latency, YamuxOptions.Default);
        YamuxStream outbound = await link.Writer.OpenStreamAsync(Ct);
        bool grown = false;
        Task<long> writing = Task.Run(() => YamuxDelayedLink.WriteUntilAsync(outbound, () => Volatile.Read(ref grown)), Ct);
        YamuxStream? inbound = await link.Reader.AcceptStreamAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.NotNull(inbound);
        Task<long> reading = Task.Run(() => YamuxDelayedLink.ReadAllAsync(inbound), Ct);

        // Three doublings: 256 KiB -> 2 MiB, each reserved before it is granted.
        await UntilAsync(
            () => inbound.ReceiveWindowSize >= 8 * Initial,
            "the window to grow to 2 MiB",
            () => $"window {inbound.ReceiveWindowSize}, reserved {link.PeerMemory}",
            writing,
            reading);
        Volatile.Write(ref grown, true);
        Assert.Equal(inbound.ReceiveWindowSize, link.PeerMemory);
        Assert.True(outbound.SendWindowRemaining <= inbound.ReceiveWindowSize);

        await FinishAsync(link, outbound, inbound, writing, reading);
    }

    [Fact]
    public async Task A_reader_that_does_not_read_holds_its_writer_to_the_initial_window()
    {
        await using YamuxDelayedLink link = await YamuxDelayedLink.CreateAsync(Latency, YamuxOptions.Default);
        (YamuxStream outbound, YamuxStream inbound, Task<long> writing) = await FillTheFirstWindowAsync(link);

        // A few more round trips: nothing read, nothing handed back, nothing grown.
        await Task.Delay(4 * 2 * Latency, Ct);
        Assert.Equal((Initial, (long)Initial, 0L, 0L), (inbound.ReceiveWindowSize, inbound.BufferedBytes, inbound.ReceiveWindowRemaining, outbound.SendWindowRemaining));
        Assert.Equal(Initial, link.PeerMemory);
        Assert.False(writing.IsCompleted);

        // Reading now lets the rest through; the stream ends clean and its reservation comes back.
        await FinishAsync(link, outbound, inbound, writing, Task.Run(() => YamuxDelayedLink.ReadAllAsync(inbound), Ct));
    }

    [Fact]
    public async Task A_reader_that_stalled_and_then_drains_its_backlog_does_not_grow_the_window()
    {
        await using YamuxDelayedLink link = await YamuxDelayedLink.CreateAsync(Latency, YamuxOptions.Default);
        (YamuxStream outbound, YamuxStream inbound, Task<long> writing) = await FillTheFirstWindowAsync(link);

        // The backlog drained in 64 KiB reads: the second half-window goes back microseconds after the first, far
        // faster than a window per two round trips, but the reader never ran dry, so it is what held the stream.
        byte[] buffer = new byte[64 * 1024];
        for (long taken = 0; taken < Initial;)
        {
            taken += await inbound.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, Initial - taken)), Ct).AsTask().WaitAsync(Timeout, Ct);
        }

        Assert.Equal(Initial, inbound.ReceiveWindowSize);
        Assert.Equal(Initial, link.PeerMemory);
        await FinishAsync(link, outbound, inbound, writing, Task.Run(() => YamuxDelayedLink.ReadAllAsync(inbound, skip: Initial), Ct));
    }

    [Fact]
    public async Task Growth_stops_at_MaxReceiveWindow_and_never_grants_the_writer_more()
    {
        const int max = 4 * Initial; // 1 MiB; the writer's MaxSendWindow is the same, so one byte more ends its session
        await using YamuxDelayedLink link = await YamuxDelayedLink.CreateAsync(Latency, new YamuxOptions { MaxReceiveWindow = max });
        await FlowPastAsync(link, max, "MaxReceiveWindow");
    }

    [Fact]
    public async Task Growth_stops_at_half_the_memory_budget_and_leaves_the_rest_for_new_streams()
    {
        // 2 MiB for the peer: growth may take it to 1 MiB (a 1 MiB window), the other half holds four more streams.
        const long budget = 8L * Initial;
        await using YamuxDelayedLink link = await YamuxDelayedLink.CreateAsync(Latency, YamuxOptions.Default, limits: new Libp2pResourceLimits { MaxStreamMemoryPerPeer = budget });
        await FlowPastAsync(link, 4 * Initial, "half the budget", async () =>
        {
            YamuxStream[] more = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => link.Writer.OpenStreamAsync(Ct).AsTask()));
            for (int i = 0; i < more.Length; i++)
            {
                Assert.NotNull(await link.Reader.AcceptStreamAsync(Ct).AsTask().WaitAsync(Timeout, Ct));
            }

            Assert.Equal(budget, link.PeerMemory);
            foreach (YamuxStream s in more)
            {
                s.Abort();
            }
        });
    }

    /// <summary>
    /// Flows a stream until its window reaches <paramref name="limit"/>, then 16 MiB more (dozens of half-window
    /// updates, each a chance to grow): the window and its reservation stay at <paramref name="limit"/>. Runs
    /// <paramref name="whileHeld"/> before the stream closes.
    /// </summary>
    private static async Task FlowPastAsync(YamuxDelayedLink link, long limit, string bound, Func<Task>? whileHeld = null)
    {
        YamuxStream outbound = await link.Writer.OpenStreamAsync(Ct);
        long read = 0;
        long stopAt = long.MaxValue;
        Task<long> writing = Task.Run(() => YamuxDelayedLink.WriteUntilAsync(outbound, () => Volatile.Read(ref read) >= Volatile.Read(ref stopAt)), Ct);
        YamuxStream? inbound = await link.Reader.AcceptStreamAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.NotNull(inbound);
        long largestGrant = 0;
        Task<long> reading = Task.Run(
            () => YamuxDelayedLink.ReadAllAsync(inbound, total =>
            {
                Volatile.Write(ref read, total);
                largestGrant = Math.Max(largestGrant, inbound.ReceiveWindowSize);
            }),
            Ct);

        await UntilAsync(() => inbound.ReceiveWindowSize >= limit, $"the window to grow to {bound}", () => $"window {inbound.ReceiveWindowSize}, reserved {link.PeerMemory}", writing, reading);
        Volatile.Write(ref stopAt, Volatile.Read(ref read) + (16L << 20));
        await UntilAsync(() => writing.IsCompleted, "16 MiB more to flow", () => $"read {Volatile.Read(ref read)}, window {inbound.ReceiveWindowSize}", writing, reading);
        await reading.WaitAsync(Timeout, Ct);

        Assert.Equal(limit, largestGrant);
        Assert.Equal(limit, inbound.ReceiveWindowSize);
        Assert.Equal(limit, link.PeerMemory);
        if (whileHeld is not null)
        {
            await whileHeld();
        }

        await FinishAsync(link, outbound, inbound, writing, reading);
    }
}
