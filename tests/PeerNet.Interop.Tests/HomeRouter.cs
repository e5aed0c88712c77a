using System.Globalization;

namespace PeerNet.Interop.Tests;

/// <summary>
/// A home network behind a real NAT router: three root network namespaces (home, router, internet; see
/// <c>scripts/home_router.sh</c>) and Debian's <c>miniupnpd</c> in the router, serving NAT-PMP and/or UPnP on the home
/// side, adding its forwarding rules to nftables. Names are unique per instance; disposing stops miniupnpd and deletes
/// the namespaces whatever happened. Requires <see cref="ReferenceTool.Miniupnpd"/> (root).
/// </summary>
internal sealed class HomeRouter : IAsyncDisposable
{
    public const string HomeAddress = "192.168.77.2";
    public const string RouterAddress = "192.168.77.1";
    public const string ExternalAddress = "11.22.33.1";
    public const string InternetAddress = "11.22.33.2";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _temp;
    private BackgroundProcess? _miniupnpd;

    private HomeRouter(string suffix, TempDirectory temp)
    {
        Suffix = suffix;
        _temp = temp;
    }

    /// <summary>The part of every namespace and interface name that is this instance's.</summary>
    public string Suffix { get; }

    /// <summary>The command prefix that runs a program in the home namespace.</summary>
    public IReadOnlyList<string> HomeLauncher => ["ip", "netns", "exec", "pnhome" + Suffix];

    /// <summary>The command prefix that runs a program in the internet namespace.</summary>
    public IReadOnlyList<string> InternetLauncher => ["ip", "netns", "exec", "pninet" + Suffix];

    /// <summary>miniupnpd's log so far (it logs to stderr with -d).</summary>
    public string Log => _miniupnpd?.StandardError ?? "";

    /// <summary>The command prefix that runs a program in the router namespace (tc and nft on the path, say).</summary>
    public IReadOnlyList<string> RouterLauncher => ["ip", "netns", "exec", "pnrouter" + Suffix];

    /// <summary>The router's interface toward the home network: its egress carries everything downloaded into the home.</summary>
    public string HomeSideInterface => "pnr" + Suffix;

    /// <summary>
    /// Makes the namespaces and starts miniupnpd with NAT-PMP and/or UPnP on; waits until it listens. With both off no
    /// miniupnpd runs: the namespaces are then a plain routed path with NAT (requires
    /// <see cref="ReferenceTool.RoutedNamespaces"/> only).
    /// </summary>
    public static async Task<HomeRouter> StartAsync(bool natPmp, bool upnp, CancellationToken cancellationToken)
    {
        string suffix = Random.Shared.Next(0x10000, 0xfffff).ToString("x", CultureInfo.InvariantCulture);
        var router = new HomeRouter(suffix, new TempDirectory("router"));
        try
        {
            await RunAsync(["sh", PythonScripts.Resolve("home_router.sh"), "up", suffix], cancellationToken).ConfigureAwait(false);
            if (!natPmp && !upnp)
            {
                return router;
            }

            string config = router._temp.Combine("miniupnpd.conf");
            await File.WriteAllTextAsync(config, string.Join('\n',
                $"ext_ifname=pnw{suffix}",
                $"listening_ip=pnr{suffix}",
                $"enable_natpmp={(natPmp ? "yes" : "no")}",
                $"enable_upnp={(upnp ? "yes" : "no")}",
                "secure_mode=yes",
                "system_uptime=no",
                $"uuid=11111111-2222-3333-4444-5555555{suffix}",
                "allow 1024-65535 192.168.77.0/24 1024-65535",
                "deny 0-65535 0.0.0.0/0 0-65535",
                ""), cancellationToken).ConfigureAwait(false);
            router._miniupnpd = BackgroundProcess.Start(
                "miniupnpd", "ip", ["netns", "exec", "pnrouter" + suffix, "miniupnpd", "-d", "-f", config, "-P", router._temp.Combine("miniupnpd.pid")]);
            string ready = natPmp ? "Listening for NAT-PMP" : "HTTP listening on port";
            BackgroundProcess miniupnpd = router._miniupnpd;
            await Poll.UntilAsync(() => router.Log.Contains(ready, StringComparison.Ordinal) || miniupnpd.HasExited, "miniupnpd listening", TimeSpan.FromSeconds(20), describe: miniupnpd.Describe).ConfigureAwait(false);
            Assert.True(router.Log.Contains(ready, StringComparison.Ordinal), "miniupnpd did not start:\n" + miniupnpd.Describe());
            return router;
        }
        catch
        {
            await router.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs a command in the home namespace and returns its stdout (a failure throws with the output).</summary>
    public async Task<string> InHomeAsync(IEnumerable<string> command, CancellationToken cancellationToken)
        => (await RunAsync([.. HomeLauncher, .. command], cancellationToken).ConfigureAwait(false)).StandardOutput;

    /// <summary>Runs a command in the router namespace and returns its stdout.</summary>
    public async Task<string> InRouterAsync(IEnumerable<string> command, CancellationToken cancellationToken)
        => (await RunAsync([.. RouterLauncher, .. command], cancellationToken).ConfigureAwait(false)).StandardOutput;

    /// <summary>Runs a command in the internet namespace and returns its stdout.</summary>
    public async Task<string> InInternetAsync(IEnumerable<string> command, CancellationToken cancellationToken)
        => (await RunAsync([.. InternetLauncher, .. command], cancellationToken).ConfigureAwait(false)).StandardOutput;

    /// <summary>The router's port-forwarding rules as miniupnpd wrote them into nftables.</summary>
    public async Task<string> ForwardingRulesAsync(CancellationToken cancellationToken)
        => (await RunAsync(["ip", "netns", "exec", "pnrouter" + Suffix, "nft", "list", "chain", "inet", "filter", "prerouting_miniupnpd"], cancellationToken).ConfigureAwait(false)).StandardOutput;

    private static Task<ProcessResult> RunAsync(IReadOnlyList<string> command, CancellationToken cancellationToken)
        => ProcessRunner.RunAsync(command[0], command.Skip(1), CommandTimeout, cancellationToken: cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_miniupnpd is not null)
            {
                await _miniupnpd.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            await ProcessRunner.RunAsync("sh", [PythonScripts.Resolve("home_router.sh"), "down", Suffix], CommandTimeout, checkExitCode: false).ConfigureAwait(false);
            _temp.Dispose();
        }
    }
}
