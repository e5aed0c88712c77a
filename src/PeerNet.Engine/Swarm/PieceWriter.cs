using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using PeerNet.PeerWire;
using PeerNet.Storage;

namespace PeerNet.Swarm;

/// <summary>
/// Pieces on their way to disk: the pooled buffer each is received into (within the torrent's memory budget for
/// pieces in flight), the hashing of a complete one on the session's hashing queue, the write of a good one on the
/// session's writer, and the work still running (awaited before the storage closes). The loop owns it; reader loops
/// only look buffers up (<see cref="TryGetBuffer"/>). What a hash found reaches the loop through the callback given,
/// once per piece, never from the loop's own thread.
/// </summary>
internal sealed class PieceWriter
{
    private const int BlockLength = PeerWireLimits.BlockLength;

    private readonly ConcurrentDictionary<int, PieceBuffer> _buffers = new(concurrencyLevel: 1, capacity: 4); // small: one per torrent, rarely written, and a node may host thousands of torrents
    private readonly HashSet<int> _hashing = [];
    private readonly List<Task> _work = []; // hash-and-write items in flight
    private readonly TorrentStorage _storage;
    private readonly PieceVerifier _verifier;
    private readonly WorkQueue _hashQueue;
    private readonly WorkQueue _writeQueue;
    private readonly long _maxBufferBytes;
    private readonly Action<int, HashedPiece?> _hashed;
    private readonly CancellationToken _stopping;

    /// <param name="storage">Where good pieces are written.</param>
    /// <param name="verifier">Checks a complete piece against the torrent's hashes.</param>
    /// <param name="hashQueue">Runs the hashing (the session's, one worker per core).</param>
    /// <param name="writeQueue">Runs the writes (the session's writer).</param>
    /// <param name="maxBufferBytes">The memory budget for pieces in flight (<see cref="TorrentOptions.MaxPieceBufferBytes"/>).</param>
    /// <param name="hashed">Told once per hashed piece; null when the work was dropped because the torrent is stopping.</param>
    /// <param name="stopping">Cancelled when the torrent stops.</param>
    public PieceWriter(TorrentStorage storage, PieceVerifier verifier, WorkQueue hashQueue, WorkQueue writeQueue, long maxBufferBytes, Action<int, HashedPiece?> hashed, CancellationToken stopping)
    {
        _storage = storage;
        _verifier = verifier;
        _hashQueue = hashQueue;
        _writeQueue = writeQueue;
        _maxBufferBytes = maxBufferBytes;
        _hashed = hashed;
        _stopping = stopping;
    }

    /// <summary>Pieces with a buffer.</summary>
    public int BufferCount => _buffers.Count;

    /// <summary>Pieces being hashed or written.</summary>
    public int HashingCount => _hashing.Count;

    /// <summary>The buffer of a piece being received (safe from any thread: reader loops copy blocks into it).</summary>
    public bool TryGetBuffer(int piece, [NotNullWhen(true)] out PieceBuffer? buffer) => _buffers.TryGetValue(piece, out buffer);

    /// <summary>The buffers (a copy, for diagnostics).</summary>
    public PieceBuffer[] GetBuffers() => [.. _buffers.Values];

    /// <summary>
    /// Makes sure a piece has a buffer to receive into, within the memory budget for pieces in flight
    /// (the picker finishes started pieces first, so the budget bounds memory, not progress).
    /// </summary>
    public bool EnsureBuffer(int piece)
    {
        if (_buffers.ContainsKey(piece))
        {
            return true;
        }

        PieceMap map = _storage.Map;
        if (!_buffers.IsEmpty && (_buffers.Count + 1) * map.PieceLength > _maxBufferBytes)
        {
            return false;
        }

        var buffer = new PieceBuffer(piece, map.GetPieceSize(piece), BlockLength);

        // Pad and gap bytes past the requested blocks are zeros that no peer sends; the pooled buffer may not be.
        buffer.Data.Span[map.GetRequestableLength(piece)..].Clear();
        _buffers[piece] = buffer;
        return true;
    }

    /// <summary>A piece is on disk: its buffer goes back to the pool.</summary>
    public void ReleaseBuffer(int piece)
    {
        if (_buffers.TryRemove(piece, out PieceBuffer? buffer))
        {
            buffer.Dispose();
        }
    }

    /// <summary>
    /// Hashes a complete piece on the hashing queue and, if it passes, writes it on the writer; the loop hears once,
    /// when both are done. False if the piece is already being hashed. The write is not done by the hashing worker: a
    /// write the kernel throttles (dirty pages over its limit while earlier data is written back) would stall hashing
    /// with it, and with it the whole download, where a writer of its own only lets verified pieces wait in their buffers.
    /// </summary>
    public bool TryHash(PieceBuffer buffer)
    {
        if (!_hashing.Add(buffer.Piece))
        {
            return false;
        }

        Task work = HashAndWriteAsync(buffer.Piece, buffer.Data);
        _work.RemoveAll(static t => t.IsCompleted);
        _work.Add(work);
        return true;
    }

    /// <summary>The loop heard of a hashed piece: it may be hashed again (after a failure, once downloaded again).</summary>
    public void OnHashed(int piece) => _hashing.Remove(piece);

    /// <summary>
    /// Completes when every hash-and-write item has ended: those still running read their buffers and write the
    /// storage, so both stay until then. (One not started when stopping cancelled it never runs; a verified piece not
    /// written is not marked as had, so resume data stays true and the piece is fetched again next time.)
    /// </summary>
    public Task WhenIdleAsync() => Task.WhenAll(_work);

    /// <summary>Returns every buffer to the pool (once the work has ended).</summary>
    public void DisposeBuffers()
    {
        foreach (PieceBuffer buffer in _buffers.Values)
        {
            buffer.Dispose();
        }

        _buffers.Clear();
    }

    private async Task HashAndWriteAsync(int piece, ReadOnlyMemory<byte> data)
    {
        HashedPiece? hashed = null;
        try
        {
            PieceCheckResult result = await _hashQueue.RunAsync(() => _verifier.Verify(piece, data.Span), _stopping).ConfigureAwait(false);

            // Stopping: a verified piece not yet written is not marked as had, so the resume data stays true.
            hashed = result.Verdict != PieceVerdict.Good || _stopping.IsCancellationRequested
                ? new HashedPiece(result, Written: false, null)
                : await _writeQueue.RunAsync(() => Write(piece, data, result), _stopping).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Dropped when stopping (cancelled or the queues closed): the loop treats null as "stopping".
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        _hashed(piece, hashed);
    }

    private HashedPiece Write(int piece, ReadOnlyMemory<byte> data, PieceCheckResult result)
    {
        try
        {
            // Synchronous underneath (positional writes under the storage's lock).
            _storage.WriteBlockAsync(piece, 0, data, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            return new HashedPiece(result, Written: true, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            return new HashedPiece(result, Written: false, e);
        }
    }
}

/// <summary>A hashed piece: the check's result, and for a good piece whether it was written or why not.</summary>
internal sealed record HashedPiece(PieceCheckResult Result, bool Written, Exception? WriteError);
