using PeerNet.Storage;

namespace PeerNet.Swarm;

/// <summary>
/// A piece being downloaded: blocks are copied straight from the socket's pipe into this pooled buffer, then
/// the whole piece is hashed and, only if good, written to disk in one write. So the disk never holds
/// unverified data, and writes are coalesced to piece size. The buffer is page-aligned
/// (<see cref="AlignedBufferPool"/>), so that write can bypass the page cache.
/// </summary>
/// <remarks>
/// Reader loops claim a block with <see cref="TryClaim"/> before copying into it, so two peers answering the
/// same request in endgame never write the same bytes at once; the torrent's loop owns everything else.
/// </remarks>
internal sealed class PieceBuffer : IDisposable
{
    private readonly ulong[] _claimed;
    private readonly AlignedBuffer _data;
    private int _disposed;

    public PieceBuffer(int piece, int length, int blockLength)
    {
        Piece = piece;
        Length = length;
        BlockCount = (length + blockLength - 1) / blockLength;
        _claimed = new ulong[(BlockCount + 63) / 64];
        _data = AlignedBufferPool.Shared.Rent(length);
    }

    public int Piece { get; }

    public int Length { get; }

    public int BlockCount { get; }

    public Memory<byte> Data => Volatile.Read(ref _disposed) == 0 ? _data.Memory : throw new ObjectDisposedException(nameof(PieceBuffer));

    /// <summary>Claims a block for copying; false if another reader already has it.</summary>
    public bool TryClaim(int block)
    {
        ulong bit = 1UL << (block & 63);
        ref ulong word = ref _claimed[block >> 6];
        return (Interlocked.Or(ref word, bit) & bit) == 0;
    }

    /// <summary>Gives a block back (its data was not accepted), so another peer's copy can fill it.</summary>
    public void Unclaim(int block) => Interlocked.And(ref _claimed[block >> 6], ~(1UL << (block & 63)));

    /// <summary>Forgets every block after a hash failure, so the piece is downloaded again.</summary>
    public void Reset()
    {
        for (int i = 0; i < _claimed.Length; i++)
        {
            Volatile.Write(ref _claimed[i], 0);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            AlignedBufferPool.Shared.Return(_data);
        }
    }
}
