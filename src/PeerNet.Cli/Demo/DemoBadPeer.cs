using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using PeerNet.Metainfo;

namespace PeerNet.Cli.Demo;

/// <summary>
/// The demo's bad peer: not a PeerNet node but a few lines of BEP 3 over a socket, so that nothing in the engine has to
/// know how to misbehave. It listens on its own address; to a leecher that dials it, it answers the handshake, says it
/// has every piece (a full bitfield), unchokes it once it is interested, and answers each request with the true block
/// from the content file with one byte flipped. It offers no extension, ignores every other message and sends nothing
/// else. Its uploads are paced to a cap, as a node's are.
/// </summary>
internal sealed class DemoBadPeer : IAsyncDisposable
{
    private const int HandshakeLength = 68;
    private const int InfoHashOffset = 28;
    private const int PeerIdOffset = 48;
    private const byte Unchoke = 1;
    private const byte Interested = 2;
    private const byte Bitfield = 5;
    private const byte Request = 6;
    private const byte Piece = 7;
    private const int RequestLength = 13;
    private const int PieceHeaderLength = 13;

    // Longer than any message a leecher sends a peer that offers no extension (its bitfield is one bit a piece).
    private const int MaxMessageLength = 64 * 1024;

    // Leechers ask for 16 KiB blocks; BEP 3 lets a peer close on bigger requests (libtorrent's limit).
    private const int MaxBlockLength = 128 * 1024;

    private static readonly byte[] UnchokeMessage = [0, 0, 0, 1, Unchoke];

    private readonly TcpListener _listener;
    private readonly TorrentMetainfo _metainfo;
    private readonly SafeFileHandle _content;
    private readonly long _uploadRate;
    private readonly byte[] _peerId = new byte[20];
    private readonly byte[] _bitfield;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Lock _paceGate = new();
    private readonly Task _accepting;
    private long _nextSend;
    private long _uploaded;
    private readonly Lock _rateGate = new();
    private long _rateSampleTime = Stopwatch.GetTimestamp();
    private long _rateSampleBytes;
    private double _rate;

    private DemoBadPeer(TcpListener listener, TorrentMetainfo metainfo, SafeFileHandle content, long uploadRate)
    {
        _listener = listener;
        _metainfo = metainfo;
        _content = content;
        _uploadRate = uploadRate;
        "-BP0001-"u8.CopyTo(_peerId);
        Random.Shared.NextBytes(_peerId.AsSpan(8));
        _bitfield = FullBitfield(metainfo.PieceCount);
        _accepting = AcceptAsync();
    }

    /// <summary>Where it listens.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Pieces it claims to have: all.</summary>
    public int PieceCount => _metainfo.PieceCount;

    /// <summary>Payload bytes sent (every one of them in a corrupt block).</summary>
    public long Uploaded => Interlocked.Read(ref _uploaded);

    public bool IsRunning => !_stop.IsCancellationRequested;

    /// <summary>Upload rate in bytes per second, measured over a second or more.</summary>
    public double UploadRate
    {
        get
        {
            lock (_rateGate)
            {
                long now = Stopwatch.GetTimestamp();
                TimeSpan span = Stopwatch.GetElapsedTime(_rateSampleTime, now);
                if (span >= TimeSpan.FromSeconds(1))
                {
                    long uploaded = Uploaded;
                    _rate = (uploaded - _rateSampleBytes) / span.TotalSeconds;
                    (_rateSampleTime, _rateSampleBytes) = (now, uploaded);
                }

                return _rate;
            }
        }
    }

    /// <summary>
    /// Listens on <paramref name="address"/> (any free port) as a peer of <paramref name="metainfo"/>, whose single file
    /// is <paramref name="contentPath"/>; <paramref name="uploadRate"/> caps what it sends (0: no cap).
    /// </summary>
    public static DemoBadPeer Start(IPAddress address, TorrentMetainfo metainfo, string contentPath, long uploadRate)
    {
        if (metainfo.Files.Count(f => !f.IsPadFile) != 1)
        {
            throw new ArgumentException("the bad peer serves a torrent of one file", nameof(metainfo));
        }

        SafeFileHandle content = File.OpenHandle(contentPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        var listener = new TcpListener(address, 0);
        try
        {
            listener.Start();
            return new DemoBadPeer(listener, metainfo, content, uploadRate);
        }
        catch
        {
            listener.Dispose();
            content.Dispose();
            throw;
        }
    }

    private static byte[] FullBitfield(int pieces)
    {
        int length = (pieces + 7) / 8;
        byte[] message = new byte[5 + length];
        BinaryPrimitives.WriteInt32BigEndian(message, 1 + length);
        message[4] = Bitfield;
        message.AsSpan(5).Fill(0xFF);
        if (pieces % 8 != 0)
        {
            message[^1] = (byte)(0xFF << (8 - (pieces % 8))); // BEP 3: spare bits at the end are cleared
        }

        return message;
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException && _stop.IsCancellationRequested)
            {
                return;
            }

            lock (_connections)
            {
                _connections.Add(ServeAsync(socket, _stop.Token));
            }
        }
    }

    /// <summary>One leecher's connection, until it closes it (a ban) or the peer stops.</summary>
    private async Task ServeAsync(Socket socket, CancellationToken cancellationToken)
    {
        var stream = new NetworkStream(socket, ownsSocket: true);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                await ServeAsync(stream, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException || (e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                // Closed by the leecher (it banned us) or by our stop.
            }
        }
    }

    private async Task ServeAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        // BEP 3: the dialler's handshake first; ours echoes its protocol and info-hash, with no reserved bit set.
        byte[] handshake = new byte[HandshakeLength];
        await stream.ReadExactlyAsync(handshake, cancellationToken).ConfigureAwait(false);
        var infoHash = new Sha1Hash(handshake.AsSpan(InfoHashOffset, Sha1Hash.Length));
        if (handshake[0] != 19 || !handshake.AsSpan(1, 19).SequenceEqual("BitTorrent protocol"u8) || !_metainfo.InfoHashes.SwarmHashes.Contains(infoHash))
        {
            return;
        }

        handshake.AsSpan(20, 8).Clear();
        _peerId.CopyTo(handshake.AsSpan(PeerIdOffset));
        await stream.WriteAsync(handshake, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(_bitfield, cancellationToken).ConfigureAwait(false);

        byte[] message = new byte[MaxMessageLength];
        bool unchoked = false;
        while (true)
        {
            await stream.ReadExactlyAsync(message.AsMemory(0, 4), cancellationToken).ConfigureAwait(false);
            int length = BinaryPrimitives.ReadInt32BigEndian(message);
            if (length is < 0 or > MaxMessageLength)
            {
                return;
            }

            await stream.ReadExactlyAsync(message.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            if (length == 0)
            {
                continue; // keep-alive
            }

            if (message[0] == Interested && !unchoked)
            {
                unchoked = true;
                await stream.WriteAsync(UnchokeMessage, cancellationToken).ConfigureAwait(false);
            }
            else if (message[0] == Request && length == RequestLength && unchoked)
            {
                int piece = BinaryPrimitives.ReadInt32BigEndian(message.AsSpan(1));
                int begin = BinaryPrimitives.ReadInt32BigEndian(message.AsSpan(5));
                int blockLength = BinaryPrimitives.ReadInt32BigEndian(message.AsSpan(9));
                if (!await SendCorruptBlockAsync(stream, piece, begin, blockLength, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
    }

    /// <summary>Sends the block asked for, read from the content and then corrupted; false for a request outside the torrent.</summary>
    private async Task<bool> SendCorruptBlockAsync(NetworkStream stream, int piece, int begin, int length, CancellationToken cancellationToken)
    {
        if (piece < 0 || piece >= _metainfo.PieceCount || begin < 0 || length is <= 0 or > MaxBlockLength || begin + (long)length > _metainfo.GetPieceSize(piece))
        {
            return false;
        }

        byte[] message = ArrayPool<byte>.Shared.Rent(PieceHeaderLength + length);
        try
        {
            BinaryPrimitives.WriteInt32BigEndian(message, 9 + length);
            message[4] = Piece;
            BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(5), piece);
            BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(9), begin);
            Span<byte> block = message.AsSpan(PieceHeaderLength, length);
            long offset = (piece * _metainfo.PieceLength) + begin; // one file: the torrent's bytes are the file's
            for (int read = 0; read < length;)
            {
                int n = RandomAccess.Read(_content, block[read..], offset + read);
                if (n == 0)
                {
                    return false; // the content is shorter than the torrent says
                }

                read += n;
            }

            block[length / 2] ^= 0xFF;
            await PaceAsync(length, cancellationToken).ConfigureAwait(false);
            await stream.WriteAsync(message.AsMemory(0, PieceHeaderLength + length), cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _uploaded, length);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(message);
        }
    }

    /// <summary>Waits for this block's turn under the upload cap, shared by every connection.</summary>
    private async Task PaceAsync(int bytes, CancellationToken cancellationToken)
    {
        if (_uploadRate <= 0)
        {
            return;
        }

        TimeSpan wait;
        lock (_paceGate)
        {
            long now = Stopwatch.GetTimestamp();
            long start = Math.Max(now, _nextSend);
            _nextSend = start + (long)((double)bytes * Stopwatch.Frequency / _uploadRate);
            wait = Stopwatch.GetElapsedTime(now, start);
        }

        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops listening and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _accepting.ConfigureAwait(false);
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        await Task.WhenAll(connections).ConfigureAwait(false);
        _content.Dispose();
        _listener.Dispose();
        _stop.Dispose();
    }
}
