using System.Net;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Engine.Tests.Hostile;
using PeerNet.Metainfo;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// One timer ticks every torrent of a session, and a torrent with nothing to look after is ticked once in ten seconds:
/// a node seeding 1,000 torrents nobody asks for spent 11% of a core waking 1,000 timers a second (bench/idle.sh).
/// </summary>
public sealed class SwarmTickerTests
{
    [Fact]
    public async Task Ticker_RunsEveryRegistration_EachInterval_UntilItIsDisposed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var ticker = new SwarmTicker(time);
        int first = 0, second = 0;
        IDisposable one = ticker.Register(() => first++);
        using IDisposable two = ticker.Register(() => second++);

        await AdvanceAsync(ticker, time, 3);
        Assert.Equal((3, 3), (first, second));

        one.Dispose();
        await AdvanceAsync(ticker, time, 2);
        Assert.Equal((3, 5), (first, second));
    }

    [Fact]
    public async Task IdleTorrent_TickedOnceInTen_EverySecondAgainOnceAPeerComes()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [256 * 1024]);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        SwarmSession node = await harness.StartNodeAsync(new SessionOptions { ListenEndPoint = new IPEndPoint(IPAddress.Parse("10.0.7.1"), 6881), Time = time });
        TorrentSwarm swarm = await SwarmHarness.SeedAsync(node, torrent, content);

        // The first tick finds it idle (seeding, no peer, no address known): from then on only every tenth second
        // posts one (a status query, as TicksAsync makes, does not wake it).
        await AdvanceAsync(node.Ticker, time, 1);
        Assert.Equal(1, await TicksAsync(swarm));
        await AdvanceAsync(node.Ticker, time, 8);
        Assert.Equal(1, await TicksAsync(swarm));
        await AdvanceAsync(node.Ticker, time, 1);
        Assert.Equal(2, await TicksAsync(swarm));

        // A peer's arrival is an event: from the next second on, a tick every second.
        await using FakePeer peer = await FakePeer.ConnectAsync(harness.Network, IPAddress.Parse("10.0.7.2"), node.LocalEndPoint!, torrent.InfoHashes.WireHash);
        await SwarmHarness.WaitUntilAsync(() => swarm.GetStatus().Peers == 1);
        await AdvanceAsync(node.Ticker, time, 3);
        Assert.Equal(5, await TicksAsync(swarm));
    }

    /// <summary>Moves the clock a second at a time, each time until the ticker has run its round (and posted its ticks).</summary>
    private static async Task AdvanceAsync(SwarmTicker ticker, FakeTimeProvider time, int seconds)
    {
        for (int i = 0; i < seconds; i++)
        {
            long rounds = ticker.Rounds;
            time.Advance(SwarmTicker.Interval);
            await SwarmHarness.WaitUntilAsync(() => ticker.Rounds > rounds);
        }
    }

    /// <summary>The ticks the torrent's loop has handled, read on the loop once everything posted before is handled.</summary>
    private static Task<int> TicksAsync(TorrentSwarm swarm) => swarm.InvokeAsync(() => swarm.Ticks, TestContext.Current.CancellationToken);
}
