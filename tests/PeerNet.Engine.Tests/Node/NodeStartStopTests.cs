using System.Net;
using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Metainfo;

namespace PeerNet.Engine.Tests.Node;

/// <summary>
/// Shutdown releases everything: a node on real sockets started and stopped 1,000 times, each time seeding a torrent
/// and taking one connection, leaves no file descriptor and no memory behind.
/// </summary>
[Collection(MeasuredCollection.Name)]
public sealed class NodeStartStopTests
{
    private const int Rounds = 1000;

    [Fact]
    public async Task StartStop_1000Times_HandlesAndMemoryStayFlat()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var harness = new NodeHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.Hybrid, [64 * 1024]);
        var options = new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, Trackers = false };

        // Warm up (JIT, pools, the thread pool's threads), then measure.
        for (int i = 0; i < 20; i++)
        {
            await RoundAsync(options, torrent, content, ct);
        }

        (int fdsBefore, long memoryBefore) = Measure();
        for (int i = 0; i < Rounds; i++)
        {
            await RoundAsync(options, torrent, content, ct);
        }

        (int fdsAfter, long memoryAfter) = Measure();
        TestContext.Current.TestOutputHelper?.WriteLine($"{Rounds} rounds: descriptors {fdsBefore} -> {fdsAfter}; managed heap {memoryBefore / 1024} KiB -> {memoryAfter / 1024} KiB");
        Assert.True(fdsAfter <= fdsBefore + 8, $"file descriptors grew from {fdsBefore} to {fdsAfter} over {Rounds} rounds");
        Assert.True(memoryAfter <= memoryBefore + (8L * 1024 * 1024), $"the managed heap grew from {memoryBefore} to {memoryAfter} bytes over {Rounds} rounds");
    }

    /// <summary>Starts a node, seeds the torrent, lets one peer connect and handshake, and stops it.</summary>
    private static async Task RoundAsync(PeerNetNodeOptions options, TorrentMetainfo torrent, string content, CancellationToken ct)
    {
        await using PeerNetNode node = await PeerNetNode.StartAsync(options, cancellationToken: ct);
        TorrentHandle seed = await node.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = content, ReadOnly = true }, ct);
        await using var transport = new PeerNet.Transport.TcpTransport();
        await using RawPeer peer = await RawPeer.ConnectAsync(transport, node.LocalEndPoint, torrent.InfoHashes.WireHash);
        await PeerNet.Testing.Poll.UntilAsync(() => seed.GetStatus().Peers == 1, "the peer attached", NodeHarness.Timeout, TimeSpan.FromMilliseconds(1));
    }

    private static (int Descriptors, long Memory) Measure()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        int descriptors = OperatingSystem.IsLinux() ? Directory.GetFiles("/proc/self/fd").Length : 0;
        return (descriptors, GC.GetTotalMemory(forceFullCollection: true));
    }
}
