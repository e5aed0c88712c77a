using System.Net;
using System.Text;
using System.Threading.Channels;
using PeerNet.Cli.Commands;
using PeerNet.Libp2p;
using static PeerNet.Engine.Tests.Cli.CliRun;

namespace PeerNet.Engine.Tests.Cli;

/// <summary>
/// <c>peernet chat</c> against a library node on loopback: a line written to the verb's stdin reaches the node's
/// subscription, signed by the verb's identity; the node's message is printed as <c>SHORTID: text</c>, cleaned of
/// control characters.
/// </summary>
public sealed class ChatCommandTests
{
    private const string Topic = "peernet-chat-test";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Chat_PublishesTypedLines_AndPrintsReceivedMessagesWithTheirAuthor()
    {
        await using PeerNetNode node = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
            cancellationToken: Ct);
        using PubsubSubscription atNode = node.Libp2p.Pubsub.Subscribe(Topic);
        using var stdin = new LineInput();
        await using BackgroundRun chat = StartWithInput(stdin, "chat", Topic, "--bind", "127.0.0.1", "--peer", node.Libp2p.ListenAddresses[0].ToString());

        // Each side has the other's subscription: the verb says so on stderr; the node's router shows it.
        Assert.True(await chat.WaitForAsync($"{ChatCommand.Short(node.Identity.PeerId)} joined", onStderr: true), chat.Err.Text);
        await WaitUntilAsync(() => node.Libp2p.Pubsub.TopicPeers(Topic).Count == 1, "the node learns the verb's subscription");
        Libp2pPeerId chatter = node.Libp2p.Pubsub.TopicPeers(Topic)[0];
        Assert.Contains($"as {chatter} ", chat.Err.Text, StringComparison.Ordinal);

        stdin.Write("hello from the terminal");
        PubsubMessage received = await atNode.Messages.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal("hello from the terminal", Encoding.UTF8.GetString(received.Data.Span));
        Assert.Equal(chatter, received.From);

        Assert.Equal(1, await node.Libp2p.Pubsub.PublishAsync(Topic, "hi back\u001b[2J"u8.ToArray(), Ct));
        string expected = $"{ChatCommand.Short(node.Identity.PeerId)}: hi back";
        Assert.True(await chat.WaitForAsync(expected), chat.Out.Text + chat.Err.Text);
        Assert.DoesNotContain("\u001b", chat.Out.Text, StringComparison.Ordinal);
        Assert.Single(chat.Out.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // its own line is not echoed

        // The end of stdin stops the sending, not the chat: Ctrl+C ends it, cleanly.
        stdin.End();
        Assert.False(chat.Exit.IsCompleted);
        Assert.Equal(0, await chat.StopAsync());
    }

    [Fact]
    public async Task Chat_RefusesABadPeerAddress()
    {
        (int exit, _, string error) = await RunAsync("chat", Topic, "--peer", "/ip4/127.0.0.1/tcp/notaport");
        Assert.Equal(1, exit);
        Assert.Contains("--peer", error, StringComparison.Ordinal);
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => Poll.UntilAsync(condition, what, Timeout);

    /// <summary>A stdin the test types into: each <see cref="Write"/> is one line; <see cref="End"/> is end of file.</summary>
    private sealed class LineInput : TextReader
    {
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

        public void Write(string line) => _lines.Writer.TryWrite(line);

        public void End() => _lines.Writer.TryComplete();

        public override string? ReadLine() => ReadLineAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken) =>
            await _lines.Reader.WaitToReadAsync(cancellationToken) && _lines.Reader.TryRead(out string? line) ? line : null;
    }
}
