using System.Buffers.Binary;
using System.Security.Cryptography;
using NSec.Cryptography;
using PeerNet.Erasure;

namespace PeerNet.Grid;

/// <summary>ChaCha20-Poly1305 of one segment, the nonce being the segment's index (unique per key: one key per file).</summary>
internal static class GridCipher
{
    private static readonly AeadAlgorithm ChaCha = AeadAlgorithm.ChaCha20Poly1305;

    private static void Nonce(int segment, Span<byte> nonce)
    {
        nonce.Clear();
        BinaryPrimitives.WriteInt64BigEndian(nonce[4..], segment);
    }

    public static void Encrypt(ReadOnlySpan<byte> key, int segment, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        using Key k = Key.Import(ChaCha, key, KeyBlobFormat.RawSymmetricKey);
        Span<byte> nonce = stackalloc byte[12];
        Nonce(segment, nonce);
        ChaCha.Encrypt(k, nonce, ReadOnlySpan<byte>.Empty, plaintext, ciphertext);
    }

    public static bool Decrypt(ReadOnlySpan<byte> key, int segment, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        using Key k = Key.Import(ChaCha, key, KeyBlobFormat.RawSymmetricKey);
        Span<byte> nonce = stackalloc byte[12];
        Nonce(segment, nonce);
        return ChaCha.Decrypt(k, nonce, ReadOnlySpan<byte>.Empty, ciphertext, plaintext);
    }
}

/// <summary>
/// Turns a file into n shares, one segment at a time: each segment is encrypted, its ciphertext split into k blocks
/// and coded to n (block i goes to share i); at the end the Merkle trees are built and each share's header made.
/// Memory is one segment plus the block hashes (32 bytes per segment per share).
/// </summary>
internal sealed class GridEncoder
{
    private readonly byte[] _key;
    private readonly GridExtensionBlock _shape;
    private readonly ReedSolomon _code;
    private readonly byte[][] _blockHashes;
    private readonly System.Security.Cryptography.IncrementalHash _ciphertextHash = System.Security.Cryptography.IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private int _next;

    public GridEncoder(ReadOnlySpan<byte> key, int k, int n, int segmentSize, long fileSize)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("A file key is 32 bytes.", nameof(key));
        }

        if (GridExtensionBlock.CheckParameters(k, n, segmentSize, fileSize) is { } error)
        {
            throw new ArgumentException(error);
        }

        _key = key.ToArray();
        _shape = new GridExtensionBlock { K = k, N = n, SegmentSize = segmentSize, FileSize = fileSize, ShareRootsRoot = new byte[32], CiphertextHash = new byte[32] };
        _code = new ReedSolomon(k, n);
        _blockHashes = new byte[n][];
        for (int i = 0; i < n; i++)
        {
            _blockHashes[i] = new byte[_shape.SegmentCount * GridHashes.Length];
        }
    }

    /// <summary>The number of segments the file is cut into.</summary>
    public int SegmentCount => _shape.SegmentCount;

    /// <summary>The plaintext length of segment <paramref name="index"/>.</summary>
    public int PlainLength(int index) => _shape.PlainLength(index);

    /// <summary>Where each part of a share lies (the same for every share of the file).</summary>
    public GridShareLayout Layout => new(_shape);

    /// <summary>Encodes the next segment (exactly its plaintext length) into n blocks, block i for share i.</summary>
    public byte[][] EncodeSegment(ReadOnlySpan<byte> plaintext)
    {
        int index = _next;
        if (index >= SegmentCount)
        {
            throw new InvalidOperationException("Every segment is already encoded.");
        }

        if (plaintext.Length != _shape.PlainLength(index))
        {
            throw new ArgumentException($"Segment {index} is {_shape.PlainLength(index)} bytes, not {plaintext.Length}.", nameof(plaintext));
        }

        int blockLength = _shape.BlockLength(index);
        int k = _shape.K;
        byte[] padded = new byte[blockLength * k];
        int cipherLength = plaintext.Length + GridExtensionBlock.TagLength;
        GridCipher.Encrypt(_key, index, plaintext, padded.AsSpan(0, cipherLength));
        _ciphertextHash.AppendData(padded, 0, cipherLength);

        byte[][] blocks = new byte[_shape.N][];
        var data = new ReadOnlyMemory<byte>[k];
        for (int i = 0; i < k; i++)
        {
            blocks[i] = padded.AsSpan(i * blockLength, blockLength).ToArray();
            data[i] = blocks[i];
        }

        var parity = new Memory<byte>[_shape.N - k];
        for (int i = k; i < _shape.N; i++)
        {
            blocks[i] = new byte[blockLength];
            parity[i - k] = blocks[i];
        }

        _code.Encode(data, parity);
        for (int i = 0; i < _shape.N; i++)
        {
            GridHashes.Leaf(blocks[i]).CopyTo(_blockHashes[i].AsSpan(index * GridHashes.Length));
        }

        _next++;
        return blocks;
    }

    /// <summary>After the last segment: the extension block, each share's header and block hashes (as stored, in share order).</summary>
    public (GridExtensionBlock Extension, GridShareHeader[] Headers, byte[][] BlockHashes) Finish()
    {
        if (_next != SegmentCount)
        {
            throw new InvalidOperationException($"{SegmentCount - _next} segments are still to encode.");
        }

        int n = _shape.N;
        byte[] rootLeaves = new byte[n * GridHashes.Length];
        byte[][] roots = new byte[n][];
        for (int i = 0; i < n; i++)
        {
            roots[i] = new GridMerkle(_blockHashes[i], SegmentCount).Root;
            GridHashes.Leaf(roots[i]).CopyTo(rootLeaves.AsSpan(i * GridHashes.Length));
        }

        var rootTree = new GridMerkle(rootLeaves, n);
        GridExtensionBlock extension = _shape with { ShareRootsRoot = rootTree.Root, CiphertextHash = _ciphertextHash.GetHashAndReset() };
        var headers = new GridShareHeader[n];
        for (int i = 0; i < n; i++)
        {
            headers[i] = new GridShareHeader { ShareNumber = i, Extension = extension, ShareRoot = roots[i], ShareRootProof = rootTree.Proof(i) };
        }

        return (extension, headers, _blockHashes);
    }
}
