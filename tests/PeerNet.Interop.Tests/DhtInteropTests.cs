using System.Diagnostics;
using System.Net;
using System.Text.Json;
using PeerNet.Discovery.Dht;

namespace PeerNet.Interop.Tests;

/// <summary>
/// PeerNet and libtorrent DHT nodes on loopback form one DHT (three PeerNet nodes, four libtorrent sessions run by
/// <c>lt_dht.py</c>): a PeerNet get_peers finds what libtorrent announced, and libtorrent's get_peers
/// (<c>dht_get_peers_reply_alert</c>) finds what PeerNet announced.
/// </summary>
public sealed class DhtInteropTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    /// <summary>Loopback settings: every node shares 127.0.0.1, so the one-entry-per-IP rule and per-IP limits are relaxed.</summary>
    private static DhtNodeOptions Options(params IPEndPoint[] bootstrap) => new()
    {
        BindEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        BootstrapNodes = [.. bootstrap.Select(e => e.ToString())],
        RestrictRoutingAddresses = false,
        QueryTimeout = TimeSpan.FromSeconds(2),
        QueriesPerSecondPerAddress = 10_000,
        ReplyBytesPerSecondPerAddress = 100_000_000,
    };

    [Fact(Timeout = 180_000)]
    public async Task PeerNetAndLibtorrent_OnLoopback_FindEachOthersAnnounces()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("dht");
        Sha1Hash fromLibtorrent = Sha1Hash.Compute("announced by libtorrent"u8);
        Sha1Hash fromPeerNet = Sha1Hash.Compute("announced by PeerNet"u8);
        const int PeerNetPort = 7011;

        await using var first = new DhtNode(Options());
        await first.StartAsync(ct);
        await using var second = new DhtNode(Options(first.LocalEndPoint));
        await second.StartAsync(ct);
        await using var third = new DhtNode(Options(first.LocalEndPoint, second.LocalEndPoint));
        await third.StartAsync(ct);
        DhtNode[] ours = [first, second, third];

        List<string> arguments = [PythonScripts.Resolve("lt_dht.py"), temp.FullPath, "--announce", fromLibtorrent.ToString(), "--get-peers", fromPeerNet.ToString()];
        arguments.AddRange(ours.SelectMany(n => new[] { "--node", n.LocalEndPoint.ToString() }));
        await using var libtorrent = BackgroundProcess.Start("libtorrent DHT", ReferenceTools.SystemPython, arguments, exitsWhenStdinCloses: true);
        string portsLine = await libtorrent.WaitForPortsAsync(ct);
        int[] ltPorts = JsonDocument.Parse(portsLine).RootElement.GetProperty("ports").EnumerateArray().Select(p => p.GetInt32()).ToArray();

        // libtorrent's sessions query ours as they bootstrap; ours ping them back and take them into their tables.
        while (first.GetStats().Nodes < 2 + ltPorts.Length)
        {
            Assert.True(clock.Elapsed < Deadline, $"PeerNet's table holds {first.GetStats().Nodes} nodes.\n{libtorrent.Describe()}");
            await Task.Delay(250, ct);
        }

        // PeerNet finds libtorrent's announce (session 0 announces its own port).
        var expected = new IPEndPoint(IPAddress.Loopback, ltPorts[0]);
        IReadOnlyList<IPEndPoint> found = [];
        while (!found.Contains(expected))
        {
            Assert.True(clock.Elapsed < Deadline, $"PeerNet's get_peers found [{string.Join(", ", found)}], not {expected}.\n{libtorrent.Describe()}");
            found = await third.GetPeersAsync(fromLibtorrent, ct);
            if (!found.Contains(expected))
            {
                await Task.Delay(500, ct);
            }
        }

        // libtorrent finds PeerNet's announce.
        DhtAnnounceResult announce = await second.AnnounceAsync(fromPeerNet, PeerNetPort, ct);
        Assert.True(announce.AcceptedBy >= 3, $"only {announce.AcceptedBy} nodes accepted PeerNet's announce");
        string hex = fromPeerNet.ToString();
        string line = await libtorrent.WaitForLineAsync(
            l => l.Contains("\"get_peers\"", StringComparison.Ordinal) && l.Contains(hex, StringComparison.Ordinal) && l.Contains($"127.0.0.1:{PeerNetPort}", StringComparison.Ordinal),
            Deadline,
            ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"after {clock.Elapsed.TotalSeconds:F1} s: {line}; PeerNet stats {first.GetStats()}");
    }
}

internal static class DhtInteropProcess
{
    public static Task<string> WaitForPortsAsync(this BackgroundProcess process, CancellationToken cancellationToken)
        => process.WaitForLineAsync(l => l.StartsWith("{\"ports\"", StringComparison.Ordinal), TimeSpan.FromSeconds(60), cancellationToken);
}
