using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// MSE handshakes flooded from one source over real TCP (issue 16's "limits on MSE handshakes per source"): while a
/// <c>peernet get</c> downloads from a <c>peernet seed</c> on 127.0.0.1, <c>scripts/mse_flood.py</c> opens 200
/// connections from 127.0.0.2, each starting an MSE handshake (96 random bytes as the Diffie-Hellman key, then padding)
/// and never finishing it. The seed holds at most <c>MaxPendingHandshakesPerAddress</c> (8) of them and closes the rest
/// at once; the held ones are closed by the handshake timeout (10 s); the download completes byte-identical.
/// </summary>
public sealed class MseHandshakeFloodTests
{
    private const int Connections = 200;
    private const int PerAddress = 8; // SessionOptions.MaxPendingHandshakesPerAddress
    private const double HandshakeTimeoutSeconds = 10; // SessionOptions.HandshakeTimeout
    private const double WatchSeconds = 15;

    [Fact(Timeout = 180_000)]
    public async Task Garbage_mse_handshakes_from_one_source_are_held_to_its_share_and_timed_out_while_a_download_completes()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent); // for /usr/bin/python3, which floods
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("mse-flood");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, 16L * 1024 * 1024, ct);
        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions { NoTrackers = true }, ct);
        await seeder.Process.WaitForLineAsync(l => l.StartsWith("seeding ", StringComparison.Ordinal), TimeSpan.FromSeconds(60), ct);
        string target = temp.Combine("download");
        await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(torrent.TorrentPath, target, new PeerNetOptions
        {
            Peers = [seeder.ListenPort],
            NoTrackers = true,
            ExtraArguments = ["--download-limit", "2M"], // 16 MiB in about 8 s: the flood starts while it runs
        }, ct);
        await leecher.WaitForStatusAsync(s => s.Received >= 1024 * 1024, TimeSpan.FromSeconds(60), ct);

        ProcessResult flood = await ProcessRunner.RunAsync(ReferenceTools.SystemPython,
            [PythonScripts.Resolve("mse_flood.py"), "127.0.0.1", seeder.ListenPort.ToString(CultureInfo.InvariantCulture), "127.0.0.2", Connections.ToString(CultureInfo.InvariantCulture), WatchSeconds.ToString(CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(WatchSeconds + 60), cancellationToken: ct);
        using JsonDocument result = JsonDocument.Parse(flood.StandardOutput);
        JsonElement r = result.RootElement;
        string figures = flood.StandardOutput.Trim();
        SwarmTest.Log(clock, "MSE flood from 127.0.0.2: " + figures);
        TestContext.Current.TestOutputHelper?.WriteLine(figures);

        await leecher.WaitForCompletionAsync(TimeSpan.FromSeconds(120), seeding: false, ct);
        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
        Assert.False(seeder.Process.HasExited, "the seed exited:\n" + seeder.Process.Describe());

        // Every connection was accepted by the kernel; the node kept its share of pending handshakes and closed the
        // rest at once; the ones it kept it closed when the handshake timed out.
        Assert.Equal(Connections, r.GetProperty("opened").GetInt32());
        Assert.InRange(r.GetProperty("mostOpenAfterOneSecond").GetInt32(), 0, PerAddress);
        Assert.True(r.GetProperty("closedWithinOneSecond").GetInt32() >= Connections - PerAddress, figures);
        Assert.Equal(Connections, r.GetProperty("closed").GetInt32());
        Assert.InRange(r.GetProperty("lastClosed").GetDouble(), 0, HandshakeTimeoutSeconds + 4);
    }
}
