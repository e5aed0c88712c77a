using System.Diagnostics;
using PeerNet.Magnet;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// Local service discovery (BEP 14) between real processes: peernet and libtorrent 2.0 with no tracker, no DHT and no
/// peer given find each other by multicast and transfer, checked byte for byte. Every process runs inside one private
/// network namespace (<see cref="NetworkNamespace"/>, loopback only), so nothing is multicast on the host's network.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class LsdInteropTests
{
    private const int TestTimeout = 180_000;
    private static readonly TimeSpan ReportSlack = TimeSpan.FromSeconds(30);

    private static PeerNetOptions InNamespace(NetworkNamespace ns) => new() { LocalDiscovery = true, NoTrackers = true, Launcher = ns.Launcher };

    /// <summary>Checks the requirements, writes the content and has libtorrent make its torrent; returns its magnet too.</summary>
    private static async Task<(TempDirectory Temp, SwarmTorrent Torrent, string Magnet)> CreateAsync(string name, TorrentVersion version, CancellationToken ct)
    {
        ReferenceTools.Require(ReferenceTool.NetworkNamespace);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        var temp = new TempDirectory(name);
        try
        {
            SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, version, SwarmTest.ContentSize, ct);
            TorrentMetainfo metainfo = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent.TorrentPath, ct));
            return (temp, torrent, MagnetLink.Create(metainfo.InfoHashes, metainfo.Name).ToString());
        }
        catch
        {
            temp.Dispose();
            throw;
        }
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    public async Task PeerNetSeedAndGet_NoTrackerNoDhtNoPeer_FindEachOtherByLsd(TorrentVersion version)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        (TempDirectory temp, SwarmTorrent torrent, _) = await CreateAsync($"pn-lsd-{version}", version, ct);
        using TempDirectory cleanup = temp;
        await using NetworkNamespace ns = await NetworkNamespace.StartAsync(ct);

        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, InNamespace(ns), ct);
        SwarmTest.Log(clock, $"peernet seeds on port {seeder.ListenPort}");
        string target = temp.Combine("pn-dl");
        await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(torrent.TorrentPath, target, InNamespace(ns), ct);
        PeerNetCompletion done = await leecher.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
        SwarmTest.Log(clock, $"peernet get complete by LSD: received {done.Received} bytes");
        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }

    [Fact(Timeout = TestTimeout)]
    public async Task PeerNetSeedAndGet_OverIPv6Only_FindEachOtherByLsd()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        (TempDirectory temp, SwarmTorrent torrent, _) = await CreateAsync("pn-lsd-ipv6", TorrentVersion.Hybrid, ct);
        using TempDirectory cleanup = temp;
        NetworkNamespace ns;
        try
        {
            ns = await NetworkNamespace.StartAsync(ct, ipv6: true);
        }
        catch (InvalidOperationException e)
        {
            // A veth pair needs the veth driver, which a container may not offer.
            ReferenceTools.Enforce(new ToolInfo(ReferenceTool.NetworkNamespace, "veth pair in a network namespace", "iproute2", null, null, e.Message), Environment.GetEnvironmentVariable(ReferenceTools.RequireVariable));
            throw;
        }

        await using (ns)
        {
            // Every address (IPv6Any): both groups are tried, and only [ff15::efc0:988f]:6771 has a route here.
            PeerNetOptions options = InNamespace(ns) with { Host = "::" };
            await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, options, ct);
            string target = temp.Combine("pn-dl");
            await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(torrent.TorrentPath, target, options, ct);
            PeerNetCompletion done = await leecher.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
            SwarmTest.Log(clock, $"peernet get complete by LSD over IPv6: received {done.Received} bytes");
            SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
        }
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PeerNetAndLibtorrent_OverIPv6Only_FindEachOtherByLsd(bool libtorrentSeeds)
    {
        // [ff15::efc0:988f]:6771 across a veth pair with ULA addresses: libtorrent on ds1 (fd00:16::2), peernet on ds0
        // (fd00:16::1). The namespace has no IPv4 multicast route, so only the IPv6 group can carry the announces; the
        // peer is dialled at the address its announce came from.
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        (TempDirectory temp, SwarmTorrent torrent, string magnet) = await CreateAsync($"lsd6-lt-{(libtorrentSeeds ? "seeds" : "gets")}", TorrentVersion.V1, ct);
        using TempDirectory cleanup = temp;
        NetworkNamespace ns;
        try
        {
            ns = await NetworkNamespace.StartAsync(NetworkNamespaceMode.DualStack, ct);
        }
        catch (InvalidOperationException e)
        {
            ReferenceTools.Enforce(new ToolInfo(ReferenceTool.NetworkNamespace, "veth pair in a network namespace", "iproute2", null, null, e.Message), Environment.GetEnvironmentVariable(ReferenceTools.RequireVariable));
            throw;
        }

        await using (ns)
        {
            PeerNetOptions options = InNamespace(ns) with { Host = "fd00:16::1" };
            if (libtorrentSeeds)
            {
                string target = temp.Combine("pn-dl");
                await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(magnet, target, options, ct);
                await leecher.Process.WaitForLineAsync(l => l.StartsWith("fetching metadata", StringComparison.Ordinal), SwarmTest.TransferTimeout, ct);
                (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct, host: "fd00:16::2", localDiscoveryIn: ns);
                await using (seeder)
                {
                    PeerNetCompletion done = await leecher.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
                    SwarmTest.Log(clock, $"peernet got the magnet from libtorrent by LSD over IPv6: received {done.Received} bytes");
                    SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
                }
            }
            else
            {
                // libtorrent first, and peernet only after libtorrent's two start-up announces (0.5 s and 2.5 s): so
                // libtorrent must hear peernet's IPv6 announce, whoever dials.
                string target = temp.Combine("lt-dl");
                await using LibtorrentProcess leecher = await LibtorrentProcess.StartDownloadAsync(torrent.TorrentPath, target, [], SwarmTest.TransferTimeout, ct, host: "fd00:16::2", localDiscoveryIn: ns);
                await leecher.Process.WaitForLineAsync(l => l.Contains("==> LSD", StringComparison.Ordinal), SwarmTest.TransferTimeout, ct);
                await Task.Delay(TimeSpan.FromSeconds(3), ct);
                await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, options, ct);
                string heard = await leecher.Process.WaitForLineAsync(l => l.Contains("<== LSD", StringComparison.Ordinal) && l.Contains("fd00:16::1", StringComparison.Ordinal), SwarmTest.TransferTimeout, ct);
                SwarmTest.Log(clock, $"libtorrent heard peernet's IPv6 announce: {heard}");
                LtDone done = await leecher.WaitForDoneAsync(SwarmTest.TransferTimeout + ReportSlack, ct);
                SwarmTest.Log(clock, $"libtorrent got {done.TotalPayloadDownload} bytes from peernet by LSD over IPv6 in {done.Seconds:F1} s");
                Assert.Equal(torrent.PieceCount, done.NumPieces);
                SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
            }
        }
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.Hybrid)]
    public async Task LibtorrentSeeds_PeerNetGetsATrackerlessMagnet_ByLsd(TorrentVersion version)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        (TempDirectory temp, SwarmTorrent torrent, string magnet) = await CreateAsync($"lt-lsd-pn-{version}", version, ct);
        using TempDirectory cleanup = temp;
        await using NetworkNamespace ns = await NetworkNamespace.StartAsync(ct);

        // peernet listens first: libtorrent announces when its torrent starts, then only every five minutes.
        string target = temp.Combine("pn-dl");
        await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(magnet, target, InNamespace(ns), ct);
        await leecher.Process.WaitForLineAsync(l => l.StartsWith("fetching metadata", StringComparison.Ordinal), SwarmTest.TransferTimeout, ct);
        (LibtorrentProcess seeder, _) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct, localDiscoveryIn: ns);
        await using (seeder)
        {
            SwarmTest.Log(clock, $"libtorrent seeds on port {seeder.ListenPort}, LSD on");
            PeerNetCompletion done = await leecher.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
            SwarmTest.Log(clock, $"peernet got the magnet by LSD: received {done.Received} bytes");
            SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
        }
    }

    [Theory(Timeout = TestTimeout)]
    [InlineData(TorrentVersion.V1, false)]
    [InlineData(TorrentVersion.V2, false)]
    [InlineData(TorrentVersion.Hybrid, true)]
    public async Task PeerNetSeeds_LibtorrentGets_ByLsd(TorrentVersion version, bool fromMagnet)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        (TempDirectory temp, SwarmTorrent torrent, string magnet) = await CreateAsync($"pn-lsd-lt-{version}", version, ct);
        using TempDirectory cleanup = temp;
        string source = fromMagnet ? magnet : torrent.TorrentPath;
        await using NetworkNamespace ns = await NetworkNamespace.StartAsync(ct);

        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, InNamespace(ns), ct);
        string target = temp.Combine("lt-dl");
        await using LibtorrentProcess leecher = await LibtorrentProcess.StartDownloadAsync(source, target, [], SwarmTest.TransferTimeout, ct, localDiscoveryIn: ns);
        LtDone done = await leecher.WaitForDoneAsync(SwarmTest.TransferTimeout + ReportSlack, ct);
        SwarmTest.Log(clock, $"libtorrent got {done.TotalPayloadDownload} bytes by LSD in {done.Seconds:F1} s");
        Assert.Equal(torrent.PieceCount, done.NumPieces);
        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
    }
}
