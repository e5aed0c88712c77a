using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Transport;
using static PeerNet.Engine.Tests.Transport.TransportTestKit;

namespace PeerNet.Engine.Tests.Transport;

/// <summary>What only the socket transport does: dual-mode listening, socket options, the connect timeout.</summary>
public sealed class TcpTransportTests
{
    [Fact]
    public async Task Listen_IPv6Any_OneDualModePort_AcceptsIPv4AndIPv6_ReportsIPv4AsIPv4()
    {
        await using var transport = new TcpTransport();
        await using IPeerListener listener = await transport.ListenAsync(new IPEndPoint(IPAddress.IPv6Any, 0), Ct).AsTask().WaitAsync(TestTimeout, Ct);
        int port = listener.LocalEndPoint.Port;
        Assert.NotEqual(0, port);

        foreach (IPAddress loopback in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            ValueTask<IDuplexConnection> accept = listener.AcceptAsync(Ct);
            await using IDuplexConnection client = await transport.ConnectAsync(new IPEndPoint(loopback, port), Ct).AsTask().WaitAsync(TestTimeout, Ct);
            await using IDuplexConnection server = await accept.AsTask().WaitAsync(TestTimeout, Ct);

            Assert.Equal(loopback, server.RemoteEndPoint.Address);
            Assert.Equal(client.LocalEndPoint, server.RemoteEndPoint);
            Assert.Equal(loopback, server.LocalEndPoint.Address);
            await WriteAsync(client.Output, [1, 2, 3]).WaitAsync(TestTimeout, Ct);
            Assert.Equal([1, 2, 3], await ReadExactlyAsync(server.Input, 3).WaitAsync(TestTimeout, Ct));
        }
    }

    [Fact]
    public async Task Connections_HaveNagleOff_AndConfiguredBufferSizes()
    {
        var options = new TcpTransportOptions { SocketReceiveBufferSize = 256 * 1024, SocketSendBufferSize = 128 * 1024 };
        await using var transport = new TcpTransport(options);
        (IPeerListener listener, IDuplexConnection client, IDuplexConnection server) =
            await ConnectPairAsync(transport, transport, new IPEndPoint(IPAddress.Loopback, 0));
        await using IPeerListener _ = listener;

        foreach (IDuplexConnection end in new[] { client, server })
        {
            Socket socket = Assert.IsType<TcpConnection>(end).Socket;
            Assert.True(socket.NoDelay);

            // Linux doubles the value asked for (bookkeeping overhead); other systems report it as set.
            Assert.InRange(socket.ReceiveBufferSize, 256 * 1024, 512 * 1024);
            Assert.InRange(socket.SendBufferSize, 128 * 1024, 256 * 1024);
        }
    }

    [Fact]
    public async Task Connect_WithLocalAddress_ComesFromThatLoopbackAddress()
    {
        // Linux routes all of 127.0.0.0/8 to the loopback interface; other systems may not.
        Assert.SkipUnless(OperatingSystem.IsLinux(), "127.0.0.0/8 beyond 127.0.0.1 is a Linux loopback feature.");
        var from = IPAddress.Parse("127.0.0.3");
        await using var server = new TcpTransport();
        await using var client = new TcpTransport(new TcpTransportOptions { LocalAddress = from });
        (IPeerListener listener, IDuplexConnection clientEnd, IDuplexConnection serverEnd) =
            await ConnectPairAsync(server, client, new IPEndPoint(IPAddress.Loopback, 0));
        await using IPeerListener _ = listener;

        Assert.Equal(from, serverEnd.RemoteEndPoint.Address);
        Assert.Equal(from, clientEnd.LocalEndPoint.Address);
        await clientEnd.DisposeAsync();
        await serverEnd.DisposeAsync();
    }

    [Fact]
    public async Task Connect_PeerNeverAnswers_TimesOutOnTheInjectedClock()
    {
        using BlackHole hole = await BlackHole.CreateAsync();
        var time = new FakeTimeProvider();
        await using var transport = new TcpTransport(new TcpTransportOptions { ConnectTimeout = TimeSpan.FromSeconds(10) }, time);

        Task<IDuplexConnection> connect = transport.ConnectAsync(hole.EndPoint, Ct).AsTask();
        await Task.Delay(300, Ct);
        Assert.False(connect.IsCompleted, "The connect finished although the listener's queue was full.");
        time.Advance(TimeSpan.FromSeconds(9));
        await Task.Delay(100, Ct);
        Assert.False(connect.IsCompleted, "The connect timed out early.");
        time.Advance(TimeSpan.FromSeconds(1));

        var e = await Assert.ThrowsAsync<SocketException>(() => connect.WaitAsync(TestTimeout, Ct));
        Assert.Equal(SocketError.TimedOut, e.SocketErrorCode);
    }

    [Fact]
    public async Task Connect_CancelledWhilePending_ThrowsOperationCanceled()
    {
        using BlackHole hole = await BlackHole.CreateAsync();
        await using var transport = new TcpTransport();
        using var cts = new CancellationTokenSource();

        Task<IDuplexConnection> connect = transport.ConnectAsync(hole.EndPoint, cts.Token).AsTask();
        await Task.Delay(100, Ct);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connect.WaitAsync(TestTimeout, Ct));
    }

    [Fact]
    public async Task Dispose_PeerStopsReading_ClosesAfterTheCloseTimeout()
    {
        var time = new FakeTimeProvider();
        await using var transport = new TcpTransport(new TcpTransportOptions { CloseTimeout = TimeSpan.FromSeconds(5) }, time);
        (IPeerListener listener, IDuplexConnection client, IDuplexConnection server) =
            await ConnectPairAsync(transport, transport, new IPEndPoint(IPAddress.Loopback, 0));
        await using IPeerListener _ = listener;

        // Fill the pipe and the socket buffers: the server never reads, so what is flushed cannot all be sent.
        byte[] chunk = new byte[64 * 1024];
        while (true)
        {
            Task<System.IO.Pipelines.FlushResult> flush = client.Output.WriteAsync(chunk, Ct).AsTask();
            if (await Task.WhenAny(flush, Task.Delay(500, Ct)) == flush)
            {
                continue;
            }

            // A flush waits: wait (boundedly) until the socket takes nothing more, however slowly a loaded machine
            // drains what the kernel buffers still accept. A flush that completes meanwhile just means more room.
            long sent;
            do
            {
                sent = client.BytesSent;
                await Task.WhenAny(flush, Task.Delay(500, Ct));
            }
            while (!flush.IsCompleted && client.BytesSent != sent);

            if (!flush.IsCompleted)
            {
                break;
            }
        }

        Task closing = client.DisposeAsync().AsTask();
        await Task.Delay(200, Ct);
        Assert.False(closing.IsCompleted, "Dispose gave up before the close timeout.");
        time.Advance(TimeSpan.FromSeconds(5));
        await closing.WaitAsync(TestTimeout, Ct);

        // The close became an abort: the server sees a reset, not a clean end.
        await Assert.ThrowsAsync<ConnectionResetException>(() => ReadToEndAsync(server.Input).WaitAsync(TestTimeout, Ct));
    }

    /// <summary>
    /// A loopback endpoint that never completes a connect: a socket listening with backlog 0 whose one queue slot is
    /// already taken, so the kernel drops further SYNs and the dialler keeps retrying.
    /// </summary>
    private sealed class BlackHole : IDisposable
    {
        private readonly Socket _listener;
        private readonly Socket _filler;

        private BlackHole(Socket listener, Socket filler)
        {
            _listener = listener;
            _filler = filler;
        }

        public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

        public static async Task<BlackHole> CreateAsync()
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(0);
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await filler.ConnectAsync(listener.LocalEndPoint!, Ct).AsTask().WaitAsync(TestTimeout, Ct);
            return new BlackHole(listener, filler);
        }

        public void Dispose()
        {
            _filler.Dispose();
            _listener.Dispose();
        }
    }
}
