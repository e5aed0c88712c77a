namespace PeerNet.Interop.Tests;

/// <summary>
/// aria2c 1.36 as a v1 peer on loopback: no DHT, LPD or PEX, IPv4 only, no config file. It has no flag to add a
/// peer, so whoever trades with it dials its <see cref="Port"/> (a tracker would do too, but would add a fourth
/// program to every test).
/// </summary>
internal sealed class Aria2Process : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private Aria2Process(BackgroundProcess process, int port)
    {
        Process = process;
        Port = port;
    }

    public BackgroundProcess Process { get; }

    /// <summary>The port it accepts peers on (127.0.0.1 only).</summary>
    public int Port { get; }

    /// <summary>
    /// Downloads into <paramref name="directory"/> and exits 0 once complete (<c>--seed-time=0</c>); returns once it
    /// listens.
    /// </summary>
    public static Task<Aria2Process> StartDownloadAsync(ToolInfo aria2, string torrentPath, string directory, CancellationToken cancellationToken, bool requireCrypto = false, string host = "127.0.0.1")
        => StartAsync(aria2, torrentPath, directory, ["--seed-time=0", .. CryptoArguments(requireCrypto)], host, cancellationToken);

    /// <summary>MSE/PE only (<c>--bt-require-crypto=true</c>) with an RC4 payload (<c>--bt-min-crypto-level=arc4</c>); or aria2's default.</summary>
    private static string[] CryptoArguments(bool requireCrypto) => requireCrypto ? ["--bt-require-crypto=true", "--bt-min-crypto-level=arc4"] : [];

    /// <summary>
    /// Verifies the data under <paramref name="directory"/> (<c>--check-integrity</c>) and seeds it until disposed
    /// (<c>--seed-ratio=0.0</c>, no seed time); returns once it listens and seeds.
    /// </summary>
    public static async Task<Aria2Process> StartSeedAsync(ToolInfo aria2, string torrentPath, string directory, CancellationToken cancellationToken, bool requireCrypto = false, string host = "127.0.0.1")
    {
        Aria2Process seeder = await StartAsync(aria2, torrentPath, directory, ["--check-integrity=true", "--seed-ratio=0.0", .. CryptoArguments(requireCrypto)], host, cancellationToken).ConfigureAwait(false);
        try
        {
            // The summary (every second) shows "[#gid SEED(ratio) ...]" once the check found the data complete.
            await seeder.Process.WaitForLineAsync(l => l.Contains(" SEED(", StringComparison.Ordinal), StartTimeout, cancellationToken).ConfigureAwait(false);
            return seeder;
        }
        catch
        {
            await seeder.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits for a download started by <see cref="StartDownloadAsync"/> to exit, and fails unless it exits 0.</summary>
    public async Task WaitForDownloadAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        int exitCode = await Process.WaitForExitAsync(timeout, cancellationToken).ConfigureAwait(false);
        Assert.True(exitCode == 0, $"aria2c exited with {exitCode}.\n{Process.Describe()}");
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    /// <summary>Runs aria2c on <paramref name="host"/> only: 127.0.0.1 (IPv6 off), or ::1 (IPv6 on).</summary>
    private static async Task<Aria2Process> StartAsync(ToolInfo aria2, string torrentPath, string directory, string[] mode, string host, CancellationToken cancellationToken)
    {
        int port = LoopbackPorts.GetFree();
        Directory.CreateDirectory(directory);
        string[] arguments =
        [
            "--no-conf", $"--interface={host}", $"--disable-ipv6={(host.Contains(':', StringComparison.Ordinal) ? "false" : "true")}", $"--listen-port={port}",
            "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
            "--file-allocation=none", "--summary-interval=1", "--console-log-level=notice", "--enable-color=false",
            $"--dir={directory}", .. mode, torrentPath,
        ];
        var process = BackgroundProcess.Start("aria2c", aria2.Path!, arguments);
        try
        {
            await process.WaitForLineAsync(l => l.Contains($"listening on TCP port {port}", StringComparison.Ordinal), StartTimeout, cancellationToken).ConfigureAwait(false);
            return new Aria2Process(process, port);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
