using System.Net;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Transport;
using static PeerNet.Engine.Tests.Transport.TransportTestKit;

namespace PeerNet.Engine.Tests.Transport;

public sealed class InMemoryDatagramNetworkTests
{
    private static readonly IPEndPoint AnyA = new(IPAddress.Parse("10.0.0.1"), 0);
    private static readonly IPEndPoint AnyB = new(IPAddress.Parse("fd00::2"), 0);

    [Fact]
    public async Task Latency_DelaysDeliveryUntilTheClockPassesIt()
    {
        var time = new FakeTimeProvider();
        var network = new InMemoryDatagramNetwork(new InMemoryDatagramOptions { Latency = TimeSpan.FromMilliseconds(50) }, time);
        await using IDatagramSocket a = network.Bind(AnyA);
        await using IDatagramSocket b = network.Bind(AnyB);
        await a.SendAsync(new byte[] { 7 }, b.LocalEndPoint, Ct);
        ValueTask<DatagramReceived> receive = b.ReceiveAsync(new byte[10], Ct);
        time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.False(receive.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        DatagramReceived r = await receive.AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(a.LocalEndPoint, r.RemoteEndPoint);
    }

    [Fact]
    public async Task LossRate_WithASeed_DropsTheSameDatagramsEveryRun()
    {
        async Task<List<int>> ArrivedAsync()
        {
            var network = new InMemoryDatagramNetwork(new InMemoryDatagramOptions { LossRate = 0.3, Seed = 5, ReceiveQueueCapacity = 1000 });
            await using IDatagramSocket a = network.Bind(AnyA);
            await using IDatagramSocket b = network.Bind(AnyB);
            for (int i = 0; i < 500; i++)
            {
                await a.SendAsync(BitConverter.GetBytes(i), b.LocalEndPoint, Ct);
            }

            var arrived = new List<int>();
            var buffer = new byte[4];
            for (long n = network.Delivered; n > 0; n--)
            {
                await b.ReceiveAsync(buffer, Ct);
                arrived.Add(BitConverter.ToInt32(buffer));
            }

            Assert.Equal(500, network.Sent);
            Assert.Equal(500 - arrived.Count, network.Dropped);
            return arrived;
        }

        List<int> first = await ArrivedAsync();
        Assert.InRange(first.Count, 300, 400);
        Assert.Equal(first, await ArrivedAsync());
    }

    [Fact]
    public async Task FullQueue_DropsFurtherDatagrams()
    {
        var network = new InMemoryDatagramNetwork(new InMemoryDatagramOptions { ReceiveQueueCapacity = 3 });
        await using IDatagramSocket a = network.Bind(AnyA);
        await using IDatagramSocket b = network.Bind(AnyB);
        for (int i = 0; i < 5; i++)
        {
            await a.SendAsync(new byte[] { (byte)i }, b.LocalEndPoint, Ct);
        }

        Assert.Equal(3, network.Delivered);
        Assert.Equal(2, network.Dropped);
    }

    [Fact]
    public async Task Send_ToAnUnboundEndPoint_CountsADrop()
    {
        var network = new InMemoryDatagramNetwork();
        await using IDatagramSocket a = network.Bind(AnyA);
        await a.SendAsync(new byte[] { 1 }, new IPEndPoint(IPAddress.Parse("10.0.0.9"), 6881), Ct);
        Assert.Equal(1, network.Dropped);
    }
}
