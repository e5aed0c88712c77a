using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using PeerNet.Transport;
using static PeerNet.Engine.Tests.Transport.TransportTestKit;

namespace PeerNet.Engine.Tests.Transport;

/// <summary>
/// What every <see cref="IPeerTransport"/> must do, written once and run against each transport by the subclasses
/// (TCP over IPv4 and IPv6 loopback, the in-memory network plain and shaped).
/// </summary>
public abstract class TransportContractTests : IAsyncLifetime
{
    private protected IPeerTransport Server { get; private set; } = null!;

    private protected IPeerTransport Client { get; private set; } = null!;

    /// <summary>Where the server listens (port 0).</summary>
    private protected abstract IPEndPoint ListenEndPoint { get; }

    /// <summary>Bytes each side sends in the full-duplex test.</summary>
    private protected virtual long DuplexBytes => 64L * 1024 * 1024;

    private protected abstract (IPeerTransport Server, IPeerTransport Client) CreateTransports();

    /// <summary>An endpoint where nothing listens.</summary>
    private protected abstract Task<IPEndPoint> UnusedEndPointAsync();

    public ValueTask InitializeAsync()
    {
        (Server, Client) = CreateTransports();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync().AsTask().WaitAsync(TestTimeout);
        await Server.DisposeAsync().AsTask().WaitAsync(TestTimeout);
        GC.SuppressFinalize(this);
    }

    private Task<(IPeerListener Listener, IDuplexConnection Client, IDuplexConnection Server)> ConnectAsync()
        => ConnectPairAsync(Server, Client, ListenEndPoint);

    [Fact]
    public async Task Connect_Accept_EndPointsPairUp()
    {
        (IPeerListener listener, IDuplexConnection client, IDuplexConnection server) = await ConnectAsync();

        Assert.NotEqual(0, listener.LocalEndPoint.Port);
        Assert.Equal(ListenEndPoint.Address, listener.LocalEndPoint.Address);
        Assert.Equal(listener.LocalEndPoint, client.RemoteEndPoint);
        Assert.Equal(listener.LocalEndPoint, server.LocalEndPoint);
        Assert.Equal(client.LocalEndPoint, server.RemoteEndPoint);
        Assert.Equal(0, client.BytesSent + client.BytesReceived + server.BytesSent + server.BytesReceived);
    }

    [Fact]
    public async Task Echo_SmallMessage_ComesBack()
    {
        (_, IDuplexConnection client, IDuplexConnection server) = await ConnectAsync();
        byte[] message = "\x13BitTorrent protocol"u8.ToArray();

        await WriteAsync(client.Output, message).WaitAsync(TestTimeout, Ct);
        byte[] atServer = await ReadExactlyAsync(server.Input, message.Length).WaitAsync(TestTimeout, Ct);
        await WriteAsync(server.Output, atServer).WaitAsync(TestTimeout, Ct);
        byte[] back = await ReadExactlyAsync(client.Input, message.Length).WaitAsync(TestTimeout, Ct);

        Assert.Equal(message, back);
    }

    [Fact]
    public async Task FullDuplex_BothSidesSendAtOnce_AllBytesArriveIntactAndAreCounted()
    {
        (_, IDuplexConnection client, IDuplexConnection server) = await ConnectAsync();
        long n = DuplexBytes;

        await Task.WhenAll(
            WriteStreamAsync(client.Output, n, seed: 1),
            WriteStreamAsync(server.Output, n, seed: 2),
            ReadStreamAsync(server.Input, n, seed: 1),
            ReadStreamAsync(client.Input, n, seed: 2)).WaitAsync(TestTimeout, Ct);

        Assert.Equal(n, client.BytesReceived);
        Assert.Equal(n, server.BytesReceived);
        await WaitUntilAsync(() => client.BytesSent == n && server.BytesSent == n, "both sides counted every byte sent");
    }

    [Fact]
    public async Task Echo_ServerEchoesWhileClientStillSends_StreamComesBackIntact()
    {
        (_, IDuplexConnection client, IDuplexConnection server) = await ConnectAsync();
        const long n = 8L * 1024 * 1024;

        Task echo = server.Input.CopyToAsync(server.Output, Ct);
        Task send = WriteStreamAsync(client.Output, n, seed: 3, chunk: 5000);
        await ReadStreamAsync(client.Input, n, seed: 3).WaitAsync(TestTimeout, Ct);
        await send.WaitAsync(TestTimeout, Ct);

        await client.Output.CompleteAsync();
        await echo.WaitAsync(TestTimeout, Ct); // The client's end of stream ends the copy.
    }

    [Fact]
    public async Task Dispose_AfterWriting_PeerReadsEverythingThenEndOfStream()
    {
        (_, IDuplexConnection client, IDuplexConnection server) = await ConnectAsync();
        const long n = 3L * 1024 * 1024 + 17;

        Task read = ReadStreamAsync(client.Input, n, seed: 4);
        await WriteStreamAsync(server.Output, n, seed: 4).WaitAsync(TestTimeout, Ct);
        await server.DisposeAsync().AsTask().WaitAsync(TestTimeout, Ct);
        await read.WaitAsync(TestTimeout, Ct);

        Assert.Equal(0, await ReadToEndAsync(client.Input).WaitAsync(TestTimeout, Ct));
    }

    [Fact]
    public async Task RemoteAbort_SurfacesAsConnectionReset_OnReadAndOnWrite()
    {
        (_, IDuplexConnection client, IDuplexConnection server) = await ConnectAsync();
        ValueTask<ReadResult> pending = client.Input.ReadAsync(Ct);

        server.Abort();

        await Assert.ThrowsAsync<ConnectionResetException>(async () => await pending.AsTask().WaitAsync(TestTimeout, Ct));
        await Assert.ThrowsAsync<ConnectionResetException>(async () =>
        {
            for (int i = 0; i < 1000; i++)
            {
                await client.Output.WriteAsync(new byte[1024], Ct).AsTask().WaitAsync(TestTimeout, Ct);
                await Task.Delay(5, Ct);
            }
        });
    }

    [Fact]
    public async Task Abort_PendingRead_FailsWithConnectionAbortedCarryingTheReason()
    {
        (_, IDuplexConnection client, _) = await ConnectAsync();
        ValueTask<ReadResult> pending = client.Input.ReadAsync(Ct);
        var reason = new InvalidDataException("bad message");

        client.Abort(reason);
        client.Abort(new TimeoutException("second reason loses"));

        var e = await Assert.ThrowsAsync<ConnectionAbortedException>(async () => await pending.AsTask().WaitAsync(TestTimeout, Ct));
        Assert.Same(reason, e.InnerException);
        await Assert.ThrowsAsync<ConnectionAbortedException>(async () => await client.Output.WriteAsync(new byte[10], Ct).AsTask().WaitAsync(TestTimeout, Ct));
    }

    [Fact]
    public async Task Abort_FlushWaitingOnBackpressure_FailsWithConnectionAborted()
    {
        (_, IDuplexConnection client, _) = await ConnectAsync();
        Task<FlushResult> stalled = await FillUntilFlushStallsAsync(client);

        client.Abort();

        await Assert.ThrowsAsync<ConnectionAbortedException>(async () => await stalled.WaitAsync(TestTimeout, Ct));
    }

    [Fact]
    public async Task Backpressure_ReaderStops_WriterWaitsWithBoundedBuffering_ThenResumes()
    {
        (_, IDuplexConnection client, IDuplexConnection server) = await ConnectAsync();
        (Task<FlushResult> stalled, long written) = await FillUntilStalledAsync(client);

        // Pipes (1 MiB each side) plus whatever the link buffers (TCP socket buffers, the in-memory delay line).
        Assert.InRange(written, TransportDefaults.PauseWriterThreshold, 32L * 1024 * 1024);
        await Task.Delay(200, Ct);
        Assert.False(stalled.IsCompleted, "The flush completed although nobody read.");

        Task read = ReadStreamAsync(server.Input, written, seed: 5);
        FlushResult resumed = await stalled.WaitAsync(TestTimeout, Ct);
        Assert.False(resumed.IsCompleted);
        await read.WaitAsync(TestTimeout, Ct);
    }

    [Fact]
    public async Task ListenerDispose_FailsPendingAccept_AndReleasesThePort()
    {
        IPeerListener listener = await Server.ListenAsync(ListenEndPoint, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        IPEndPoint bound = listener.LocalEndPoint;
        ValueTask<IDuplexConnection> pending = listener.AcceptAsync(Ct);

        await listener.DisposeAsync().AsTask().WaitAsync(TestTimeout, Ct);

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pending.AsTask().WaitAsync(TestTimeout, Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await listener.AcceptAsync(Ct).AsTask().WaitAsync(TestTimeout, Ct));
        var refused = await Assert.ThrowsAsync<SocketException>(async () => await Client.ConnectAsync(bound, Ct).AsTask().WaitAsync(TestTimeout, Ct));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        await using IPeerListener again = await Server.ListenAsync(bound, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        Assert.Equal(bound, again.LocalEndPoint);
        ValueTask<IDuplexConnection> accept = again.AcceptAsync(Ct);
        await using IDuplexConnection client = await Client.ConnectAsync(bound, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        await using IDuplexConnection server = await accept.AsTask().WaitAsync(TestTimeout, Ct);
    }

    [Fact]
    public async Task Listen_PortInUse_FailsWithAddressAlreadyInUse()
    {
        await using IPeerListener listener = await Server.ListenAsync(ListenEndPoint, Ct).AsTask().WaitAsync(TestTimeout, Ct);

        var e = await Assert.ThrowsAsync<SocketException>(async () => await Server.ListenAsync(listener.LocalEndPoint, Ct));
        Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
    }

    [Fact]
    public async Task Accept_Cancelled_ThrowsOperationCanceled_AndListenerStillAccepts()
    {
        await using IPeerListener listener = await Server.ListenAsync(ListenEndPoint, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        using var cts = new CancellationTokenSource();
        ValueTask<IDuplexConnection> pending = listener.AcceptAsync(cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending.AsTask().WaitAsync(TestTimeout, Ct));
        ValueTask<IDuplexConnection> accept = listener.AcceptAsync(Ct);
        await using IDuplexConnection client = await Client.ConnectAsync(listener.LocalEndPoint, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        await using IDuplexConnection server = await accept.AsTask().WaitAsync(TestTimeout, Ct);
    }

    [Fact]
    public async Task Connect_NothingListening_RefusedQuickly()
    {
        IPEndPoint unused = await UnusedEndPointAsync();
        var started = DateTime.UtcNow;

        var e = await Assert.ThrowsAsync<SocketException>(async () => await Client.ConnectAsync(unused, Ct).AsTask().WaitAsync(TestTimeout, Ct));

        Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task TransportDispose_ClosesListenersAndAbortsConnections()
    {
        (IPeerListener listener, IDuplexConnection client, IDuplexConnection server) = await ConnectAsync();
        ValueTask<IDuplexConnection> pendingAccept = listener.AcceptAsync(Ct);
        ValueTask<ReadResult> pendingRead = server.Input.ReadAsync(Ct);

        await Server.DisposeAsync().AsTask().WaitAsync(TestTimeout, Ct);

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pendingAccept.AsTask().WaitAsync(TestTimeout, Ct));
        var aborted = await Assert.ThrowsAsync<ConnectionAbortedException>(async () => await pendingRead.AsTask().WaitAsync(TestTimeout, Ct));
        Assert.IsType<ObjectDisposedException>(aborted.InnerException);
        await Assert.ThrowsAsync<ConnectionResetException>(async () => await ReadToEndAsync(client.Input).WaitAsync(TestTimeout, Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await Server.ListenAsync(ListenEndPoint, Ct));
    }

    [Fact]
    public async Task DisposeTwice_AndAbortAfterDispose_AreHarmless()
    {
        (IPeerListener listener, IDuplexConnection client, IDuplexConnection server) = await ConnectAsync();

        await client.DisposeAsync().AsTask().WaitAsync(TestTimeout, Ct);
        await client.DisposeAsync().AsTask().WaitAsync(TestTimeout, Ct);
        client.Abort();
        await server.DisposeAsync().AsTask().WaitAsync(TestTimeout, Ct);
        await listener.DisposeAsync().AsTask().WaitAsync(TestTimeout, Ct);
        await listener.DisposeAsync().AsTask().WaitAsync(TestTimeout, Ct);
    }

    private static async Task<Task<FlushResult>> FillUntilFlushStallsAsync(IDuplexConnection connection)
        => (await FillUntilStalledAsync(connection)).Stalled;

    /// <summary>
    /// Writes stream 5 in 64 KiB chunks until a flush is pending and nothing more leaves for half a second (so a
    /// send loop that is merely slow on a busy machine does not count); returns that flush and the bytes written.
    /// </summary>
    private static async Task<(Task<FlushResult> Stalled, long Written)> FillUntilStalledAsync(IDuplexConnection connection)
    {
        const int chunk = 64 * 1024;
        byte[] data = new byte[chunk];
        long written = 0;
        while (written < 256L * 1024 * 1024)
        {
            Fill(data, written, seed: 5);
            Task<FlushResult> flush = connection.Output.WriteAsync(data, Ct).AsTask();
            written += chunk;
            while (!flush.IsCompleted)
            {
                long sent = connection.BytesSent;
                if (await Task.WhenAny(flush, Task.Delay(500, Ct)) != flush && connection.BytesSent == sent)
                {
                    return (flush, written);
                }
            }

            Assert.False((await flush).IsCompleted, "The peer stopped reading.");
        }

        Assert.Fail("256 MiB went out although nobody read: no backpressure.");
        return default;
    }
}
