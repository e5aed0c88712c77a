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
