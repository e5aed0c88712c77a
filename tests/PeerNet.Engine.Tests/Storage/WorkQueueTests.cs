using PeerNet.Storage;

namespace PeerNet.Engine.Tests.Storage;

public sealed class WorkQueueTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunAsync_ManyItems_NeverMoreThanConcurrencyAtOnce()
    {
        await using var queue = new WorkQueue(concurrency: 3);
        int running = 0;
        int peak = 0;

        int[] results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => queue.RunAsync(() =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            Thread.Sleep(2);
            Interlocked.Decrement(ref running);
            return i * 2;
        }, Ct))).WaitAsync(Timeout, Ct);

        Assert.Equal(Enumerable.Range(0, 50).Select(i => i * 2), results);
        Assert.InRange(peak, 1, 3);
    }

    [Fact]
    public async Task RunAsync_WorkThrows_ExceptionReachesCaller()
    {
        await using var queue = new WorkQueue(1);

        await Assert.ThrowsAsync<InvalidOperationException>(() => queue.RunAsync<int>(() => throw new InvalidOperationException("boom"), Ct).WaitAsync(Timeout, Ct));
        Assert.Equal(1, await queue.RunAsync(() => 1, Ct).WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task RunAsync_CancelledBeforeStart_IsCancelledAndNeverRuns()
    {
        await using var queue = new WorkQueue(1);
        using var gate = new ManualResetEventSlim();
        Task<int> blocker = queue.RunAsync(() => { gate.Wait(Timeout); return 0; }, Ct);
        using var cts = new CancellationTokenSource();
        bool ran = false;
        Task<bool> queued = queue.RunAsync(() => ran = true, cts.Token);

        await cts.CancelAsync();
        gate.Set();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(Timeout, Ct));
        await blocker.WaitAsync(Timeout, Ct);
        Assert.False(ran);
    }

    [Fact]
    public async Task Dispose_FinishesQueuedWork_ThenRefusesMore()
    {
        var queue = new WorkQueue(1);
        Task<int>[] tasks = [.. Enumerable.Range(0, 10).Select(i => queue.RunAsync(() => { Thread.Sleep(1); return i; }, Ct))];

        await queue.DisposeAsync().AsTask().WaitAsync(Timeout, Ct);

        Assert.Equal(Enumerable.Range(0, 10), await Task.WhenAll(tasks).WaitAsync(Timeout, Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => queue.RunAsync(() => 1, Ct).WaitAsync(Timeout, Ct));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
