using System.Buffers.Binary;

namespace PeerNet.Grid;

/// <summary>
/// What every share carries about its file (Tahoe's URI extension block, fixed-size here): k, n, the segment size,
/// the file size, the root of the tree of share roots and the hash of the whole ciphertext. Its hash is the root a
/// capability holds, so a share's claims about the file are checked against the capability before any is used.
/// </summary>
internal sealed record GridExtensionBlock
{
    /// <summary>The encoded length: magic (8), k (1), n (2), segment size (4), file size (8), two hashes (64).</summary>
    public const int EncodedLength = 8 + 1 + 2 + 4 + 8 + 2 * GridHashes.Length;

    /// <summary>The largest segment: a block with k = 1 must fit a store message.</summary>
    public const int MaxSegmentSize = 1 << 20;

    /// <summary>The largest file (1 TiB): at most 2^20 segments of 1 MiB, so a share's block hashes stay at 32 MiB.</summary>
    public const long MaxFileSize = 1L << 40;

    /// <summary>The most segments a file may have.</summary>
    public const int MaxSegments = 1 << 20;

    /// <summary>The Poly1305 tag each encrypted segment carries.</summary>
    public const int TagLength = 16;

    private static ReadOnlySpan<byte> Magic => "PNCHKEB1"u8;

    public required int K { get; init; }

    public required int N { get; init; }

    public required int SegmentSize { get; init; }

    public required long FileSize { get; init; }

    public required byte[] ShareRootsRoot { get; init; }

    public required byte[] CiphertextHash { get; init; }

    /// <summary>The number of segments: at least one (an empty file is one empty segment).</summary>
    public int SegmentCount => SegmentsFor(FileSize, SegmentSize);

    /// <summary>The number of segments of a file of <paramref name="fileSize"/> bytes.</summary>
    public static int SegmentsFor(long fileSize, int segmentSize) => fileSize == 0 ? 1 : (int)((fileSize + segmentSize - 1) / segmentSize);

    /// <summary>The plaintext length of segment <paramref name="index"/>.</summary>
    public int PlainLength(int index) => index < SegmentCount - 1 ? SegmentSize : (int)(FileSize - (long)(SegmentCount - 1) * SegmentSize);

    /// <summary>The length of each block of segment <paramref name="index"/>: its ciphertext (with the tag) split into k, rounded up.</summary>
    public int BlockLength(int index) => (PlainLength(index) + TagLength + K - 1) / K;

    /// <summary>Checks parameters that any grid file must meet; null when they do, else the reason.</summary>
    public static string? CheckParameters(int k, int n, int segmentSize, long fileSize)
    {
        if (k < 1 || n < k || n > 256)
        {
            return $"{k}-of-{n} is not a valid encoding (1 ≤ k ≤ n ≤ 256)";
        }

        if (segmentSize < 1 || segmentSize > MaxSegmentSize)
        {
            return $"a segment size of {segmentSize} bytes is outside 1..{MaxSegmentSize}";
        }

        if (fileSize < 0 || fileSize > MaxFileSize)
        {
            return $"a file size of {fileSize} bytes is outside 0..{MaxFileSize}";
        }

        if ((fileSize + segmentSize - 1) / segmentSize > MaxSegments)
        {
            return $"{fileSize} bytes in {segmentSize}-byte segments is over {MaxSegments} segments";
        }

        return null;
    }

    /// <summary>The block's bytes.</summary>
    public byte[] Encode()
    {
        byte[] output = new byte[EncodedLength];
        Span<byte> o = output;
        Magic.CopyTo(o);
        o[8] = (byte)(K - 1);
        BinaryPrimitives.WriteUInt16BigEndian(o[9..], (ushort)N);
        BinaryPrimitives.WriteInt32BigEndian(o[11..], SegmentSize);
        BinaryPrimitives.WriteInt64BigEndian(o[15..], FileSize);
        ShareRootsRoot.CopyTo(o[23..]);
        CiphertextHash.CopyTo(o[(23 + GridHashes.Length)..]);
        return output;
    }

    /// <summary>The hash a capability holds.</summary>
    public byte[] Hash() => GridHashes.Extension(Encode());

    /// <summary>Parses an extension block: exactly <see cref="EncodedLength"/> bytes with valid parameters.</summary>
    public static bool TryParse(ReadOnlySpan<byte> input, out GridExtensionBlock? block, out string? error)
    {
        block = null;
        if (input.Length != EncodedLength)
        {
            error = $"an extension block is {EncodedLength} bytes, not {input.Length}";
            return false;
        }

        if (!input[..8].SequenceEqual(Magic))
        {
            error = "not an extension block (bad magic)";
            return false;
        }

        int k = input[8] + 1;
        int n = BinaryPrimitives.ReadUInt16BigEndian(input[9..]);
        int segmentSize = BinaryPrimitives.ReadInt32BigEndian(input[11..]);
        long fileSize = BinaryPrimitives.ReadInt64BigEndian(input[15..]);
        error = CheckParameters(k, n, segmentSize, fileSize);
        if (error is not null)
        {
            return false;
        }

        block = new GridExtensionBlock
        {
            K = k,
            N = n,
            SegmentSize = segmentSize,
            FileSize = fileSize,
            ShareRootsRoot = input.Slice(23, GridHashes.Length).ToArray(),
            CiphertextHash = input.Slice(23 + GridHashes.Length, GridHashes.Length).ToArray(),
        };
        return true;
    }
}
