using System.Net;
using PeerNet.Libp2p;
using static PeerNet.Engine.Tests.Cli.CliRun;

namespace PeerNet.Engine.Tests.Cli;

/// <summary><c>peernet send</c> and <c>peernet listen</c>: direct messages between the CLI and a node, on 127.0.0.1.</summary>
public sealed class SendListenCommandTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly string _state = Path.Combine(Path.GetTempPath(), "peernet-send-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    private static Task<PeerNetNode> StartAsync(CancellationToken ct) => PeerNetNode.StartAsync(
        new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
        cancellationToken: ct);

    [Fact]
    public async Task Send_ToAMultiaddr_PrintsDelivered_FromTheStateFoldersIdentity()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using PeerNetNode receiver = await StartAsync(ct);
        var received = new TaskCompletionSource<DirectMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Libp2p.SetMessageHandler((message, _) =>
        {
            received.TrySetResult(message);
            return Task.CompletedTask;
        });

        (int exit, string output, string error) = await RunAsync("send", receiver.Libp2p.ListenAddresses[0].ToString(), "hello, node", "--state", _state);

        Assert.True(exit == 0, error);
        Assert.StartsWith("delivered", output, StringComparison.Ordinal);
        DirectMessage message = await received.Task.WaitAsync(Timeout, ct);
        Assert.Equal("hello, node", message.Text);
        (_, string id, _) = await RunAsync("id", "--state", _state);
        Assert.Equal(id.Split('\n')[0].Trim(), message.From.ToString());
    }

    [Fact]
    public async Task Send_ThatIsNotDelivered_ExitsNonZeroWithTheReason()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using PeerNetNode deaf = await StartAsync(ct); // takes no direct messages

        (int exit, _, string error) = await RunAsync("send", deaf.Libp2p.ListenAddresses[0].ToString(), "hello?", "--state", _state);
        Assert.Equal(1, exit);
        Assert.Contains("does not take direct messages", error, StringComparison.Ordinal);

        (exit, _, error) = await RunAsync("send", deaf.Identity.PeerId.ToString(), "hello?", "--state", _state);
        Assert.Equal(1, exit);
        Assert.Contains("no address known", error, StringComparison.Ordinal);

        (exit, _, error) = await RunAsync("send", "not-a-peer", "hello?", "--state", _state);
        Assert.Equal(1, exit);
        Assert.Contains("neither a multiaddr", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listen_PrintsItsMultiaddrs_ThenEachMessageWithItsSender()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using BackgroundRun listen = Start("listen", "--state", _state, "--port", "0", "--bind", "127.0.0.1");
        Assert.True(await listen.WaitForAsync("/p2p/"), listen.Err.Text);
        await Poll.UntilAsync(() => listen.Out.Text.Contains('\n', StringComparison.Ordinal) && listen.Out.Text.Split('\n').Length > 2, "the multiaddr line to end", Timeout);
        Multiaddr address = Multiaddr.Parse(listen.Out.Text.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith("/ip4/", StringComparison.Ordinal)));

        await using PeerNetNode sender = await StartAsync(ct);
        await sender.Libp2p.SendMessageAsync(address, "hi there\u001b[31m"u8.ToArray(), ct).WaitAsync(Timeout, ct);

        // Acknowledged only once printed: the line is there now, with the escape made harmless.
        Assert.Contains($"{sender.Identity.PeerId}: hi there\uFFFD[31m", listen.Out.Text, StringComparison.Ordinal);
        Assert.Equal(130, await listen.StopAsync());
    }
}
