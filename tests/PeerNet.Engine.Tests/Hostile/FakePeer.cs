using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Hostile;

/// <summary>
/// A scriptable peer for hostile tests: it handshakes as a v2-capable client with the extension protocol and the fast
/// extension, then sends whatever a test scripts (every message of the peer wire, ut_metadata, ut_pex and BEP 52, well
/// formed or not) and reads what the node answers. <see cref="ServeAsync"/> runs it as a seeder of real data whose
/// block and hash answers a test can replace; its loop ends when the node closes the connection or the test stops it,
/// and any other failure (an assertion included) surfaces when the test awaits it.
/// </summary>
internal sealed class FakePeer : IAsyncDisposable
{
    private readonly RawPeer _raw;

    private FakePeer(RawPeer raw, IPAddress address)
    {
        _raw = raw;
        Address = address;
    }

    /// <summary>The address the peer connects from.</summary>
    public IPAddress Address { get; }

    /// <summary>Reserved bits of a modern client: the extension protocol, the fast extension and the v2 upgrade.</summary>
    public const HandshakeReserved ModernReserved = HandshakeReserved.ExtensionProtocol | HandshakeReserved.FastExtension | HandshakeReserved.V2Upgrade;

    /// <summary>Connects over the in-memory network from <paramref name="from"/> and handshakes for <paramref name="infoHash"/>.</summary>
    public static async Task<FakePeer> ConnectAsync(InMemoryNetwork network, IPAddress from, IPEndPoint target, Sha1Hash infoHash, HandshakeReserved reserved = ModernReserved)
        => new(await RawPeer.ConnectAsync(network.CreateTransport(from), target, infoHash, reserved), from);

    /// <summary>Connects over real TCP (loopback) and handshakes for <paramref name="infoHash"/>.</summary>
    public static async Task<FakePeer> ConnectTcpAsync(TcpTransport transport, IPEndPoint target, Sha1Hash infoHash, HandshakeReserved reserved = ModernReserved)
        => new(await RawPeer.ConnectAsync(transport, target, infoHash, reserved), target.Address);

    /// <summary>Writes raw bytes and waits for the flush.</summary>
    public Task SendAsync(ReadOnlyMemory<byte> bytes) => _raw.SendAsync(bytes);

    /// <summary>Queues raw bytes without waiting (for floods against a node that may close mid-way).</summary>
    public void Send(ReadOnlySpan<byte> bytes) => _raw.Send(bytes.ToArray());

    /// <summary>Our extension handshake, naming ut_metadata and ut_pex under ids 3 and 4 (the node answers with those).</summary>
    public Task SendExtensionHandshakeAsync(int? metadataSize = null, int? listenPort = null)
    {
        var handshake = new ExtensionHandshake
        {
            ClientName = "FakePeer",
            ListenPort = listenPort,
            MetadataSize = metadataSize,
            Messages = new Dictionary<string, byte> { [TorrentSwarm.MetadataExtensionName] = OurMetadataId, [TorrentSwarm.PexExtensionName] = OurPexId },
        };
        var output = new ArrayBufferWriter<byte>();
        handshake.WriteMessage(output);
        return SendAsync(output.WrittenMemory);
    }

    /// <summary>The ut_metadata id we announce (the node's replies carry it).</summary>
    public const byte OurMetadataId = 3;

    /// <summary>The ut_pex id we announce.</summary>
    public const byte OurPexId = 4;

    /// <summary>A ut_metadata request for <paramref name="piece"/>, addressed to the node's id for it.</summary>
    public static byte[] MetadataRequest(int piece)
    {
        var output = new ArrayBufferWriter<byte>();
        MetadataMessage.WriteRequest(output, TorrentSwarm.LocalMetadataExtensionId, piece);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A ut_pex message to the node adding <paramref name="peers"/>.</summary>
    public static byte[] Pex(IEnumerable<IPEndPoint> peers)
    {
        var output = new ArrayBufferWriter<byte>();
        new PexMessage { Added = [.. peers.Select(p => new PexPeer(p, PexFlags.None))] }.WriteMessage(output, TorrentSwarm.LocalPexExtensionId);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A BEP 3 request (or, with <paramref name="id"/>, a cancel or reject) for one block.</summary>
    public static byte[] BlockMessage(PeerMessageId id, int piece, int begin, int length)
    {
        byte[] message = new byte[PeerMessageWriter.RequestLength];
        var block = new BlockRequest(piece, begin, length);
        _ = id switch
        {
            PeerMessageId.Request => PeerMessageWriter.WriteRequest(message, block),
            PeerMessageId.Cancel => PeerMessageWriter.WriteCancel(message, block),
            PeerMessageId.Reject => PeerMessageWriter.WriteReject(message, block),
            _ => throw new ArgumentOutOfRangeException(nameof(id)),
        };
        return message;
    }

    /// <summary>A BEP 52 hash request.</summary>
    public static byte[] HashRequestMessage(in HashRequest request)
    {
        byte[] message = new byte[PeerMessageWriter.HashRequestLength];
        PeerMessageWriter.WriteHashRequest(message, request);
        return message;
    }

    /// <summary>A BEP 52 <c>hashes</c> message whose fields say <paramref name="request"/> and whose payload is <paramref name="hashes"/>, whatever they are.</summary>
    public static byte[] HashesMessage(in HashRequest request, ReadOnlySpan<Sha256Hash> hashes)
    {
        var output = new ArrayBufferWriter<byte>();
        PeerMessageWriter.WriteHashes(output, request, hashes);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>The node's next message other than a keep-alive; null once it closed the connection.</summary>
    public Task<RawMessage?> ReceiveAsync(TimeSpan timeout) => _raw.ReceiveAsync(timeout);

    /// <summary>Reads until a message that <paramref name="match"/> accepts; fails if the node closes first or the deadline passes.</summary>
    public async Task<RawMessage> ReceiveAsync(Func<RawMessage, bool> match, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            RawMessage? message = await ReceiveAsync(timeout).WaitAsync(deadline.Token);
            Assert.NotNull(message); // the node closed the connection first
            if (match(message))
            {
                return message;
            }
        }
    }

    /// <summary>Reads (and discards) until the node closes the connection; fails if it is still open after <paramref name="timeout"/>.</summary>
    public Task AssertClosedAsync(TimeSpan timeout) => _raw.AssertClosedAsync(timeout);

    /// <summary>
    /// Plays a seeder of <paramref name="data"/> (one file's bytes, piece-aligned at offset 0): has every piece, unchokes,
    /// answers block requests with <paramref name="block"/> (default: the true data; return null to reject) and hash
    /// requests with <paramref name="hashes"/> (default: the true leaves of the requested blocks), until the node closes
    /// the connection or <paramref name="stop"/> is cancelled. Other messages are passed to <paramref name="onOther"/>.
    /// </summary>
    public async Task ServeAsync(
        byte[] data,
        long pieceLength,
        CancellationToken stop,
        Func<RawMessage, byte[]?>? block = null,
        Func<HashRequest, byte[]?>? hashes = null,
        Action<RawMessage>? onOther = null)
    {
        block ??= m => TrueBlock(data, pieceLength, m);
        hashes ??= r => HashesMessage(r, TrueLeaves(data, r));
        await SendAsync(PeerMessageWriter.HaveAll);
        await SendAsync(PeerMessageWriter.Unchoke);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                RawMessage? m = await ReceiveAsync(SwarmHarness.Timeout).WaitAsync(stop);
                if (m is null)
                {
                    return; // the node closed the connection
                }

                switch (m.Id)
                {
                    case PeerMessageId.Request:
                        Send(block(m) ?? BlockMessage(PeerMessageId.Reject, m.Piece, m.Begin, m.Length));
                        break;
                    case PeerMessageId.HashRequest:
                        if (hashes(m.HashRequest) is { } reply)
                        {
                            Send(reply);
                        }

                        break;
                    default:
                        onOther?.Invoke(m);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
            // Reset by the node while we wrote or read: the connection is over.
        }
    }

    /// <summary>The piece message answering request <paramref name="m"/> with the true data.</summary>
    public static byte[] TrueBlock(byte[] data, long pieceLength, RawMessage m)
    {
        byte[] message = new byte[PeerMessageWriter.PieceHeaderLength + m.Length];
        int header = PeerMessageWriter.WritePieceHeader(message, m.Piece, m.Begin, m.Length);
        long start = (m.Piece * pieceLength) + m.Begin;
        int available = (int)Math.Clamp(data.Length - start, 0, m.Length);
        data.AsSpan((int)start, available).CopyTo(message.AsSpan(header));
        return message;
    }

    /// <summary>The true leaf (16 KiB block) hashes a base-layer request asks for (zero leaves past the file's end).</summary>
    public static Sha256Hash[] TrueLeaves(byte[] data, in HashRequest r)
    {
        var leaves = new Sha256Hash[r.Length];
        for (int i = 0; i < r.Length; i++)
        {
            long start = (long)(r.Index + i) * MerkleTree.BlockSize;
            leaves[i] = start < data.Length ? new Sha256Hash(SHA256.HashData(data.AsSpan((int)start, (int)Math.Min(MerkleTree.BlockSize, data.Length - start)))) : default;
        }

        return leaves;
    }

    public ValueTask DisposeAsync() => _raw.DisposeAsync();
}
