using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using static PeerNet.Engine.Tests.Cli.CliRun;

namespace PeerNet.Engine.Tests.Cli;

/// <summary>
/// A DHT that never answers: the CLI says so within a few seconds (after 5 s of silence, or when the join ends with no
/// node, whichever is first) and <c>dht --duration</c> still stops on time.
/// </summary>
public sealed class DhtJoinTests : IDisposable
{
    /// <summary>A UDP socket that takes every query and answers none: a bootstrap node that is down.</summary>
    private readonly Socket _silent = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

    public DhtJoinTests() => _silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));

    private string Silent => _silent.LocalEndPoint!.ToString()!;

    public void Dispose() => _silent.Dispose();

    [Fact]
    public async Task Dht_Duration_StopsOnTimeWhileStillJoining()
    {
        var clock = Stopwatch.StartNew();
        (int exit, string output, string error) = await RunAsync("dht", "--bind", "127.0.0.1", "--bootstrap", Silent, "--duration", "1");
        Assert.True(exit == 0, error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"--duration 1 took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Contains("nodes 0 ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dht_NoNodeAnswers_SaysSoAfterFiveSeconds()
    {
        var clock = Stopwatch.StartNew();
        (int exit, _, string error) = await RunAsync("dht", "--bind", "127.0.0.1", "--bootstrap", Silent, "--duration", "7");
        Assert.Equal(0, exit);
        Assert.Matches($@"DHT: no node answered( in 5 s)? \(joining through {System.Text.RegularExpressions.Regex.Escape(Silent)}\)", error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"--duration 7 took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task GetMagnet_NoDhtNodeAnswers_SaysSoInsteadOfWaitingSilently()
    {
        using var temp = new Storage.TempDirectory();
        string magnet = "magnet:?xt=urn:btih:" + new string('a', 40);
        await using BackgroundRun run = Start("get", magnet, "-o", temp.Path, "--bootstrap", Silent, "--no-lsd", "--no-trackers");

        var clock = Stopwatch.StartNew();
        await run.WaitForAsync("DHT: no node answered", onStderr: true);
        TimeSpan saidAfter = clock.Elapsed;
        int exit = await run.StopAsync();
        Assert.Matches($@"DHT: no node answered( in 5 s)? \(joining through {System.Text.RegularExpressions.Regex.Escape(Silent)}\)", run.Err.Text);
        Assert.True(saidAfter < TimeSpan.FromSeconds(12), $"said after {saidAfter.TotalSeconds:0.0} s");
        Assert.Equal(130, exit);
    }
}
