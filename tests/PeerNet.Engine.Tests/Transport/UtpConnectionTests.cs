using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using PeerNet.Transport;
using PeerNet.Utp;

namespace PeerNet.Engine.Tests.Transport;

/// <summary>uTP connections between two managers, each on a demultiplexer of an in-memory datagram network (or real loopback UDP).</summary>
public sealed class UtpConnectionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Two ends of one network, at 10.0.0.1 and 10.0.0.2 (not loopback: Ethernet-sized packets).</summary>
    private sealed class Pair : IAsyncDisposable
    {
        public Pair(IDatagramTransport network, string a = "10.0.0.1", string b = "10.0.0.2", UtpSettings? settings = null)
        {
            settings ??= new UtpSettings();
            DemuxA = new DatagramDemux(network.Bind(new IPEndPoint(IPAddress.Parse(a), 0)), new DatagramDemuxOptions());
            DemuxB = new DatagramDemux(network.Bind(new IPEndPoint(IPAddress.Parse(b), 0)), new DatagramDemuxOptions());
            A = DemuxA.AttachUtp(settings, TimeProvider.System);
            B = DemuxB.AttachUtp(settings, TimeProvider.System);
        }

        public DatagramDemux DemuxA { get; }

        public DatagramDemux DemuxB { get; }

        public UtpSocketManager A { get; }

        public UtpSocketManager B { get; }

        public async Task<(IDuplexConnection Client, IDuplexConnection Server)> ConnectAsync()
        {
            ValueTask<IDuplexConnection> accept = B.AcceptAsync(Ct);
            IDuplexConnection client = await A.ConnectAsync(B.LocalEndPoint, Ct).AsTask().WaitAsync(Timeout, Ct);
            await client.Output.WriteAsync("hello"u8.ToArray(), Ct); // the acceptor's connection exists once data comes
            IDuplexConnection server = await accept.AsTask().WaitAsync(Timeout, Ct);
            byte[] hello = await ReadExactlyAsync(server.Input, 5);
            Assert.Equal("hello"u8.ToArray(), hello);
            return (client, server);
        }

        public async ValueTask DisposeAsync()
        {
            await DemuxA.DisposeAsync();
            await DemuxB.DisposeAsync();
        }
    }

    private static async Task<byte[]> ReadExactlyAsync(PipeReader reader, int count)
    {
        ReadResult result = await reader.ReadAtLeastAsync(count, Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.True(result.Buffer.Length >= count, $"ended after {result.Buffer.Length} of {count} bytes");
        byte[] bytes = result.Buffer.Slice(0, count).ToArray();
        reader.AdvanceTo(result.Buffer.GetPosition(count));
        return bytes;
    }

    private static async Task WriteAllAsync(PipeWriter writer, byte[] data, bool complete)
    {
        for (int offset = 0; offset < data.Length; offset += 100_000)
        {
            await writer.WriteAsync(data.AsMemory(offset, Math.Min(100_000, data.Length - offset)), Ct);
        }

        if (complete)
        {
            await writer.CompleteAsync();
        }
    }

    private static async Task<byte[]> ReadToEndAsync(PipeReader reader)
    {
        var all = new ArrayBufferWriter<byte>();
        while (true)
        {
            ReadResult result = await reader.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                all.Write(segment.Span);
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return all.WrittenSpan.ToArray();
            }
        }
    }

    private static async Task TransferBothWaysAsync(Pair pair, int bytes)
    {
        (IDuplexConnection client, IDuplexConnection server) = await pair.ConnectAsync();
        byte[] up = RandomNumberGenerator.GetBytes(bytes);
        byte[] down = RandomNumberGenerator.GetBytes(bytes / 2);
        Task<byte[]> serverReads = ReadToEndAsync(server.Input);
        Task<byte[]> clientReads = ReadToEndAsync(client.Input);
        await Task.WhenAll(WriteAllAsync(client.Output, up, complete: true), WriteAllAsync(server.Output, down, complete: true)).WaitAsync(Timeout, Ct);

        Assert.Equal(up, await serverReads);
        Assert.Equal(down, await clientReads);
        await Task.WhenAll(client.DisposeAsync().AsTask(), server.DisposeAsync().AsTask()).WaitAsync(Timeout, Ct);
    }

    [Fact]
    public async Task Data_crosses_both_ways_byte_identical_and_ends_with_fin()
    {
        await using var pair = new Pair(new InMemoryDatagramNetwork(new InMemoryDatagramOptions { ReceiveQueueCapacity = 4096 }));

        await TransferBothWaysAsync(pair, 8 * 1024 * 1024);

        Assert.Equal(0, pair.A.ConnectionCount);
        Assert.Equal(0, pair.B.ConnectionCount);

        // What the node's peernet.utp.* meters read: one connection each way, ended cleanly, its bytes counted.
        Assert.Equal(1, pair.A.Counters.OpenedOut);
        Assert.Equal(1, pair.B.AcceptedCount);
        Assert.True(pair.A.Counters.Closed[UtpCounters.Ends + (int)UtpEnd.Closed] == 1, $"A closed: {string.Join(",", pair.A.Counters.Closed)}");
        Assert.True(pair.B.Counters.Closed[(int)UtpEnd.Closed] == 1, $"B closed: {string.Join(",", pair.B.Counters.Closed)}");
        Assert.Equal(1, pair.A.Counters.ClosedTotal(outgoing: true));
        Assert.Equal(0, pair.A.Counters.ClosedTotal(outgoing: false));
        Assert.True(pair.A.Counters.BytesSent > 8 * 1024 * 1024, $"{pair.A.Counters.BytesSent} bytes sent");
        Assert.True(pair.B.Counters.BytesReceived > 8 * 1024 * 1024, $"{pair.B.Counters.BytesReceived} bytes received");
        Assert.True(pair.A.Counters.PacketsSent > (8 * 1024 * 1024) / pair.A.SmallDatagram(pair.B.LocalEndPoint));
        Assert.True(pair.B.Counters.PacketsReceived > 0 && pair.B.Counters.PacketsSent > 0);
    }

    [Fact]
    public async Task Loss_reordering_and_duplication_still_deliver_byte_identical()
    {
        var options = new InMemoryDatagramOptions
        {
            LossRate = 0.05,
            DuplicateRate = 0.05,
            Latency = TimeSpan.FromMilliseconds(2),
            Jitter = TimeSpan.FromMilliseconds(4), // reorders
            ReceiveQueueCapacity = 4096,
            Seed = 29,
        };
        await using var pair = new Pair(new InMemoryDatagramNetwork(options));

        await TransferBothWaysAsync(pair, 2 * 1024 * 1024);
        Assert.True(pair.A.Counters.Retransmissions > 0, "5% loss and no retransmission counted");
        Assert.True(pair.B.Counters.Retransmissions > 0, "5% loss and no retransmission counted");
    }

    [Fact]
    public async Task Real_loopback_udp_agrees_on_large_datagrams_and_delivers()
    {
        await using var pair = new Pair(new LoopbackUdp(), "127.0.0.1", "127.0.0.1");

        (IDuplexConnection client, IDuplexConnection server) = await pair.ConnectAsync();
        byte[] data = RandomNumberGenerator.GetBytes(32 * 1024 * 1024);
        Task<byte[]> reads = ReadToEndAsync(server.Input);
        await WriteAllAsync(client.Output, data, complete: true).WaitAsync(Timeout, Ct);

        Assert.Equal(data, await reads);
        Assert.Equal(new UtpSettings().LoopbackDatagramBytes, ((UtpConnection)client).MaxDatagram);
        await Task.WhenAll(client.DisposeAsync().AsTask(), server.DisposeAsync().AsTask()).WaitAsync(Timeout, Ct);
    }

    [Fact]
    public async Task A_slow_reader_holds_the_sender_at_the_receive_window()
    {
        var settings = new UtpSettings { ReceiveBufferBytes = 256 * 1024 };
        await using var pair = new Pair(new InMemoryDatagramNetwork(new InMemoryDatagramOptions { ReceiveQueueCapacity = 4096 }), settings: settings);
        (IDuplexConnection client, IDuplexConnection server) = await pair.ConnectAsync();

        byte[] data = RandomNumberGenerator.GetBytes(16 * 1024 * 1024);
        Task writing = WriteAllAsync(client.Output, data, complete: true);

        // The reader reads nothing: the receiver fills its window, and the sender then stops.
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            deadline.CancelAfter(Timeout);
            while (server.BytesReceived < settings.ReceiveBufferBytes - 2000)
            {
                await Task.Delay(10, deadline.Token);
            }
        }

        await Task.Delay(500, Ct); // a bounded look: it does not grow past the window
        Assert.False(writing.IsCompleted);
        Assert.InRange(server.BytesReceived, 1, settings.ReceiveBufferBytes + (2 * 1472));
        Assert.InRange(client.BytesSent, 1, settings.ReceiveBufferBytes + (4L * 1024 * 1024)); // the window plus what the pipes hold

        // Reading lets it all through.
        Task<byte[]> reads = ReadToEndAsync(server.Input);
        await writing.WaitAsync(Timeout, Ct);
        Assert.Equal(data, await reads);
    }

    [Fact]
    public async Task A_syn_flood_is_bounded_and_answered_no_larger_than_each_syn()
    {
        var network = new InMemoryDatagramNetwork(new InMemoryDatagramOptions { ReceiveQueueCapacity = 100_000 });
        var settings = new UtpSettings { MaxHalfOpen = 64, MaxHalfOpenPerAddress = 4, HalfOpenTimeout = TimeSpan.FromMinutes(10) };
        await using var pair = new Pair(network, settings: settings);
        var attackers = new List<IDatagramSocket>();
        byte[] syn = new byte[UtpPacket.GetLength(0, true, 0)];
        for (int i = 0; i < 200; i++)
        {
            // 200 sources, each sending 3 SYNs (new connection ids).
            IDatagramSocket socket = network.Bind(new IPEndPoint(IPAddress.Parse($"10.9.{i / 100}.{(i % 100) + 1}"), 0));
            attackers.Add(socket);
            for (int j = 0; j < 3; j++)
            {
                UtpPacket.Write(syn, new UtpHeader(UtpPacketType.Syn, (ushort)((i * 3) + j), 1, 0, 65536, 1, 0), default, 60_000, default);
                await socket.SendAsync(syn, pair.B.LocalEndPoint, Ct);
            }
        }

        // One source sending many SYNs gets at most its share.
        IDatagramSocket greedy = network.Bind(new IPEndPoint(IPAddress.Parse("10.8.0.1"), 0));
        attackers.Add(greedy);

        await TrackerWait(() => pair.B.HalfOpenCount + pair.B.HalfOpenRefused >= 600);
        Assert.Equal(settings.MaxHalfOpen, pair.B.HalfOpenCount);
        Assert.Equal(0, pair.B.ConnectionCount);

        // Every answer is a state packet no larger than the SYN it answers.
        byte[] buffer = new byte[70_000];
        int answers = 0;
        foreach (IDatagramSocket socket in attackers.Take(200))
        {
            using var quick = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            quick.CancelAfter(TimeSpan.FromMilliseconds(50));
            try
            {
                while (true)
                {
                    DatagramReceived received = await socket.ReceiveAsync(buffer, quick.Token);
                    Assert.True(received.Length <= syn.Length, $"a {received.Length}-byte answer to a {syn.Length}-byte SYN");
                    Assert.Equal(UtpPacketType.State, UtpPacket.Parse(buffer.AsSpan(0, received.Length)).Header.Type);
                    answers++;
                }
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
            }
        }

        Assert.Equal(settings.MaxHalfOpen, answers);

        // A greedy single address gets no more than its share once there is room: here none is left.
        for (int j = 0; j < 20; j++)
        {
            int length = UtpPacket.Write(syn, new UtpHeader(UtpPacketType.Syn, (ushort)(50_000 + j), 1, 0, 65536, 1, 0), default, 0, default);
            await greedy.SendAsync(syn.AsMemory(0, length), pair.B.LocalEndPoint, Ct);
        }

        await TrackerWait(() => pair.B.HalfOpenRefused >= 600 - settings.MaxHalfOpen + 20);
        Assert.Equal(settings.MaxHalfOpen, pair.B.HalfOpenCount);

        // What the node reports of it (ConnectivityReport.Utp, peernet doctor): every SYN seen, the table's peak at its
        // bound, one answer per entry, and no more answer bytes than SYN bytes.
        Assert.Equal(620, pair.B.SynsReceived);
        Assert.Equal(620 - settings.MaxHalfOpen, pair.B.HalfOpenRefused);
        Assert.Equal(settings.MaxHalfOpen, pair.B.HalfOpenPeak);
        Assert.Equal(settings.MaxHalfOpen, pair.B.SynAnswers);
        Assert.Equal((600L * syn.Length) + (20L * UtpHeader.Length), pair.B.SynBytes);
        Assert.InRange(pair.B.SynAnswerBytes, settings.MaxHalfOpen * UtpHeader.Length, settings.MaxHalfOpen * syn.Length);

        foreach (IDatagramSocket socket in attackers)
        {
            await socket.DisposeAsync();
        }
    }

    [Fact]
    public async Task Half_open_entries_per_address_are_capped()
    {
        var network = new InMemoryDatagramNetwork(new InMemoryDatagramOptions { ReceiveQueueCapacity = 10_000 });
        var settings = new UtpSettings { MaxHalfOpen = 64, MaxHalfOpenPerAddress = 4 };
        await using var pair = new Pair(network, settings: settings);
        await using IDatagramSocket greedy = network.Bind(new IPEndPoint(IPAddress.Parse("10.8.0.1"), 0));
        byte[] syn = new byte[UtpHeader.Length];
        for (int j = 0; j < 50; j++)
        {
            new UtpHeader(UtpPacketType.Syn, (ushort)(1000 + j), 1, 0, 65536, 1, 0).WriteTo(syn, 0);
            await greedy.SendAsync(syn, pair.B.LocalEndPoint, Ct);
        }

        await TrackerWait(() => pair.B.HalfOpenCount + pair.B.HalfOpenRefused >= 50);
        Assert.Equal(settings.MaxHalfOpenPerAddress, pair.B.HalfOpenCount);

        // A real client still gets in.
        await TransferBothWaysAsync(pair, 64 * 1024);
    }

    [Fact]
    public async Task Connecting_to_nobody_times_out_and_a_reset_refuses()
    {
        var settings = new UtpSettings { ConnectTimeout = TimeSpan.FromSeconds(1), Incoming = false };
        await using var pair = new Pair(new InMemoryDatagramNetwork(), settings: settings);

        SocketException refused = await Assert.ThrowsAsync<SocketException>(() => pair.A.ConnectAsync(pair.B.LocalEndPoint, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);

        SocketException timedOut = await Assert.ThrowsAsync<SocketException>(() => pair.A.ConnectAsync(new IPEndPoint(IPAddress.Parse("10.0.0.99"), 6881), Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(SocketError.TimedOut, timedOut.SocketErrorCode);
        Assert.Equal(0, pair.A.ConnectionCount);

        // Counted as failed connects (never opened), the refusal on B's side as a SYN it did not accept.
        Assert.Equal(1, pair.A.Counters.ConnectsFailed[(int)UtpEnd.Reset]);
        Assert.Equal(1, pair.A.Counters.ConnectsFailed[(int)UtpEnd.Timeout]);
        Assert.Equal(0, pair.A.Counters.OpenedOut);
        Assert.Equal(1, pair.B.Counters.SynsRefusedNotAccepting);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task A_closed_udp_port_refuses_a_connect_at_once_by_icmp_port_unreachable(string address)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "ICMP errors of an unconnected UDP socket are read from Linux's error queue only.");
        IPAddress loopback = IPAddress.Parse(address);
        Assert.SkipWhen(loopback.AddressFamily == AddressFamily.InterNetworkV6 && !Socket.OSSupportsIPv6, "No IPv6 here.");

        // A SYN timeout far beyond the test's deadline: a connect that ends within the deadline was ended by the ICMP error.
        await using var demux = new DatagramDemux(UdpDatagramTransport.Bind(new IPEndPoint(loopback, 0), dualMode: false), new DatagramDemuxOptions());
        UtpSocketManager manager = demux.AttachUtp(new UtpSettings { ConnectTimeout = TimeSpan.FromMinutes(5) }, TimeProvider.System);
        IPEndPoint closed;
        using (var probe = new Socket(loopback.AddressFamily, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(loopback, 0));
            closed = (IPEndPoint)probe.LocalEndPoint!;
        }

        SocketException refused = await Assert.ThrowsAsync<SocketException>(() => manager.ConnectAsync(closed, Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.Equal(1, manager.UnreachableRefused);
        Assert.True(demux.UnreachableCount >= 1);
        Assert.Equal(0, manager.ConnectionCount);
    }

    [Fact]
    public async Task An_icmp_error_fails_only_a_connect_to_its_endpoint_and_never_an_established_connection()
    {
        await using var pair = new Pair(new InMemoryDatagramNetwork(), settings: new UtpSettings { ConnectTimeout = TimeSpan.FromMinutes(5) });
        (IDuplexConnection client, IDuplexConnection server) = await pair.ConnectAsync();
        var nobody = new IPEndPoint(IPAddress.Parse("10.0.0.99"), 6881);
        Task<IDuplexConnection> connecting = pair.A.ConnectAsync(nobody, Ct).AsTask();

        pair.A.OnUnreachable(new IPEndPoint(nobody.Address, 6882), SocketError.ConnectionRefused); // another port: not ours
        pair.A.OnUnreachable(pair.B.LocalEndPoint, SocketError.ConnectionRefused); // an established connection's peer (a forgery, say)
        Assert.False(connecting.IsCompleted);
        pair.A.OnUnreachable(nobody, SocketError.ConnectionRefused);

        SocketException refused = await Assert.ThrowsAsync<SocketException>(() => connecting.WaitAsync(Timeout, Ct));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.Equal(1, pair.A.UnreachableRefused);
        Assert.Equal(2, pair.A.UnreachableIgnored);
        await client.Output.WriteAsync("still here"u8.ToArray(), Ct);
        Assert.Equal("still here"u8.ToArray(), await ReadExactlyAsync(server.Input, 10));
        await Task.WhenAll(client.DisposeAsync().AsTask(), server.DisposeAsync().AsTask()).WaitAsync(Timeout, Ct);
    }

    [Fact]
    public async Task A_port_without_utp_answers_a_syn_with_a_reset()
    {
        var network = new InMemoryDatagramNetwork();
        await using var dialer = new DatagramDemux(network.Bind(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 0)), new DatagramDemuxOptions());
        await using var tcpOnly = new DatagramDemux(network.Bind(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 0)), new DatagramDemuxOptions());
        UtpSocketManager manager = dialer.AttachUtp(new UtpSettings { ConnectTimeout = TimeSpan.FromMinutes(5) }, TimeProvider.System);

        SocketException refused = await Assert.ThrowsAsync<SocketException>(() => manager.ConnectAsync(tcpOnly.LocalEndPoint, Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.Equal(1, tcpOnly.DroppedCount(DatagramDropReason.NoOwner));
    }

    [Fact]
    public async Task Abort_resets_the_peer()
    {
        await using var pair = new Pair(new InMemoryDatagramNetwork());
        (IDuplexConnection client, IDuplexConnection server) = await pair.ConnectAsync();

        client.Abort();

        await Assert.ThrowsAsync<ConnectionResetException>(async () => await server.Input.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct));
        await Assert.ThrowsAsync<ConnectionAbortedException>(async () => await client.Input.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct));
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    private static async Task TrackerWait(Func<bool> condition)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Timeout);
        while (!condition())
        {
            await Task.Delay(10, deadline.Token);
        }
    }

    /// <summary>Real UDP sockets on loopback.</summary>
    private sealed class LoopbackUdp : IDatagramTransport
    {
        public IDatagramSocket Bind(IPEndPoint localEndPoint) => UdpDatagramTransport.Bind(localEndPoint, dualMode: false);
    }
}
