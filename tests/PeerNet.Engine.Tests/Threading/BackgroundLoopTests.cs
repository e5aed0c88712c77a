using System.Diagnostics;
using PeerNet.Threading;

namespace PeerNet.Engine.Tests.Threading;

public sealed class BackgroundLoopTests
{
    private static readonly AsyncLocal<string?> Ambient = new();

    [Fact]
    public async Task Start_CallerHasAmbientState_LoopSeesNone()
    {
        using var activity = new Activity("an HTTP request that adds a torrent").Start();
        Ambient.Value = "the caller's";

        (string? ambient, Activity? current) = await RunAsync();

        Assert.Null(ambient);
        Assert.Null(current);
        Assert.Equal("the caller's", Ambient.Value); // the caller's own context is untouched
        Assert.Same(activity, Activity.Current);
    }

    [Fact]
    public async Task Start_LoopThrows_TaskCarriesTheException()
    {
        Task loop = BackgroundLoop.Start(() => throw new InvalidOperationException("loop failed"));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => loop);
        Assert.Equal("loop failed", e.Message);
    }

    private static async Task<(string?, Activity?)> RunAsync()
    {
        (string?, Activity?) seen = default;
        await BackgroundLoop.Start(async () =>
        {
            await Task.Yield();
            seen = (Ambient.Value, Activity.Current);
        });
        return seen;
    }
}
