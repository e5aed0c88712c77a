using System.Diagnostics;

namespace PeerNet.Testing;

/// <summary>
/// Waiting for a state that no event announces (a counter, a file, a peer count): poll it, always against a deadline,
/// and fail saying what was awaited. Where the code offers an event (a task, a line, a tick), wait on that instead.
/// </summary>
internal static class Poll
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Polls <paramref name="condition"/> every <paramref name="interval"/> (20 ms by default) until it holds; fails,
    /// naming <paramref name="what"/> and adding <paramref name="describe"/>'s account of the state, once
    /// <paramref name="timeout"/> has passed. A task of <paramref name="watched"/> (a background loop of the test)
    /// that faults meanwhile fails the wait at once, with its own exception.
    /// </summary>
    public static async Task UntilAsync(
        Func<bool> condition,
        string what,
        TimeSpan timeout,
        TimeSpan? interval = null,
        Func<string>? describe = null,
        IReadOnlyList<Task>? watched = null)
    {
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            if (watched?.FirstOrDefault(t => t.IsFaulted) is { } failed)
            {
                await failed; // rethrows the loop's own exception
            }

            if (condition())
            {
                return;
            }

            if (Stopwatch.GetElapsedTime(start) > timeout)
            {
                Assert.Fail($"not reached within {timeout.TotalSeconds:F0} s: {what}{(describe is null ? "" : "\n" + describe())}");
            }

            await Task.Delay(interval ?? DefaultInterval, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes, and says which: for a
    /// measurement that reports a shortfall (a delivery ratio) rather than failing on it.
    /// </summary>
    public static async Task<bool> TryUntilAsync(Func<bool> condition, TimeSpan timeout, TimeSpan? interval = null)
    {
        long start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(start) > timeout)
            {
                return false;
            }

            await Task.Delay(interval ?? DefaultInterval, TestContext.Current.CancellationToken);
        }

        return true;
    }
}
