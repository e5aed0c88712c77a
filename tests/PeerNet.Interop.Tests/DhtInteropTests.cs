using System.Diagnostics;
using System.Net;
using System.Text.Json;
using PeerNet.Discovery.Dht;
using PeerNet.Metainfo;

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
    internal static DhtNodeOptions Options(params IPEndPoint[] bootstrap) => new()
    {
        BindEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        BootstrapNodes = [.. bootstrap.Select(e => e.ToString())],
        RestrictRoutingAddresses = false,
        QueryTimeout = TimeSpan.FromSeconds(2),
        QueriesPerSecondPerAddress = 10_000,
        ReplyBytesPerSecondPerAddress = 100_000_000,
    };

    [Fact(Timeout = 180_000)]
    public async Task PeerNetAndLibtorrent_OnLoopback_ReadEachOthersImmutableItems()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("dht-items");
        byte[] ours = "14:a PeerNet item"u8.ToArray();
        string ourTarget = Sha1Hash.Compute(ours).ToString();
        const string Theirs = "a libtorrent item";
        Sha1Hash theirTarget = Sha1Hash.Compute(System.Text.Encoding.ASCII.GetBytes($"{Theirs.Length}:{Theirs}"));

        await using var mixed = await MixedDht.StartAsync(temp.FullPath, ["--put-immutable", Theirs, "--get-immutable", ourTarget], clock, ct);

        // PeerNet reads libtorrent's item.
        byte[]? found = null;
        while (found is null)
        {
            Assert.True(clock.Elapsed < Deadline, $"PeerNet did not find libtorrent's item {theirTarget}.\n{mixed.Libtorrent.Describe()}");
            found = await mixed.Nodes[2].GetImmutableAsync(theirTarget, ct);
            if (found is null)
            {
                await Task.Delay(500, ct);
            }
        }

        Assert.Equal($"{Theirs.Length}:{Theirs}", System.Text.Encoding.ASCII.GetString(found));

        // libtorrent reads PeerNet's item.
        DhtPutResult put = await mixed.Nodes[1].PutImmutableAsync(ours, ct);
        Assert.Equal(ourTarget, put.Target.ToString());
        Assert.True(put.AcceptedBy >= 3, $"only {put.AcceptedBy} nodes stored PeerNet's item");
        string line = await mixed.Libtorrent.WaitForLineAsync(
            l => l.Contains("\"immutable\"", StringComparison.Ordinal) && l.Contains(ourTarget, StringComparison.Ordinal) && l.Contains("a PeerNet item", StringComparison.Ordinal),
            Deadline,
            ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"after {clock.Elapsed.TotalSeconds:F1} s: {line}");
    }

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

        await using var mixed = await MixedDht.StartAsync(temp.FullPath, ["--announce", fromLibtorrent.ToString(), "--get-peers", fromPeerNet.ToString()], clock, ct);
        DhtNode second = mixed.Nodes[1], third = mixed.Nodes[2];
        BackgroundProcess libtorrent = mixed.Libtorrent;
        int[] ltPorts = mixed.LibtorrentPorts;

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
        TestContext.Current.TestOutputHelper?.WriteLine($"after {clock.Elapsed.TotalSeconds:F1} s: {line}; PeerNet stats {mixed.Nodes[0].GetStats()}");
    }

    [Theory(Timeout = 180_000)]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    public async Task PeerNetGet_TrackerlessMagnet_FindsThePeerNetSeederThroughAMixedDht(TorrentVersion version)
    {
        // peernet seed and peernet get, given only --bootstrap into a DHT of PeerNet and libtorrent nodes: the
        // seeder announces, the magnet's metadata and the download come from the peer the DHT names.
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"dht-magnet-{version}");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);
        TorrentMetainfo metainfo = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent.TorrentPath, ct));
        string magnet = PeerNet.Magnet.MagnetLink.Create(metainfo.InfoHashes, metainfo.Name).ToString();
        await using var mixed = await MixedDht.StartAsync(temp.FullPath, [], clock, ct);

        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { Bootstrap = [mixed.Nodes[0].LocalEndPoint.ToString()] }, ct);
        string target = temp.Combine("pn-dl");
        await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(magnet, target, new PeerNetOptions { Bootstrap = [$"127.0.0.1:{mixed.LibtorrentPorts[1]}"] }, ct);
        PeerNetCompletion done = await leecher.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"after {clock.Elapsed.TotalSeconds:F1} s: {done.Received} bytes through the DHT alone");
        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }
}


/// <summary>Three PeerNet DHT nodes on 127.0.0.1 and four libtorrent sessions (<c>lt_dht.py</c>) that know each other.</summary>
internal sealed class MixedDht : IAsyncDisposable
{
    private MixedDht(DhtNode[] nodes, BackgroundProcess libtorrent, int[] ports)
    {
        Nodes = nodes;
        Libtorrent = libtorrent;
        LibtorrentPorts = ports;
    }

    public DhtNode[] Nodes { get; }

    public BackgroundProcess Libtorrent { get; }

    public int[] LibtorrentPorts { get; }

    /// <summary>Starts both sides with <paramref name="scriptArguments"/> for lt_dht.py, and waits until PeerNet's first node knows every libtorrent session.</summary>
    public static async Task<MixedDht> StartAsync(string savePath, IEnumerable<string> scriptArguments, Stopwatch clock, CancellationToken ct)
    {
        var nodes = new List<DhtNode>();
        BackgroundProcess? libtorrent = null;
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var node = new DhtNode(DhtInteropTests.Options([.. nodes.Select(n => n.LocalEndPoint)]));
                nodes.Add(node);
                await node.StartAsync(ct);
            }

            List<string> arguments = [PythonScripts.Resolve("lt_dht.py"), savePath, .. scriptArguments];
            arguments.AddRange(nodes.SelectMany(n => new[] { "--node", n.LocalEndPoint.ToString() }));
            libtorrent = BackgroundProcess.Start("libtorrent DHT", ReferenceTools.SystemPython, arguments, exitsWhenStdinCloses: true);
            string portsLine = await libtorrent.WaitForLineAsync(l => l.StartsWith("{\"ports\"", StringComparison.Ordinal), TimeSpan.FromSeconds(60), ct);
            int[] ports = [.. JsonDocument.Parse(portsLine).RootElement.GetProperty("ports").EnumerateArray().Select(p => p.GetInt32())];

            // libtorrent's sessions query ours as they bootstrap; ours ping them back and take them into their tables.
            while (nodes[0].GetStats().Nodes < nodes.Count - 1 + ports.Length)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"PeerNet's table holds {nodes[0].GetStats().Nodes} nodes.\n{libtorrent.Describe()}");
                await Task.Delay(250, ct);
            }

            return new MixedDht([.. nodes], libtorrent, ports);
        }
        catch
        {
            if (libtorrent is not null)
            {
                await libtorrent.DisposeAsync();
            }

            foreach (DhtNode node in nodes)
            {
                await node.DisposeAsync();
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Libtorrent.DisposeAsync();
        foreach (DhtNode node in Nodes)
        {
            await node.DisposeAsync();
        }
    }
}
