using System.Diagnostics;
using System.Text.Json;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// The DHT on both families at once (BEP 32), end to end: PeerNet processes and four dual-stack libtorrent sessions in
/// a private network namespace whose veth pair has IPv4 (10.16.0.0/24) and IPv6 ULA (fd00:16::/64) addresses. A
/// dual-stack PeerNet node binds <c>::</c>, which is why this runs in a namespace and not on the host's loopback.
/// Single-family PeerNet seeders announce on one family only, so a download that finds one proves that family's
/// get_peers and announce_peer worked; libtorrent's own get_peers lookups find both.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class DualStackDhtInteropTests
{
    private const int TestTimeout = 300_000;
    private const long ContentSize = 2 * 1024 * 1024;

    // The addresses scripts/netns_holder.sh gives the pair in its dualstack mode: libtorrent on ds1, PeerNet on ds0.
    private const string LtV4 = "10.16.0.2", LtV6 = "fd00:16::2";
    private const string SeedV4 = "10.16.0.1", SeedV6 = "fd00:16::1", GetV6 = "fd00:16::3";

    // A private namespace has every port free: fixed ones keep the nodes' endpoints known before they start.
    private const int LtPort = 7100, Seed6Port = 7201, Seed4Port = 7202, DoctorPort = 7203, Get6FromV6SeedPort = 7204, Get4Port = 7205, Get6FromLtPort = 7206;
    private const int WantDoctorPort = 7301, WantSeedPort = 7302;

    private static readonly string[] BothBootstraps = [$"{LtV4}:{LtPort}", $"[{LtV6}]:{LtPort + 1}"];

    [Fact(Timeout = TestTimeout)]
    public async Task PeerNetAndLibtorrent_InADualStackNamespace_FindPeersOverEachFamilysDht()
    {
        ReferenceTools.Require(ReferenceTool.NetworkNamespace);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();

        // Three torrents of different content: A seeded by PeerNet on IPv6 only, B by PeerNet on IPv4 only, L by libtorrent (both).
        using var tempA = new TempDirectory("ds-dht-a");
        using var tempB = new TempDirectory("ds-dht-b");
        using var tempL = new TempDirectory("ds-dht-l");
        using var state = new TempDirectory("ds-dht-state");
        SwarmTorrent a = await SwarmContent.CreateAsync(tempA, TorrentVersion.V1, ContentSize, ct);
        SwarmTorrent b = await SwarmContent.CreateAsync(tempB, TorrentVersion.V1, ContentSize + 1000, ct);
        SwarmTorrent l = await SwarmContent.CreateAsync(tempL, TorrentVersion.V1, ContentSize + 2000, ct);
        string hashA = await InfoHashAsync(a, ct), hashB = await InfoHashAsync(b, ct);

        NetworkNamespace ns = await StartNamespaceAsync(ct);
        await using (ns)
        {
            PeerNetOptions Options(string name, string host, int port, params string[] bootstrap) => InNamespace(ns, state, name, host, port, bootstrap);

            await using BackgroundProcess libtorrent = await StartLibtorrentAsync(
                ns,
                tempL.FullPath,
                ["--seed", l.TorrentPath, l.SourceParent, "--get-peers", hashA, "--get-peers", hashB, "--node", $"[{SeedV6}]:{Seed6Port}", "--node", $"{SeedV4}:{Seed4Port}"],
                ct);
            SwarmTest.Log(clock, "libtorrent's four dual-stack sessions listen");

            await using PeerNetProcess seed6 = await PeerNetProcess.StartSeedAsync(a.TorrentPath, a.ContentPath, Options("seed6", SeedV6, Seed6Port, $"[{LtV6}]:{LtPort}"), ct);
            await using PeerNetProcess seed4 = await PeerNetProcess.StartSeedAsync(b.TorrentPath, b.ContentPath, Options("seed4", SeedV4, Seed4Port, $"{LtV4}:{LtPort}"), ct);
            SwarmTest.Log(clock, "peernet seeds A on IPv6 only and B on IPv4 only");

            // A dual-stack node's report has one DHT per family, each with a table of that family's nodes.
            ProcessResult doctor = await ProcessRunner.RunAsync(
                ns.Launcher[0],
                [.. ns.Launcher.Skip(1), "env", $"XDG_STATE_HOME={state.Combine("doctor")}", PeerNetProcess.DotnetHost(), PeerNetProcess.AssemblyPath,
                    "doctor", "--json", "--bind", "::", "--port", DoctorPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--wait", "20",
                    .. BothBootstraps.SelectMany(n => new[] { "--bootstrap", n })],
                TimeSpan.FromSeconds(90),
                cancellationToken: ct);
            JsonElement report = JsonDocument.Parse(doctor.StandardOutput).RootElement;
            JsonElement dht4 = report.GetProperty("dht"), dht6 = report.GetProperty("dht6");
            SwarmTest.Log(clock, $"doctor on [::]:{DoctorPort}: IPv4 DHT {dht4}, IPv6 DHT {dht6}");
            Assert.Equal("Joined", dht4.GetProperty("bootstrap").GetString());
            Assert.Equal("Joined", dht6.GetProperty("bootstrap").GetString());

            // Each family's table fills beyond its one bootstrap node (from nodes / nodes6 in the replies): libtorrent's
            // four sessions, and the single-family seeder of that family.
            Assert.True(dht4.GetProperty("nodes").GetInt32() >= 4, doctor.Describe());
            Assert.True(dht6.GetProperty("nodes").GetInt32() >= 4, doctor.Describe());

            // libtorrent's get_peers finds each PeerNet seeder over its own family.
            await libtorrent.WaitForLineAsync(line => IsGetPeers(line, hashA, $"[{SeedV6}]:{Seed6Port}"), SwarmTest.TransferTimeout, ct);
            SwarmTest.Log(clock, "libtorrent found A's IPv6-only seeder over the IPv6 DHT");
            await libtorrent.WaitForLineAsync(line => IsGetPeers(line, hashB, $"{SeedV4}:{Seed4Port}"), SwarmTest.TransferTimeout, ct);
            SwarmTest.Log(clock, "libtorrent found B's IPv4-only seeder over the IPv4 DHT");

            // PeerNet downloads, each with the DHT its only source of peers.
            string targetA = tempA.Combine("pn-dl"), targetB = tempB.Combine("pn-dl"), targetL = tempL.Combine("pn-dl");
            await using PeerNetProcess getA = await PeerNetProcess.StartGetAsync(a.TorrentPath, targetA, Options("get-a", "::", Get6FromV6SeedPort, BothBootstraps), ct);
            await using PeerNetProcess getB = await PeerNetProcess.StartGetAsync(b.TorrentPath, targetB, Options("get-b", "::", Get4Port, BothBootstraps), ct);
            await using PeerNetProcess getL = await PeerNetProcess.StartGetAsync(l.TorrentPath, targetL, Options("get-l", GetV6, Get6FromLtPort, $"[{LtV6}]:{LtPort + 2}"), ct);
            await getA.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
            SwarmTest.Log(clock, "dual-stack peernet get found A's IPv6-only seeder through the IPv6 DHT");
            SwarmContent.AssertIdentical(a.ContentPath, a.ContentIn(targetA));
            await getB.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
            SwarmTest.Log(clock, "dual-stack peernet get found B's IPv4-only seeder through the IPv4 DHT");
            SwarmContent.AssertIdentical(b.ContentPath, b.ContentIn(targetB));
            await getL.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
            // Either side may dial: each finds the other's announce (libtorrent announces and looks up every 2 s).
            SwarmTest.Log(clock, "IPv6-only peernet get and libtorrent's seeder found each other through the IPv6 DHT");
            SwarmContent.AssertIdentical(l.ContentPath, l.ContentIn(targetL));
        }
    }

    /// <summary>
    /// BEP 32's <c>want</c> across implementations: PeerNet nodes given libtorrent's IPv4 endpoint as their only
    /// bootstrap node find nobody on IPv6, then ask libtorrent's IPv4 nodes find_node with want n4 and n6, and join
    /// libtorrent's IPv6 DHT through the <c>nodes6</c> they answer (libtorrent reaches into its IPv6 table for them).
    /// libtorrent knows no IPv6 address of theirs, so an IPv6 table of theirs, and a PeerNet seeder that libtorrent finds
    /// at an IPv6 address, come only from that. (libtorrent 2.0 sends no <c>want</c> itself, and its Python bindings
    /// cannot send a hand-made query: PeerNet's answers to <c>want</c> are covered by DhtNodeTests.)
    /// </summary>
    [Fact(Timeout = TestTimeout)]
    public async Task PeerNet_BootstrappedOverIpv4Only_JoinsLibtorrentsIpv6Dht_ThroughNodes6ItAsksForWithWant()
    {
        ReferenceTools.Require(ReferenceTool.NetworkNamespace);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("ds-want");
        using var state = new TempDirectory("ds-want-state");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, ContentSize, ct);
        string hash = await InfoHashAsync(torrent, ct);
        string ipv4Only = $"{LtV4}:{LtPort}";

        NetworkNamespace ns = await StartNamespaceAsync(ct);
        await using (ns)
        {
            await using BackgroundProcess libtorrent = await StartLibtorrentAsync(ns, temp.FullPath, ["--get-peers", hash], ct);
            SwarmTest.Log(clock, "libtorrent's four dual-stack sessions listen");

            // A dual-stack node's report: its IPv6 table holds libtorrent's IPv6 nodes, though it was given none.
            ProcessResult doctor = await ProcessRunner.RunAsync(
                ns.Launcher[0],
                [.. ns.Launcher.Skip(1), "env", $"XDG_STATE_HOME={state.Combine("doctor")}", PeerNetProcess.DotnetHost(), PeerNetProcess.AssemblyPath,
                    "doctor", "--json", "--bind", "::", "--port", WantDoctorPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--wait", "20", "--bootstrap", ipv4Only],
                TimeSpan.FromSeconds(90),
                cancellationToken: ct);
            JsonElement report = JsonDocument.Parse(doctor.StandardOutput).RootElement;
            JsonElement dht4 = report.GetProperty("dht"), dht6 = report.GetProperty("dht6");
            SwarmTest.Log(clock, $"doctor on [::]:{WantDoctorPort}, bootstrapped from {ipv4Only} only: IPv4 DHT {dht4}, IPv6 DHT {dht6}");
            Assert.Equal("Joined", dht4.GetProperty("bootstrap").GetString());
            Assert.Equal("Joined", dht6.GetProperty("bootstrap").GetString());
            Assert.True(dht6.GetProperty("nodes").GetInt32() >= 4, doctor.Describe()); // libtorrent's four sessions

            // A dual-stack seeder bootstrapped the same way announces on its IPv6 DHT too: libtorrent's lookups find it there.
            await using PeerNetProcess seed = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, InNamespace(ns, state, "seed", "::", WantSeedPort, ipv4Only), ct);
            string found = await libtorrent.WaitForLineAsync(
                line => IsGetPeers(line, hash, peer => peer.StartsWith("[fd00:16::", StringComparison.Ordinal) && peer.EndsWith($"]:{WantSeedPort}", StringComparison.Ordinal)),
                SwarmTest.TransferTimeout,
                ct);
            SwarmTest.Log(clock, $"libtorrent found the IPv4-bootstrapped peernet seed over the IPv6 DHT: {found}");
        }
    }

    /// <summary>
    /// The dual-stack namespace (scripts/netns_holder.sh dualstack). Its veth pair needs the veth driver, which a
    /// container may not offer: a visible skip then, or a failure where interop is required.
    /// </summary>
    private static async Task<NetworkNamespace> StartNamespaceAsync(CancellationToken ct)
    {
        try
        {
            return await NetworkNamespace.StartAsync(NetworkNamespaceMode.DualStack, ct);
        }
        catch (InvalidOperationException e)
        {
            ReferenceTools.Enforce(new ToolInfo(ReferenceTool.NetworkNamespace, "veth pair in a network namespace", "iproute2", null, null, e.Message), Environment.GetEnvironmentVariable(ReferenceTools.RequireVariable));
            throw;
        }
    }

    /// <summary>
    /// lt_dht.py in <paramref name="ns"/>: four dual-stack libtorrent sessions on ds1 (<see cref="LtV4"/>,
    /// <see cref="LtV6"/>), session i at <see cref="LtPort"/> + i, with <paramref name="arguments"/>; returned once they listen.
    /// </summary>
    private static async Task<BackgroundProcess> StartLibtorrentAsync(NetworkNamespace ns, string savePath, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        List<string> script =
        [
            ReferenceTools.SystemPython, PythonScripts.Resolve("lt_dht.py"), savePath,
            "--host", LtV4, "--host", LtV6, "--port", LtPort.ToString(System.Globalization.CultureInfo.InvariantCulture), .. arguments,
        ];
        BackgroundProcess libtorrent = BackgroundProcess.Start("libtorrent DHT", ns.Launcher[0], [.. ns.Launcher.Skip(1), .. script], exitsWhenStdinCloses: true, crashDumps: new CrashDumps(ReferenceTools.SystemPython));
        try
        {
            await libtorrent.WaitForLineAsync(line => line.StartsWith("{\"ports\"", StringComparison.Ordinal), TimeSpan.FromSeconds(60), ct);
            return libtorrent;
        }
        catch
        {
            await libtorrent.DisposeAsync();
            throw;
        }
    }

    /// <summary>A PeerNet process's options in <paramref name="ns"/>, with a state folder of its own: a fresh node ID and no table saved by other tests.</summary>
    private static PeerNetOptions InNamespace(NetworkNamespace ns, TempDirectory state, string name, string host, int port, params string[] bootstrap) => new()
    {
        Host = host,
        Port = port,
        Bootstrap = bootstrap,
        NoTrackers = true,
        Launcher = [.. ns.Launcher, "env", $"XDG_STATE_HOME={state.Combine(name)}"],
    };

    private static async Task<string> InfoHashAsync(SwarmTorrent torrent, CancellationToken ct)
        => TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent.TorrentPath, ct)).InfoHashes.V1!.Value.ToString();

    /// <summary>lt_dht.py's <c>{"get_peers": HEX, "peers": [...]}</c> line for <paramref name="hash"/> naming <paramref name="peer"/>.</summary>
    private static bool IsGetPeers(string line, string hash, string peer) => IsGetPeers(line, hash, p => p == peer);

    /// <summary>lt_dht.py's <c>{"get_peers": HEX, "peers": [...]}</c> line for <paramref name="hash"/> naming a peer that <paramref name="matches"/>.</summary>
    private static bool IsGetPeers(string line, string hash, Func<string, bool> matches)
    {
        if (!line.StartsWith("{\"get_peers\"", StringComparison.Ordinal))
        {
            return false;
        }

        JsonElement reply = JsonDocument.Parse(line).RootElement;
        return reply.GetProperty("get_peers").GetString() == hash && reply.GetProperty("peers").EnumerateArray().Any(p => matches(p.GetString()!));
    }
}
