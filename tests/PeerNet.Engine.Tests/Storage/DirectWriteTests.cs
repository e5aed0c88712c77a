using System.Runtime.InteropServices;
using CsCheck;
using PeerNet.Metainfo;
using PeerNet.Storage;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Storage;

/// <summary>
/// <see cref="PhysicalFileSystem"/>'s O_DIRECT writes of aligned ranges, and the aligned buffers they need. Each test
/// uses a file system instance of its own, so its byte counters see only its own writes.
/// </summary>
public sealed class DirectWriteTests
{
    private const int Page = AlignedBufferPool.Alignment;

    [Fact]
    public void AlignedWrite_FromAlignedBuffer_BypassesTheCache_AndReadsBack()
    {
        using var dir = new TempDirectory();
        var fs = new PhysicalFileSystem(directWrites: true);
        AlignedBuffer buffer = Filled(64 * 1024, seed: 1);
        string path = dir.Combine("f.bin");

        using (IStorageFile file = fs.OpenFile(path, FileMode.Create, FileAccess.ReadWrite))
        {
            file.SetLength(256 * 1024);
            file.Write(buffer.Memory.Span, 128 * 1024);
        }

        RequireDirectWhereSupported(fs, dir.Path);
        Assert.Equal(64 * 1024, fs.DirectBytesWritten);
        Assert.Equal(0, fs.BufferedBytesWritten);
        byte[] back = File.ReadAllBytes(path);
        Assert.True(back.AsSpan(128 * 1024, 64 * 1024).SequenceEqual(buffer.Memory.Span));
        Assert.True(back.AsSpan(0, 128 * 1024).IndexOfAnyExcept((byte)0) < 0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TorrentStorage_DirectWritesOption_PicksTheSharedFileSystem(bool direct)
    {
        // The shared instances count every test's writes, so only growth is asserted.
        using var dir = new TempDirectory();
        TestTorrent t = TestTorrent.Build(TorrentVersion.V1, 64 * 1024, [TestFile.Random("big", 256 * 1024, 6)], singleFile: true, name: "big");
        PhysicalFileSystem shared = direct ? PhysicalFileSystem.Instance : PhysicalFileSystem.Buffered;
        long before = direct ? shared.DirectBytesWritten : shared.BufferedBytesWritten;
        using var piece = new PieceBuffer(1, 64 * 1024, 16 * 1024);
        t.Piece(1).CopyTo(piece.Data);
        await using (TorrentStorage storage = TorrentStorage.Open(t.Metainfo, dir.Path, new StorageOptions { DirectWrites = direct }))
        {
            await storage.WriteBlockAsync(1, 0, piece.Data, TestContext.Current.CancellationToken);
        }

        if (direct)
        {
            RequireDirectWhereSupported(shared, dir.Path);
        }

        long after = direct ? shared.DirectBytesWritten : shared.BufferedBytesWritten;
        Assert.True(after - before >= 64 * 1024, $"{after - before} bytes written the chosen way");
    }

    [Fact]
    public void UnalignedOffset_WritesHeadAndTailThroughTheCache_AndTheAlignedMiddleDirect()
    {
        using var dir = new TempDirectory();
        var fs = new PhysicalFileSystem(directWrites: true);
        AlignedBuffer buffer = Filled(8 * Page, seed: 2);

        // Memory at page + 1000 written at file offset 1000: the same remainder, so the pages between line up.
        ReadOnlySpan<byte> source = buffer.Memory.Span.Slice(1000, (3 * Page) + 500);
        string path = dir.Combine("f.bin");
        using (IStorageFile file = fs.OpenFile(path, FileMode.Create, FileAccess.ReadWrite))
        {
            file.SetLength(8 * Page);
            file.Write(source, 1000);
        }

        RequireDirectWhereSupported(fs, dir.Path);
        Assert.Equal(2 * Page, fs.DirectBytesWritten); // pages 1 and 2; page 0's tail and page 3's head are cached
        Assert.Equal(source.Length - (2 * Page), fs.BufferedBytesWritten);
        Assert.True(File.ReadAllBytes(path).AsSpan(1000, source.Length).SequenceEqual(source));
    }

    [Fact]
    public void MemoryNotAligned_WritesEverythingThroughTheCache()
    {
        using var dir = new TempDirectory();
        var fs = new PhysicalFileSystem(directWrites: true);
        AlignedBuffer buffer = Filled(4 * Page, seed: 3);
        ReadOnlySpan<byte> source = buffer.Memory.Span.Slice(8, 2 * Page); // aligned file offset, memory 8 bytes off
        string path = dir.Combine("f.bin");
        using (IStorageFile file = fs.OpenFile(path, FileMode.Create, FileAccess.ReadWrite))
        {
            file.Write(source, Page);
        }

        Assert.Equal(0, fs.DirectBytesWritten);
        Assert.Equal(2 * Page, fs.BufferedBytesWritten);
        Assert.True(File.ReadAllBytes(path).AsSpan(Page).SequenceEqual(source));
    }

    [Fact]
    public void BufferedFileSystem_NeverWritesDirect()
    {
        using var dir = new TempDirectory();
        var fs = new PhysicalFileSystem(directWrites: false);
        AlignedBuffer buffer = Filled(4 * Page, seed: 4);
        using (IStorageFile file = fs.OpenFile(dir.Combine("f.bin"), FileMode.Create, FileAccess.ReadWrite))
        {
            file.Write(buffer.Memory.Span, 0);
        }

        Assert.Equal(0, fs.DirectBytesWritten);
        Assert.Equal(4 * Page, fs.BufferedBytesWritten);
    }

    [Fact]
    public void AnyMixOfWrites_LeavesTheFileAsAModelSaysIt()
    {
        // Writes at any offset, of any length, from any point of an aligned buffer: direct, cached or both, and
        // overlapping earlier ones. The file must read back as the same writes applied to an array.
        const int FileLength = 16 * Page;
        Gen<(int Offset, int Length, int SourceStart)[]> gen =
            (from offset in Gen.Int[0, FileLength - 1]
             from length in Gen.Int[1, FileLength - offset]
             from sourceStart in Gen.Int[0, Page]
             select (offset, length, sourceStart)).Array[1, 8];
        using var dir = new TempDirectory();
        AlignedBuffer source = Filled(FileLength + Page, seed: 5);
        int run = 0;

        gen.Sample(writes =>
        {
            var fs = new PhysicalFileSystem(directWrites: true);
            byte[] model = new byte[FileLength];
            string path = dir.Combine($"f{Interlocked.Increment(ref run)}.bin"); // CsCheck samples on several threads at once
            using (IStorageFile file = fs.OpenFile(path, FileMode.Create, FileAccess.ReadWrite))
            {
                file.SetLength(FileLength);
                foreach ((int offset, int length, int sourceStart) in writes)
                {
                    ReadOnlySpan<byte> data = source.Memory.Span.Slice(sourceStart, length);
                    file.Write(data, offset);
                    data.CopyTo(model.AsSpan(offset));
                }
            }

            Assert.Equal(writes.Sum(w => (long)w.Length), fs.DirectBytesWritten + fs.BufferedBytesWritten);
            Assert.Equal(model, File.ReadAllBytes(path));
            File.Delete(path);
        }, iter: 200);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5000)]
    [InlineData(16 * 1024)]
    [InlineData((1024 * 1024) + 1)]
    [InlineData(65 * 1024 * 1024)] // past the largest pooled size: allocated for the caller alone
    public void Rent_IsPageAligned_AndLongEnough(int length)
    {
        var pool = new AlignedBufferPool(maxRetainedBytes: 128L * 1024 * 1024);
        AlignedBuffer buffer = pool.Rent(length);

        Assert.Equal(length, buffer.Memory.Length);
        Assert.Equal(0, Address(buffer) % Page);
        buffer.Memory.Span.Fill(0xAB); // the whole length is usable
        pool.Return(buffer);
    }

    [Fact]
    public void Return_ThenRent_ReusesTheArray_UpToTheRetainedLimit()
    {
        var pool = new AlignedBufferPool(maxRetainedBytes: 3 * 1024 * 1024);
        AlignedBuffer[] rented = [.. Enumerable.Range(0, 4).Select(_ => pool.Rent(1024 * 1024))];
        foreach (AlignedBuffer b in rented)
        {
            pool.Return(b);
        }

        // Each 1 MiB buffer holds 1 MiB + one page of slack, so only two fit under 3 MiB.
        Assert.Equal(2 * ((1024 * 1024) + Page), pool.RetainedBytes);
        AlignedBuffer again = pool.Rent(700 * 1024); // the same power-of-two bucket
        Assert.Contains(rented, b => ReferenceEquals(b.Array, again.Array));
        Assert.Equal(700 * 1024, again.Memory.Length);
        Assert.Equal(0, Address(again) % Page);
        Assert.Equal((1024 * 1024) + Page, pool.RetainedBytes);
    }

    [Fact]
    public void PieceBuffer_DataIsPageAligned_AndGoneAfterDispose()
    {
        var piece = new PieceBuffer(piece: 3, length: (256 * 1024) - 100, blockLength: 16 * 1024);
        Assert.Equal(0, Address(piece.Data) % Page);
        Assert.Equal((256 * 1024) - 100, piece.Data.Length);

        piece.Dispose();
        Assert.Throws<ObjectDisposedException>(() => piece.Data);
        piece.Dispose(); // twice is harmless: the buffer is not returned twice
    }

    private static AlignedBuffer Filled(int length, int seed)
    {
        AlignedBuffer buffer = new AlignedBufferPool(0).Rent(length);
        new Random(seed).NextBytes(buffer.Memory.Span);
        return buffer;
    }

    private static long Address(AlignedBuffer buffer) => Address(buffer.Memory);

    private static long Address(Memory<byte> memory)
    {
        // Pinned-heap arrays do not move, so reading the address without a pin is sound.
        Assert.True(MemoryMarshal.TryGetArray<byte>(memory, out ArraySegment<byte> segment));
        return Marshal.UnsafeAddrOfPinnedArrayElement(segment.Array!, segment.Offset);
    }

    /// <summary>
    /// Direct writes are Linux-only, and some file systems (tmpfs before Linux 6.6, FUSE) refuse them; on the usual
    /// disk file systems they must happen, so a regression that quietly turns them off fails here.
    /// </summary>
    private static void RequireDirectWhereSupported(PhysicalFileSystem fs, string folder)
    {
        if (fs.DirectBytesWritten > 0)
        {
            return;
        }

        string format = new DriveInfo(folder).DriveFormat;
        bool mustSupport = OperatingSystem.IsLinux() && format is "ext2" or "ext3" or "ext4" or "xfs" or "btrfs";
        Assert.False(mustSupport, $"no direct write on {format}, a file system that supports O_DIRECT");
        Assert.Skip($"The temp folder's file system ({format}) does not take O_DIRECT writes here.");
    }
}
