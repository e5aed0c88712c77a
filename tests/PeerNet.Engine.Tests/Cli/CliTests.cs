using System.Text.Json;
using static PeerNet.Engine.Tests.Cli.CliRun;

namespace PeerNet.Engine.Tests.Cli;

/// <summary>The <c>peernet</c> verbs end to end, in process: exit codes, output, and one-line errors.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peernet-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string MakeContent()
    {
        string root = Path.Combine(_dir, "content");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        File.WriteAllBytes(Path.Combine(root, "a.bin"), [.. Enumerable.Range(0, 40_000).Select(i => (byte)(i * 7))]);
        File.WriteAllBytes(Path.Combine(root, "sub", "b.txt"), "hello"u8.ToArray());
        return root;
    }

    [Fact]
    public async Task CreateThenInfoJson_ReportsTheSameHashesAndFiles()
    {
        string content = MakeContent();
        string torrent = Path.Combine(_dir, "out.torrent");
        var created = await RunAsync("create", content, "--hybrid", "--piece-size", "16K", "--tracker", "http://127.0.0.1:1/announce", "-o", torrent);
        Assert.Equal(0, created.Exit);
        Assert.Equal("", created.Err);

        var info = await RunAsync("info", torrent, "--json");
        Assert.Equal(0, info.Exit);
        using JsonDocument json = JsonDocument.Parse(info.Out);
        JsonElement root = json.RootElement;
        Assert.Equal("hybrid", root.GetProperty("version").GetString());
        Assert.Equal("content", root.GetProperty("name").GetString());
        Assert.Equal(40_005, root.GetProperty("totalSize").GetInt64());
        Assert.Equal(16384, root.GetProperty("pieceLength").GetInt64());
        Assert.Contains($"info-hash v1: {root.GetProperty("infoHashV1").GetString()}", created.Out, StringComparison.Ordinal);
        Assert.Contains($"info-hash v2: {root.GetProperty("infoHashV2").GetString()}", created.Out, StringComparison.Ordinal);
        string[] paths = [.. root.GetProperty("files").EnumerateArray().Where(f => !f.GetProperty("pad").GetBoolean()).Select(f => f.GetProperty("path").GetString()!)];
        Assert.Equal(["content/a.bin", "content/sub/b.txt"], paths);
        Assert.Equal("http://127.0.0.1:1/announce", root.GetProperty("trackers")[0][0].GetString());
        Assert.StartsWith("magnet:?xt=urn:btih:", root.GetProperty("magnet").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InfoText_ShowsNameHashesAndHidesPadFiles()
    {
        string torrent = Path.Combine(_dir, "t.torrent");
        Assert.Equal(0, (await RunAsync("create", MakeContent(), "--hybrid", "-o", torrent)).Exit);
        var info = await RunAsync("info", torrent);
        Assert.Equal(0, info.Exit);
        Assert.Contains("name:         content", info.Out, StringComparison.Ordinal);
        Assert.Contains("version:      hybrid (v1 + v2)", info.Out, StringComparison.Ordinal);
        Assert.Contains("pad files not shown", info.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(".pad/", info.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_ExistingOutputWithoutForce_FailsWithOneLine()
    {
        string torrent = Path.Combine(_dir, "exists.torrent");
        await File.WriteAllTextAsync(torrent, "keep me", TestContext.Current.CancellationToken);
        var result = await RunAsync("create", MakeContent(), "-o", torrent);
        Assert.Equal(1, result.Exit);
        Assert.Contains("already exists", result.Err, StringComparison.Ordinal);
        Assert.Single(result.Err.TrimEnd().Split('\n'));
        Assert.Equal("keep me", await File.ReadAllTextAsync(torrent, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Info_TruncatedTorrent_NamesTheProblemAndOffset()
    {
        string good = Path.Combine(_dir, "good.torrent");
        Assert.Equal(0, (await RunAsync("create", MakeContent(), "--v1", "-o", good)).Exit);
        byte[] bytes = await File.ReadAllBytesAsync(good, TestContext.Current.CancellationToken);
        string bad = Path.Combine(_dir, "bad.torrent");
        await File.WriteAllBytesAsync(bad, bytes[..100], TestContext.Current.CancellationToken);

        var result = await RunAsync("info", bad);
        Assert.Equal(1, result.Exit);
        Assert.Contains("invalid torrent: not valid bencode: input ends inside a value at byte 100", result.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_UnsafePath_IsRefusedWithReason()
    {
        // A v1 multi-file torrent whose file name is 256 control characters: each becomes '_', and libtorrent's cut
        // to 240 bytes only follows a valid character, so the name stays too long for any file system.
        string hostile = "d4:infod5:filesld6:lengthi5e4:pathl256:" + new string('\u0001', 256) + "eee4:name1:x12:piece lengthi16384e6:pieces20:"
            + new string('\0', 20) + "ee";
        string path = Path.Combine(_dir, "hostile.torrent");
        await File.WriteAllBytesAsync(path, System.Text.Encoding.Latin1.GetBytes(hostile), TestContext.Current.CancellationToken);
        var result = await RunAsync("info", path);
        Assert.Equal(1, result.Exit);
        Assert.Contains("path element is longer than 255 bytes", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InfoMagnet_PrintsHashesAndTrackers()
    {
        var result = await RunAsync("info", "magnet:?xt=urn:btih:A89130AFD0FC1858FAB69B50E1E0408A2C4B8CA6&dn=data&tr=udp%3A%2F%2F127.0.0.1%3A6969", "--json");
        Assert.Equal(0, result.Exit);
        using JsonDocument json = JsonDocument.Parse(result.Out);
        Assert.Equal("a89130afd0fc1858fab69b50e1e0408a2c4b8ca6", json.RootElement.GetProperty("infoHashV1").GetString());
        Assert.Equal("udp://127.0.0.1:6969", json.RootElement.GetProperty("trackers")[0].GetString());
    }

    [Fact]
    public async Task Info_BadMagnet_ExitsOneWithTheParameterNamed()
    {
        var result = await RunAsync("info", "magnet:?xt=urn:btih:zz");
        Assert.Equal(1, result.Exit);
        Assert.Contains("parameter 'xt'", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingArgument_IsAUsageError()
    {
        var result = await RunAsync("info");
        Assert.Equal(2, result.Exit);
        Assert.Contains("--help", result.Err, StringComparison.Ordinal);
    }
}
