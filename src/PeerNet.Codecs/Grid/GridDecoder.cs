using System.Security.Cryptography;
using PeerNet.Erasure;

namespace PeerNet.Grid;

/// <summary>A share failed a check (header not under the capability's root, a block not under the share's root).</summary>
internal sealed class GridCorruptShareException(int shareNumber, string message) : IOException(message)
{
    /// <summary>The share that failed, which its provider sent.</summary>
    public int ShareNumber { get; } = shareNumber;
}

/// <summary>
/// Rebuilds a file (or, with a verify capability, its ciphertext blocks) from any k shares, one segment at a time,
/// checking everything against the capability before use: a header's extension block must hash to the capability's
/// root and its share root be proven in the tree of share roots; each block must be proven under its share's root.
/// </summary>
internal sealed class GridDecoder
{
    private readonly GridCapability _capability;
    private readonly IncrementalHash _ciphertextHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private ReedSolomon? _code;
    private int _next;

    public GridDecoder(GridCapability capability) => _capability = capability;

    /// <summary>The file's extension block, once a header was accepted.</summary>
    public GridExtensionBlock? Extension { get; private set; }

    /// <summary>Whether <paramref name="header"/> belongs to the capability's file; false with the reason when not.</summary>
    public bool CheckHeader(GridShareHeader header, out string? error)
    {
        if (!header.MatchesRoot(_capability.Root.Span))
        {
            error = $"share {header.ShareNumber}'s header is not under the capability's root";
            return false;
        }

        GridExtensionBlock e = header.Extension;
        if (e.K != _capability.K || e.N != _capability.N || e.FileSize != _capability.Size)
        {
            error = $"share {header.ShareNumber}'s parameters differ from the capability's";
            return false;
        }

        Extension ??= e;
        _code ??= new ReedSolomon(e.K, e.N);
        error = null;
        return true;
    }

    /// <summary>Whether <paramref name="block"/> is block <paramref name="segment"/> of the share of <paramref name="header"/> (already checked).</summary>
    public static bool CheckBlock(GridShareHeader header, int segment, ReadOnlySpan<byte> block, ReadOnlySpan<byte> proof)
    {
        GridExtensionBlock e = header.Extension;
        return segment >= 0 && segment < e.SegmentCount && block.Length == e.BlockLength(segment)
            && GridMerkle.Verify(GridHashes.Leaf(block), segment, e.SegmentCount, proof, header.ShareRoot);
    }

    /// <summary>The k data blocks of a segment from any k checked blocks (<paramref name="numbers"/>[i] is block i's share).</summary>
    public byte[][] DataBlocks(int segment, IReadOnlyList<byte[]> blocks, IReadOnlyList<int> numbers)
    {
        GridExtensionBlock e = Extension ?? throw new InvalidOperationException("No header was checked yet.");
        int length = e.BlockLength(segment);
        var shares = new ReadOnlyMemory<byte>[e.K];
        int[] shareNumbers = new int[e.K];
        for (int i = 0; i < e.K; i++)
        {
            shares[i] = blocks[i];
            shareNumbers[i] = numbers[i];
        }

        byte[][] data = new byte[e.K][];
        var outputs = new Memory<byte>[e.K];
        for (int i = 0; i < e.K; i++)
        {
            data[i] = new byte[length];
            outputs[i] = data[i];
        }

        _code!.Decode(shares, shareNumbers, outputs);
        return data;
    }

    /// <summary>
    /// The plaintext of the next segment from k checked blocks (segments in order: the ciphertext hash runs across
    /// them); throws <see cref="InvalidDataException"/> when the decrypted segment fails its tag.
    /// </summary>
    public byte[] DecodeSegment(int segment, IReadOnlyList<byte[]> blocks, IReadOnlyList<int> numbers)
    {
        if (!_capability.CanRead)
        {
            throw new InvalidOperationException("A verify capability cannot decrypt.");
        }

        if (segment != _next)
        {
            throw new InvalidOperationException($"Segment {_next} comes next, not {segment}.");
        }

        GridExtensionBlock e = Extension ?? throw new InvalidOperationException("No header was checked yet.");
        byte[][] data = DataBlocks(segment, blocks, numbers);
        int plain = e.PlainLength(segment);
        byte[] ciphertext = new byte[plain + GridExtensionBlock.TagLength];
        int o = 0;
        foreach (byte[] block in data)
        {
            int take = Math.Min(block.Length, ciphertext.Length - o);
            block.AsSpan(0, take).CopyTo(ciphertext.AsSpan(o));
            o += take;
        }

        _ciphertextHash.AppendData(ciphertext);
        byte[] plaintext = new byte[plain];
        if (!GridCipher.Decrypt(_capability.Key.Span, segment, ciphertext, plaintext))
        {
            throw new InvalidDataException($"Segment {segment} does not decrypt under the capability's key.");
        }

        _next++;
        if (_next == e.SegmentCount && !_ciphertextHash.GetHashAndReset().AsSpan().SequenceEqual(e.CiphertextHash))
        {
            throw new InvalidDataException("The ciphertext does not hash to the extension block's ciphertext hash.");
        }

        return plaintext;
    }
}

/// <summary>Whole files in memory: for tests, fuzzing and small files.</summary>
internal static class GridFile
{
    /// <summary>Encodes <paramref name="plaintext"/> into n whole shares (header, block hashes, blocks) and its read capability.</summary>
    public static (GridCapability Capability, byte[][] Shares) Encode(ReadOnlySpan<byte> key, int k, int n, int segmentSize, ReadOnlySpan<byte> plaintext)
    {
        var encoder = new GridEncoder(key, k, n, segmentSize, plaintext.Length);
        GridShareLayout layout = encoder.Layout;
        byte[][] shares = new byte[n][];
        for (int i = 0; i < n; i++)
        {
            shares[i] = new byte[layout.TotalLength];
        }

        int offset = 0;
        for (int s = 0; s < encoder.SegmentCount; s++)
        {
            int length = encoder.PlainLength(s);
            byte[][] blocks = encoder.EncodeSegment(plaintext.Slice(offset, length));
            offset += length;
            for (int i = 0; i < n; i++)
            {
                blocks[i].CopyTo(shares[i].AsSpan((int)layout.BlockOffset(s)));
            }
        }

        (GridExtensionBlock extension, GridShareHeader[] headers, byte[][] hashes) = encoder.Finish();
        for (int i = 0; i < n; i++)
        {
            headers[i].Encode().CopyTo(shares[i], 0);
            hashes[i].CopyTo(shares[i], (int)layout.HashesOffset);
        }

        return (GridCapability.ForRead(key, extension.Hash(), k, n, plaintext.Length), shares);
    }

    /// <summary>
    /// Checks a whole share as a provider does before acknowledging it: a parsable header whose share root is proven in
    /// its tree of share roots, the block hashes' root equal to the share root, and every block hashing to its leaf.
    /// </summary>
    public static bool CheckShare(ReadOnlySpan<byte> share, out GridShareHeader? header, out string? error)
    {
        if (!GridShareHeader.TryParse(share, exact: false, out header, out error))
        {
            return false;
        }

        var layout = new GridShareLayout(header!.Extension);
        if (share.Length != layout.TotalLength)
        {
            error = $"the share is {share.Length} bytes, not the {layout.TotalLength} its header gives";
            return false;
        }

        int segments = header.Extension.SegmentCount;
        ReadOnlySpan<byte> hashes = share.Slice((int)layout.HashesOffset, segments * GridHashes.Length);
        for (int s = 0; s < segments; s++)
        {
            byte[] leaf = GridHashes.Leaf(share.Slice((int)layout.BlockOffset(s), header.Extension.BlockLength(s)));
            if (!leaf.AsSpan().SequenceEqual(hashes.Slice(s * GridHashes.Length, GridHashes.Length)))
            {
                error = $"block {s} does not match its hash";
                return false;
            }
        }

        if (!new GridMerkle(hashes, segments).Root.AsSpan().SequenceEqual(header.ShareRoot) || !header.RootIsProven())
        {
            error = "the share's root is not proven in its tree of share roots";
            return false;
        }

        return true;
    }

    /// <summary>
    /// Decodes from whole shares (any number; the first k whose headers check are used, block by block, a share whose
    /// block fails being dropped for the next). Throws <see cref="GridCorruptShareException"/> naming a bad share when
    /// fewer than k good ones remain.
    /// </summary>
    public static byte[] Decode(GridCapability capability, IReadOnlyDictionary<int, byte[]> shares, List<int>? badShares = null)
    {
        var decoder = new GridDecoder(capability);
        var good = new List<(GridShareHeader Header, byte[] Bytes)>();
        GridCorruptShareException? last = null;
        foreach ((int number, byte[] bytes) in shares.OrderBy(s => s.Key))
        {
            if (GridShareHeader.TryParse(bytes, exact: false, out GridShareHeader? header, out string? error)
                && header!.ShareNumber == number && decoder.CheckHeader(header, out error))
            {
                good.Add((header, bytes));
            }
            else
            {
                badShares?.Add(number);
                last = new GridCorruptShareException(number, $"share {number}: {error ?? "numbered otherwise"}");
            }
        }

        if (good.Count < capability.K)
        {
            throw last ?? new GridCorruptShareException(-1, $"{good.Count} shares, {capability.K} needed");
        }

        GridExtensionBlock e = decoder.Extension!;
        var layout = new GridShareLayout(e);
        var output = new MemoryStream();
        for (int s = 0; s < e.SegmentCount; s++)
        {
            var blocks = new List<byte[]>();
            var numbers = new List<int>();
            foreach ((GridShareHeader header, byte[] bytes) in good.ToArray())
            {
                if (blocks.Count == e.K)
                {
                    break;
                }

                long hashesEnd = layout.BlocksOffset;
                var tree = new GridMerkle(bytes.AsSpan((int)layout.HashesOffset, (int)(hashesEnd - layout.HashesOffset)), e.SegmentCount);
                byte[] block = bytes.AsSpan((int)layout.BlockOffset(s), e.BlockLength(s)).ToArray();
                if (GridDecoder.CheckBlock(header, s, block, tree.Proof(s)))
                {
                    blocks.Add(block);
                    numbers.Add(header.ShareNumber);
                }
                else
                {
                    good.Remove((header, bytes));
                    badShares?.Add(header.ShareNumber);
                    last = new GridCorruptShareException(header.ShareNumber, $"share {header.ShareNumber}: block {s} is not under its root");
                }
            }

            if (blocks.Count < e.K)
            {
                throw last!;
            }

            output.Write(decoder.DecodeSegment(s, blocks, numbers));
        }

        return output.ToArray();
    }
}
