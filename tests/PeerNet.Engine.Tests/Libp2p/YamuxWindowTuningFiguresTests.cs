using System.Diagnostics;
using System.Globalization;
using System.Text;
using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Libp2p;

namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>
/// Figures for receive-window auto-tuning: one yamux stream whose reader keeps up, over the in-memory link of
/// <see cref="YamuxWindowTuningTests"/> with 5, 25 and 50 ms each way, with tuning off (the window stays at 256 KiB)
/// and on (the defaults, up to 16 MiB). Prints a markdown table; asserts only that the bytes arrived intact and which
/// windows were reached, never a speed. The link has no bandwidth limit and no loss, so the figures show what the
/// window allows, not what a real network would carry.
/// </summary>
/// <remarks>
/// <c>PEERNET_YAMUX_FIGURES=1 dotnet test --project tests/PeerNet.Engine.Tests -c Release --filter-class
/// '*YamuxWindowTuningFiguresTests' --output Detailed</c> (docs/performance.md, "yamux window auto-tuning on a
/// delayed link (in memory)").
/// </remarks>
[Collection(MeasuredCollection.Name)]
public sealed class YamuxWindowTuningFiguresTests
{
    /// <summary>What each stream carries unless <see cref="TimeCap"/> ends it first.</summary>
    private const long Size = 64L * 1024 * 1024;

    private const int Initial = YamuxOptions.SpecInitialWindow;

    /// <summary>
    /// The writer stops (and sends FIN) after this long: 64 MiB through a 256 KiB window over a 100 ms round trip
    /// would take about 26 s, so the untuned streams on the slower links report what they carried in this time.
    /// </summary>
    private static readonly TimeSpan TimeCap = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    private static readonly int[] DelaysMs = [5, 25, 50];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OneStream64MiB_DelayedLinks_TuningOffVersusOn()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("PEERNET_YAMUX_FIGURES") == "1", "Set PEERNET_YAMUX_FIGURES=1 to measure yamux window auto-tuning over delayed in-memory links.");
        ITestOutputHelper output = TestContext.Current.TestOutputHelper!;
        var off = new YamuxOptions { MaxReceiveWindow = Initial };
        YamuxOptions on = YamuxOptions.Default;

        await MeasureAsync(TimeSpan.FromMilliseconds(5), on, 8L * 1024 * 1024); // warm-up: JIT, pools

        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"cores: {Environment.ProcessorCount}, server GC: {System.Runtime.GCSettings.IsServerGC}; {Size >> 20} MiB or {TimeCap.TotalSeconds:F0} s per stream");
        table.AppendLine();
        table.AppendLine("| one-way delay | tuning | MiB carried | seconds | MB/s | final window | window ÷ RTT (MB/s) | final window reached at |");
        table.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (int ms in DelaysMs)
        {
            TimeSpan delay = TimeSpan.FromMilliseconds(ms);
            foreach (bool tuned in new[] { false, true })
            {
                Figure f = await MeasureAsync(delay, tuned ? on : off, Size);
                string reached = f.ReachedAt == TimeSpan.Zero ? "at the start" : string.Create(CultureInfo.InvariantCulture, $"{f.ReachedAt.TotalSeconds:F2} s");
                table.AppendLine(CultureInfo.InvariantCulture, $"| {ms} ms | {(tuned ? "on" : "off")} | {f.Bytes / 1048576.0:F1} | {f.Elapsed.TotalSeconds:F2} | {f.Bytes / 1e6 / f.Elapsed.TotalSeconds:F1} | {Window(f.FinalWindow)} | {f.FinalWindow / 1e6 / (2 * delay.TotalSeconds):F1} | {reached} |");

                // Behaviour only: tuning off keeps the initial window; on, a reader that keeps up grows it.
                if (tuned)
                {
                    Assert.True(f.FinalWindow > Initial, $"{ms} ms: the window stayed at {f.FinalWindow}");
                }
                else
                {
                    Assert.Equal(Initial, f.FinalWindow);
                }
            }
        }

        output.WriteLine(table.ToString());
    }

    /// <summary>
    /// One stream over a fresh link: the writer sends the pattern until <paramref name="size"/> or <see cref="TimeCap"/>,
    /// the reader reads (and checks) every byte; timed from the writer's start to the reader's end of stream.
    /// </summary>
    private static async Task<Figure> MeasureAsync(TimeSpan delay, YamuxOptions readerOptions, long size)
    {
        await using YamuxDelayedLink link = await YamuxDelayedLink.CreateAsync(delay, readerOptions);
        YamuxStream outbound = await link.Writer.OpenStreamAsync(Ct);
        Stopwatch clock = Stopwatch.StartNew();
        Task<long> writing = Task.Run(() => YamuxDelayedLink.WriteUntilAsync(outbound, () => clock.Elapsed >= TimeCap, size), Ct);
        YamuxStream? inbound = await link.Reader.AcceptStreamAsync(Ct).AsTask().WaitAsync(RunTimeout, Ct);
        Assert.NotNull(inbound);
        long window = inbound.ReceiveWindowSize;
        TimeSpan reachedAt = TimeSpan.Zero;
        Task<long> reading = Task.Run(
            () => YamuxDelayedLink.ReadAllAsync(inbound, _ =>
            {
                // The window grows inside a read, on this task: seen here as soon as it changes.
                if (inbound.ReceiveWindowSize != window)
                {
                    window = inbound.ReceiveWindowSize;
                    reachedAt = clock.Elapsed;
                }
            }),
            Ct);

        long received = await reading.WaitAsync(RunTimeout, Ct);
        TimeSpan elapsed = clock.Elapsed;
        long sent = await writing.WaitAsync(RunTimeout, Ct);
        Assert.Equal(sent, received);
        Assert.Null(link.Writer.CloseReason);
        Assert.Null(link.Reader.CloseReason);
        await inbound.DisposeAsync();
        await outbound.DisposeAsync();
        return new Figure(received, elapsed, window, reachedAt);
    }

    private static string Window(long bytes) =>
        bytes >= 1024 * 1024 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.##} MiB") : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024} KiB");

    private readonly record struct Figure(long Bytes, TimeSpan Elapsed, long FinalWindow, TimeSpan ReachedAt);
}
