using System.Text.Json;

namespace PeerNet.Interop.Tests;

/// <summary>
/// transmission-cli 3.00 as a v1 peer on loopback, with a private config folder (never the user's). It never dials
/// 127.0.0.0/8 and allows one connection per IP per torrent: whoever trades with it must dial its
/// <see cref="Port"/>. It waits about 10 s after connecting before it requests anything.
/// </summary>
internal sealed class TransmissionProcess : IAsyncDisposable
{
    private const string Stdbuf = "/usr/bin/stdbuf";

    private static readonly TimeSpan ListenTimeout = TimeSpan.FromSeconds(30);

    private TransmissionProcess(BackgroundProcess process, int port)
    {
        Process = process;
        Port = port;
    }

    public BackgroundProcess Process { get; }

    /// <summary>The port it accepts peers on (127.0.0.1 only).</summary>
    public int Port { get; }

    /// <summary>
    /// Starts transmission-cli on <paramref name="torrentPath"/> with <paramref name="downloadDirectory"/> as the
    /// folder that holds (or will hold) the torrent's content, and waits until it listens. With the data already
    /// there, it verifies it and seeds; otherwise it downloads and then seeds, until disposed.
    /// </summary>
    public static async Task<TransmissionProcess> StartAsync(ToolInfo transmission, string torrentPath, string downloadDirectory, string configDirectory, CancellationToken cancellationToken, bool requireEncryption = false)
    {
        int port = LoopbackPorts.GetFree();
        Directory.CreateDirectory(configDirectory);
        Directory.CreateDirectory(downloadDirectory);
        await File.WriteAllTextAsync(Path.Combine(configDirectory, "settings.json"), Settings(port, downloadDirectory, requireEncryption), cancellationToken).ConfigureAwait(false);

        // -et: plaintext preferred, or -er: encryption required (the settings say the same); -p: the peer port; -g: our
        // config folder. Its status lines end in '\r' only, so on a pipe they would sit in stdio's buffer: stdbuf -o0
        // unbuffers them.
        string[] arguments = [transmission.Path!, "-g", configDirectory, "-w", downloadDirectory, "-p", port.ToString(), requireEncryption ? "-er" : "-et", "-D", "-U", "-M", torrentPath];
        var process = File.Exists(Stdbuf)
            ? BackgroundProcess.Start("transmission-cli", Stdbuf, ["-o0", .. arguments])
            : BackgroundProcess.Start("transmission-cli", arguments[0], arguments[1..]);
        try
        {
            await LoopbackPorts.WaitUntilListeningAsync(port, ListenTimeout, process.Describe, cancellationToken).ConfigureAwait(false);
            return new TransmissionProcess(process, port);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits until it says "Seeding" (after verifying local data, or after finishing a download).</summary>
    public Task WaitUntilSeedingAsync(TimeSpan timeout, CancellationToken cancellationToken)
        => Process.WaitForLineAsync(l => l.StartsWith("Seeding", StringComparison.Ordinal), timeout, cancellationToken);

    /// <summary>
    /// Waits until the files under <paramref name="copyRoot"/> match <paramref name="sourceRoot"/> byte for byte,
    /// polling the files (Transmission writes in place), and fails with its output on timeout or exit.
    /// </summary>
    public async Task WaitForIdenticalAsync(string sourceRoot, string copyRoot, TimeSpan timeout, CancellationToken cancellationToken)
    {
        bool identical = await SwarmContent.WaitUntilIdenticalAsync(sourceRoot, copyRoot, timeout, () => Process.HasExited, cancellationToken).ConfigureAwait(false);
        Assert.True(identical, $"Transmission's copy at {copyRoot} is not identical after {timeout.TotalSeconds:F0} s.\n{Process.Describe()}");
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    /// <summary>
    /// Loopback only, TCP only, no DHT/LSD/PEX/port mapping/RPC/blocklist, no speed or ratio limits, files under their
    /// final names (no ".part"), plaintext preferred (or encryption required: 2).
    /// </summary>
    private static string Settings(int port, string downloadDirectory, bool requireEncryption) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["bind-address-ipv4"] = "127.0.0.1",
        ["bind-address-ipv6"] = "::1",
        ["peer-port"] = port,
        ["peer-port-random-on-start"] = false,
        ["port-forwarding-enabled"] = false,
        ["dht-enabled"] = false,
        ["lpd-enabled"] = false,
        ["pex-enabled"] = false,
        ["utp-enabled"] = false,
        ["rpc-enabled"] = false,
        ["blocklist-enabled"] = false,
        ["encryption"] = requireEncryption ? 2 : 0,
        ["ratio-limit-enabled"] = false,
        ["idle-seeding-limit-enabled"] = false,
        ["speed-limit-up-enabled"] = false,
        ["speed-limit-down-enabled"] = false,
        ["alt-speed-enabled"] = false,
        ["download-dir"] = downloadDirectory,
        ["incomplete-dir-enabled"] = false,
        ["rename-partial-files"] = false,
        ["start-added-torrents"] = true,
        ["message-level"] = 2,
    });
}
