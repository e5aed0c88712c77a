using System.Globalization;
using System.Text.RegularExpressions;
using PeerNet.Creation;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// Port mapping against a real router: <c>peernet seed</c> in a home network namespace behind Debian's miniupnpd
/// (<see cref="HomeRouter"/>, nftables masquerade) maps its TCP and UDP port by PCP, by NAT-PMP, or by UPnP, reports the
/// external address miniupnpd gives, and the mapping is real: miniupnpd's own tools and its nftables rules show it,
/// and a peer on the "internet" side completes a BitTorrent handshake through the external address. On stop the node
/// removes the mapping and the rules are gone.
/// </summary>
public sealed class PortMappingInteropTests
{
    private const int TestTimeout = 120_000;
    private static readonly TimeSpan MapTimeout = TimeSpan.FromSeconds(30);

    [Fact(Timeout = TestTimeout)]
    public async Task NatPmp_MapsThePortThroughMiniupnpd_AndRemovesItOnStop()
    {
        ReferenceTools.Require(ReferenceTool.Miniupnpd);
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using HomeRouter router = await HomeRouter.StartAsync(natPmp: true, upnp: false, ct);
        using var temp = new TempDirectory("natpmp");
        (string torrentPath, string content, string infoHash) = await CreateTorrentAsync(temp, ct);
        PeerNetProcess seeder = await StartSeederAsync(router, temp, torrentPath, content, ct, "natpmp"); // miniupnpd answers PCP too: NAT-PMP alone here
        await using (seeder)
        {
            int port = seeder.ListenPort;
            await WaitForLogAsync(seeder, router, $"NAT-PMP mapped TCP port {port} to {HomeRouter.ExternalAddress}:{port} ");
            await WaitForLogAsync(seeder, router, $"NAT-PMP mapped UDP port {port} to {HomeRouter.ExternalAddress}:{port} ");

            // The router's side: natpmpc reads the same external address; miniupnpd forwards both protocols to the node.
            string natpmpc = await router.InHomeAsync(["natpmpc", "-g", HomeRouter.RouterAddress], ct);
            Assert.Contains($"Public IP address : {HomeRouter.ExternalAddress}", natpmpc, StringComparison.Ordinal);
            string rules = await router.ForwardingRulesAsync(ct);
            Assert.Equal(2, ForwardRules(rules, port).Count);

            // A peer outside reaches the node through the mapped external address.
            Assert.Equal(infoHash, (await router.InInternetAsync([ReferenceTools.SystemPython, PythonScripts.Resolve("bt_handshake.py"), HomeRouter.ExternalAddress, Num(port), infoHash], ct)).Trim());

            await StopAsync(seeder, ct);
            Assert.Contains("NAT-PMP removed the mappings of port " + Num(port), seeder.Process.StandardError, StringComparison.Ordinal);
            Assert.Empty(ForwardRules(await router.ForwardingRulesAsync(ct), port));
        }
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Upnp_MapsThePortThroughMiniupnpd_AndRemovesItOnStop()
    {
        ReferenceTools.Require(ReferenceTool.Miniupnpd);
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using HomeRouter router = await HomeRouter.StartAsync(natPmp: false, upnp: true, ct);
        using var temp = new TempDirectory("upnp");
        (string torrentPath, string content, string infoHash) = await CreateTorrentAsync(temp, ct);
        PeerNetProcess seeder = await StartSeederAsync(router, temp, torrentPath, content, ct);
        await using (seeder)
        {
            int port = seeder.ListenPort;
            await WaitForLogAsync(seeder, router, $"UPnP mapped TCP port {port} to {HomeRouter.ExternalAddress}:{port} ");
            await WaitForLogAsync(seeder, router, $"UPnP mapped UDP port {port} to {HomeRouter.ExternalAddress}:{port} ");
            Assert.Contains("PCP failed", seeder.Process.StandardError, StringComparison.Ordinal); // this router has no PCP nor NAT-PMP

            // miniupnpc lists both mappings, to the node's address, under the node's description.
            string list = await router.InHomeAsync(["upnpc", "-l"], ct);
            Assert.Contains($"ExternalIPAddress = {HomeRouter.ExternalAddress}", list, StringComparison.Ordinal);
            Assert.Matches($@"\bTCP +{port}->{Regex.Escape(HomeRouter.HomeAddress)}:{port} +'PeerNet'", list);
            Assert.Matches($@"\bUDP +{port}->{Regex.Escape(HomeRouter.HomeAddress)}:{port} +'PeerNet'", list);
            Assert.Equal(2, ForwardRules(await router.ForwardingRulesAsync(ct), port).Count);
            Assert.Equal(infoHash, (await router.InInternetAsync([ReferenceTools.SystemPython, PythonScripts.Resolve("bt_handshake.py"), HomeRouter.ExternalAddress, Num(port), infoHash], ct)).Trim());

            await StopAsync(seeder, ct);
            Assert.Contains("UPnP removed the mappings of port " + Num(port), seeder.Process.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain("'PeerNet'", await router.InHomeAsync(["upnpc", "-l"], ct), StringComparison.Ordinal);
            Assert.Empty(ForwardRules(await router.ForwardingRulesAsync(ct), port));
        }
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Pcp_MapsThePortThroughMiniupnpd_BeforeNatPmp_AndRemovesItOnStop()
    {
        ReferenceTools.Require(ReferenceTool.Miniupnpd);
        CancellationToken ct = TestContext.Current.CancellationToken;

        // UPnP on in the router so upnpc can list its table (PCP's mappings among them); the node asks by PCP, with
        // NAT-PMP as its fallback, and not by UPnP: every mapping listed is PCP's.
        await using HomeRouter router = await HomeRouter.StartAsync(natPmp: true, upnp: true, ct);
        using var temp = new TempDirectory("pcp");
        (string torrentPath, string content, string infoHash) = await CreateTorrentAsync(temp, ct);
        PeerNetProcess seeder = await StartSeederAsync(router, temp, torrentPath, content, ct, "pcp,natpmp");
        await using (seeder)
        {
            int port = seeder.ListenPort;
            await WaitForLogAsync(seeder, router, $"PCP mapped TCP port {port} to {HomeRouter.ExternalAddress}:{port} ");
            await WaitForLogAsync(seeder, router, $"PCP mapped UDP port {port} to {HomeRouter.ExternalAddress}:{port} ");
            Assert.DoesNotContain("NAT-PMP mapped", seeder.Process.StandardError, StringComparison.Ordinal);

            // miniupnpd logged the two PCP MAP requests, lists both mappings to the node, and forwards both protocols.
            string home = Regex.Escape(HomeRouter.HomeAddress);
            Assert.Matches($@"PCP MAP: \w+ mapping TCP {port}->{home}:{port}\b", router.Log);
            Assert.Matches($@"PCP MAP: \w+ mapping UDP {port}->{home}:{port}\b", router.Log);
            string list = await router.InHomeAsync(["upnpc", "-l"], ct);
            Assert.Matches($@"\bTCP +{port}->{home}:{port} +'", list);
            Assert.Matches($@"\bUDP +{port}->{home}:{port} +'", list);
            Assert.Equal(2, ForwardRules(await router.ForwardingRulesAsync(ct), port).Count);

            // The address PCP reported is the one natpmpc reads, and a peer outside reaches the node through it.
            string natpmpc = await router.InHomeAsync(["natpmpc", "-g", HomeRouter.RouterAddress], ct);
            Assert.Contains($"Public IP address : {HomeRouter.ExternalAddress}", natpmpc, StringComparison.Ordinal);
            Assert.Equal(infoHash, (await router.InInternetAsync([ReferenceTools.SystemPython, PythonScripts.Resolve("bt_handshake.py"), HomeRouter.ExternalAddress, Num(port), infoHash], ct)).Trim());

            await StopAsync(seeder, ct);
            Assert.Contains("PCP removed the mappings of port " + Num(port), seeder.Process.StandardError, StringComparison.Ordinal);
            Assert.Empty(ForwardRules(await router.ForwardingRulesAsync(ct), port));
            string after = await router.InHomeAsync(["upnpc", "-l"], ct);
            Assert.DoesNotMatch($@"\b(TCP|UDP) +{port}->{home}:{port}\b", after);
        }
    }

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>miniupnpd's DNAT rules for <paramref name="port"/> to the home address, one per protocol.</summary>
    private static List<string> ForwardRules(string rules, int port)
        => [.. rules.Split('\n').Where(l => l.Contains($"dport {port} dnat ip to {HomeRouter.HomeAddress}:{port}", StringComparison.Ordinal))];

    private static async Task<(string Torrent, string Content, string InfoHash)> CreateTorrentAsync(TempDirectory temp, CancellationToken ct)
    {
        string content = temp.Combine("content.bin");
        await File.WriteAllBytesAsync(content, [.. Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7))], ct);
        TorrentCreationResult created = await TorrentCreator.CreateWithDetailsAsync(new TorrentCreationOptions { SourcePath = content, Version = TorrentVersion.V1 }, cancellationToken: ct);
        string torrent = temp.Combine("content.torrent");
        await File.WriteAllBytesAsync(torrent, created.Torrent, ct);
        return (torrent, content, created.InfoHashes.V1!.Value.ToString());
    }

    /// <summary><c>peernet seed</c> in the home namespace, on every address (so it maps), verbose: the mapper logs to stderr.</summary>
    private static Task<PeerNetProcess> StartSeederAsync(HomeRouter router, TempDirectory temp, string torrent, string content, CancellationToken ct, string? portMapping = null)
        => PeerNetProcess.StartSeedAsync(torrent, content, new PeerNetOptions
        {
            Host = "0.0.0.0",
            NoTrackers = true,
            Launcher = router.HomeLauncher,
            Verbose = true,
            ExtraArguments = portMapping is null ? [] : ["--port-mapping", portMapping],
        }, ct);

    private static async Task WaitForLogAsync(PeerNetProcess seeder, HomeRouter router, string text)
    {
        string Story() => seeder.Process.Describe() + "\n--- miniupnpd ---\n" + router.Log;
        await Poll.UntilAsync(
            () => seeder.Process.StandardError.Contains(text, StringComparison.Ordinal) || seeder.Process.HasExited,
            text,
            MapTimeout,
            interval: TimeSpan.FromMilliseconds(100),
            describe: Story);
        Assert.True(seeder.Process.StandardError.Contains(text, StringComparison.Ordinal), $"peernet exited before '{text}':\n{Story()}");
    }

    /// <summary>SIGTERM, as a service manager stops it; the node removes its mappings on the way out.</summary>
    private static async Task StopAsync(PeerNetProcess seeder, CancellationToken ct)
    {
        await ProcessRunner.RunAsync("kill", ["-TERM", Num(seeder.Process.Id)], TimeSpan.FromSeconds(10), cancellationToken: ct);
        await seeder.Process.WaitForExitAsync(TimeSpan.FromSeconds(30), ct);
    }
}
