using System.Net;
using PeerNet.Tracker;
using PeerNet.Transport;
using static PeerNet.Engine.Tests.Transport.TransportTestKit;

namespace PeerNet.Engine.Tests.Transport;

public sealed class DatagramDemuxTests
{
    private static readonly IPEndPoint Local = IPEndPoint.Parse("10.0.0.1:6881");
    private static readonly IPEndPoint Tracker = IPEndPoint.Parse("10.0.0.2:6969");
    private static readonly byte[] Ping = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"u8.ToArray();

    private static byte[] ConnectReply(uint transactionId)
    {
        var reply = new byte[16];
        UdpTrackerPacket.WriteConnectResponse(reply, transactionId, 42);
        return reply;
    }

    [Fact]
    public async Task BencodedDatagram_GoesToTheDht_AndItsRepliesLeaveFromTheSharedPort()
    {
        var network = new InMemoryDatagramNetwork();
        await using var demux = new DatagramDemux(network.Bind(Local), new DatagramDemuxOptions());
        await using IDatagramSocket dht = demux.DhtTransport.Bind(Local);
        await using IDatagramSocket remote = network.Bind(IPEndPoint.Parse("10.0.0.3:1000"));

        await remote.SendAsync(Ping, Local, Ct);
        var buffer = new byte[1600];
        DatagramReceived received = await dht.ReceiveAsync(buffer, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(Ping, buffer[..received.Length]);
        Assert.Equal(remote.LocalEndPoint, received.RemoteEndPoint);

        await dht.SendAsync("d1:rd2:id20:abcdefghij0123456789e1:t2:aa1:y1:re"u8.ToArray(), remote.LocalEndPoint, Ct);
        DatagramReceived answer = await remote.ReceiveAsync(buffer, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(Local, answer.RemoteEndPoint);
    }

    [Fact]
    public async Task DhtSocket_DisposedByTheDht_LeavesTheSharedSocketOpen()
    {
        var network = new InMemoryDatagramNetwork();
        await using var demux = new DatagramDemux(network.Bind(Local), new DatagramDemuxOptions());
        IDatagramSocket dht = demux.DhtTransport.Bind(Local);
        Assert.Throws<InvalidOperationException>(() => demux.DhtTransport.Bind(Local));
        ValueTask<DatagramReceived> pending = dht.ReceiveAsync(new byte[64], Ct);
        await dht.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.AsTask().WaitAsync(TestTimeout, Ct));

        // The port still serves: a DHT can come back, and trackers still send.
        await using IDatagramSocket again = demux.DhtTransport.Bind(Local);
        await demux.SendAsync(new byte[16], Tracker, Ct);
    }

    [Fact]
    public async Task TrackerReply_WithOurTransactionId_GoesToItsTransaction_OthersAreDropped()
    {
        await using var demux = new DatagramDemux(new InMemoryDatagramNetwork().Bind(Local), new DatagramDemuxOptions());
        using DatagramDemux.TrackerTransaction? transaction = demux.ExpectTrackerReply(7, Tracker);
        Assert.NotNull(transaction);
        Assert.Null(demux.ExpectTrackerReply(7, Tracker)); // one owner per id

        demux.Dispatch(ConnectReply(8), Tracker); // an id we did not issue
        demux.Dispatch(ConnectReply(7), IPEndPoint.Parse("10.0.0.9:6969")); // ours, from someone else
        Assert.False(transaction.Reply.IsCompleted);
        Assert.Equal(2, demux.DroppedCount(DatagramDropReason.Unknown));

        demux.Dispatch(ConnectReply(7), Tracker);
        Assert.Equal(ConnectReply(7), await transaction.Reply.WaitAsync(TestTimeout, Ct));
        transaction.Dispose();
        demux.Dispatch(ConnectReply(7), Tracker); // late: the transaction is over
        Assert.Equal(3, demux.DroppedCount(DatagramDropReason.Unknown));
    }

    [Fact]
    public async Task UnknownDatagrams_AreDroppedAndCounted_UtpHasItsSlot()
    {
        await using var demux = new DatagramDemux(new InMemoryDatagramNetwork().Bind(Local), new DatagramDemuxOptions());
        demux.Dispatch([], Tracker);
        demux.Dispatch("hello"u8, Tracker);
        demux.Dispatch([0xFF, 0, 0, 0, 0, 0, 0, 0], Tracker);
        Assert.Equal(3, demux.DroppedCount(DatagramDropReason.Unknown));

        // BEP 29: ST_SYN (4) version 1, and ST_DATA (0) version 1: uTP's, which nothing serves yet.
        demux.Dispatch([0x41, 0, 0, 0], Tracker);
        demux.Dispatch([0x01, 0, 0, 0], Tracker);

        // A KRPC message with no DHT on the port.
        demux.Dispatch(Ping, Tracker);
        Assert.Equal(3, demux.DroppedCount(DatagramDropReason.NoOwner));
        Assert.Equal(0, demux.DroppedCount(DatagramDropReason.QueueFull));
    }

    [Fact]
    public async Task Flood_StaysWithinTheQueueBound_AndJunkAllocatesNothing()
    {
        await using var demux = new DatagramDemux(new InMemoryDatagramNetwork().Bind(Local), new DatagramDemuxOptions { DhtQueueLength = 64 });
        await using IDatagramSocket dht = demux.DhtTransport.Bind(Local); // a DHT that does not read
        byte[] big = new byte[4000];
        big[0] = (byte)'d';
        for (int i = 0; i < 10_000; i++)
        {
            demux.Dispatch(big, Tracker);
        }

        Assert.Equal(64, demux.DhtQueued);
        Assert.Equal(10_000 - 64, demux.DroppedCount(DatagramDropReason.QueueFull));

        // Once full, neither more DHT datagrams nor junk cost an allocation.
        byte[] junk = new byte[1400];
        junk[0] = 0xFF;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            demux.Dispatch(big, Tracker);
            demux.Dispatch(junk, Tracker);
        }

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16_384, "the flood allocated");
        Assert.Equal(64, demux.DhtQueued);

        // What was queued was cut to what KRPC accepts plus one, so the DHT sees it as oversized.
        var buffer = new byte[8000];
        DatagramReceived received = await dht.ReceiveAsync(buffer, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(new DatagramDemuxOptions().MaxDhtDatagramBytes, received.Length);
    }
}
