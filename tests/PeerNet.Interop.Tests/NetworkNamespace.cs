using System.Globalization;

namespace PeerNet.Interop.Tests;

/// <summary>
/// A private network namespace with only loopback in it (multicast on, 239.0.0.0/8 routed through it), held open by
/// <c>scripts/netns_holder.sh</c> under <c>unshare -rn</c> until disposed. Processes started with
/// <see cref="Launcher"/> in front of their command line run inside it, so their multicast (LSD) reaches each other
/// and nothing else: the host's real network never sees it.
/// </summary>
internal sealed class NetworkNamespace : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private NetworkNamespace(BackgroundProcess holder, int pid)
    {
        Holder = holder;
        Pid = pid;
    }

    public BackgroundProcess Holder { get; }

    /// <summary>The holder's process id, as <c>nsenter --target</c> takes it.</summary>
    public int Pid { get; }

    /// <summary>The command prefix that runs a program inside the namespace.</summary>
    public IReadOnlyList<string> Launcher => ["nsenter", "--target", Pid.ToString(CultureInfo.InvariantCulture), "--user", "--net", "--preserve-credentials", "--"];

    /// <summary>
    /// Creates the namespace; requires <see cref="ReferenceTool.NetworkNamespace"/> (call Require first). With
    /// <paramref name="ipv6"/>, IPv6 multicast over a veth pair and no IPv4 multicast (see scripts/netns_holder.sh).
    /// </summary>
    public static Task<NetworkNamespace> StartAsync(CancellationToken cancellationToken, bool ipv6 = false)
        => StartAsync(ipv6 ? NetworkNamespaceMode.Ipv6Multicast : NetworkNamespaceMode.Ipv4Multicast, cancellationToken);

    /// <summary>Creates the namespace in <paramref name="mode"/>; requires <see cref="ReferenceTool.NetworkNamespace"/> (call Require first).</summary>
    public static async Task<NetworkNamespace> StartAsync(NetworkNamespaceMode mode, CancellationToken cancellationToken)
    {
        string argument = mode switch
        {
            NetworkNamespaceMode.Ipv6Multicast => "ipv6",
            NetworkNamespaceMode.DualStack => "dualstack",
            _ => "ipv4",
        };
        var holder = BackgroundProcess.Start("network namespace", "unshare", ["-rn", "sh", PythonScripts.Resolve("netns_holder.sh"), argument], exitsWhenStdinCloses: true);
        try
        {
            string line = await holder.WaitForLineAsync(l => l.StartsWith("ready ", StringComparison.Ordinal), StartTimeout, cancellationToken).ConfigureAwait(false);
            return new NetworkNamespace(holder, int.Parse(line.AsSpan(6), CultureInfo.InvariantCulture));
        }
        catch
        {
            await holder.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public ValueTask DisposeAsync() => Holder.DisposeAsync();
}

/// <summary>What scripts/netns_holder.sh sets up in a <see cref="NetworkNamespace"/>.</summary>
internal enum NetworkNamespaceMode
{
    /// <summary>Loopback with IPv4 multicast (239.0.0.0/8) routed through it.</summary>
    Ipv4Multicast,

    /// <summary>A veth pair (lsd0, lsd1) with link-local IPv6 only, for IPv6 multicast.</summary>
    Ipv6Multicast,

    /// <summary>
    /// A veth pair with both families: ds0 has 10.16.0.1, .3, .4/24 and fd00:16::1, ::3, ::4/64; ds1 has 10.16.0.2/24
    /// and fd00:16::2/64 (IPv6 added without duplicate address detection, so usable at once).
    /// </summary>
    DualStack,
}
