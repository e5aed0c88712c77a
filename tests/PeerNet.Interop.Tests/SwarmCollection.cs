using System.Diagnostics;

namespace PeerNet.Interop.Tests;

/// <summary>
/// Swarm tests run one at a time, after the parallel ones: each runs several peers, and on a small shared machine
/// two swarms at once would only make their timeouts flaky.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SwarmCollection
{
    public const string Name = "Swarm transfers";
}

/// <summary>Sizes and bounds shared by the swarm tests, and their timing log.</summary>
internal static class SwarmTest
{
    /// <summary>The usual payload: 4 MiB in 128 pieces, a few seconds on loopback even for Transmission.</summary>
    public const long ContentSize = 4 * 1024 * 1024;

    /// <summary>Bound on a whole transfer between fast peers (libtorrent, aria2, PeerNet).</summary>
    public static readonly TimeSpan TransferTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Bound on a transfer with Transmission: it waits about 10 s before requesting and is slow on loopback.</summary>
    public static readonly TimeSpan TransmissionTimeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Upload cap of the seeder in mixed swarms, in bytes per second: far below loopback speed, so that leechers finish
    /// sooner by trading with each other than by waiting for the seeder (libtorrent lands at about 60 % of its cap).
    /// </summary>
    public const long LimitedSeederRate = 1_000_000;

    /// <summary>Bound on a swarm download behind <see cref="LimitedSeederRate"/>.</summary>
    public static readonly TimeSpan SwarmTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Writes "[12.3 s] what" to the test's output, so every run records its timings.</summary>
    public static void Log(Stopwatch clock, string what)
        => TestContext.Current.TestOutputHelper?.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1} s] {what}");
}
