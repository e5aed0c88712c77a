using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.InteropServices;

namespace PeerNet.Storage;

/// <summary>
/// Page-aligned byte buffers, pooled by power-of-two size. Pieces are received into them so that
/// <see cref="PhysicalFileSystem"/> can write them with <c>O_DIRECT</c>, which needs the memory, the file offset and
/// the length aligned to the device's logical block size (<see cref="Alignment"/> covers 512-byte and 4 KiB devices).
/// </summary>
/// <remarks>
/// The arrays live on the pinned object heap, so the aligned start found at allocation holds for the array's life;
/// they are managed, so a buffer read after its return is a logic error that reads stale bytes, never freed memory.
/// The pool keeps at most a fixed number of bytes; a buffer returned past that is left to the collector.
/// </remarks>
internal sealed class AlignedBufferPool
{
    /// <summary>Alignment of every buffer's start, in bytes.</summary>
    public const int Alignment = 4096;

    private const int MinShift = 14; // 16 KiB: one block
    private const int MaxShift = 26; // 64 MiB; longer buffers are allocated each time

    private readonly ConcurrentStack<byte[]>[] _buckets;
    private readonly long _maxRetainedBytes;
    private long _retainedBytes;

    /// <summary>Creates a pool that keeps at most <paramref name="maxRetainedBytes"/> of returned buffers.</summary>
    public AlignedBufferPool(long maxRetainedBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedBytes);
        _maxRetainedBytes = maxRetainedBytes;
        _buckets = new ConcurrentStack<byte[]>[MaxShift - MinShift + 1];
        for (int i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = new ConcurrentStack<byte[]>();
        }
    }

    /// <summary>
    /// The process's pool. It keeps up to 64 MiB, a session's default budget for pieces in flight
    /// (<c>SwarmOptions.MaxPieceBufferBytes</c>), so a download at full speed allocates no new buffers.
    /// </summary>
    public static AlignedBufferPool Shared { get; } = new(64L * 1024 * 1024);

    /// <summary>Bytes held by returned buffers now.</summary>
    public long RetainedBytes => Interlocked.Read(ref _retainedBytes);

    /// <summary>Rents a buffer of at least <paramref name="length"/> bytes whose start is page-aligned. Not cleared.</summary>
    public AlignedBuffer Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        int shift = Math.Max(MinShift, 32 - BitOperations.LeadingZeroCount((uint)length - 1));
        if (shift > MaxShift)
        {
            return AlignedBuffer.Allocate(length, length, pooled: false);
        }

        if (_buckets[shift - MinShift].TryPop(out byte[]? array))
        {
            Interlocked.Add(ref _retainedBytes, -array.Length);
            return AlignedBuffer.Wrap(array, length);
        }

        return AlignedBuffer.Allocate(1 << shift, length, pooled: true);
    }

    /// <summary>Gives a buffer back; it must not be used afterwards.</summary>
    public void Return(AlignedBuffer buffer)
    {
        byte[]? array = buffer.Array;
        if (array is null || !buffer.Pooled)
        {
            return;
        }

        int capacity = array.Length - Alignment;
        int shift = BitOperations.Log2((uint)capacity);
        if (Interlocked.Add(ref _retainedBytes, array.Length) > _maxRetainedBytes)
        {
            Interlocked.Add(ref _retainedBytes, -array.Length);
            return;
        }

        _buckets[shift - MinShift].Push(array);
    }
}

/// <summary>
/// A rented buffer: <see cref="Length"/> bytes from <see cref="Offset"/> in <see cref="Array"/>, the offset chosen so
/// the data starts on an <see cref="AlignedBufferPool.Alignment"/> boundary.
/// </summary>
internal readonly record struct AlignedBuffer(byte[] Array, int Offset, int Length, bool Pooled)
{
    /// <summary>The usable bytes.</summary>
    public Memory<byte> Memory => Array.AsMemory(Offset, Length);

    /// <summary>A new array with room for <paramref name="capacity"/> aligned bytes, of which <paramref name="length"/> are lent.</summary>
    internal static AlignedBuffer Allocate(int capacity, int length, bool pooled)
    {
        // One alignment's slack: the pinned heap aligns arrays to pointer size only.
        byte[] array = GC.AllocateUninitializedArray<byte>(capacity + AlignedBufferPool.Alignment, pinned: true);
        return new AlignedBuffer(array, AlignedOffset(array), length, pooled);
    }

    internal static AlignedBuffer Wrap(byte[] array, int length) => new(array, AlignedOffset(array), length, Pooled: true);

    private static int AlignedOffset(byte[] array)
    {
        // A pinned-heap array never moves, so its address may be read once without a pin.
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        return (int)(-address & (AlignedBufferPool.Alignment - 1));
    }
}
