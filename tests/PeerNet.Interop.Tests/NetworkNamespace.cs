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
    public static async Task<NetworkNamespace> StartAsync(CancellationToken cancellationToken, bool ipv6 = false)
    {
        var holder = BackgroundProcess.Start("network namespace", "unshare", ["-rn", "sh", PythonScripts.Resolve("netns_holder.sh"), ipv6 ? "ipv6" : "ipv4"], exitsWhenStdinCloses: true);
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
