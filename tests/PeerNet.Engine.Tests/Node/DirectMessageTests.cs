using System.Net;
using System.Threading.Channels;
using PeerNet.Libp2p;

namespace PeerNet.Engine.Tests.Node;

/// <summary>Direct messages (<c>/peernet/dm/1.0.0</c>) between two PeerNet nodes on 127.0.0.1.</summary>
public sealed class DirectMessageTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static Task<PeerNetNode> StartAsync(CancellationToken ct) => PeerNetNode.StartAsync(
        new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
        cancellationToken: ct);

    [Fact]
    public async Task NodeEvents_TellOfTheLibp2pPeerComingAndGoing_AndOfEachMessageTaken_NotOfOneRefused()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using PeerNetNode a = await StartAsync(ct);
        PeerNetNode b = await StartAsync(ct);
        await using (b)
        {
            using var watching = CancellationTokenSource.CreateLinkedTokenSource(ct);
            await using IAsyncEnumerator<NodeEvent> events = a.WatchEventsAsync(watching.Token).GetAsyncEnumerator(watching.Token);
            bool refuse = false;
            a.Libp2p.SetMessageHandler((_, _) => refuse ? throw new InvalidOperationException("full") : Task.CompletedTask);

            await b.Libp2p.ConnectAsync(a.Libp2p.ListenAddresses[0], ct).WaitAsync(Timeout, ct);
            Libp2pPeerConnected connected = await NextAsync<Libp2pPeerConnected>(events, ct);
            Assert.Equal(b.Identity.PeerId, connected.Peer);
            Assert.False(connected.Outbound);
            Assert.Equal(IPAddress.Loopback, connected.Address?.Address);

            await b.Libp2p.SendMessageAsync(a.Identity.PeerId, "one", ct).WaitAsync(Timeout, ct);
            refuse = true;
            await Assert.ThrowsAsync<DirectMessageException>(() => b.Libp2p.SendMessageAsync(a.Identity.PeerId, "refused", ct).WaitAsync(Timeout, ct));
            refuse = false;
            await b.Libp2p.SendMessageAsync(a.Identity.PeerId, "three", ct).WaitAsync(Timeout, ct);
            Assert.Equal("one", (await NextAsync<DirectMessageReceived>(events, ct)).Message.Text);
            DirectMessageReceived third = await NextAsync<DirectMessageReceived>(events, ct);
            Assert.Equal("three", third.Message.Text);
            Assert.Equal(b.Identity.PeerId, third.Message.From);

            await b.DisposeAsync();
            Assert.Equal(b.Identity.PeerId, (await NextAsync<Libp2pPeerDisconnected>(events, ct)).Peer);
            await watching.CancelAsync();
        }
    }

    /// <summary>The next event of type <typeparamref name="T"/>, skipping others, within <see cref="Timeout"/>.</summary>
    private static async Task<T> NextAsync<T>(IAsyncEnumerator<NodeEvent> events, CancellationToken ct)
        where T : NodeEvent
    {
        while (await events.MoveNextAsync().AsTask().WaitAsync(Timeout, ct))
        {
            if (events.Current is T wanted)
            {
                return wanted;
            }
        }

        throw new InvalidOperationException($"the events ended before a {typeof(T).Name}");
    }

    [Fact]
    public async Task Send_ReturnsOnlyOnceTheReceiversHandlerTookTheMessage()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using PeerNetNode a = await StartAsync(ct);
        await using PeerNetNode b = await StartAsync(ct);
        var entered = new TaskCompletionSource<DirectMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        b.Libp2p.SetMessageHandler(async (message, token) =>
        {
            entered.TrySetResult(message);
            await release.Task.WaitAsync(token);
        });

        Task<TimeSpan> send = a.Libp2p.SendMessageAsync(b.Libp2p.ListenAddresses[0], "héllo, b"u8.ToArray(), ct);
        DirectMessage received = await entered.Task.WaitAsync(Timeout, ct);
        Assert.False(send.IsCompleted); // no acknowledgement while the handler still holds the message
        release.SetResult();
        await send.WaitAsync(Timeout, ct);

        Assert.Equal(a.Identity.PeerId, received.From);
        Assert.Equal("héllo, b", received.Text);
        Assert.Contains(Libp2pService.DirectMessageProtocol, b.Libp2p.Protocols);

        // The connection is there now: a second message by peer ID alone, and back from b to a.
        var atA = Channel.CreateUnbounded<DirectMessage>();
        a.Libp2p.SetMessageHandler((message, token) => atA.Writer.WriteAsync(message, token).AsTask());
        await a.Libp2p.SendMessageAsync(b.Identity.PeerId, "again", ct).WaitAsync(Timeout, ct);
        await b.Libp2p.SendMessageAsync(a.Identity.PeerId, "and back", ct).WaitAsync(Timeout, ct);
        DirectMessage back = await atA.Reader.ReadAsync(ct).AsTask().WaitAsync(Timeout, ct);
        Assert.Equal(b.Identity.PeerId, back.From);
        Assert.Equal("and back", back.Text);
    }

    [Fact]
    public async Task Send_ToAPeerWithoutAHandler_FailsAsNotSupported_AndAFailingHandlerRefuses()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using PeerNetNode a = await StartAsync(ct);
        await using PeerNetNode b = await StartAsync(ct);

        DirectMessageException none = await Assert.ThrowsAsync<DirectMessageException>(
            () => a.Libp2p.SendMessageAsync(b.Libp2p.ListenAddresses[0], "anyone?"u8.ToArray(), ct).WaitAsync(Timeout, ct));
        Assert.Equal(DirectMessageFailure.NotSupported, none.Failure);
        Assert.DoesNotContain(Libp2pService.DirectMessageProtocol, b.Libp2p.Protocols);

        b.Libp2p.SetMessageHandler((_, _) => throw new InvalidOperationException("the disk is full"));
        DirectMessageException refused = await Assert.ThrowsAsync<DirectMessageException>(
            () => a.Libp2p.SendMessageAsync(b.Identity.PeerId, "take this", ct).WaitAsync(Timeout, ct));
        Assert.Equal(DirectMessageFailure.Refused, refused.Failure);
        Assert.DoesNotContain("disk", refused.Message, StringComparison.Ordinal); // the receiver's internals stay there

        Assert.True(b.Libp2p.RemoveMessageHandler());
        DirectMessageException removed = await Assert.ThrowsAsync<DirectMessageException>(
            () => a.Libp2p.SendMessageAsync(b.Identity.PeerId, "still there?", ct).WaitAsync(Timeout, ct));
        Assert.Equal(DirectMessageFailure.NotSupported, removed.Failure);
    }

    [Fact]
    public async Task AnOversizedMessage_IsRefusedByTheSender_AndByTheReceiverWhenASenderDoesNotCheck()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using PeerNetNode a = await StartAsync(ct);
        await using PeerNetNode b = await StartAsync(ct);
        int handled = 0;
        b.Libp2p.SetMessageHandler((_, _) =>
        {
            Interlocked.Increment(ref handled);
            return Task.CompletedTask;
        });
        Libp2pPeerInfo info = await a.Libp2p.ConnectAsync(b.Libp2p.ListenAddresses[0], ct).WaitAsync(Timeout, ct);

        await Assert.ThrowsAsync<ArgumentException>(() => a.Libp2p.SendMessageAsync(info.PeerId, new byte[Libp2pService.MaxMessageLength + 1], ct));
        DirectMessageException tooLarge = await Assert.ThrowsAsync<DirectMessageException>(
            () => a.Libp2p.SendMessageCoreAsync(info.PeerId, DirectMessageCodec.EncodeUnchecked(7, new byte[100 * 1024]), ct).WaitAsync(Timeout, ct));
        Assert.Equal(DirectMessageFailure.TooLarge, tooLarge.Failure);

        await a.Libp2p.SendMessageAsync(info.PeerId, new byte[Libp2pService.MaxMessageLength], ct).WaitAsync(Timeout, ct); // the limit itself is fine
        Assert.Equal(1, Volatile.Read(ref handled));
    }

    [Fact]
    public async Task Send_ToAPeerThatIsGone_FailsAsUnreachable()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using PeerNetNode a = await StartAsync(ct);
        PeerNetNode b = await StartAsync(ct);
        Libp2pPeerId bId = b.Identity.PeerId;
        b.Libp2p.SetMessageHandler((_, _) => Task.CompletedTask);
        await a.Libp2p.SendMessageAsync(b.Libp2p.ListenAddresses[0], "first"u8.ToArray(), ct).WaitAsync(Timeout, ct);

        await b.DisposeAsync();
        await Poll.UntilAsync(() => a.Libp2p.FindPeer(bId) is { IsConnected: false }, "a to see b's connection end", Timeout);

        DirectMessageException gone = await Assert.ThrowsAsync<DirectMessageException>(() => a.Libp2p.SendMessageAsync(bId, "second", ct).WaitAsync(Timeout, ct));
        Assert.Equal(DirectMessageFailure.Unreachable, gone.Failure);
        Assert.Contains(bId.ToString(), gone.Message, StringComparison.Ordinal);

        using NodeIdentity stranger = NodeIdentity.CreateEphemeral();
        DirectMessageException unknown = await Assert.ThrowsAsync<DirectMessageException>(() => a.Libp2p.SendMessageAsync(stranger.PeerId, "hi", ct).WaitAsync(Timeout, ct));
        Assert.Equal(DirectMessageFailure.Unreachable, unknown.Failure);
        Assert.Contains("no address known", unknown.Message, StringComparison.Ordinal);
    }
}
