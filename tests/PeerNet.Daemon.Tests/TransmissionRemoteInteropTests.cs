using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using PeerNet.Daemon.Service;
using PeerNet.Interop.Tests;
using PeerNet.Metainfo;

namespace PeerNet.Daemon.Tests;

/// <summary>
/// Debian's real <c>transmission-remote</c> (package transmission-cli) drives the daemon over the Transmission RPC:
/// it adds a .torrent and a magnet link that download from libtorrent seeders, lists them at 100%, shows one, stops and
/// starts it, shows the session and its totals, and removes them. Its printed output is parsed as a person reads it.
/// </summary>
public sealed partial class TransmissionRemoteInteropTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TransmissionRemote_AddsAFileAndAMagnet_TheyDownloadFromLibtorrent_ThenStopStartAndRemove()
    {
        string remote = RequireTransmissionRemote();
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        await using var harness = new DaemonHarness();
        await harness.StartAsync();
        var cli = new Remote(remote, harness);
        int nodePort = harness.App!.Services.GetRequiredService<NodeService>().Node.ListenPort;

        // A .torrent on transmission-remote's machine: it sends the file's content (metainfo). Its seeder dials the daemon
        // once the daemon has it (libtorrent waits longer and longer between dials a peer refused).
        (string folder, byte[] torrent) = await harness.CreateContentAsync("from-file.bin", 768 * 1024);
        string torrentPath = Path.Combine(harness.Root, "from-file.torrent");
        await File.WriteAllBytesAsync(torrentPath, torrent, Ct);
        string added = await cli.RunAsync("-a", torrentPath);
        Assert.Contains("responded: \"success\"", added, StringComparison.Ordinal);
        (LibtorrentProcess fileSeeder, _) = await LibtorrentProcess.StartSeedAsync(torrentPath, folder, Ct, dialPorts: [nodePort]);
        await using (fileSeeder)
        {
            ListRow row = await cli.WaitListedAsync("from-file.bin", r => r.Done == "100%", "the .torrent at 100%");
            Assert.Equal("Done", row.Eta);

            string info = await cli.RunAsync("-t", row.Id, "-i");
            TorrentMetainfo metainfo = TorrentMetainfo.Parse(torrent);
            Assert.Equal(row.Id, Field(info, "Id"));
            Assert.Equal("from-file.bin", Field(info, "Name"));
            Assert.Equal(metainfo.InfoHashes.V1!.Value.ToString(), Field(info, "Hash"));
            Assert.Equal("100%", Field(info, "Percent Done"));
            Assert.Equal(harness.App.Services.GetRequiredService<NodeService>().DownloadFolder, Field(info, "Location"));
            Assert.Equal(metainfo.PieceCount.ToString(CultureInfo.InvariantCulture), Field(info, "Piece Count"));
            Assert.StartsWith("magnet:?xt=urn:btih:", Field(info, "Magnet"), StringComparison.Ordinal);
            Assert.Equal(
                await File.ReadAllBytesAsync(Path.Combine(folder, "from-file.bin"), Ct),
                await File.ReadAllBytesAsync(Path.Combine(Field(info, "Location"), "from-file.bin"), Ct));

            Assert.Contains("success", await cli.RunAsync("-t", row.Id, "-S"), StringComparison.Ordinal);
            Assert.Equal("Stopped", (await cli.ListAsync()).Single(r => r.Name == "from-file.bin").Status);
            Assert.Contains("success", await cli.RunAsync("-t", row.Id, "-s"), StringComparison.Ordinal);
            await cli.WaitListedAsync("from-file.bin", r => r.Status is "Seeding" or "Idle" or "Up & Down", "the torrent started again");

            // A magnet link is sent as its 'filename'; the daemon dials the seeder the link names (x.pe).
            (string magnetFolder, byte[] magnetTorrent) = await harness.CreateContentAsync("from-magnet.bin", 512 * 1024);
            string magnetTorrentPath = Path.Combine(harness.Root, "from-magnet.torrent");
            await File.WriteAllBytesAsync(magnetTorrentPath, magnetTorrent, Ct);
            (LibtorrentProcess magnetSeeder, LtSeedReady ready) = await LibtorrentProcess.StartSeedAsync(magnetTorrentPath, magnetFolder, Ct);
            await using (magnetSeeder)
            {
                string hash = TorrentMetainfo.Parse(magnetTorrent).InfoHashes.V1!.Value.ToString()!;
                string magnet = $"magnet:?xt=urn:btih:{hash}&dn=from-magnet.bin&x.pe=127.0.0.1:{ready.Port}";
                Assert.Contains("responded: \"success\"", await cli.RunAsync("-a", magnet), StringComparison.Ordinal);
                ListRow magnetRow = await cli.WaitListedAsync("from-magnet.bin", r => r.Done == "100%", "the magnet link at 100%");
                Assert.NotEqual(row.Id, magnetRow.Id);

                // -l's sum is the two torrents' bytes: 768 KiB + 512 KiB, as transmission-remote prints sizes (kB = 1000 B).
                Assert.Matches(@"^Sum:\s+1\.31 MB\s", (await cli.RunAsync("-l")).Split('\n').Single(l => l.StartsWith("Sum:", StringComparison.Ordinal)));

                string session = await cli.RunAsync("-si");
                Assert.Equal("16", Field(session, "RPC version"));
                Assert.StartsWith("PeerNet ", Field(session, "Daemon version"), StringComparison.Ordinal);
                Assert.Equal(nodePort.ToString(CultureInfo.InvariantCulture), Field(session, "Listenport"));
                Assert.Equal("preferred", Field(session, "Encryption")); // the node's MSE policy, enabled by default
                Assert.Equal("Yes", Field(session, "Portforwarding enabled")); // asked of the settings (a loopback node never maps)
                Assert.Equal(harness.App.Services.GetRequiredService<NodeService>().DownloadFolder, Field(session, "Download directory"));
                Assert.Equal("Unlimited (Disabled limit: 0 kB/s; Disabled turtle limit: 0 kB/s)", Field(session, "Download speed limit"));

                string stats = await cli.RunAsync("-st");
                Assert.Contains("CURRENT SESSION", stats, StringComparison.Ordinal);
                // The node's totals are its running torrents' since each last started: the stop and start above zeroed the first's.
                double downloaded = ParseSize(Field(stats, "Downloaded"));
                Assert.True(downloaded >= 524_000, $"the session's downloaded bytes ({downloaded}) hold the magnet link's 512 KiB\n{stats}");

                Assert.Contains("success", await cli.RunAsync("-t", magnetRow.Id, "--remove-and-delete"), StringComparison.Ordinal);
                Assert.False(File.Exists(Path.Combine(harness.App.Services.GetRequiredService<NodeService>().DownloadFolder, "from-magnet.bin")), "--remove-and-delete deletes the data");
            }

            Assert.Contains("success", await cli.RunAsync("-t", row.Id, "-r"), StringComparison.Ordinal);
            Assert.Empty(await cli.ListAsync());
            Assert.True(File.Exists(Path.Combine(harness.App.Services.GetRequiredService<NodeService>().DownloadFolder, "from-file.bin")), "-r keeps the data");
        }
    }

    [Fact]
    public async Task TransmissionRemote_WithAWrongPassword_IsRefused_AndPortTestSaysWhyItCannot()
    {
        string remote = RequireTransmissionRemote();
        await using var harness = new DaemonHarness();
        await harness.StartAsync();
        var cli = new Remote(remote, harness);

        ProcessResult wrong = await ProcessRunner.RunAsync(remote, [cli.Address, "--auth", "user:not-the-token", "-l"], DaemonHarness.Timeout, checkExitCode: false, cancellationToken: Ct);
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("401", wrong.StandardError + wrong.StandardOutput, StringComparison.Ordinal);

        ProcessResult portTest = await ProcessRunner.RunAsync(remote, [cli.Address, "--auth", "user:" + harness.Token, "-pt"], DaemonHarness.Timeout, checkExitCode: false, cancellationToken: Ct);
        Assert.NotEqual(0, portTest.ExitCode);
        Assert.Contains("Error: port-test: PeerNet cannot test its port from outside", portTest.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>transmission-remote comes with transmission-cli: required (in CI) as that package is.</summary>
    private static string RequireTransmissionRemote()
    {
        ToolInfo cli = ReferenceTools.Require(ReferenceTool.Transmission);
        string remote = Path.Combine(Path.GetDirectoryName(cli.Path!)!, "transmission-remote");
        Assert.True(File.Exists(remote), $"{cli.Package} is installed but {remote} is missing");
        return remote;
    }

    /// <summary>A "  Name: value" line of -i, -si or -st.</summary>
    private static string Field(string output, string name)
    {
        Match match = Regex.Match(output, "^  " + Regex.Escape(name) + @":\s*(.*)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no '{name}:' line in:\n{output}");
        return match.Groups[1].Value.TrimEnd('\r');
    }

    /// <summary>A size as transmission-remote prints it ("1.31 MB", "768.0 kB", "None"), in bytes.</summary>
    private static double ParseSize(string text)
    {
        if (text == "None")
        {
            return 0;
        }

        string[] parts = text.Split(' ');
        double value = double.Parse(parts[0], CultureInfo.InvariantCulture);
        return value * parts[1] switch
        {
            "B" => 1,
            "kB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            _ => throw new FormatException($"unknown unit in '{text}'"),
        };
    }

    /// <summary>One row of -l: "ID  Done  Have  ETA  Up  Down  Ratio  Status  Name".</summary>
    private sealed record ListRow(string Id, bool Error, string Done, string Have, string Eta, string Status, string Name);

    [GeneratedRegex(@"^\s*(?<id>\d+)(?<err>[* ])\s+(?<done>\d+%|n/a)\s+(?<have>None|Unknown|[\d.]+ [kMGT]?B)\s+(?<eta>Done|Unknown|\d+ (?:sec|min|hrs|days))\s+(?<up>[\d.]+)\s+(?<down>[\d.]+)\s+(?<ratio>\S+)\s+(?<status>\S+(?: \S+)*?)\s{2,}(?<name>.+)$")]
    private static partial Regex ListLine();

    /// <summary>transmission-remote against the harness's daemon, with its token.</summary>
    private sealed class Remote(string path, DaemonHarness harness)
    {
        public string Address { get; } = $"127.0.0.1:{harness.BaseAddress.Port}";

        public async Task<string> RunAsync(params string[] arguments)
        {
            ProcessResult result = await ProcessRunner.RunAsync(path, [Address, "--auth", "peernet:" + harness.Token, .. arguments], DaemonHarness.Timeout, checkExitCode: false, cancellationToken: Ct);
            Assert.True(result.ExitCode == 0, $"transmission-remote {string.Join(' ', arguments)} exited {result.ExitCode}\n{result.StandardOutput}\n{result.StandardError}");
            return result.StandardOutput;
        }

        public async Task<IReadOnlyList<ListRow>> ListAsync()
        {
            string output = await RunAsync("-l");
            string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.StartsWith("ID", lines[0].TrimStart(), StringComparison.Ordinal);
            Assert.StartsWith("Sum:", lines[^1], StringComparison.Ordinal);
            var rows = new List<ListRow>();
            foreach (string line in lines[1..^1])
            {
                Match m = ListLine().Match(line);
                Assert.True(m.Success, $"an -l line that does not parse: '{line}'\n{output}");
                rows.Add(new ListRow(m.Groups["id"].Value, m.Groups["err"].Value == "*", m.Groups["done"].Value, m.Groups["have"].Value, m.Groups["eta"].Value, m.Groups["status"].Value, m.Groups["name"].Value));
            }

            return rows;
        }

        public async Task<ListRow> WaitListedAsync(string name, Func<ListRow, bool> condition, string what)
        {
            IReadOnlyList<ListRow> rows = [];
            var deadline = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                rows = await ListAsync();
                if (rows.FirstOrDefault(r => r.Name == name && condition(r)) is { } row)
                {
                    return row;
                }

                Assert.True(deadline.Elapsed < Deadline, $"not reached within {Deadline.TotalSeconds:F0} s: {what}\n{string.Join('\n', rows)}");
                await Task.Delay(250, Ct);
            }
        }
    }
}
