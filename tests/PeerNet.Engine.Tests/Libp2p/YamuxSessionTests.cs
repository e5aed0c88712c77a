using System.IO.Pipelines;
using System.Net;
using PeerNet.Engine.Tests.Transport;
using PeerNet.Libp2p;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>Two yamux sessions over an in-memory connection (standing in for the secured link).</summary>
public sealed class YamuxSessionTests
{
    private static readonly TimeSpan Timeout = TransportTestKit.TestTimeout;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A connected pair of in-memory connections: the initiator's end, then the responder's.</summary>
    internal static async Task<(IDuplexConnection Initiator, IDuplexConnection Responder)> ConnectAsync()
    {
        var network = new InMemoryNetwork();
        var (listener, client, server) = await TransportTestKit.ConnectPairAsync(
            network.CreateTransport(IPAddress.Parse("127.0.3.1")), network.CreateTransport(IPAddress.Parse("127.0.3.2")), new IPEndPoint(IPAddress.Parse("127.0.3.1"), 4001));
        await listener.DisposeAsync();
        return (client, server);
    }

    private static async Task<(YamuxSession A, YamuxSession B)> SessionsAsync(YamuxOptions? a = null, YamuxOptions? b = null)
    {
        var (initiator, responder) = await ConnectAsync();
        var sa = new YamuxSession(initiator, isInitiator: true, a);
        var sb = new YamuxSession(responder, isInitiator: false, b);
        sa.Start();
        sb.Start();
        return (sa, sb);
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        var all = new MemoryStream();
        await stream.CopyToAsync(all, Ct).WaitAsync(Timeout, Ct);
        return all.ToArray();
    }

    private static byte[] Pattern(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Fact]
    public async Task Streams_carry_data_both_ways_and_FIN_ends_each_direction()
    {
        var (a, b) = await SessionsAsync();
        await using var _ = a;
        await using var __ = b;
        YamuxStream outbound = await a.OpenStreamAsync(Ct);
        Assert.Equal(1u, outbound.Id);
        await outbound.WriteAsync("hello"u8.ToArray(), Ct);
        YamuxStream? inbound = await b.AcceptStreamAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.NotNull(inbound);
        Assert.Equal(1u, inbound.Id);

        byte[] buffer = new byte[5];
        await inbound.ReadExactlyAsync(buffer, Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal("hello"u8.ToArray(), buffer);

        // Half-close: a's FIN ends b's reads, b can still answer.
        outbound.CompleteWrites();
        Assert.Equal(0, await inbound.ReadAsync(buffer, Ct).AsTask().WaitAsync(Timeout, Ct));
        await inbound.WriteAsync("world"u8.ToArray(), Ct);
        inbound.CompleteWrites();
        Assert.Equal("world"u8.ToArray(), await ReadAllAsync(outbound));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await outbound.WriteAsync(new byte[1], Ct));

        // Both directions finished: the sessions forget the stream.
        await WaitUntilAsync(() => a.OpenStreams == 0 && b.OpenStreams == 0);

        // The responder's streams are even.
        YamuxStream fromB = await b.OpenStreamAsync(Ct);
        Assert.Equal(2u, fromB.Id);
    }

    [Fact]
    public async Task Many_concurrent_streams_both_ways_deliver_their_own_bytes()
    {
        var (a, b) = await SessionsAsync();
        await using var _ = a;
        await using var __ = b;
        const int PerSide = 40;
        const int Size = 300_000; // over a window, so every stream needs window updates

        async Task ServeAsync(YamuxSession session)
        {
            var echoes = new List<Task>();
            for (int i = 0; i < PerSide; i++)
            {
                YamuxStream? s = await session.AcceptStreamAsync(Ct);
                Assert.NotNull(s);
                echoes.Add(Task.Run(async () =>
                {
                    byte[] got = await ReadAllAsync(s);
                    await s.WriteAsync(got, Ct);
                    s.CompleteWrites();
                }, Ct));
            }

            await Task.WhenAll(echoes);
        }

        async Task ClientAsync(YamuxSession session, int seed)
        {
            YamuxStream s = await session.OpenStreamAsync(Ct);
            byte[] data = Pattern(Size, seed);
            Task<byte[]> back = ReadAllAsync(s);
            await s.WriteAsync(data, Ct);
            s.CompleteWrites();
            Assert.Equal(data, await back);
            await s.DisposeAsync();
        }

        Task serveA = ServeAsync(a);
        Task serveB = ServeAsync(b);
        var clients = new List<Task>();
        for (int i = 0; i < PerSide; i++)
        {
            clients.Add(ClientAsync(a, i));
            clients.Add(ClientAsync(b, 1000 + i));
        }

        await Task.WhenAll(clients).WaitAsync(Timeout, Ct);
        await Task.WhenAll(serveA, serveB).WaitAsync(Timeout, Ct);
        Assert.Null(a.CloseReason);
        Assert.Null(b.CloseReason);
    }

    [Fact]
    public async Task Streams_opened_at_once_from_many_threads_reach_the_peer_in_ID_order()
    {
        // The peer refuses a stream ID lower than one it has seen, so SYNs must leave in the order IDs were given out.
        // They once did not (queued after the lock): two opens could swap under load. A stress test: it caught the race
        // only under heavy preemption, so it guards the ordering rather than proving it.
        var (a, b) = await SessionsAsync(b: YamuxOptions.Default with { MaxInboundStreams = 1024 });
        await using var _ = a;
        await using var __ = b;
        const int Threads = 8;
        const int PerThread = 50;
        using var start = new ManualResetEventSlim();
        Task<List<YamuxStream>>[] openers = [.. Enumerable.Range(0, Threads).Select(_ => Task.Run(async () =>
        {
            start.Wait(Ct);
            var opened = new List<YamuxStream>();
            for (int i = 0; i < PerThread; i++)
            {
                opened.Add(await a.OpenStreamAsync(Ct));
            }

            return opened;
        }, Ct))];
        start.Set();
        var accepted = new List<uint>();
        for (int i = 0; i < Threads * PerThread; i++)
        {
            YamuxStream? s = await b.AcceptStreamAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
            Assert.NotNull(s);
            accepted.Add(s.Id);
        }

        List<YamuxStream>[] opened = await Task.WhenAll(openers).WaitAsync(Timeout, Ct);
        Assert.Null(b.CloseReason);
        Assert.Null(a.CloseReason);
        Assert.Equal(accepted.Order(), accepted);
        Assert.Equal(opened.SelectMany(o => o).Select(s => s.Id).Order(), accepted);
    }

    [Fact]
    public async Task A_reader_that_stops_stops_its_writer_at_the_window_while_other_streams_flow()
    {
        var (a, b) = await SessionsAsync();
        await using var _ = a;
        await using var __ = b;
        YamuxStream stuck = await a.OpenStreamAsync(Ct);
        Task stuckWrite = stuck.WriteAsync(new byte[1024 * 1024], Ct).AsTask();
        YamuxStream? stuckIn = await b.AcceptStreamAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.NotNull(stuckIn);

        // The writer takes the whole window, then waits: b buffers exactly one window, never more.
        await WaitUntilAsync(() => stuck.SendWindowRemaining == 0 && stuckIn.ReceiveWindowRemaining == 0);
        Assert.False(stuckWrite.IsCompleted);

        // Another stream still flows in both directions.
        YamuxStream other = await a.OpenStreamAsync(Ct);
        byte[] data = Pattern(2 * 1024 * 1024, 7);
        Task write = Task.Run(async () =>
        {
            await other.WriteAsync(data, Ct);
            other.CompleteWrites();
        }, Ct);
        YamuxStream? otherIn = await b.AcceptStreamAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.NotNull(otherIn);
        Assert.Equal(data, await ReadAllAsync(otherIn));
        await write.WaitAsync(Timeout, Ct);
        Assert.False(stuckWrite.IsCompleted);

        // Reading the stuck stream lets its writer finish.
        byte[] sink = new byte[1024 * 1024];
        await stuckIn.ReadExactlyAsync(sink, Ct).AsTask().WaitAsync(Timeout, Ct);
        await stuckWrite.WaitAsync(Timeout, Ct);
    }

    [Fact]
    public async Task RST_fails_the_peers_reads_and_writes_and_a_disposed_unread_stream_resets()
    {
        var (a, b) = await SessionsAsync();
        await using var _ = a;
        await using var __ = b;
        YamuxStream s = await a.OpenStreamAsync(Ct);
        await s.WriteAsync(new byte[10], Ct);
        YamuxStream? peer = await b.AcceptStreamAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.NotNull(peer);
        byte[] ten = new byte[10];
        await peer.ReadExactlyAsync(ten, Ct).AsTask().WaitAsync(Timeout, Ct);

        Task<int> pendingRead = s.ReadAsync(new byte[1], Ct).AsTask();
        s.Abort();
        await Assert.ThrowsAsync<Libp2pStreamResetException>(() => pendingRead.WaitAsync(Timeout, Ct));
        await Assert.ThrowsAsync<Libp2pStreamResetException>(() => peer.ReadAsync(new byte[1], Ct).AsTask().WaitAsync(Timeout, Ct));
        await Assert.ThrowsAsync<Libp2pStreamResetException>(async () => await peer.WriteAsync(new byte[1], Ct));
        await WaitUntilAsync(() => a.OpenStreams == 0 && b.OpenStreams == 0);

        // Disposing a stream whose peer has not finished resets it; a finished one closes with FIN.
        YamuxStream t = await a.OpenStreamAsync(Ct);
        await t.WriteAsync(new byte[1], Ct);
        YamuxStream? tIn = await b.AcceptStreamAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.NotNull(tIn);
        await tIn.DisposeAsync();
        await Assert.ThrowsAsync<Libp2pStreamResetException>(() => t.ReadAsync(new byte[1], Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Null(a.CloseReason);
    }

    [Fact]
    public async Task GoAway_refuses_new_streams_and_ends_open_ones_with_the_session()
    {
        var (a, b) = await SessionsAsync();
        await using var _ = b;
        YamuxStream s = await a.OpenStreamAsync(Ct);
        await s.WriteAsync(new byte[1], Ct);
        YamuxStream? sIn = await b.AcceptStreamAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.NotNull(sIn);

        await a.DisposeAsync();
        await b.Completion.WaitAsync(Timeout, Ct);
        Assert.True(b.RemoteWentAway);
        Assert.False(b.EndedByProtocolError);
        await Assert.ThrowsAnyAsync<IOException>(async () => await b.OpenStreamAsync(Ct));
        byte[] one = new byte[1];
        await sIn.ReadExactlyAsync(one, Ct).AsTask().WaitAsync(Timeout, Ct);
        await Assert.ThrowsAnyAsync<IOException>(() => sIn.ReadAsync(one, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Null(await b.AcceptStreamAsync(Ct).AsTask().WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task Ping_measures_a_round_trip()
    {
        var (a, b) = await SessionsAsync(new YamuxOptions { KeepAliveInterval = TimeSpan.FromMilliseconds(50) });
        await using var _ = a;
        await using var __ = b;
        TimeSpan rtt = await a.PingAsync(Ct).WaitAsync(Timeout, Ct);
        Assert.True(rtt > TimeSpan.Zero && rtt < Timeout);
        Assert.True(await b.PingAsync(Ct).WaitAsync(Timeout, Ct) > TimeSpan.Zero);

        // Keep-alive pings are answered, so the session lives on.
        await Task.Delay(300, Ct);
        Assert.Null(a.CloseReason);
    }

    [Fact]
    public async Task Streams_over_the_inbound_limit_are_reset_and_the_rest_still_work()
    {
        var (a, b) = await SessionsAsync(b: new YamuxOptions { MaxInboundStreams = 4 });
        await using var _ = a;
        await using var __ = b;
        var streams = new List<YamuxStream>();
        for (int i = 0; i < 6; i++)
        {
            YamuxStream s = await a.OpenStreamAsync(Ct);
            await s.WriteAsync(new byte[] { (byte)i }, Ct);
            streams.Add(s);
        }

        await Assert.ThrowsAsync<Libp2pStreamResetException>(() => streams[4].ReadAsync(new byte[1], Ct).AsTask().WaitAsync(Timeout, Ct));
        await Assert.ThrowsAsync<Libp2pStreamResetException>(() => streams[5].ReadAsync(new byte[1], Ct).AsTask().WaitAsync(Timeout, Ct));
        for (int i = 0; i < 4; i++)
        {
            YamuxStream? s = await b.AcceptStreamAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
            Assert.NotNull(s);
            byte[] one = new byte[1];
            await s.ReadExactlyAsync(one, Ct).AsTask().WaitAsync(Timeout, Ct);
            Assert.Equal(i, one[0]);
        }

        Assert.Null(b.CloseReason);
    }

    public static TheoryData<string, byte[], string> HostileFrames => new()
    {
        { "version", new YamuxHeader(YamuxFrameType.Ping, YamuxFlags.Syn, 0, 1).ToArray().With(0, 1), "version 1" },
        { "type", new YamuxHeader(YamuxFrameType.Ping, YamuxFlags.Syn, 0, 1).ToArray().With(1, 9), "unknown frame type 9" },
        { "huge length", new YamuxHeader(YamuxFrameType.Data, YamuxFlags.Syn, 1, uint.MaxValue).ToArray(), "over the 16777216-byte window" }, // the most a window may grow to
        { "window overflow", [.. new YamuxHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, 0).ToArray(), .. new YamuxHeader(YamuxFrameType.WindowUpdate, YamuxFlags.None, 1, uint.MaxValue).ToArray()], "window past" },
        { "wrong parity", new YamuxHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 2, 0).ToArray(), "parity" },
        { "reused id", [.. new YamuxHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 3, 0).ToArray(), .. new YamuxHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1, 0).ToArray()], "again" },
        { "data over the window", [.. new YamuxHeader(YamuxFrameType.Data, YamuxFlags.Syn, 1, 200_000).ToArray(), .. new byte[200_000], .. new YamuxHeader(YamuxFrameType.Data, YamuxFlags.None, 1, 100_000).ToArray()], "over the 62144 bytes of window" },
        { "data after FIN", [.. new YamuxHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn | YamuxFlags.Fin, 1, 0).ToArray(), .. new YamuxHeader(YamuxFrameType.Data, YamuxFlags.None, 1, 1).ToArray(), 0], "after its FIN" },
    };

    [Theory]
    [MemberData(nameof(HostileFrames))]
    public async Task Hostile_frames_close_the_session_with_a_reason_and_a_GoAway(string name, byte[] frames, string reason)
    {
        _ = name;
        var (initiator, responder) = await ConnectAsync();
        var session = new YamuxSession(responder, isInitiator: false);
        session.Start();
        await initiator.Output.WriteAsync(frames, Ct);
        await session.Completion.WaitAsync(Timeout, Ct);
        Assert.True(session.EndedByProtocolError, session.CloseReason);
        Assert.Contains(reason, session.CloseReason, StringComparison.Ordinal);

        // The session said GoAway(protocol error) before closing.
        byte[] last = await LastFrameAsync(initiator.Input);
        Assert.True(YamuxHeader.TryParse(last, localIsInitiator: true, 0, out YamuxHeader goAway, out _));
        Assert.Equal(YamuxFrameType.GoAway, goAway.Type);
        Assert.Equal((uint)YamuxGoAwayCode.ProtocolError, goAway.Length);
        await session.DisposeAsync();
        await initiator.DisposeAsync();
    }

    [Fact]
    public async Task A_ping_flood_from_a_peer_that_does_not_read_ends_the_session()
    {
        var (initiator, responder) = await ConnectAsync();
        var session = new YamuxSession(responder, isInitiator: false, new YamuxOptions { MaxPendingControlFrames = 64 });
        session.Start();
        byte[] ping = new YamuxHeader(YamuxFrameType.Ping, YamuxFlags.Syn, 0, 5).ToArray();
        byte[] flood = new byte[ping.Length * 10_000];
        for (int i = 0; i < 10_000; i++)
        {
            ping.CopyTo(flood, i * ping.Length);
        }

        // The initiator never reads: the answers pile up in the pipes, then in the session's queue, which is bounded.
        Task sending = Task.Run(async () =>
        {
            for (int i = 0; i < 200 && !session.Completion.IsCompleted; i++)
            {
                await initiator.Output.WriteAsync(flood, Ct);
            }
        }, Ct);
        await session.Completion.WaitAsync(Timeout, Ct);
        Assert.Contains("does not read", session.CloseReason, StringComparison.Ordinal);
        initiator.Abort();

        // The flooder stops either way: its loop sees the session ended, or its next write fails on the aborted pipe.
        await Task.WhenAny(sending).WaitAsync(Timeout, Ct);
        await session.DisposeAsync();
    }

    private static async Task<byte[]> LastFrameAsync(PipeReader input)
    {
        var all = new MemoryStream();
        while (true)
        {
            ReadResult result = await input.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                all.Write(segment.Span);
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        byte[] bytes = all.ToArray();
        Assert.True(bytes.Length >= YamuxHeader.Size);
        return bytes[^YamuxHeader.Size..];
    }

    internal static Task WaitUntilAsync(Func<bool> condition) => Poll.UntilAsync(condition, "the awaited yamux state", Timeout, TimeSpan.FromMilliseconds(10));
}

internal static class ByteArrayExtensions
{
    public static byte[] With(this byte[] bytes, int index, byte value)
    {
        bytes[index] = value;
        return bytes;
    }
}
