using System.Buffers;
using System.Net;
using PeerNet.Libp2p;

namespace PeerNet.Engine.Tests.Node;

/// <summary>Datagram channels (<c>/peernet/datagram/1.0.0</c>) between two PeerNet nodes on 127.0.0.1.</summary>
public sealed class DatagramChannelTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static Task<PeerNetNode> StartAsync(CancellationToken ct) => PeerNetNode.StartAsync(
        new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
        cancellationToken: ct);

    [Fact]
    public async Task Datagrams_ArriveInOrder_WithTheirSequenceAndSendTime_AndTheSendersInFlightEmpties()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using PeerNetNode a = await StartAsync(ct);
        await using PeerNetNode b = await StartAsync(ct);
        var accepted = new TaskCompletionSource<DatagramChannel>(TaskCreationOptions.RunContinuationsAsynchronously);
        b.Libp2p.SetDatagramChannelHandler((channel, _) =>
        {
            accepted.TrySetResult(channel);
            return Task.CompletedTask;
        });
        Libp2pPeerInfo info = await a.Libp2p.ConnectAsync(b.Libp2p.ListenAddresses[0], ct).WaitAsync(Timeout, ct);
        await using DatagramChannel sender = await a.Libp2p.OpenDatagramChannelAsync(info.PeerId, cancellationToken: ct).WaitAsync(Timeout, ct);
        DateTimeOffset before = DateTimeOffset.UtcNow;

        const int count = 50;
        for (int i = 0; i < count; i++)
        {
            Assert.True(sender.TrySend(new byte[] { (byte)i, 1, 2, 3 }));
        }

        DatagramChannel receiver = await accepted.Task.WaitAsync(Timeout, ct);
        Assert.Equal(a.Identity.PeerId, receiver.RemotePeer);
        for (int i = 0; i < count; i++)
        {
            Datagram datagram = await receiver.ReceiveAsync(ct).AsTask().WaitAsync(Timeout, ct);
            Assert.Equal((ulong)i + 1, datagram.Sequence);
            Assert.Equal(new byte[] { (byte)i, 1, 2, 3 }, datagram.Data.ToArray());
            Assert.InRange(datagram.Sent, before.AddSeconds(-1), datagram.Received.AddSeconds(1));
        }

        await Poll.UntilAsync(() => sender.Stats.InFlightBytes == 0, "the receiver's feedback to empty what is in flight", Timeout, describe: () => sender.Stats.ToString());
        Assert.Equal(count, sender.Stats.Sent);
        Assert.Equal(0, sender.Stats.Dropped);
        Assert.Equal(count, receiver.Stats.Received);
        Assert.Equal(0, receiver.Stats.Late);

        // Either side's dispose ends the channel for both.
        await sender.DisposeAsync();
        await receiver.Completion.WaitAsync(Timeout, ct);
        Assert.False(receiver.TrySend([1]));
    }

    [Fact]
    public async Task WhenThePeerReadsNothing_SendingNeverWaits_AndDropsAndCountsWhatWouldPassTheInFlightLimit()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using PeerNetNode a = await StartAsync(ct);
        await using PeerNetNode b = await StartAsync(ct);
        var stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // A peer that takes the stream and never reads it: no feedback ever comes back.
        b.Libp2p.SetStreamHandler(Libp2pService.DatagramProtocol, (_, _, token) => stalled.Task.WaitAsync(token));
        Libp2pPeerInfo info = await a.Libp2p.ConnectAsync(b.Libp2p.ListenAddresses[0], ct).WaitAsync(Timeout, ct);
        var options = new DatagramChannelOptions { MaxInFlightBytes = 32 * 1024 };
        await using DatagramChannel channel = await a.Libp2p.OpenDatagramChannelAsync(info.PeerId, options, ct).WaitAsync(Timeout, ct);

        const int payload = 1000;
        int framed = DatagramFrameCodec.FramedLength(payload);
        int sent = 0;
        for (int i = 0; i < 200; i++)
        {
            sent += channel.TrySend(new byte[payload]) ? 1 : 0;
        }

        DatagramChannelStats stats = channel.Stats;
        Assert.Equal(options.MaxInFlightBytes / framed, sent);
        Assert.Equal(sent, stats.Sent);
        Assert.Equal(200 - sent, stats.Dropped);
        Assert.Equal(sent * framed, stats.InFlightBytes);
        stalled.SetResult();
    }

    [Fact]
    public async Task TheReceiver_DropsOutOfOrderAndStaleDatagrams_AndCountsThemAsLate()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using PeerNetNode a = await StartAsync(ct);
        await using PeerNetNode b = await StartAsync(ct);
        var accepted = new TaskCompletionSource<DatagramChannel>(TaskCreationOptions.RunContinuationsAsynchronously);
        b.Libp2p.SetDatagramChannelHandler(
            (channel, _) =>
            {
                accepted.TrySetResult(channel);
                return Task.CompletedTask;
            },
            new DatagramChannelOptions { MaxLateness = TimeSpan.FromMilliseconds(500) });
        Libp2pPeerInfo info = await a.Libp2p.ConnectAsync(b.Libp2p.ListenAddresses[0], ct).WaitAsync(Timeout, ct);

        // A sender that writes frames by hand: sequence 1, 3, then 2 (out of order), 4 sent 5 s ago (stale), 5.
        await using Libp2pStream raw = await a.Libp2p.OpenStreamAsync(info.PeerId, Libp2pService.DatagramProtocol, ct).WaitAsync(Timeout, ct);
        long now = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        var frames = new ArrayBufferWriter<byte>();
        DatagramFrameCodec.WriteDatagram(1, now, [1], frames);
        DatagramFrameCodec.WriteDatagram(3, now, [3], frames);
        DatagramFrameCodec.WriteDatagram(2, now, [2], frames);
        DatagramFrameCodec.WriteDatagram(4, now - 5_000_000, [4], frames);
        DatagramFrameCodec.WriteDatagram(5, now, [5], frames);
        await raw.WriteAsync(frames.WrittenMemory, ct);

        DatagramChannel receiver = await accepted.Task.WaitAsync(Timeout, ct);
        var got = new List<ulong>();
        for (int i = 0; i < 3; i++)
        {
            got.Add((await receiver.ReceiveAsync(ct).AsTask().WaitAsync(Timeout, ct)).Sequence);
        }

        Assert.Equal([1UL, 3UL, 5UL], got);
        Assert.Equal(2, receiver.Stats.Late);
        Assert.Equal(3, receiver.Stats.Received);
    }
}
