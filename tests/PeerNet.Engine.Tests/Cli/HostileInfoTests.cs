using System.Text;
using System.Text.Json;
using static PeerNet.Engine.Tests.Cli.CliRun;
using static PeerNet.Engine.Tests.Cli.TerminalText;

namespace PeerNet.Engine.Tests.Cli;

/// <summary>
/// <c>peernet info</c> on torrents and magnets whose text holds terminal escapes, C1 controls and bidi overrides: the
/// text output shows them replaced, the JSON output keeps them as (escaped) data.
/// </summary>
public sealed class HostileInfoTests : IDisposable
{
    private const string Comment = "hi" + ClearScreen + SetTitle + C1Red + RightToLeftOverride + "end\nfake: line\tafter a tab";

    private readonly string _dir = Directory.CreateTempSubdirectory("peernet-cli-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// A torrent of a folder whose name holds a C1 CSI and a right-to-left override (both legal in file names, so
    /// kept), with a file whose name holds ESC [ 2 J and BEL (made '_' by the path rules) and a comment, tracker and
    /// web seed full of escapes.
    /// </summary>
    private async Task<(string Torrent, string Name, string Tracker, string WebSeed)> CreateHostileTorrentAsync()
    {
        // U+202E would be removed from the name (as libtorrent removes it); U+2066 is kept, and only its display replaced.
        string name = "evil" + C1Red + LeftToRightIsolate + "gpj.exe";
        string source = Path.Combine(_dir, "source", name);
        Directory.CreateDirectory(Path.Combine(source, "sub" + LeftToRightIsolate));
        await File.WriteAllBytesAsync(Path.Combine(source, "a" + ClearScreen + "\u0007.bin"), new byte[100], TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(source, "sub" + LeftToRightIsolate, "b" + C1Red + ".txt"), new byte[50], TestContext.Current.CancellationToken);
        string torrent = Path.Combine(_dir, "hostile.torrent");
        string tracker = "http://t.example/announce" + RightToLeftOverride + ClearScreen;
        string webSeed = "http://ws.example/" + SetTitle;
        var created = await RunAsync("create", source, "--v1", "-o", torrent, "--tracker", tracker, "--web-seed", webSeed, "--comment", Comment);
        Assert.True(created.Exit == 0, created.Err);
        return (torrent, name, tracker, webSeed);
    }

    [Fact]
    public async Task InfoText_HostileTorrent_ShowsEveryControlReplaced()
    {
        (string torrent, string name, string tracker, string webSeed) = await CreateHostileTorrentAsync();

        var info = await RunAsync("info", torrent);

        Assert.True(info.Exit == 0, info.Err);
        AssertClean(info.Out, "stdout");
        AssertClean(info.Err, "stderr");
        Assert.Contains($"name:         {Replaced(name)}\n", info.Out, StringComparison.Ordinal);
        Assert.Contains($"comment:      {Replaced(Comment)}\n", info.Out, StringComparison.Ordinal);
        Assert.Contains($"tier 1: {Replaced(tracker)}\n", info.Out, StringComparison.Ordinal);
        Assert.Contains($"web seeds:    {Replaced(webSeed)}\n", info.Out, StringComparison.Ordinal);
        Assert.Contains(Replaced($"{name}/a_[2J_.bin"), info.Out, StringComparison.Ordinal);
        Assert.Contains(Replaced($"{name}/sub{LeftToRightIsolate}/b{C1Red}.txt"), info.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InfoJson_HostileTorrent_EscapesTheControlsAndKeepsTheData()
    {
        (string torrent, string name, string tracker, string webSeed) = await CreateHostileTorrentAsync();

        var info = await RunAsync("info", torrent, "--json");

        Assert.True(info.Exit == 0, info.Err);
        AssertClean(info.Out, "stdout");
        using JsonDocument json = JsonDocument.Parse(info.Out);
        JsonElement root = json.RootElement;
        Assert.Equal(name, root.GetProperty("name").GetString());
        Assert.Equal(Comment, root.GetProperty("comment").GetString());
        Assert.Equal(tracker, root.GetProperty("trackers")[0][0].GetString());
        Assert.Equal(webSeed, root.GetProperty("webSeeds")[0].GetString());
        string[] paths = [.. root.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()!)];
        Assert.Equal([$"{name}/a_[2J_.bin", $"{name}/sub{LeftToRightIsolate}/b{C1Red}.txt"], paths);
    }

    [Fact]
    public async Task InfoMagnet_HostileDisplayNameTrackerAndWebSeed_ShowsThemReplaced()
    {
        string dn = "movie" + ClearScreen + SetTitle + C1Red + RightToLeftOverride + "4pm.exe";
        string tr = "udp://t.example:6969/" + ClearScreen;
        string ws = "http://ws.example/" + RightToLeftOverride + "\u0007";
        string magnet = "magnet:?xt=urn:btih:a89130afd0fc1858fab69b50e1e0408a2c4b8ca6"
            + $"&dn={Uri.EscapeDataString(dn)}&tr={Uri.EscapeDataString(tr)}&ws={Uri.EscapeDataString(ws)}";

        var text = await RunAsync("info", magnet);
        var json = await RunAsync("info", magnet, "--json");

        Assert.True(text.Exit == 0, text.Err);
        AssertClean(text.Out, "stdout");
        Assert.Contains($"name:         {Replaced(dn)}\n", text.Out, StringComparison.Ordinal);
        Assert.Contains($"trackers:     {Replaced(tr)}\n", text.Out, StringComparison.Ordinal);
        Assert.Contains($"web seeds:    {Replaced(ws)}\n", text.Out, StringComparison.Ordinal);
        Assert.True(json.Exit == 0, json.Err);
        AssertClean(json.Out, "JSON stdout");
        using JsonDocument document = JsonDocument.Parse(json.Out);
        Assert.Equal(dn, document.RootElement.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Info_RefusedTorrentQuotingHostilePaths_ErrorShowsThemReplaced()
    {
        // Two files that differ only in non-ASCII case (libtorrent renames ASCII-case twins; these it keeps apart,
        // and they are one file on Windows and macOS): the refusal quotes both paths, which keep their C1 and bidi
        // characters.
        string a = "é" + C1Red + LeftToRightIsolate + ".bin";
        string b = "É" + C1Red + LeftToRightIsolate + ".bin";
        string hostile = $"d4:infod5:filesld6:lengthi5e4:pathl{Bytes(a)}eed6:lengthi5e4:pathl{Bytes(b)}eee4:name1:x12:piece lengthi16384e6:pieces20:{new string('\0', 20)}ee";
        string path = Path.Combine(_dir, "refused.torrent");
        await File.WriteAllBytesAsync(path, Encoding.UTF8.GetBytes(hostile), TestContext.Current.CancellationToken);

        var result = await RunAsync("info", path);

        Assert.Equal(1, result.Exit);
        AssertClean(result.Err, "stderr");
        Assert.Contains($"differs from '{Replaced("x/" + a)}' only in case", result.Err, StringComparison.Ordinal);

        static string Bytes(string s) => $"{Encoding.UTF8.GetByteCount(s)}:{s}";
    }
}
