namespace PeerNet.Erasure;

/// <summary>
/// A systematic Reed-Solomon erasure code over GF(2^8): <see cref="DataShares"/> (k) blocks of data become
/// <see cref="TotalShares"/> (n) shares, the first k being the data itself, and any k of the n rebuild the data.
/// Shares are byte-identical to zfec's (Tahoe-LAFS's coder) for the same k and n: the same field (0x11D) and the same
/// matrix, a Vandermonde matrix on the points 0, 1, α, α², … made systematic by multiplying with the inverse of its top
/// k rows. Blocks may have any length, as long as all of one call have the same. Thread-safe: an instance holds only
/// its matrix and tables.
/// </summary>
public sealed class ReedSolomon
{
    /// <summary>The largest <see cref="TotalShares"/>: the field has 256 points.</summary>
    public const int MaxShares = 256;

    // n×k, row-major: rows 0..k-1 the identity, rows k..n-1 the parity rows.
    private readonly byte[] _matrix;
    private readonly byte[] _parityTables;

    /// <summary>Builds the code for <paramref name="dataShares"/>-of-<paramref name="totalShares"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Unless 1 ≤ k ≤ n ≤ <see cref="MaxShares"/>.</exception>
    public ReedSolomon(int dataShares, int totalShares)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dataShares, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(totalShares, MaxShares);
        ArgumentOutOfRangeException.ThrowIfLessThan(totalShares, dataShares);
        DataShares = dataShares;
        TotalShares = totalShares;
        _matrix = BuildMatrix(dataShares, totalShares);
        _parityTables = GaloisKernels.BuildTables(_matrix.AsSpan(dataShares * dataShares));
    }

    /// <summary>k: how many shares hold the data, and how many any rebuild needs.</summary>
    public int DataShares { get; }

    /// <summary>n: how many shares there are in all.</summary>
    public int TotalShares { get; }

    /// <summary>n − k: the shares that may be lost.</summary>
    public int ParityShares => TotalShares - DataShares;

    /// <summary>The coefficients that make share <paramref name="share"/> from the k data blocks (a unit row for a data share).</summary>
    public ReadOnlySpan<byte> Coefficients(int share)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(share);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(share, TotalShares);
        return _matrix.AsSpan(share * DataShares, DataShares);
    }

    /// <summary>
    /// Computes the n − k parity shares (shares k..n−1) of <paramref name="data"/> (k blocks) into
    /// <paramref name="parity"/>; every block, in and out, must be the same length.
    /// </summary>
    public void Encode(ReadOnlySpan<ReadOnlyMemory<byte>> data, ReadOnlySpan<Memory<byte>> parity) =>
        Encode(data, parity, GaloisKernel.Best);

    /// <summary>
    /// Computes the shares numbered <paramref name="shares"/> of <paramref name="data"/> into <paramref name="outputs"/>
    /// (a data share is copied): what repair needs to regenerate only the shares that were lost.
    /// </summary>
    public void EncodeShares(ReadOnlySpan<ReadOnlyMemory<byte>> data, ReadOnlySpan<int> shares, ReadOnlySpan<Memory<byte>> outputs)
    {
        if (shares.Length != outputs.Length)
        {
            throw new ArgumentException($"{shares.Length} share numbers but {outputs.Length} outputs.", nameof(outputs));
        }

        int length = CheckBlocks(data, DataShares, nameof(data));
        CheckOutputs(outputs, length);
        byte[] coefficients = new byte[shares.Length * DataShares];
        for (int i = 0; i < shares.Length; i++)
        {
            Coefficients(shares[i]).CopyTo(coefficients.AsSpan(i * DataShares));
        }

        GaloisKernels.Multiply(coefficients, GaloisKernels.BuildTables(coefficients), data, outputs, length);
    }

    /// <summary>
    /// Rebuilds the k data blocks into <paramref name="data"/> from any k distinct shares: <paramref name="shares"/>[i]
    /// is share number <paramref name="shareNumbers"/>[i], in any order.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer or more than k shares, a repeated or out-of-range number, or lengths that differ.</exception>
    public void Decode(ReadOnlySpan<ReadOnlyMemory<byte>> shares, ReadOnlySpan<int> shareNumbers, ReadOnlySpan<Memory<byte>> data) =>
        Decode(shares, shareNumbers, data, GaloisKernel.Best);

    internal void Encode(ReadOnlySpan<ReadOnlyMemory<byte>> data, ReadOnlySpan<Memory<byte>> parity, GaloisKernel kernel)
    {
        int length = CheckBlocks(data, DataShares, nameof(data));
        if (parity.Length != ParityShares)
        {
            throw new ArgumentException($"{DataShares}-of-{TotalShares} has {ParityShares} parity shares, not {parity.Length}.", nameof(parity));
        }

        CheckOutputs(parity, length);
        GaloisKernels.Multiply(_matrix.AsSpan(DataShares * DataShares), _parityTables, data, parity, length, kernel);
    }

    internal void Decode(ReadOnlySpan<ReadOnlyMemory<byte>> shares, ReadOnlySpan<int> shareNumbers, ReadOnlySpan<Memory<byte>> data, GaloisKernel kernel)
    {
        int k = DataShares;
        int length = CheckBlocks(shares, k, nameof(shares));
        if (shareNumbers.Length != k)
        {
            throw new ArgumentException($"{shares.Length} shares but {shareNumbers.Length} share numbers.", nameof(shareNumbers));
        }

        if (data.Length != k)
        {
            throw new ArgumentException($"Decoding rebuilds {k} data blocks, not {data.Length}.", nameof(data));
        }

        CheckOutputs(data, length);
        Span<bool> seen = stackalloc bool[MaxShares];
        foreach (int number in shareNumbers)
        {
            if ((uint)number >= (uint)TotalShares)
            {
                throw new ArgumentException($"Share {number} is not one of {TotalShares}.", nameof(shareNumbers));
            }

            if (seen[number])
            {
                throw new ArgumentException($"Share {number} is given twice.", nameof(shareNumbers));
            }

            seen[number] = true;
        }

        // The data blocks we hold are copied; the others are rows of the inverse of the k×k matrix of the shares held.
        byte[] matrix = new byte[k * k];
        for (int i = 0; i < k; i++)
        {
            Coefficients(shareNumbers[i]).CopyTo(matrix.AsSpan(i * k));
        }

        GaloisField.Invert(matrix, k);
        int missing = 0;
        for (int i = 0; i < k; i++)
        {
            missing += seen[i] ? 0 : 1;
        }

        byte[] rows = new byte[missing * k];
        Memory<byte>[] outputs = new Memory<byte>[missing];
        int m = 0;
        for (int d = 0; d < k; d++)
        {
            if (seen[d])
            {
                shares[shareNumbers.IndexOf(d)].Span[..length].CopyTo(data[d].Span);
                continue;
            }

            matrix.AsSpan(d * k, k).CopyTo(rows.AsSpan(m * k));
            outputs[m++] = data[d];
        }

        if (missing > 0)
        {
            GaloisKernels.Multiply(rows, GaloisKernels.BuildTables(rows), shares, outputs, length, kernel);
        }
    }

    private static byte[] BuildMatrix(int k, int n)
    {
        // Vandermonde rows on the points 0, α^0, α^1, …: row 0 is (1, 0, 0, …), row r is (1, x, x², …) with x = α^(r-1).
        byte[] vandermonde = new byte[n * k];
        vandermonde[0] = 1;
        for (int r = 1; r < n; r++)
        {
            for (int c = 0; c < k; c++)
            {
                vandermonde[(r * k) + c] = GaloisField.Power((r - 1) * c);
            }
        }

        byte[] top = vandermonde[..(k * k)];
        GaloisField.Invert(top, k);
        byte[] matrix = new byte[n * k];
        for (int i = 0; i < k; i++)
        {
            matrix[(i * k) + i] = 1;
        }

        for (int r = k; r < n; r++)
        {
            for (int c = 0; c < k; c++)
            {
                byte sum = 0;
                for (int j = 0; j < k; j++)
                {
                    sum ^= GaloisField.Multiply(vandermonde[(r * k) + j], top[(j * k) + c]);
                }

                matrix[(r * k) + c] = sum;
            }
        }

        return matrix;
    }

    private static int CheckBlocks(ReadOnlySpan<ReadOnlyMemory<byte>> blocks, int expected, string name)
    {
        if (blocks.Length != expected)
        {
            throw new ArgumentException($"Expected {expected} blocks, got {blocks.Length}.", name);
        }

        int length = blocks[0].Length;
        foreach (ReadOnlyMemory<byte> block in blocks)
        {
            if (block.Length != length)
            {
                throw new ArgumentException($"Blocks must all be the same length ({length} and {block.Length} given).", name);
            }
        }

        return length;
    }

    private static void CheckOutputs(ReadOnlySpan<Memory<byte>> outputs, int length)
    {
        foreach (Memory<byte> output in outputs)
        {
            if (output.Length < length)
            {
                throw new ArgumentException($"An output of {output.Length} bytes cannot hold a {length}-byte block.", nameof(outputs));
            }
        }
    }
}
