using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using PeerNet.PeerWire;
using PeerNet.Transport;
using static PeerNet.Engine.Tests.Transport.TransportTestKit;

namespace PeerNet.Engine.Tests.Transport;

public sealed class ConnectionRouterTests
{
    private static readonly byte[] Multistream = "\u0013/multistream/1.0.0\n"u8.ToArray();

    /// <summary>A router with the BitTorrent prefix and a fake libp2p one, each handler reporting the bytes it found at the head of its input.</summary>
    private sealed class Harness : IAsyncDisposable
    {
        private readonly InMemoryNetwork _network;
        private readonly InMemoryTransport _server;
        private readonly InMemoryTransport _client;

        public Harness(ConnectionRouterOptions? options = null, TimeProvider? time = null)
        {
            _network = new InMemoryNetwork();
            _server = _network.CreateTransport(IPAddress.Parse("10.0.0.1"));
            _client = _network.CreateTransport(IPAddress.Parse("10.0.0.2"));
            Router = new ConnectionRouter(options ?? new ConnectionRouterOptions(), time ?? TimeProvider.System);
            Router.Register("bittorrent", (in ReadOnlySequence<byte> b) => ConnectionRouter.MatchPrefix(b, Handshake.Protocol), (c, ct) => Take("bittorrent", c, ct));
            Router.Register("multistream", (in ReadOnlySequence<byte> b) => ConnectionRouter.MatchPrefix(b, Multistream), (c, ct) => Take("multistream", c, ct));
        }

        public ConnectionRouter Router { get; }

        public TaskCompletionSource<(string Protocol, byte[] Head)> Taken { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<(IDuplexConnection Client, Task<string?> Routed)> ConnectAsync()
        {
            (IPeerListener listener, IDuplexConnection client, IDuplexConnection server) = await ConnectPairAsync(_server, _client, new IPEndPoint(IPAddress.Parse("10.0.0.1"), 6881));
            await listener.DisposeAsync();
            return (client, Router.RouteAsync(server, Ct));
        }

        /// <summary>A handler: reads what is at the head of the input (at least the 20-byte prefix) and closes.</summary>
        private async Task Take(string protocol, IDuplexConnection connection, CancellationToken cancellationToken)
        {
            await using (connection)
            {
                ReadResult result = await connection.Input.ReadAtLeastAsync(20, cancellationToken);
                Taken.TrySetResult((protocol, result.Buffer.ToArray()));
                connection.Input.AdvanceTo(result.Buffer.End);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync();
            await _server.DisposeAsync();
        }
    }

    private static async Task SendAsync(IDuplexConnection connection, byte[] bytes)
    {
        await connection.Output.WriteAsync(bytes, Ct);
    }

    /// <summary>Waits until the router closed the server end: the client's input ends or faults.</summary>
    private static async Task AssertClosedAsync(IDuplexConnection client)
    {
        try
        {
            await ReadToEndAsync(client.Input).WaitAsync(TestTimeout, Ct);
        }
        catch (IOException)
        {
            // A reset is a close too.
        }
    }

    private static byte[] BitTorrentHandshake()
    {
        var handshake = new Handshake(HandshakeReserved.ExtensionProtocol, new Sha1Hash(new byte[20]), new PeerId(new byte[20]));
        byte[] bytes = new byte[Handshake.Length];
        handshake.WriteTo(bytes);
        return bytes;
    }

    [Fact]
    public async Task BitTorrentHandshake_GoesToBitTorrent_WithEveryByteStillToRead()
    {
        await using var harness = new Harness();
        (IDuplexConnection client, Task<string?> routed) = await harness.ConnectAsync();
        await using IAsyncDisposable clientScope = client;
        byte[] handshake = BitTorrentHandshake();
        await SendAsync(client, handshake);

        Assert.Equal("bittorrent", await routed.WaitAsync(TestTimeout, Ct));
        (string protocol, byte[] head) = await harness.Taken.Task.WaitAsync(TestTimeout, Ct);
        Assert.Equal("bittorrent", protocol);
        Assert.Equal(handshake, head[..Math.Min(head.Length, handshake.Length)]);
    }

    [Fact]
    public async Task SecondRegisteredProtocol_GetsItsConnection()
    {
        await using var harness = new Harness();
        (IDuplexConnection client, Task<string?> routed) = await harness.ConnectAsync();
        await using IAsyncDisposable clientScope = client;
        byte[] hello = [.. Multistream, .. "/noise\n"u8];
        await SendAsync(client, hello);

        Assert.Equal("multistream", await routed.WaitAsync(TestTimeout, Ct));
        (string protocol, byte[] head) = await harness.Taken.Task.WaitAsync(TestTimeout, Ct);
        Assert.Equal("multistream", protocol);
        Assert.StartsWith("\u0013/multistream/1.0.0\n", Encoding.ASCII.GetString(head), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrefixInPieces_WaitsForTheRest_ThenRoutes()
    {
        await using var harness = new Harness();
        (IDuplexConnection client, Task<string?> routed) = await harness.ConnectAsync();
        await using IAsyncDisposable clientScope = client;
        byte[] handshake = BitTorrentHandshake();

        // "\x13" alone could be either protocol, "\x13BitTor" only BitTorrent, and neither is whole yet.
        await SendAsync(client, handshake[..1]);
        await SendAsync(client, handshake[1..7]);
        Assert.False(routed.IsCompleted);
        await SendAsync(client, handshake[7..]);

        Assert.Equal("bittorrent", await routed.WaitAsync(TestTimeout, Ct));
        (_, byte[] head) = await harness.Taken.Task.WaitAsync(TestTimeout, Ct);
        Assert.Equal(handshake[..20], head[..20]);
    }

    [Fact]
    public async Task UnknownBytes_AreClosedAndCounted()
    {
        await using var harness = new Harness();
        (IDuplexConnection client, Task<string?> routed) = await harness.ConnectAsync();
        await using IAsyncDisposable clientScope = client;
        await SendAsync(client, "GET / HTTP/1.1\r\n"u8.ToArray());

        Assert.Null(await routed.WaitAsync(TestTimeout, Ct));
        await AssertClosedAsync(client);
        Assert.Equal(1, harness.Router.UnroutedCount(UnroutedReason.Unknown));
        Assert.False(harness.Taken.Task.IsCompleted);
    }

    [Fact]
    public async Task SilentPeer_IsClosedAtTheSniffTimeout()
    {
        var time = new FakeTimeProvider();
        await using var harness = new Harness(new ConnectionRouterOptions { SniffTimeout = TimeSpan.FromSeconds(10) }, time);
        (IDuplexConnection client, Task<string?> routed) = await harness.ConnectAsync();
        await using IAsyncDisposable clientScope = client;
        await SendAsync(client, [0x13, (byte)'B']); // a start, then nothing

        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Null(await routed.WaitAsync(TestTimeout, Ct));
        await AssertClosedAsync(client);
        Assert.Equal(1, harness.Router.UnroutedCount(UnroutedReason.Timeout));
    }

    [Fact]
    public async Task UndecidedAtTheByteLimit_IsClosedAndCounted()
    {
        await using var harness = new Harness(new ConnectionRouterOptions { MaxSniffBytes = 32 });

        // A protocol that never makes up its mind must not keep the connection reading.
        harness.Router.Register("dithering", (in ReadOnlySequence<byte> _) => Recognition.NeedMore, (c, _) => c.DisposeAsync().AsTask());
        (IDuplexConnection client, Task<string?> routed) = await harness.ConnectAsync();
        await using IAsyncDisposable clientScope = client;
        await SendAsync(client, new byte[100]);

        Assert.Null(await routed.WaitAsync(TestTimeout, Ct));
        await AssertClosedAsync(client);
        Assert.Equal(1, harness.Router.UnroutedCount(UnroutedReason.TooLong));
    }

    [Fact]
    public async Task PeerClosingMidPrefix_IsCountedAsClosed()
    {
        await using var harness = new Harness();
        (IDuplexConnection client, Task<string?> routed) = await harness.ConnectAsync();
        await SendAsync(client, [0x13]);
        await client.Output.CompleteAsync();

        Assert.Null(await routed.WaitAsync(TestTimeout, Ct));
        Assert.Equal(1, harness.Router.UnroutedCount(UnroutedReason.Closed));
        await client.DisposeAsync();
    }

    [Fact]
    public async Task CatchAllRegisteredLast_DoesNotTakeWhatAnEarlierProtocolStillWants()
    {
        await using var harness = new Harness();

        // Like MSE: anything of 20 bytes or more that no plaintext protocol claimed.
        harness.Router.Register("catch-all", (in ReadOnlySequence<byte> b) => b.Length >= 20 ? Recognition.Yes : Recognition.NeedMore, (c, _) => c.DisposeAsync().AsTask());
        (IDuplexConnection client, Task<string?> routed) = await harness.ConnectAsync();
        await using IAsyncDisposable clientScope = client;
        await SendAsync(client, BitTorrentHandshake());
        Assert.Equal("bittorrent", await routed.WaitAsync(TestTimeout, Ct));

        (IDuplexConnection other, Task<string?> otherRouted) = await harness.ConnectAsync();
        await using IAsyncDisposable otherScope = other;
        await SendAsync(other, new byte[20]);
        Assert.Equal("catch-all", await otherRouted.WaitAsync(TestTimeout, Ct));
    }

    [Theory]
    [InlineData("", "NeedMore")]
    [InlineData("\u0013", "NeedMore")]
    [InlineData("\u0013BitTorrent protoco", "NeedMore")]
    [InlineData("\u0013BitTorrent protocol", "Yes")]
    [InlineData("\u0013BitTorrent protocolXYZ", "Yes")]
    [InlineData("\u0013BitTorrenT", "No")]
    [InlineData("GET /", "No")]
    public void MatchPrefix_SplitAnywhere_AnswersTheSame(string text, string expected)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(text);
        for (int split = 0; split <= bytes.Length; split++)
        {
            ReadOnlySequence<byte> sequence = Segments.Of(bytes[..split], bytes[split..]);
            Assert.Equal(expected, ConnectionRouter.MatchPrefix(sequence, Handshake.Protocol).ToString());
        }
    }

    /// <summary>A sequence of two segments, to feed a recogniser a prefix split at any offset.</summary>
    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public static ReadOnlySequence<byte> Of(byte[] first, byte[] second)
        {
            var head = new Segments(first, 0);
            var tail = new Segments(second, first.Length);
            head.Next = tail;
            return new ReadOnlySequence<byte>(head, 0, tail, second.Length);
        }
    }
}
