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
        byte[] found = await UntilFoundAsync(() => mixed.Nodes[2].GetImmutableAsync(theirTarget, ct), clock, () => $"PeerNet did not find libtorrent's item {theirTarget}.\n{mixed.Libtorrent.Describe()}", ct);

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
    public async Task PeerNetAndLibtorrent_OnLoopback_ReadEachOthersMutableItems()
    {
        // BEP 44 mutable items both ways: libtorrent signs with its 64-byte expanded key (lt_dht.py derives it
        // from the same 32-byte seed NSec takes), with a salt; PeerNet signs without one. Each side checks the
        // other's signature over salt, seq and value before it reports the item.
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("dht-mutable");
        byte[] theirSeed = Sha256Hash.Compute("libtorrent's key"u8).ToArray();
        byte[] ourSeed = Sha256Hash.Compute("PeerNet's key"u8).ToArray();
        string theirKey = Convert.ToHexStringLower(DhtNode.MutableItemPublicKey(theirSeed));
        string ourKey = Convert.ToHexStringLower(DhtNode.MutableItemPublicKey(ourSeed));
        const string TheirSalt = "lt-salt", Theirs = "a mutable libtorrent item";

        await using var mixed = await MixedDht.StartAsync(
            temp.FullPath,
            ["--put-mutable", Convert.ToHexStringLower(theirSeed), theirKey, TheirSalt, Theirs, "--get-mutable", ourKey, ""],
            clock,
            ct);

        // PeerNet reads libtorrent's item (libtorrent re-puts it each round with seq + 1: any seq >= 1 is right).
        DhtMutableItem found = await UntilFoundAsync(
            () => mixed.Nodes[2].GetMutableAsync(Convert.FromHexString(theirKey), System.Text.Encoding.ASCII.GetBytes(TheirSalt), ct),
            clock,
            () => $"PeerNet did not find libtorrent's mutable item {theirKey}/{TheirSalt}.\n{mixed.Libtorrent.Describe()}",
            ct);

        Assert.Equal($"{Theirs.Length}:{Theirs}", System.Text.Encoding.ASCII.GetString(found.Value));
        Assert.True(found.Sequence >= 1, $"seq {found.Sequence}");

        // libtorrent reads PeerNet's item.
        DhtPutResult put = await mixed.Nodes[1].PutMutableAsync(ourSeed, ReadOnlyMemory<byte>.Empty, "22:a mutable PeerNet item"u8.ToArray(), 7, ct);
        Assert.True(put.AcceptedBy >= 3, $"only {put.AcceptedBy} nodes stored PeerNet's mutable item");
        string line = await mixed.Libtorrent.WaitForLineAsync(
            l => l.Contains("\"mutable\"", StringComparison.Ordinal) && l.Contains(ourKey, StringComparison.Ordinal),
            Deadline,
            ct);
        JsonElement reported = JsonDocument.Parse(line).RootElement;
        Assert.Equal(7, reported.GetProperty("seq").GetInt64());
        Assert.Equal("22:a mutable PeerNet item", reported.GetProperty("value").GetString());
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
    [InlineData(TorrentVersion.V1, "peernet")]
    [InlineData(TorrentVersion.V2, "peernet")]
    [InlineData(TorrentVersion.V1, "libtorrent")]
    [InlineData(TorrentVersion.V2, "libtorrent")]
    public async Task PeerNetGet_TrackerlessMagnet_FindsItsSeederThroughAMixedDht(TorrentVersion version, string seederClient)
    {
        // peernet get, given only the magnet and --bootstrap into a DHT of PeerNet and libtorrent nodes, finds the
        // seeder there and fetches metadata (BEP 9), v2 layers (BEP 52) and pieces from it. The seeder is
        // `peernet seed` (announcing through another node) or libtorrent's session 0 (v2: it announces the
        // truncated SHA-256 info-hash).
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"dht-magnet-{seederClient}-{version}");
        (SwarmTorrent torrent, string magnet) = await MagnetTorrentAsync(temp, version, ct);
        bool libtorrentSeeds = seederClient == "libtorrent";
        await using var mixed = await MixedDht.StartAsync(temp.FullPath, libtorrentSeeds ? ["--seed", torrent.TorrentPath, torrent.SourceParent] : [], clock, ct);

        await using PeerNetProcess? seeder = libtorrentSeeds ? null
            : await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { Bootstrap = [mixed.Nodes[0].LocalEndPoint.ToString()] }, ct);
        string target = temp.Combine("pn-dl");
        await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(magnet, target, new PeerNetOptions { Bootstrap = [$"127.0.0.1:{mixed.LibtorrentPorts[1]}"] }, ct);
        PeerNetCompletion done = await leecher.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"after {clock.Elapsed.TotalSeconds:F1} s: {done.Received} bytes from the {seederClient} seeder, found through the DHT alone");
        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }

    [Theory(Timeout = 180_000)]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    public async Task Libtorrent_TrackerlessMagnet_DownloadsFromAPeerNetSeederFoundThroughTheDht(TorrentVersion version)
    {
        // peernet seed announces on the DHT; a libtorrent session given only the magnet (no trackers, no peers)
        // announces and looks it up there too. Either side may dial the other (the seeder's announce replies
        // name the downloader); libtorrent then fetches metadata (BEP 9), v2 layers (BEP 52) and every piece from
        // PeerNet, the only peer with data.
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"dht-pn-seed-{version}");
        (SwarmTorrent torrent, string magnet) = await MagnetTorrentAsync(temp, version, ct);
        string target = temp.Combine("lt-dl");
        Directory.CreateDirectory(target);
        await using var mixed = await MixedDht.StartAsync(temp.FullPath, ["--download", magnet, target], clock, ct);

        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { Bootstrap = [mixed.Nodes[0].LocalEndPoint.ToString()] }, ct);
        string line = await mixed.Libtorrent.WaitForLineAsync(l => l.StartsWith("{\"done\": true", StringComparison.Ordinal), SwarmTest.TransferTimeout, ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"after {clock.Elapsed.TotalSeconds:F1} s: {line}");
        // At least the content (v2 also counts the zero tail of each file's last piece).
        Assert.InRange(JsonDocument.Parse(line).RootElement.GetProperty("total_payload_download").GetInt64(), torrent.TotalSize, torrent.TotalSize + (torrent.PieceLength * 8));
        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }

    /// <summary>Asks <paramref name="get"/> every 500 ms until it finds something, failing with <paramref name="failure"/> at the deadline.</summary>
    private static async Task<T> UntilFoundAsync<T>(Func<Task<T?>> get, Stopwatch clock, Func<string> failure, CancellationToken ct)
        where T : class
    {
        while (true)
        {
            Assert.True(clock.Elapsed < Deadline, failure());
            if (await get() is { } found)
            {
                return found;
            }

            await Task.Delay(500, ct);
        }
    }

    /// <summary>The swarm test content as a torrent, and its magnet: info-hash(es) and name only, no trackers or peers.</summary>
    private static async Task<(SwarmTorrent Torrent, string Magnet)> MagnetTorrentAsync(TempDirectory temp, TorrentVersion version, CancellationToken ct)
    {
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);
        TorrentMetainfo metainfo = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent.TorrentPath, ct));
        return (torrent, PeerNet.Magnet.MagnetLink.Create(metainfo.InfoHashes, metainfo.Name).ToString());
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
            libtorrent = BackgroundProcess.Start("libtorrent DHT", ReferenceTools.SystemPython, arguments, exitsWhenStdinCloses: true, crashDumps: new CrashDumps(ReferenceTools.SystemPython));
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
