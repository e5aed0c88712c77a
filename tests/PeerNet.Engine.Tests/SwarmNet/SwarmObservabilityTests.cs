using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using PeerNet.Creation;
using PeerNet.Metainfo;
using PeerNet.Storage;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>What the swarm tells an operator: log events and the PeerNet meter's instruments.</summary>
public sealed class SwarmObservabilityTests
{
    [Fact]
    public async Task CorruptSeeder_BanAndHashFailures_AreLoggedAndCounted()
    {
        var log = new ListLoggerFactory();
        var counts = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PeerNet.Diagnostics.PeerNetMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => counts.AddOrUpdate(instrument.Name, value, (_, old) => old + value));
        listener.Start();

        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [300_000], pieceLength: 32 * 1024);
        SwarmSession honest = await harness.StartNodeAsync(uploadLimit: 300_000);
        SwarmSession corrupt = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(honest, torrent, content);
        await SwarmHarness.SeedCorruptAsync(corrupt, torrent, content);
        SwarmSession leecher = await harness.StartNodeAsync(loggerFactory: log);
        (TorrentSwarm download, _) = await harness.LeechAsync(leecher, torrent, [corrupt, honest]);
        await SwarmHarness.WaitCompletedAsync(download);

        // Only the leecher's session logs: its view of the corrupt peer and of its own completion.
        string corruptAddress = corrupt.LocalEndPoint!.Address.ToString();
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("banned " + corruptAddress, StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Information && l.Message.Contains("failed its hash check", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Information && l.Message.Contains($"complete, {torrent.PieceCount} pieces verified", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Debug && l.Message.Contains(corruptAddress, StringComparison.Ordinal) && l.Message.Contains("closed: banned", StringComparison.Ordinal));

        listener.RecordObservableInstruments();
        Assert.True(counts.GetValueOrDefault("peernet.pieces.verified") >= torrent.PieceCount);
        Assert.True(counts.GetValueOrDefault("peernet.pieces.failed") >= download.HashFailures);
        Assert.True(counts.GetValueOrDefault("peernet.peers.banned") >= 1);
        Assert.True(counts.GetValueOrDefault("peernet.transfer.downloaded") >= torrent.TotalSize);
    }

    [Fact]
    public async Task HostileName_LogLinesAndTheStoppedError_ShowItReplaced_TheFileKeepsIt()
    {
        // C1 CSI and LEFT-TO-RIGHT ISOLATE are legal in a file name, so the download keeps them; logs must not. (Not
        // RIGHT-TO-LEFT OVERRIDE: names lose it, as libtorrent removes it, so the seeder would not find its file.)
        const string name = "evil\u009b31m\u2066gpj.bin";
        var log = new ListLoggerFactory();
        await using var harness = new SwarmHarness();
        string content = Path.Combine(harness.Root, "content");
        Directory.CreateDirectory(content);
        await File.WriteAllBytesAsync(Path.Combine(content, name), RandomNumberGenerator.GetBytes(300_000), TestContext.Current.CancellationToken);
        TorrentMetainfo torrent = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(new TorrentCreationOptions { SourcePath = Path.Combine(content, name), Version = TorrentVersion.V1, PieceLength = 32 * 1024 }, cancellationToken: TestContext.Current.CancellationToken));
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        SwarmSession leecher = await harness.StartNodeAsync(loggerFactory: log);
        string folder = Path.Combine(harness.Root, "small-disk");
        Directory.CreateDirectory(folder);

        // A disk that fills up stops the torrent with an error naming the file.
        TorrentSwarm download = await leecher.AddTorrentAsync(torrent, folder, new TorrentOptions { Peers = [seeder.LocalEndPoint!] }, new StorageOptions { FileSystem = HookedFileSystem.WithByteBudget(100_000) }, TestContext.Current.CancellationToken).WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        await Assert.ThrowsAnyAsync<IOException>(() => download.Completed.WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken));

        const string shown = "evil\uFFFD31m\uFFFDgpj.bin";
        string error = download.GetStatus().Error!;
        Assert.Contains(shown, error, StringComparison.Ordinal);
        Assert.Equal(-1, DisplayText.IndexOfUnsafe(error));
        Assert.Contains(log.Lines, l => l.Message.StartsWith(shown + ": started", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Error && l.Message.StartsWith(shown + ": stopped: disk full", StringComparison.Ordinal));
        Assert.All(log.Lines, l => Assert.Equal(-1, DisplayText.IndexOfUnsafe(l.Message)));
        Assert.Equal(name, download.GetStatus().Name);
        Assert.True(File.Exists(Path.Combine(folder, name)), "the file keeps the torrent's exact name");
    }
}
