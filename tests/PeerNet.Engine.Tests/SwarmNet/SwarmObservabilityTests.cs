using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using PeerNet.Metainfo;
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
            if (instrument.Meter.Name == SwarmMetrics.MeterName)
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
        await SwarmHarness.SeedAsync(corrupt, torrent, content, new TorrentOptions { UploadSlots = 0, CorruptUploads = true });
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

    private sealed class ListLoggerFactory : ILoggerFactory
    {
        public ConcurrentQueue<(LogLevel Level, string Message)> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new ListLogger(Lines);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class ListLogger(ConcurrentQueue<(LogLevel, string)> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => lines.Enqueue((logLevel, formatter(state, exception)));
        }
    }
}
