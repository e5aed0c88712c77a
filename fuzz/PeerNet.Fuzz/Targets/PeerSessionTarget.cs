using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using PeerNet.Creation;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Fuzz;

/// <summary>
/// A whole peer session against a real seeding node (one per process, on the in-memory network, seeding a small
/// hybrid torrent): the input is read as a sequence of peer-wire frames (any id, ut_metadata and ut_pex extended
/// messages, BEP 52 requests, replies and rejects, in any order; a partial last frame is dropped) and sent after a
/// valid handshake and extension handshake, followed by a marker (a fresh extension handshake and a ut_metadata request
/// for piece 0). The node's side is read until the marker is answered or the connection closes.
/// Invariants: the node never stops the torrent or fails to answer (5 s), everything it sends is a well-formed frame,
/// every ut_metadata piece it sends is the torrent's own bytes, every <c>hashes</c> reply that proves to the top
/// proves to the file's root, and no peer's send queue ever passes its budget.
/// </summary>
public static class PeerSessionTarget
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);
    private static readonly Lazy<Seeder> Node = new(() => Seeder.StartAsync().GetAwaiter().GetResult());
    private static int _nextAddress;

    public static void Fuzz(ReadOnlySpan<byte> data) => RunAsync(Frames(data, Node.Value.Torrent)).GetAwaiter().GetResult();

    /// <summary>
    /// The complete frames at the start of <paramref name="data"/> (a 4-byte length, then that many bytes). In BEP 52
    /// frames (hash request, hashes, hash reject) a pieces root of one byte <c>i</c> then 31 zero bytes stands for the
    /// root of the torrent's <c>i</c>-th v2 file, so that seeds and mutations can name the real trees.
    /// </summary>
    private static byte[] Frames(ReadOnlySpan<byte> data, TorrentMetainfo torrent)
    {
        Sha256Hash[] roots = [.. torrent.Files.Where(f => f.PiecesRoot is not null && f.Length > 0).Select(f => f.PiecesRoot!.Value)];
        byte[] frames = data.ToArray();
        int end = 0;
        while (frames.Length - end >= 4)
        {
            long length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frames.AsSpan(end));
            if (length > frames.Length - end - 4)
            {
                break;
            }

            Span<byte> root = length >= 1 + Sha256Hash.Length ? frames.AsSpan(end + 5, Sha256Hash.Length) : default;
            if (!root.IsEmpty && frames[end + 4] is (byte)PeerMessageId.HashRequest or (byte)PeerMessageId.Hashes or (byte)PeerMessageId.HashReject
                && !root[1..].ContainsAnyExcept((byte)0))
            {
                roots[root[0] % roots.Length].CopyTo(root);
            }

            end += 4 + (int)length;
        }

        return frames[..end];
    }

    private static async Task RunAsync(byte[] frames)
    {
        Seeder node = Node.Value;
        int n = Interlocked.Increment(ref _nextAddress);
        var from = new IPAddress([10, (byte)(100 + (n >> 16 & 0x7F)), (byte)(n >> 8), (byte)n]);
        await using InMemoryTransport transport = node.Network.CreateTransport(from);
        using var deadline = new CancellationTokenSource(Deadline);
        IDuplexConnection connection;
        try
        {
            connection = await transport.ConnectAsync(node.Session.LocalEndPoint!, deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new FuzzInvariantException("the node did not accept a connection within 5 s");
        }

        await using (connection)
        {
            await connection.Output.WriteAsync(Opening(node.Torrent), deadline.Token);
            await connection.Output.WriteAsync(frames, deadline.Token);
            await connection.Output.WriteAsync(Marker(), deadline.Token);
            bool markerAnswered = await ReadAnswersAsync(connection.Input, node, deadline.Token);
            Check.That(node.Swarm.State == TorrentState.Seeding, $"the torrent is {node.Swarm.State}: {node.Swarm.Error}");
            Check.That(node.Swarm.PeakSendQueueBytes <= node.Session.Options.PeerLimits.MaxSendQueueBytes, $"a send queue reached {node.Swarm.PeakSendQueueBytes} bytes");
            _ = markerAnswered;
        }
    }

    /// <summary>Reads and checks every frame from the node until it answers the marker (true) or closes (false).</summary>
    private static async Task<bool> ReadAnswersAsync(System.IO.Pipelines.PipeReader input, Seeder node, CancellationToken deadline)
    {
        int skip = Handshake.Length;
        while (true)
        {
            System.IO.Pipelines.ReadResult result;
            try
            {
                result = await input.ReadAsync(deadline);
            }
            catch (OperationCanceledException)
            {
                throw new FuzzInvariantException("the node neither answered the marker nor closed within 5 s");
            }
            catch (IOException)
            {
                return false; // reset by the node
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (skip > 0)
            {
                int skipped = (int)Math.Min(skip, buffer.Length);
                buffer = buffer.Slice(skipped);
                skip -= skipped;
            }

            bool answered = false;
            while (!answered)
            {
                OperationStatus status = PeerFrameReader.TryReadMessage(ref buffer, node.MaxMessageLength, out PeerMessage message, out PeerWireError error);
                if (status == OperationStatus.NeedMoreData)
                {
                    break;
                }

                Check.That(status == OperationStatus.Done, $"the node sent a malformed frame: {error}");
                answered = CheckMessage(message, node);
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (answered)
            {
                return true;
            }

            if (result.IsCompleted)
            {
                return false;
            }
        }
    }

    /// <summary>Checks one message from the node; true for the answer to the marker.</summary>
    private static bool CheckMessage(in PeerMessage message, Seeder node)
    {
        if (message.Id == PeerMessageId.Hashes)
        {
            CheckHashes(message.HashRequest, message.Payload, node.Torrent);
            return false;
        }

        if (message.Id != PeerMessageId.Extended || message.ExtendedId != MarkerMetadataId)
        {
            return false;
        }

        Check.That(MetadataMessage.TryParse(message.Payload, out MetadataMessage metadata, out PeerWireError error), $"the node sent a bad ut_metadata message: {error}");
        if (metadata.Type == MetadataMessageType.Data)
        {
            ReadOnlySpan<byte> info = node.Torrent.InfoBytes.Span;
            int start = metadata.Piece * MetadataMessage.PieceLength;
            Check.Equal(info.Length, metadata.TotalSize, "ut_metadata total size");
            Check.Bytes(info.Slice(start, MetadataMessage.GetPieceLength(info.Length, metadata.Piece)), metadata.Data.ToArray(), "ut_metadata piece");
        }

        return metadata.Piece == 0;
    }

    /// <summary>A <c>hashes</c> reply carries exactly the run and its uncles, and one that reaches the top proves to the root.</summary>
    private static void CheckHashes(in HashRequest request, in ReadOnlySequence<byte> payload, TorrentMetainfo torrent)
    {
        Sha256Hash root = request.PiecesRoot;
        TorrentFile? file = torrent.Files.FirstOrDefault(f => f.PiecesRoot == root);
        Check.That(file is not null, "hashes for a root the torrent does not have");
        Check.That(MerkleProof.IsValid(request, file.Length), $"hashes for an invalid request {request}");
        int uncles = MerkleProof.UncleCount(request.Length, request.ProofLayers);
        Check.Equal(((long)request.Length + uncles) * Sha256Hash.Length, payload.Length, "hashes payload length");
        byte[] bytes = payload.ToArray();
        var hashes = new Sha256Hash[request.Length + uncles];
        for (int i = 0; i < hashes.Length; i++)
        {
            hashes[i] = new Sha256Hash(bytes.AsSpan(i * Sha256Hash.Length, Sha256Hash.Length));
        }

        Sha256Hash top = MerkleProof.Fold(request, hashes.AsSpan(0, request.Length), hashes.AsSpan(request.Length), out int layer, out long index);
        if (layer == MerkleProof.LayerCount(file.Length))
        {
            Check.That(top == file.PiecesRoot && index == 0, $"a reply to {request} does not prove to the file's root");
        }
    }

    /// <summary>Our handshake (extension protocol, fast, v2) and extension handshake (ut_metadata as <see cref="MarkerMetadataId"/>).</summary>
    private static byte[] Opening(TorrentMetainfo torrent)
    {
        var output = new ArrayBufferWriter<byte>();
        Span<byte> id = stackalloc byte[PeerId.Length];
        "-FZ0001-"u8.CopyTo(id);
        RandomNumberGenerator.Fill(id[8..]);
        output.Advance(new Handshake(HandshakeReserved.ExtensionProtocol | HandshakeReserved.FastExtension | HandshakeReserved.V2Upgrade, torrent.InfoHashes.WireHash, new PeerId(id)).WriteTo(output.GetSpan(Handshake.Length)));
        ExtensionHandshakeOf().WriteMessage(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A fresh extension handshake (so ut_metadata has our id whatever the input said) and a request for metadata piece 0.</summary>
    private static byte[] Marker()
    {
        var output = new ArrayBufferWriter<byte>();
        ExtensionHandshakeOf().WriteMessage(output);
        MetadataMessage.WriteRequest(output, TorrentSwarm.LocalMetadataExtensionId, 0);
        return output.WrittenSpan.ToArray();
    }

    private const byte MarkerMetadataId = 7;

    private static ExtensionHandshake ExtensionHandshakeOf() => new()
    {
        Messages = new Dictionary<string, byte> { [TorrentSwarm.MetadataExtensionName] = MarkerMetadataId, [TorrentSwarm.PexExtensionName] = 8 },
    };

    /// <summary>The node: a session on an in-memory network seeding a small hybrid torrent from a temporary folder.</summary>
    private sealed class Seeder
    {
        private Seeder(InMemoryNetwork network, SwarmSession session, TorrentSwarm swarm, TorrentMetainfo torrent)
        {
            Network = network;
            Session = session;
            Swarm = swarm;
            Torrent = torrent;
        }

        public InMemoryNetwork Network { get; }

        public SwarmSession Session { get; }

        public TorrentSwarm Swarm { get; }

        public TorrentMetainfo Torrent { get; }

        /// <summary>The longest frame the node may send (a block, or a bitfield of the torrent).</summary>
        public int MaxMessageLength => Math.Max(PeerWireLimits.MaxMessageLengthFor(Torrent.PieceCount), PeerWireLimits.BlockLength + 13);

        public static async Task<Seeder> StartAsync()
        {
            string root = Directory.CreateTempSubdirectory("peernet-fuzz-session-").FullName;
            string content = Path.Combine(root, "content");
            Directory.CreateDirectory(Path.Combine(content, "sub"));
            var random = new Random(7);
            foreach ((string name, int size) in new[] { ("a.bin", 150_001), ("sub/b.bin", 40_000), ("c.txt", 777) })
            {
                byte[] bytes = new byte[size];
                random.NextBytes(bytes);
                await File.WriteAllBytesAsync(Path.Combine(content, name), bytes);
            }

            byte[] encoded = await TorrentCreator.CreateAsync(new TorrentCreationOptions { SourcePath = content, Version = TorrentVersion.Hybrid, PieceLength = 32 * 1024 });
            TorrentMetainfo torrent = TorrentMetainfo.Parse(encoded);
            var network = new InMemoryNetwork();
            var address = IPAddress.Parse("10.99.0.1");
            var session = new SwarmSession(new SessionOptions { ListenEndPoint = new IPEndPoint(address, 6881) }, network.CreateTransport(address));
            await session.StartAsync(CancellationToken.None);
            TorrentSwarm swarm = await session.AddTorrentAsync(torrent, content, new TorrentOptions { UploadSlots = 0 }, new PeerNet.Storage.StorageOptions { ReadOnly = true, PathIsContent = true }, CancellationToken.None);
            return new Seeder(network, session, swarm, torrent);
        }
    }
}
