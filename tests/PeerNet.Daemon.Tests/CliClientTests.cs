using System.Text.Json;
using PeerNet.Cli;

namespace PeerNet.Daemon.Tests;

/// <summary>
/// <c>peernet add|list|show|pause|resume|remove|status</c> run in process against a daemon in this process, found
/// through its state folder as a user's shell would find it; their text, their JSON, and what they did to the daemon.
/// </summary>
public sealed class CliClientTests : IAsyncLifetime
{
    private readonly DaemonHarness _daemon = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();

    private static CancellationToken Ct => DaemonHarness.Ct;

    [Fact]
    public async Task AddListShowPauseResumeRemove_ThroughTheCli()
    {
        await _daemon.StartAsync();
        (string source, byte[] torrent) = await _daemon.CreateContentAsync("cli.bin", 200_000);
        PeerNetNode seeder = await _daemon.StartSeederAsync(torrent, source);
        string torrentFile = Path.Combine(_daemon.Root, "cli.torrent");
        await File.WriteAllBytesAsync(torrentFile, torrent, Ct);
        string downloads = Path.Combine(_daemon.Root, "cli-downloads");

        (int exit, string output, string error) = await RunAsync("add", torrentFile, "--save", downloads, "--peer", $"127.0.0.1:{seeder.ListenPort}");
        Assert.True(exit == 0, error);
        string id = TorrentSource.FromBytes(torrent).InfoHashes.V1!.ToString()!.ToLowerInvariant();
        Assert.StartsWith($"added {id} cli.bin (", output, StringComparison.Ordinal);
        JsonElement done = await _daemon.WaitTorrentAsync(id, t => t.GetProperty("progress").GetDouble() == 1 && t.GetProperty("state").GetString() == "Seeding", "the download the CLI added completes and seeds");
        Assert.Equal(downloads, done.GetProperty("savePath").GetString());
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(source, "cli.bin"), Ct), await File.ReadAllBytesAsync(Path.Combine(downloads, "cli.bin"), Ct));

        (exit, output, error) = await RunAsync("list", "--json");
        Assert.True(exit == 0, error);
        JsonElement listed = JsonDocument.Parse(output).RootElement.EnumerateArray().Single();
        Assert.Equal(id, listed.GetProperty("id").GetString());
        Assert.Equal(200_000, listed.GetProperty("totalSize").GetInt64());

        (exit, output, error) = await RunAsync("list");
        Assert.True(exit == 0, error);
        string row = Assert.Single(output.Split('\n'), l => l.Contains(id[..8], StringComparison.Ordinal));
        Assert.Contains("cli.bin", row, StringComparison.Ordinal);
        Assert.Contains("Seeding", row, StringComparison.Ordinal);
        Assert.Contains("100.0%", row, StringComparison.Ordinal);
        Assert.Contains("195.31 KiB", row, StringComparison.Ordinal);
        Assert.Contains("1 torrent;", output, StringComparison.Ordinal);

        (exit, output, error) = await RunAsync("show", id[..6]);
        Assert.True(exit == 0, error);
        Assert.Contains($"id           {id}", output, StringComparison.Ordinal);
        Assert.Contains("100.0% of 195.31 KiB (13/13 pieces)", output, StringComparison.Ordinal);
        Assert.Contains($"saved in     {downloads}", output, StringComparison.Ordinal);
        Assert.Matches(@"0\s+cli\.bin\s+195\.31 KiB\s+100\.0%\s+4", output);
        Assert.Contains("trackers: none", output, StringComparison.Ordinal);

        (exit, output, error) = await RunAsync("show", id, "--json");
        Assert.True(exit == 0, error);
        JsonElement shown = JsonDocument.Parse(output).RootElement;
        Assert.Equal(id, shown.GetProperty("torrent").GetProperty("id").GetString());
        Assert.Equal(200_000, shown.GetProperty("files")[0].GetProperty("bytesVerified").GetInt64());
        Assert.Equal(JsonValueKind.Array, shown.GetProperty("peers").ValueKind);

        (exit, output, error) = await RunAsync("pause", id[..10]);
        Assert.True(exit == 0, error);
        Assert.Equal($"paused {id} cli.bin (Paused)\n", output);
        Assert.Equal("Paused", (await _daemon.GetJsonAsync($"api/v1/torrents/{id}")).GetProperty("state").GetString());

        (exit, output, error) = await RunAsync("resume", id, "--json");
        Assert.True(exit == 0, error);
        Assert.NotEqual("Paused", JsonDocument.Parse(output).RootElement.EnumerateArray().Single().GetProperty("state").GetString());
        await _daemon.WaitTorrentAsync(id, t => t.GetProperty("state").GetString() == "Seeding", "the resumed torrent seeds");

        (exit, output, error) = await RunAsync("remove", id[..8], "--delete-data");
        Assert.True(exit == 0, error);
        Assert.StartsWith($"removed, with its files, {id} cli.bin", output, StringComparison.Ordinal);
        Assert.Empty((await _daemon.GetJsonAsync("api/v1/torrents")).EnumerateArray());
        Assert.False(File.Exists(Path.Combine(downloads, "cli.bin")), "--delete-data deletes the file");

        (exit, output, error) = await RunAsync("list");
        Assert.True(exit == 0, error);
        Assert.Contains("no torrents", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddMagnet_Paused_StaysPaused_AndRemoveKeepsData()
    {
        await _daemon.StartAsync();
        string hash = new string('a', 40);
        (int exit, string output, string error) = await RunAsync("add", $"magnet:?xt=urn:btih:{hash}&dn=later&x.pe=127.0.0.1:9", "--paused", "--json");
        Assert.True(exit == 0, error);
        JsonElement added = JsonDocument.Parse(output).RootElement;
        Assert.Equal(hash, added.GetProperty("id").GetString());
        Assert.Equal("Paused", added.GetProperty("state").GetString());
        Assert.Equal(Path.Combine(_daemon.State, "downloads"), added.GetProperty("savePath").GetString());

        (exit, output, error) = await RunAsync("add", $"magnet:?xt=urn:btih:{hash}");
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.Equal($"peernet: already there: the node has this torrent already, as {hash}\n", error);

        (exit, output, error) = await RunAsync("show", hash);
        Assert.True(exit == 0, error);
        Assert.Contains("files: none known yet", output, StringComparison.Ordinal);

        (exit, output, error) = await RunAsync("remove", hash, "--json");
        Assert.True(exit == 0, error);
        Assert.False(JsonDocument.Parse(output).RootElement.GetProperty("deletedData").GetBoolean());
    }

    [Fact]
    public async Task UnknownId_IsOneLine_ExitOne()
    {
        await _daemon.StartAsync();
        (int exit, string output, string error) = await RunAsync("show", "deadbeef");
        Assert.Equal((1, ""), (exit, output));
        Assert.Equal("peernet: no torrent has the id 'deadbeef' ('peernet list' shows them)\n", error);

        string whole = new('b', 40);
        (exit, _, error) = await RunAsync("pause", whole);
        Assert.Equal(1, exit);
        Assert.Equal($"peernet: unknown torrent: no torrent has the id '{whole}'\n", error);

        (exit, _, error) = await RunAsync("remove", "not-hex");
        Assert.Equal(1, exit);
        Assert.Contains("no torrent has the id 'not-hex'", error, StringComparison.Ordinal);

        (exit, _, error) = await RunAsync("add", Path.Combine(_daemon.Root, "missing.torrent"));
        Assert.Equal(1, exit);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);

        string garbage = Path.Combine(_daemon.Root, "garbage.torrent");
        await File.WriteAllTextAsync(garbage, "not bencode", Ct);
        (exit, _, error) = await RunAsync("add", garbage);
        Assert.Equal(1, exit);
        Assert.StartsWith("peernet: corrupt or hostile .torrent: ", error, StringComparison.Ordinal);
        Assert.Empty((await _daemon.GetJsonAsync("api/v1/torrents")).EnumerateArray());
    }

    [Fact]
    public async Task Status_ShowsTheNode()
    {
        await _daemon.StartAsync();
        JsonElement node = await _daemon.GetJsonAsync("api/v1/node");
        int port = node.GetProperty("listenPort").GetInt32();

        (int exit, string output, string error) = await RunAsync("status");
        Assert.True(exit == 0, error);
        Assert.Contains($"127.0.0.1 port {port} ", output, StringComparison.Ordinal);
        Assert.Contains(_daemon.BaseAddress.GetLeftPart(UriPartial.Authority), output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^\s*dht\s+off\s*$", output);
        Assert.Matches(@"(?m)^\s*torrents\s+0\s*$", output);
        Assert.Contains("0 B down, 0 B up", output, StringComparison.Ordinal);

        (exit, output, error) = await RunAsync("status", "--json");
        Assert.True(exit == 0, error);
        Assert.Equal(port, JsonDocument.Parse(output).RootElement.GetProperty("listenPort").GetInt32());
    }

    [Fact]
    public async Task NoDaemon_IsOneLine_NamingTheStateFolder()
    {
        // Never started: no endpoint file.
        string never = Path.Combine(_daemon.Root, "never");
        (int exit, string output, string error) = await CliAsync("list", "--state", never);
        Assert.Equal((1, ""), (exit, output));
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.Contains($"no daemon is running for the state folder {never}", error, StringComparison.Ordinal);

        // Started and stopped: the endpoint file is left, and nothing answers there.
        await _daemon.StartAsync();
        await _daemon.StopAsync();
        (exit, output, error) = await RunAsync("status");
        Assert.Equal((1, ""), (exit, output));
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith($"peernet: no daemon is running for the state folder {_daemon.State}: nothing answers at http://127.0.0.1:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiAndTokenFile_Override_TheStateFolder()
    {
        await _daemon.StartAsync();
        string token = Path.Combine(_daemon.Root, "token");
        await File.WriteAllTextAsync(token, _daemon.Token + "\n", Ct);
        string elsewhere = Path.Combine(_daemon.Root, "empty-state");
        (int exit, string output, string error) = await CliAsync("list", "--json", "--state", elsewhere, "--api", _daemon.BaseAddress.ToString(), "--token-file", token);
        Assert.True(exit == 0, error);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(output).RootElement.ValueKind);

        (exit, output, error) = await CliAsync("status", "--json", "--state", elsewhere, "--api", $"127.0.0.1:{_daemon.BaseAddress.Port}", "--token-file", token);
        Assert.True(exit == 0, error);
        Assert.True(JsonDocument.Parse(output).RootElement.GetProperty("listenPort").GetInt32() > 0);

        await File.WriteAllTextAsync(token, "wrong-token-wrong-token\n", Ct);
        (exit, _, error) = await RunAsync("list", "--token-file", token);
        Assert.Equal(1, exit);
        Assert.Contains("refused the API token", error, StringComparison.Ordinal);
    }

    /// <summary>Runs a client verb against this test's daemon (its state folder given).</summary>
    private Task<(int Exit, string Out, string Err)> RunAsync(params string[] args) => CliAsync([.. args, "--state", _daemon.State]);

    private static async Task<(int Exit, string Out, string Err)> CliAsync(params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        int exit = await PeerNetCli.RunAsync(args, stdout, stderr, Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
