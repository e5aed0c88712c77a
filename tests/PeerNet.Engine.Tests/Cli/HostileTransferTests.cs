using System.Security.Cryptography;
using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Engine.Tests.Trackers;
using PeerNet.Metainfo;
using PeerNet.Swarm;
using PeerNet.Tracker;
using static PeerNet.Engine.Tests.Cli.TerminalText;

namespace PeerNet.Engine.Tests.Cli;

/// <summary>
/// <c>peernet get</c> and <c>seed</c> with a torrent name, a magnet <c>dn</c> and a tracker failure reason full of
/// terminal escapes: stdout and the <c>--verbose</c> log on stderr show them replaced, while the downloaded file keeps
/// its name byte for byte.
/// </summary>
public sealed class HostileTransferTests : IAsyncDisposable
{
    /// <summary>Legal in a file name, so kept on disk: only the display replaces them.</summary>
    // U+2066, not U+202E: names keep it (libtorrent removes U+202E from names), and only its display is replaced.
    private const string Name = "evil" + C1Red + LeftToRightIsolate + "gpj.bin";

    private const string TrackerReason = "denied" + ClearScreen + SetTitle + C1Red + RightToLeftOverride + "\nfake line";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly SwarmHarness _harness = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    /// <summary>Writes <see cref="Name"/> under a fresh folder and creates its torrent with the CLI.</summary>
    private async Task<(string Torrent, string Folder, byte[] Content)> CreateAsync(params string[] extra)
    {
        string folder = Path.Combine(_harness.Root, "seed-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        byte[] content = RandomNumberGenerator.GetBytes(100_000);
        await File.WriteAllBytesAsync(Path.Combine(folder, Name), content, Ct);
        string torrent = Path.Combine(_harness.Root, Guid.NewGuid().ToString("N")[..8] + ".torrent");
        var created = await CliRun.RunAsync(["create", Path.Combine(folder, Name), "-o", torrent, .. extra]);
        Assert.True(created.Exit == 0, created.Err);
        return (torrent, folder, content);
    }

    /// <summary>Runs a verb until its stdout shows <paramref name="until"/> (waiting on the write), then cancels it as Ctrl+C would.</summary>
    private static async Task<(int Exit, string Out, string Err)> RunUntilAsync(string until, params string[] args)
    {
        await using CliRun.BackgroundRun run = CliRun.Start(args);
        Assert.True(await run.WaitForAsync(until), $"never saw '{until}':\n{run.Out.Text}\n{run.Err.Text}");
        int exit = await run.StopAsync();
        return (exit, run.Out.Text, run.Err.Text);
    }

    [Fact]
    public async Task GetMagnet_HostileDisplayNameAndTorrentName_PrintsThemReplacedAndWritesTheExactName()
    {
        (string torrentPath, string seedFolder, byte[] content) = await CreateAsync();
        TorrentMetainfo torrent = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrentPath, Ct));
        SwarmSession seeder = await _harness.StartTcpNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, seedFolder);
        string dn = "dn" + ClearScreen + SetTitle + C1Red + RightToLeftOverride;
        string magnet = $"magnet:?xt=urn:btih:{torrent.InfoHashes.V1}&dn={Uri.EscapeDataString(dn)}&x.pe=127.0.0.1:{seeder.ListenPort}";
        string download = Path.Combine(_harness.Root, "download");

        (int exit, string output, string log) = await CliRun.RunAsync(
            "get", magnet, "-o", download, "--no-dht", "--no-lsd", "--no-trackers", "--verbose", "--resume-dir", Path.Combine(_harness.Root, "resume"));

        Assert.True(exit == 0, log);
        AssertClean(output, "stdout");
        AssertClean(log, "the --verbose log");
        Assert.Contains($"fetching metadata for {Replaced(dn)} from", output, StringComparison.Ordinal);
        Assert.Contains($"metadata verified: {Replaced(Name)},", output, StringComparison.Ordinal);
        Assert.Contains($"{Replaced(Name)}: started", log, StringComparison.Ordinal);

        // The display is cleaned; the data is not: the file has the torrent's name, byte for byte.
        Assert.Equal([Name], Directory.GetFileSystemEntries(download).Select(Path.GetFileName));
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(download, Name), Ct));
    }

    [Fact]
    public async Task Get_TrackerFailureReasonWithEscapes_StatusLineShowsThemReplaced()
    {
        await using var tracker = new FakeHttpTracker(_ => FakeHttpResponse.Ok(TrackerTestKit.Encode(AnnounceResponse.Failed(TrackerReason))));
        string announce = tracker.AnnounceUrl + "?k=" + RightToLeftOverride; // in the query: a tracker on this host must end in /announce
        (string torrent, _, _) = await CreateAsync("--tracker", announce);
        string download = Path.Combine(_harness.Root, "download");

        // No peer ever comes: the status line every two seconds names the failing tracker and why.
        (int exit, string output, string log) = await RunUntilAsync(
            "failing (",
            "get", torrent, "-o", download, "--no-dht", "--no-lsd", "--verbose", "--resume-dir", Path.Combine(_harness.Root, "resume"));

        Assert.Equal(130, exit);
        AssertClean(output, "stdout");
        AssertClean(log, "the --verbose log");
        Assert.Contains($"{Replaced(Name)}: 0/", output, StringComparison.Ordinal);
        Assert.Contains($"1 failing ({Replaced(announce)}: tracker refused: {Replaced(TrackerReason)})", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Seed_HostileTorrentName_PrintsItReplaced()
    {
        (string torrent, string folder, _) = await CreateAsync();

        (int exit, string output, string log) = await RunUntilAsync(
            "Ctrl+C to stop",
            "seed", torrent, Path.Combine(folder, Name), "--no-dht", "--no-lsd", "--no-trackers", "--verbose");

        Assert.Equal(0, exit); // Ctrl+C is how seeding ends
        AssertClean(output, "stdout");
        AssertClean(log, "the --verbose log");
        Assert.Contains($"seeding {Replaced(Name)}: ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Seed_WrongData_ErrorShowsTheNameReplaced()
    {
        // The error names the torrent; it reaches the terminal through the one line a failure prints.
        (string torrent, string folder, byte[] content) = await CreateAsync();
        string wrong = Path.Combine(folder, "zeros.bin");
        await File.WriteAllBytesAsync(wrong, new byte[content.Length], Ct);

        (int exit, _, string error) = await CliRun.RunAsync("seed", torrent, wrong, "--no-dht", "--no-lsd", "--no-trackers");

        Assert.Equal(1, exit);
        AssertClean(error, "stderr");
        Assert.Contains($"no piece of '{Replaced(Name)}' verified", error, StringComparison.Ordinal);
    }
}
