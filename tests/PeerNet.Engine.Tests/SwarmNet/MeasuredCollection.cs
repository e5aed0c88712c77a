namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// Tests that measure the process (managed heap, working set, latency of each request) or open thousands of
/// sockets run one at a time, after the parallel tests, so other tests' allocations and CPU do not blur them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MeasuredCollection
{
    public const string Name = "Measured (one at a time)";
}

/// <summary>The process's memory, for the measured tests.</summary>
internal static class ProcessMemory
{
    /// <summary>
    /// The managed heap after full collections (finalizers run in between, so that sockets and other finalizable
    /// garbage from earlier work is gone) and the working set the OS reports.
    /// </summary>
    public static (long Heap, long WorkingSet) Measure()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long heap = GC.GetTotalMemory(forceFullCollection: true);
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return (heap, process.WorkingSet64);
    }
}
