using System.Text.RegularExpressions;
using PeerNet.Cli.Commands;
using static PeerNet.Engine.Tests.Cli.CliRun;

namespace PeerNet.Engine.Tests.Cli;

/// <summary><c>get --only</c>: its summaries count the selected files, not the whole torrent.</summary>
public sealed class OnlyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Line_WithSelection_CountsTheSelectedBytes()
    {
        var status = new TorrentStatus
        {
            Name = "x",
            InfoHashes = new InfoHashes(Sha1Hash.Compute([1]), null),
            State = TorrentState.Downloading,
            PieceCount = 10,
            PiecesVerified = 1,
        };
        string line = TransferView.Line(status, new Selection(1, 4096, 1024));
        Assert.StartsWith("downloading 25.0% of 1 selected file (1 KiB of 4 KiB verified)  down", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetOnly_SummariesCountOnlyTheSelectedFile()
    {
        using var temp = new Storage.TempDirectory();
        string content = temp.Combine("content");
        Directory.CreateDirectory(content);
        await File.WriteAllBytesAsync(Path.Combine(content, "a.bin"), new byte[300_000], Ct);
        await File.WriteAllBytesAsync(Path.Combine(content, "b.bin"), Enumerable.Range(0, 20_000).Select(i => (byte)i).ToArray(), Ct);
        string torrent = temp.Combine("t.torrent");
        Assert.Equal(0, (await RunAsync("create", content, "--v1", "--piece-size", "16K", "-o", torrent)).Exit);

        await using BackgroundRun seeding = Start("seed", torrent, content, "--no-dht", "--no-lsd", "--no-trackers", "--bind", "127.0.0.1");
        await seeding.WaitForAsync("seeding ");
        string port = Regex.Match(seeding.Out.Text, @"listening on port (\d+)").Groups[1].Value;
        Assert.True(port.Length > 0, seeding.Out.Text + seeding.Err.Text);

        (int exit, string output, string error) = await RunAsync(
            "get", torrent, "-o", temp.Combine("download"), "--only", "1", "--peer", $"127.0.0.1:{port}",
            "--no-dht", "--no-lsd", "--no-trackers", "--resume-dir", temp.Combine("resume"));

        Assert.True(exit == 0, output + error);
        Assert.Contains("content: 0 B of 19.53 KiB in 1 selected file already verified on disk", output, StringComparison.Ordinal);
        Assert.Contains("complete: 19.53 KiB in 1 selected file verified", output, StringComparison.Ordinal);
        Assert.DoesNotContain("312.5 KiB", output, StringComparison.Ordinal); // the whole torrent's size
    }
}
