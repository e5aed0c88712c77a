using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// A hand-driven peer for hostile tests, over any transport: it handshakes correctly, then sends whatever a test
/// writes and reads the node's messages one at a time.
/// </summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private readonly IDuplexConnection _connection;

    private RawPeer(IDuplexConnection connection) => _connection = connection;

    /// <summary>Connects from a fresh in-memory address (10.8.x.y) to <paramref name="target"/>.</summary>
    public static Task<RawPeer> ConnectAsync(InMemoryNetwork network, SwarmSession target, TorrentMetainfo torrent)
    {
        InMemoryTransport transport = network.CreateTransport(IPAddress.Parse($"10.8.{Random.Shared.Next(1, 250)}.{Random.Shared.Next(1, 250)}"));
        return ConnectAsync(transport, target.LocalEndPoint!, torrent.InfoHashes.WireHash);
    }

    /// <summary>Connects, handshakes for <paramref name="infoHash"/> and reads the node's 68-byte handshake.</summary>
    public static async Task<RawPeer> ConnectAsync(IPeerTransport transport, IPEndPoint target, Sha1Hash infoHash, HandshakeReserved reserved = HandshakeReserved.FastExtension)
    {
        IDuplexConnection connection = await transport.ConnectAsync(target, TestContext.Current.CancellationToken).AsTask().WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        var peer = new RawPeer(connection);
        try
        {
            byte[] handshake = new byte[Handshake.Length];
            new Handshake(reserved, infoHash, TestPeerIds.Next()).WriteTo(handshake);
            await peer.SendAsync(handshake);
            await peer.ReadAtLeastAsync(Handshake.Length);
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    private async Task ReadAtLeastAsync(int bytes)
    {
        ReadResult result = await _connection.Input.ReadAtLeastAsync(bytes, TestContext.Current.CancellationToken).AsTask().WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        if (result.IsCompleted && result.Buffer.Length < bytes)
        {
            _connection.Input.AdvanceTo(result.Buffer.End);
            throw new IOException("closed during the handshake");
        }

        _connection.Input.AdvanceTo(result.Buffer.GetPosition(bytes));
    }

    /// <summary>Queues bytes and flushes without waiting (for a node that may close on them).</summary>
    public void Send(byte[] bytes)
    {
        _connection.Output.Write(bytes);
        _ = _connection.Output.FlushAsync(TestContext.Current.CancellationToken).AsTask();
    }

    /// <summary>Writes and flushes; throws an <see cref="IOException"/> once the node has closed or reset.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        FlushResult result = await _connection.Output.WriteAsync(bytes, TestContext.Current.CancellationToken).AsTask().WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        if (result.IsCompleted)
        {
            throw new IOException("the node stopped reading");
        }
    }

    /// <summary>Reads the node's next message other than a keep-alive; null when the node closed the connection.</summary>
    public async Task<RawMessage?> ReceiveAsync(TimeSpan timeout)
    {
        while (true)
        {
            ReadResult result = await _connection.Input.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(timeout, TestContext.Current.CancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            OperationStatus status = PeerFrameReader.TryReadMessage(ref buffer, PeerWireLimits.DefaultMaxMessageLength, out PeerMessage message, out PeerWireError error);
            Assert.NotEqual(OperationStatus.InvalidData, status);
            if (status == OperationStatus.Done)
            {
                var raw = new RawMessage(message.Id, message.PieceIndex, message.Begin, message.Length, message.HashRequest, message.Payload.ToArray());
                _connection.Input.AdvanceTo(buffer.Start);
                if (message.IsKeepAlive)
                {
                    continue;
                }

                return raw;
            }

            _connection.Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>Reads until a message with <paramref name="id"/> arrives; fails if the node closes first.</summary>
    public async Task<RawMessage> ReceiveAsync(PeerMessageId id, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            RawMessage? message = await ReceiveAsync(timeout);
            Assert.NotNull(message);
            if (message.Id == id)
            {
                return message;
            }

            Assert.False(deadline.IsCancellationRequested, $"no {id} within {timeout}");
        }
    }

    /// <summary>Reads messages until one of kind <paramref name="id"/> arrives, and returns a copy of it.</summary>
    public Task<RawMessage> ReadUntilAsync(PeerMessageId id) => ReceiveAsync(id, SwarmHarness.Timeout);

    /// <summary>Reads the next message (keep-alives skipped) and returns a copy of it.</summary>
    public async Task<RawMessage> ReadNextAsync()
    {
        RawMessage? message = await ReceiveAsync(SwarmHarness.Timeout);
        Assert.NotNull(message); // closed before the next message arrived
        return message;
    }

    /// <summary>Sends interested and waits to be unchoked.</summary>
    public async Task BecomeInterestedAsync()
    {
        await SendAsync(PeerMessageWriter.Interested);
        await ReceiveAsync(PeerMessageId.Unchoke, SwarmHarness.Timeout);
    }

    /// <summary>Requests one block and waits for it (other messages are skipped).</summary>
    public async Task<byte[]> RequestAsync(int piece, int begin, int length, TimeSpan timeout)
    {
        byte[] request = new byte[PeerMessageWriter.RequestLength];
        PeerMessageWriter.WriteRequest(request, new BlockRequest(piece, begin, length));
        await SendAsync(request);
        while (true)
        {
            RawMessage block = await ReceiveAsync(PeerMessageId.Piece, timeout);
            if (block.Piece == piece && block.Begin == begin)
            {
                return block.Payload;
            }
        }
    }

    /// <summary>Reads (and discards) until the node closes the connection; fails if it stays open for <paramref name="timeout"/> (default 10 s).</summary>
    public async Task AssertClosedAsync(TimeSpan? timeout = null)
    {
        long deadline = Environment.TickCount64 + (long)(timeout ?? TimeSpan.FromSeconds(10)).TotalMilliseconds;
        while (true)
        {
            ReadResult result;
            try
            {
                TimeSpan left = TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64));
                result = await _connection.Input.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(left, TestContext.Current.CancellationToken);
            }
            catch (IOException)
            {
                return; // reset by the node
            }
            catch (TimeoutException)
            {
                Assert.Fail($"the node kept the connection open for {timeout ?? TimeSpan.FromSeconds(10)}");
                throw;
            }

            _connection.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _connection.Abort();
        return _connection.DisposeAsync();
    }
}

/// <summary>A copy of one message a <see cref="RawPeer"/> read.</summary>
internal sealed record RawMessage(PeerMessageId Id, int Piece, int Begin, int Length, HashRequest HashRequest, byte[] Payload);
