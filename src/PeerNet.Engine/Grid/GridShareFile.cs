using Microsoft.Win32.SafeHandles;
using PeerNet.Storage;

namespace PeerNet.Grid;

/// <summary>Reading and checking a share on disk without holding it in memory: header, block hashes, one block at a time.</summary>
internal static class GridShareFile
{
    /// <summary>The header's bytes (parsed into <paramref name="header"/>; null when they do not parse).</summary>
    public static byte[] ReadHeaderBytes(SafeFileHandle file, out GridShareHeader? header)
    {
        byte[] buffer = new byte[(int)Math.Min(RandomAccess.GetLength(file), GridShareHeader.LengthFor(256))];
        int read = RandomAccess.Read(file, buffer, 0);
        if (!GridShareHeader.TryParse(buffer.AsSpan(0, read), exact: false, out header, out _))
        {
            return buffer[..read];
        }

        return buffer[..GridShareHeader.LengthFor(header!.Extension.N)];
    }

    /// <summary>
    /// Checks a written share as <see cref="GridFile.CheckShare"/> does, reading it from <paramref name="file"/>:
    /// null when whole and consistent (the right number, every block under its hash, its root proven), else the reason.
    /// </summary>
    public static string? Check(SafeFileHandle file, long size, int expectedShare)
    {
        ReadHeaderBytes(file, out GridShareHeader? header);
        if (header is null)
        {
            return "its header does not parse";
        }

        if (header.ShareNumber != expectedShare)
        {
            return $"its header says share {header.ShareNumber}, not {expectedShare}";
        }

        var layout = new GridShareLayout(header.Extension);
        if (layout.TotalLength != size)
        {
            return $"it is {size} bytes, not the {layout.TotalLength} its header gives";
        }

        int segments = header.Extension.SegmentCount;
        byte[] hashes = new byte[segments * GridHashes.Length];
        RandomAccess.Read(file, hashes, layout.HashesOffset);
        if (!new GridMerkle(hashes, segments).Root.AsSpan().SequenceEqual(header.ShareRoot) || !header.RootIsProven())
        {
            return "its root is not proven in its tree of share roots";
        }

        byte[] block = new byte[header.Extension.BlockLength(0)];
        for (int s = 0; s < segments; s++)
        {
            Span<byte> b = block.AsSpan(0, header.Extension.BlockLength(s));
            RandomAccess.Read(file, b, layout.BlockOffset(s));
            if (!GridHashes.Leaf(b).AsSpan().SequenceEqual(hashes.AsSpan(s * GridHashes.Length, GridHashes.Length)))
            {
                return $"block {s} does not match its hash";
            }
        }

        return null;
    }

    /// <summary>Makes a rename in <paramref name="directory"/> durable (fsync of the folder, where the system has it).</summary>
    public static void SyncDirectory(string directory) => PhysicalFileSystem.Buffered.FlushDirectory(directory);
}
