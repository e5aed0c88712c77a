using System.Net;
using System.Net.Sockets;
using PeerNet.Transport;
using static PeerNet.Engine.Tests.Transport.TransportTestKit;

namespace PeerNet.Engine.Tests.Transport;

/// <summary>What every <see cref="IDatagramTransport"/> must do, run against real UDP (IPv4, IPv6) and the in-memory network.</summary>
public abstract class DatagramContractTests
{
    private protected abstract IDatagramTransport Transport { get; }

    private protected abstract IPAddress Address { get; }

    [Fact]
    public async Task Bind_PortZero_PicksAPortAndKeepsTheAddress()
    {
        await using IDatagramSocket socket = Transport.Bind(new IPEndPoint(Address, 0));
        Assert.NotEqual(0, socket.LocalEndPoint.Port);
        Assert.Equal(Address, socket.LocalEndPoint.Address);
    }

    [Fact]
    public async Task Bind_PortInUse_Throws()
    {
        await using IDatagramSocket socket = Transport.Bind(new IPEndPoint(Address, 0));
        Assert.Throws<SocketException>(() => Transport.Bind(socket.LocalEndPoint));
    }

    [Fact]
    public async Task Send_ToABoundSocket_ArrivesWhole_WithTheSendersEndPoint()
    {
        await using IDatagramSocket a = Transport.Bind(new IPEndPoint(Address, 0));
        await using IDatagramSocket b = Transport.Bind(new IPEndPoint(Address, 0));
        byte[] first = [1, 2, 3];
        byte[] second = new byte[1400];
        Random.Shared.NextBytes(second);
        await a.SendAsync(first, b.LocalEndPoint, Ct);
        await a.SendAsync(second, b.LocalEndPoint, Ct);

        var buffer = new byte[2048];
        DatagramReceived r1 = await b.ReceiveAsync(buffer, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(first, buffer[..r1.Length]);
        Assert.Equal(a.LocalEndPoint, r1.RemoteEndPoint);
        DatagramReceived r2 = await b.ReceiveAsync(buffer, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(second, buffer[..r2.Length]);

        // And back the other way, to the endpoint the datagram came from.
        await b.SendAsync(first, r1.RemoteEndPoint, Ct);
        DatagramReceived back = await a.ReceiveAsync(buffer, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(b.LocalEndPoint, back.RemoteEndPoint);
    }

    [Fact]
    public async Task Receive_IntoASmallBuffer_CutsTheDatagram()
    {
        await using IDatagramSocket a = Transport.Bind(new IPEndPoint(Address, 0));
        await using IDatagramSocket b = Transport.Bind(new IPEndPoint(Address, 0));
        await a.SendAsync(new byte[100], b.LocalEndPoint, Ct);
        DatagramReceived r = await b.ReceiveAsync(new byte[10], Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(10, r.Length);
    }

    [Fact]
    public async Task Send_ToNobody_DoesNotThrow()
    {
        await using IDatagramSocket a = Transport.Bind(new IPEndPoint(Address, 0));
        IPEndPoint nobody;
        await using (IDatagramSocket gone = Transport.Bind(new IPEndPoint(Address, 0)))
        {
            nobody = gone.LocalEndPoint;
        }

        await a.SendAsync(new byte[10], nobody, Ct);
        await a.SendAsync(new byte[10], nobody, Ct);
    }

    [Fact]
    public async Task Dispose_DuringReceive_EndsItWithObjectDisposed()
    {
        IDatagramSocket a = Transport.Bind(new IPEndPoint(Address, 0));
        ValueTask<DatagramReceived> pending = a.ReceiveAsync(new byte[100], Ct);
        await a.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.AsTask().WaitAsync(TestTimeout, Ct));
    }
}

public sealed class UdpV4DatagramContractTests : DatagramContractTests
{
    private protected override IDatagramTransport Transport => UdpDatagramTransport.Instance;

    private protected override IPAddress Address => IPAddress.Loopback;
}

public sealed class UdpV6DatagramContractTests : DatagramContractTests
{
    private protected override IDatagramTransport Transport => UdpDatagramTransport.Instance;

    private protected override IPAddress Address => IPAddress.IPv6Loopback;
}

public sealed class InMemoryDatagramContractTests : DatagramContractTests
{
    private protected override IDatagramTransport Transport { get; } = new InMemoryDatagramNetwork();

    private protected override IPAddress Address => IPAddress.Parse("10.9.8.7");
}
