using System.Buffers.Binary;

namespace PeerNet.Grid;

/// <summary>
/// The head of a share as stored: which share it is, the file's extension block, the share's root (of the Merkle tree
/// over its blocks) and the proof of that root in the tree of share roots. The rest of a share is laid out by
/// <see cref="GridShareLayout"/>: the block hashes (one per segment), then the blocks.
/// </summary>
internal sealed record GridShareHeader
{
    private static ReadOnlySpan<byte> Magic => "PNSHARE1"u8;

    public required int ShareNumber { get; init; }

    public required GridExtensionBlock Extension { get; init; }

    public required byte[] ShareRoot { get; init; }

    public required byte[] ShareRootProof { get; init; }

    /// <summary>The encoded length of the header of a share of an n-share file.</summary>
    public static int LengthFor(int n) => 8 + 2 + GridExtensionBlock.EncodedLength + GridHashes.Length + GridMerkle.Depth(n) * GridHashes.Length;

    /// <summary>The header's bytes.</summary>
    public byte[] Encode()
    {
        byte[] output = new byte[LengthFor(Extension.N)];
        Magic.CopyTo(output);
        BinaryPrimitives.WriteUInt16BigEndian(output.AsSpan(8), (ushort)ShareNumber);
        Extension.Encode().CopyTo(output.AsSpan(10));
        int o = 10 + GridExtensionBlock.EncodedLength;
        ShareRoot.CopyTo(output.AsSpan(o));
        ShareRootProof.CopyTo(output.AsSpan(o + GridHashes.Length));
        return output;
    }

    /// <summary>
    /// Whether this share's root is in the file's tree of share roots (the header is consistent with itself; whether
    /// the extension block is the right file's is for <see cref="MatchesRoot"/>).
    /// </summary>
    public bool RootIsProven() =>
        GridMerkle.Verify(GridHashes.Leaf(ShareRoot), ShareNumber, Extension.N, ShareRootProof, Extension.ShareRootsRoot);

    /// <summary>Whether the extension block hashes to a capability's root, and the share's root is proven under it.</summary>
    public bool MatchesRoot(ReadOnlySpan<byte> capabilityRoot) => Extension.Hash().AsSpan().SequenceEqual(capabilityRoot) && RootIsProven();

    /// <summary>
    /// Parses a header from the start of <paramref name="input"/> (exactly its length when <paramref name="exact"/>):
    /// magic, a share number below n, a valid extension block, the proof's length for n. The proof itself is not checked.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> input, bool exact, out GridShareHeader? header, out string? error)
    {
        header = null;
        const int fixedPart = 8 + 2 + GridExtensionBlock.EncodedLength + GridHashes.Length;
        if (input.Length < fixedPart)
        {
            error = $"a share header is at least {fixedPart} bytes, not {input.Length}";
            return false;
        }

        if (!input[..8].SequenceEqual(Magic))
        {
            error = "not a share (bad magic)";
            return false;
        }

        if (!GridExtensionBlock.TryParse(input.Slice(10, GridExtensionBlock.EncodedLength), out GridExtensionBlock? extension, out error))
        {
            return false;
        }

        int number = BinaryPrimitives.ReadUInt16BigEndian(input[8..]);
        if (number >= extension!.N)
        {
            error = $"share {number} of a {extension.N}-share file";
            return false;
        }

        int length = LengthFor(extension.N);
        if (input.Length < length || (exact && input.Length != length))
        {
            error = $"a share header of a {extension.N}-share file is {length} bytes, not {input.Length}";
            return false;
        }

        header = new GridShareHeader
        {
            ShareNumber = number,
            Extension = extension,
            ShareRoot = input.Slice(fixedPart - GridHashes.Length, GridHashes.Length).ToArray(),
            ShareRootProof = input[fixedPart..length].ToArray(),
        };
        return true;
    }
}

/// <summary>Where each part of a share lies in its bytes: header, block hashes, blocks.</summary>
internal readonly record struct GridShareLayout(GridExtensionBlock Extension)
{
    public int HeaderLength => GridShareHeader.LengthFor(Extension.N);

    public long HashesOffset => HeaderLength;

    public long BlocksOffset => HashesOffset + (long)Extension.SegmentCount * GridHashes.Length;

    public long BlockOffset(int segment) => BlocksOffset + (long)segment * Extension.BlockLength(0);

    public long TotalLength => BlockOffset(Extension.SegmentCount - 1) + Extension.BlockLength(Extension.SegmentCount - 1);
}
