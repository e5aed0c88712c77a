using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography;
using PeerNet.Creation;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Fuzz;

/// <summary>
/// The downloader's side of a whole session: a real node (one per process, on the in-memory network) downloads a
/// small v2 torrent it knows only from its info dictionary, as after a magnet, so it must fetch the piece layer of its
/// larger file with BEP 52 hash requests and verify every piece. The input is the peer's side: a sequence of
/// peer-wire frames sent after a valid handshake, extension handshake, have-all and unchoke, with placeholders that
/// answer what the node asked for: a <c>hashes</c> or <c>hash reject</c> frame whose request fields are all zero takes
/// the fields of the node's oldest unanswered hash request (and, for <c>hashes</c> with no payload, the true hashes
/// for it), and a <c>piece</c> frame of piece 0, offset 0 and no data answers the node's oldest unanswered block
/// request with the true block. Everything else goes as the input says, so mutations reach the reply paths that the
/// hardening issue found broken (a short, long, wrapped or unsolicited reply; a proof that does not fold).
/// Invariants: the torrent never fails; every piece it verified is the true data on disk; a piece layer it installed
/// is the true one; the node never sends a malformed frame.
/// </summary>
public static class LeechSessionTarget
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PlaceholderWait = TimeSpan.FromMilliseconds(100);
    private static readonly Lazy<Leecher> Node = new(() => Leecher.StartAsync().GetAwaiter().GetResult());
    private static int _runs;

    public static void Fuzz(ReadOnlySpan<byte> data) => RunAsync(data.ToArray()).GetAwaiter().GetResult();

    private static async Task RunAsync(byte[] input)
    {
        Leecher node = Node.Value;
        int run = Interlocked.Increment(ref _runs);
        string folder = Path.Combine(node.Root, "run-" + run);
        Directory.CreateDirectory(folder);
        TorrentMetainfo withoutLayers = node.WithoutLayers();
        TorrentSwarm swarm = await node.Session.AddTorrentAsync(withoutLayers, folder, new TorrentOptions { UploadSlots = 0, UseTrackers = false, UseDht = false }, null, CancellationToken.None);
        try
        {
            var from = new IPAddress([10, (byte)(100 + (run >> 16 & 0x7F)), (byte)(run >> 8), (byte)run]);
            await using InMemoryTransport transport = node.Network.CreateTransport(from);
            using var deadline = new CancellationTokenSource(Deadline);
            await using IDuplexConnection connection = await transport.ConnectAsync(node.Session.LocalEndPoint!, deadline.Token);
            var asked = new Asked();
            Task reading = ReadAsync(connection.Input, node, asked, deadline.Token);
            try
            {
                await connection.Output.WriteAsync(Opening(node.Torrent), deadline.Token);
                foreach (byte[] frame in Frames(input))
                {
                    if (await ResolveAsync(frame, node, asked, deadline.Token) is { } resolved)
                    {
                        await connection.Output.WriteAsync(resolved, deadline.Token);
                    }
                }

                await connection.Output.WriteAsync(PeerMessageWriter.KeepAlive, deadline.Token);
                await Task.Delay(20, deadline.Token); // the last frames reach the node's loop
            }
            catch (IOException)
            {
                // The node closed the connection (a malformed or hostile frame): the session is over.
            }

            connection.Abort();
            await reading;
        }
        finally
        {
            Check.That(swarm.State != TorrentState.Error, $"the torrent failed: {swarm.Error}");
            await node.Session.RemoveTorrentAsync(swarm);
            CheckWhatStayed(node, swarm, withoutLayers, folder);
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>What the node kept is true: every verified piece on disk, and an installed piece layer.</summary>
    private static void CheckWhatStayed(Leecher node, TorrentSwarm swarm, TorrentMetainfo used, string folder)
    {
        foreach ((Sha256Hash root, ReadOnlyMemory<byte> layer) in used.PieceLayers)
        {
            Check.Bytes(node.Torrent.PieceLayers[root].Span, layer.Span, "installed piece layer");
        }

        TorrentStatus status = swarm.GetStatus();
        if (status.PiecesVerified == 0)
        {
            return;
        }

        foreach (TorrentFile file in node.Torrent.Files.Where(f => !f.IsPadFile && f.Length > 0))
        {
            string path = Path.Combine(folder, file.Path);
            if (!File.Exists(path))
            {
                continue;
            }

            byte[] onDisk = File.ReadAllBytes(path);
            byte[] truth = node.Content[file.Path];
            for (int piece = file.FirstPiece; piece <= file.LastPiece; piece++)
            {
                long start = (piece - file.FirstPiece) * node.Torrent.PieceLength;
                int length = (int)Math.Min(node.Torrent.PieceLength, file.Length - start);
                if (onDisk.Length >= start + length && !onDisk.AsSpan((int)start, length).SequenceEqual(truth.AsSpan((int)start, length))
                    && onDisk.AsSpan((int)start, length).ContainsAnyExcept((byte)0))
                {
                    throw new FuzzInvariantException($"piece {piece} of {file.Path} on disk is not the true data");
                }
            }
        }
    }

    /// <summary>The input's complete frames (a 4-byte length, then that many bytes); a partial last frame is dropped.</summary>
    private static IEnumerable<byte[]> Frames(byte[] input)
    {
        int at = 0;
        while (input.Length - at >= 4)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(input.AsSpan(at));
            if (length > input.Length - at - 4)
            {
                yield break;
            }

            yield return input.AsSpan(at, 4 + (int)length).ToArray();
            at += 4 + (int)length;
        }
    }

    /// <summary>A frame as sent: placeholders filled from what the node asked (null to skip one the node gave no request for).</summary>
    private static async Task<byte[]?> ResolveAsync(byte[] frame, Leecher node, Asked asked, CancellationToken deadline)
    {
        if (frame.Length < 5)
        {
            return frame;
        }

        var id = (PeerMessageId)frame[4];
        bool hashPlaceholder = id is PeerMessageId.Hashes or PeerMessageId.HashReject && frame.Length >= 5 + HashRequest.WireLength
            && !frame.AsSpan(5, HashRequest.WireLength).ContainsAnyExcept((byte)0);
        bool blockPlaceholder = id == PeerMessageId.Piece && frame.Length == 13;
        if (!hashPlaceholder && !blockPlaceholder)
        {
            return frame;
        }

        if (hashPlaceholder)
        {
            HashRequest? request = await asked.NextHashRequestAsync(PlaceholderWait, deadline);
            if (request is not { } r)
            {
                return null;
            }

            byte[] reply = new byte[PeerMessageWriter.HashRequestLength];
            if (id == PeerMessageId.HashReject)
            {
                PeerMessageWriter.WriteHashReject(reply, r);
                return reply;
            }

            var output = new ArrayBufferWriter<byte>();
            ReadOnlySpan<byte> rest = frame.AsSpan(5 + HashRequest.WireLength);
            if (rest.IsEmpty)
            {
                PeerMessageWriter.WriteHashes(output, r, node.TrueHashes(r));
            }
            else
            {
                output.Advance(PeerMessageWriter.WriteHashesHeader(output.GetSpan(PeerMessageWriter.HashRequestLength), r, rest.Length / Sha256Hash.Length));
                output.Write(rest[..(rest.Length / Sha256Hash.Length * Sha256Hash.Length)]);
            }

            return output.WrittenSpan.ToArray();
        }

        BlockRequest? block = await asked.NextBlockRequestAsync(PlaceholderWait, deadline);
        return block is { } b ? node.TrueBlock(b) : null;
    }

    /// <summary>Reads the node's frames (each must parse) and records its hash and block requests, until the connection ends.</summary>
    private static async Task ReadAsync(PipeReader input, Leecher node, Asked asked, CancellationToken deadline)
    {
        int skip = Handshake.Length;
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync(deadline);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (skip > 0)
                {
                    int skipped = (int)Math.Min(skip, buffer.Length);
                    buffer = buffer.Slice(skipped);
                    skip -= skipped;
                }

                while (true)
                {
                    OperationStatus status = PeerFrameReader.TryReadMessage(ref buffer, node.MaxMessageLength, out PeerMessage message, out PeerWireError error);
                    if (status == OperationStatus.NeedMoreData)
                    {
                        break;
                    }

                    Check.That(status == OperationStatus.Done, $"the node sent a malformed frame: {error}");
                    asked.Saw(message);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The session is over (we aborted it, or the node closed it).
        }
    }

    private static byte[] Opening(TorrentMetainfo torrent)
    {
        var output = new ArrayBufferWriter<byte>();
        Span<byte> id = stackalloc byte[PeerId.Length];
        "-FZ0002-"u8.CopyTo(id);
        RandomNumberGenerator.Fill(id[8..]);
        output.Advance(new Handshake(HandshakeReserved.ExtensionProtocol | HandshakeReserved.FastExtension | HandshakeReserved.V2Upgrade, torrent.InfoHashes.WireHash, new PeerId(id)).WriteTo(output.GetSpan(Handshake.Length)));
        new ExtensionHandshake { Messages = new Dictionary<string, byte> { [TorrentSwarm.MetadataExtensionName] = 3 } }.WriteMessage(output);
        output.Write(PeerMessageWriter.HaveAll.Span);
        output.Write(PeerMessageWriter.Unchoke.Span);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>The node's requests seen and not yet answered by a placeholder, oldest first.</summary>
    private sealed class Asked
    {
        private readonly Queue<HashRequest> _hashes = new();
        private readonly Queue<BlockRequest> _blocks = new();
        private readonly SemaphoreSlim _arrived = new(0);

        public void Saw(in PeerMessage message)
        {
            lock (this)
            {
                if (message.Id == PeerMessageId.HashRequest)
                {
                    _hashes.Enqueue(message.HashRequest);
                }
                else if (message.Id == PeerMessageId.Request)
                {
                    _blocks.Enqueue(new BlockRequest(message.PieceIndex, message.Begin, message.Length));
                }
                else
                {
                    return;
                }
            }

            _arrived.Release();
        }

        public Task<HashRequest?> NextHashRequestAsync(TimeSpan wait, CancellationToken deadline) => NextAsync(_hashes, wait, deadline);

        public Task<BlockRequest?> NextBlockRequestAsync(TimeSpan wait, CancellationToken deadline) => NextAsync(_blocks, wait, deadline);

        private async Task<T?> NextAsync<T>(Queue<T> queue, TimeSpan wait, CancellationToken deadline)
            where T : struct
        {
            long until = Environment.TickCount64 + (long)wait.TotalMilliseconds;
            while (true)
            {
                lock (this)
                {
                    if (queue.TryDequeue(out T next))
                    {
                        return next;
                    }
                }

                long left = until - Environment.TickCount64;
                if (left <= 0 || !await _arrived.WaitAsync(TimeSpan.FromMilliseconds(left), deadline))
                {
                    return null;
                }
            }
        }
    }
}

/// <summary>The downloading node of <see cref="LeechSessionTarget"/>, and the truth its checks compare with.</summary>
internal sealed class Leecher
{
    private readonly PeerNet.Storage.MerkleHashServer _hashes;
    private readonly PeerNet.Storage.TorrentStorage _truth;

    private Leecher(string root, InMemoryNetwork network, SwarmSession session, TorrentMetainfo torrent, Dictionary<string, byte[]> content, PeerNet.Storage.TorrentStorage truth)
    {
        Root = root;
        Network = network;
        Session = session;
        Torrent = torrent;
        Content = content;
        _truth = truth;
        _hashes = new PeerNet.Storage.MerkleHashServer(truth.Map);
    }

    public string Root { get; }

    public InMemoryNetwork Network { get; }

    public SwarmSession Session { get; }

    /// <summary>The torrent with its piece layers (the truth).</summary>
    public TorrentMetainfo Torrent { get; }

    /// <summary>Each file's true bytes, by its path in the torrent.</summary>
    public Dictionary<string, byte[]> Content { get; }

    public int MaxMessageLength => Math.Max(PeerWireLimits.MaxMessageLengthFor(Torrent.PieceCount), PeerWireLimits.BlockLength + 13);

    /// <summary>The torrent as a magnet leaves it: its info dictionary alone, without piece layers (parsed anew: a run installs layers into it).</summary>
    public TorrentMetainfo WithoutLayers()
        => TorrentMetainfo.TryParseInfoDictionary(Torrent.InfoBytes, out TorrentMetainfo? parsed, out MetainfoError error)
            ? parsed
            : throw new InvalidOperationException("the torrent's own info dictionary does not parse: " + error);

    /// <summary>The true reply to a hash request (none for one the truth cannot answer).</summary>
    public Sha256Hash[] TrueHashes(in HashRequest request)
        => _hashes.TryPlan(request, out _) ? _hashes.GetHashes(request, _truth) : [];

    /// <summary>A piece message with the true block <paramref name="block"/>.</summary>
    public byte[] TrueBlock(BlockRequest block)
    {
        byte[] message = new byte[PeerMessageWriter.PieceHeaderLength + block.Length];
        int header = PeerMessageWriter.WritePieceHeader(message, block.PieceIndex, block.Begin, block.Length);
        long offset = (block.PieceIndex * Torrent.PieceLength) + block.Begin;
        int available = (int)Math.Clamp(_truth.Map.SpaceSize - offset, 0, block.Length);
        _truth.Read(offset, message.AsSpan(header, available));
        return message;
    }

    public static async Task<Leecher> StartAsync()
    {
        string root = Directory.CreateTempSubdirectory("peernet-fuzz-leech-").FullName;
        string source = Path.Combine(root, "content");
        Directory.CreateDirectory(source);
        var random = new Random(11);
        var content = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach ((string name, int size) in new[] { ("a.bin", 150_001), ("b.bin", 20_000) })
        {
            byte[] bytes = new byte[size];
            random.NextBytes(bytes);
            await File.WriteAllBytesAsync(Path.Combine(source, name), bytes);
            content["content/" + name] = bytes;
        }

        TorrentMetainfo torrent = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(new TorrentCreationOptions { SourcePath = source, Version = TorrentVersion.V2, PieceLength = 32 * 1024 }));
        var truth = PeerNet.Storage.TorrentStorage.Open(torrent, source, new PeerNet.Storage.StorageOptions { ReadOnly = true, PathIsContent = true });
        var network = new InMemoryNetwork();
        var address = IPAddress.Parse("10.98.0.1");
        var session = new SwarmSession(new SessionOptions { ListenEndPoint = new IPEndPoint(address, 6881) }, network.CreateTransport(address));
        await session.StartAsync(CancellationToken.None);
        return new Leecher(Path.Combine(root, "runs"), network, session, torrent, content, truth);
    }
}
