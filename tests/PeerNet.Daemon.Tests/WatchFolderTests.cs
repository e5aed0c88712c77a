using System.Text.Json;
using Microsoft.Extensions.Options;
using PeerNet.Daemon.Hosting;

namespace PeerNet.Daemon.Tests;

/// <summary><c>Torrents:WatchFolder</c>: .torrent files dropped there are added and renamed .added, or renamed .invalid.</summary>
public sealed class WatchFolderTests : IAsyncLifetime
{
    private readonly DaemonHarness _daemon = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();

    private static CancellationToken Ct => DaemonHarness.Ct;

    [Fact]
    public async Task Dropped_Torrents_AreAdded_TheBadOnesMarkedInvalid()
    {
        string watch = Path.Combine(_daemon.Root, "watch");
        Directory.CreateDirectory(watch);
        (string content, byte[] early) = await _daemon.CreateContentAsync("early.bin", 30_000);
        (string lateContent, byte[] late) = await _daemon.CreateContentAsync("late.bin", 30_000);
        File.Move(Path.Combine(lateContent, "late.bin"), Path.Combine(content, "late.bin"));

        // One there before the start; the download folder holds both contents, so each verifies and seeds.
        await File.WriteAllBytesAsync(Path.Combine(watch, "early.torrent"), early, Ct);
        await _daemon.StartAsync(new Dictionary<string, string?>
        {
            ["Torrents:WatchFolder"] = watch,
            ["Torrents:DownloadFolder"] = content,
        });
        await Poll.UntilAsync(() => File.Exists(Path.Combine(watch, "early.torrent.added")), "the torrent there before the start is added", DaemonHarness.Timeout);

        // Dropped while it runs: a good one, a corrupt one, the same torrent again, and a file that is not a .torrent.
        await File.WriteAllBytesAsync(Path.Combine(watch, "late.torrent"), late, Ct);
        await File.WriteAllTextAsync(Path.Combine(watch, "corrupt.torrent"), "d4:infoi1ee", Ct);
        await File.WriteAllBytesAsync(Path.Combine(watch, "again.torrent"), early, Ct);
        await File.WriteAllTextAsync(Path.Combine(watch, "notes.txt"), "left alone", Ct);
        await Poll.UntilAsync(
            () => File.Exists(Path.Combine(watch, "late.torrent.added")) && File.Exists(Path.Combine(watch, "corrupt.torrent.invalid")) && File.Exists(Path.Combine(watch, "again.torrent.added")),
            "the dropped files are handled",
            DaemonHarness.Timeout);

        Assert.Equal(
            ["again.torrent.added", "corrupt.torrent.invalid", "early.torrent.added", "late.torrent.added", "notes.txt"],
            Directory.EnumerateFiles(watch).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        JsonElement[] torrents = [.. (await _daemon.GetJsonAsync("api/v1/torrents")).EnumerateArray()];
        Assert.Equal(["early.bin", "late.bin"], torrents.Select(t => t.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        foreach (JsonElement t in torrents)
        {
            await _daemon.WaitTorrentAsync(t.GetProperty("id").GetString()!, s => s.GetProperty("state").GetString() == "Seeding", "a watched torrent seeds from the download folder");
            Assert.Equal(content, t.GetProperty("savePath").GetString());
        }

        // Kept like any added torrent: a restart has them, and adds nothing twice.
        await _daemon.StopAsync();
        await _daemon.StartAsync(new Dictionary<string, string?> { ["Torrents:WatchFolder"] = watch, ["Torrents:DownloadFolder"] = content });
        Assert.Equal(2, (await _daemon.GetJsonAsync("api/v1/torrents")).GetArrayLength());
    }

    [Fact]
    public void BadInterval_StopsTheStart_NamingIt()
    {
        Dictionary<string, string?> settings = DaemonHarness.LoopbackSettings();
        settings["Torrents:WatchFolder"] = "watch";
        settings["Torrents:WatchInterval"] = "0";
        OptionsValidationException e = Assert.Throws<OptionsValidationException>(() => PeerNetDaemon.Build(new DaemonLaunch(_daemon.State) { Overrides = settings }));
        Assert.Contains("Torrents:WatchInterval", e.Message, StringComparison.Ordinal);
    }
}
