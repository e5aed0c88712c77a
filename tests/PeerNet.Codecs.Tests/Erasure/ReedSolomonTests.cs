using CsCheck;
using PeerNet.Erasure;

namespace PeerNet.Codecs.Tests.Erasure;

public sealed class ReedSolomonTests
{
    private static readonly GaloisKernel[] Kernels =
    [
        GaloisKernel.Scalar,
        .. GaloisKernels.Vector128Supported ? [GaloisKernel.Vector128] : Array.Empty<GaloisKernel>(),
        .. GaloisKernels.Vector256Supported ? [GaloisKernel.Vector256] : Array.Empty<GaloisKernel>(),
    ];

    [Fact]
    public void The_matrix_is_zfecs()
    {
        // zfec.Encoder(3, 5) codes the unit blocks into these parity bytes (python3-zfec 1.5.2).
        var code = new ReedSolomon(3, 5);
        Assert.Equal([1, 0, 0], code.Coefficients(0).ToArray());
        Assert.Equal([0, 0, 1], code.Coefficients(2).ToArray());
        Assert.Equal([0x0f, 0x08, 0x06], code.Coefficients(3).ToArray());
        Assert.Equal([0x2d, 0x30, 0x1c], code.Coefficients(4).ToArray());
    }

    [Fact]
    public void Field_inverse_and_matrix_inverse_undo_each_other()
    {
        for (int a = 1; a < 256; a++)
        {
            Assert.Equal(1, GaloisField.Multiply((byte)a, GaloisField.Inverse((byte)a)));
        }

        for (int n = 1; n <= 12; n++)
        {
            // A Vandermonde matrix on distinct points is invertible.
            byte[] matrix = new byte[n * n];
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < n; c++)
                {
                    matrix[(r * n) + c] = GaloisField.Power(r * c);
                }
            }

            byte[] inverse = (byte[])matrix.Clone();
            GaloisField.Invert(inverse, n);
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < n; c++)
                {
                    byte sum = 0;
                    for (int j = 0; j < n; j++)
                    {
                        sum ^= GaloisField.Multiply(matrix[(r * n) + j], inverse[(j * n) + c]);
                    }

                    Assert.Equal(r == c ? 1 : 0, sum);
                }
            }
        }

        Assert.Throws<ArgumentException>(() => GaloisField.Invert(new byte[] { 1, 2, 1, 2 }, 2));
        Assert.Throws<DivideByZeroException>(() => GaloisField.Inverse(0));
    }

    [Fact]
    public void Every_kernel_codes_the_same_shares_and_any_k_rebuild_the_data()
    {
        Gen.Select(Gen.Int[1, 20], Gen.Int[0, 14], Gen.Int[0, 200], Gen.Int)
            .Sample((k, extra, length, seed) =>
            {
                int n = Math.Min(ReedSolomon.MaxShares, k + extra);
                var code = new ReedSolomon(k, n);
                var random = new Random(seed);
                byte[][] data = Blocks(random, k, length);
                byte[][] expected = Scalar(code, data);
                foreach (GaloisKernel kernel in Kernels)
                {
                    byte[][] parity = Blocks(random, n - k, length); // garbage in the outputs must not matter
                    code.Encode(ReadOnly(data), Writable(parity), kernel);
                    for (int p = 0; p < n - k; p++)
                    {
                        Assert.Equal(expected[p], parity[p]);
                    }

                    byte[][] all = [.. data, .. parity];
                    int[] held = [.. Enumerable.Range(0, n).OrderBy(_ => random.Next()).Take(k)];
                    byte[][] rebuilt = Blocks(random, k, length);
                    code.Decode(ReadOnly([.. held.Select(h => all[h])]), held, Writable(rebuilt), kernel);
                    for (int d = 0; d < k; d++)
                    {
                        Assert.Equal(data[d], rebuilt[d]);
                    }
                }
            }, iter: 300);
    }

    [Fact]
    public void Every_subset_of_k_shares_rebuilds_four_of_seven()
    {
        var code = new ReedSolomon(4, 7);
        var random = new Random(11);
        byte[][] data = Blocks(random, 4, 100);
        byte[][] parity = Blocks(random, 3, 100);
        code.Encode(ReadOnly(data), Writable(parity));
        byte[][] all = [.. data, .. parity];
        int subsets = 0;
        for (int mask = 0; mask < 1 << 7; mask++)
        {
            if (int.PopCount(mask) != 4)
            {
                continue;
            }

            int[] held = [.. Enumerable.Range(0, 7).Where(i => (mask & (1 << i)) != 0).Reverse()];
            byte[][] rebuilt = Blocks(random, 4, 100);
            code.Decode(ReadOnly([.. held.Select(h => all[h])]), held, Writable(rebuilt));
            Assert.Equal(data, rebuilt);
            subsets++;
        }

        Assert.Equal(35, subsets);
    }

    [Fact]
    public void EncodeShares_regenerates_just_the_shares_asked_for()
    {
        var code = new ReedSolomon(3, 10);
        var random = new Random(3);
        byte[][] data = Blocks(random, 3, 1000);
        byte[][] parity = Blocks(random, 7, 1000);
        code.Encode(ReadOnly(data), Writable(parity));
        byte[][] again = Blocks(random, 3, 1000);
        code.EncodeShares(ReadOnly(data), [9, 1, 5], Writable(again));
        Assert.Equal(parity[6], again[0]);
        Assert.Equal(data[1], again[1]);
        Assert.Equal(parity[2], again[2]);
    }

    [Fact]
    public void Wrong_arguments_say_what_is_wrong()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReedSolomon(0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReedSolomon(4, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReedSolomon(3, 257));
        var code = new ReedSolomon(2, 4);
        byte[][] data = [new byte[8], new byte[8]];
        byte[][] parity = [new byte[8], new byte[8]];
        Assert.Contains("same length", Assert.Throws<ArgumentException>(() => code.Encode(ReadOnly([new byte[8], new byte[7]]), Writable(parity))).Message, StringComparison.Ordinal);
        Assert.Contains("2 parity shares", Assert.Throws<ArgumentException>(() => code.Encode(ReadOnly(data), Writable([new byte[8]]))).Message, StringComparison.Ordinal);
        Assert.Contains("cannot hold", Assert.Throws<ArgumentException>(() => code.Encode(ReadOnly(data), Writable([new byte[8], new byte[4]]))).Message, StringComparison.Ordinal);
        Assert.Contains("given twice", Assert.Throws<ArgumentException>(() => code.Decode(ReadOnly(data), [3, 3], Writable(data))).Message, StringComparison.Ordinal);
        Assert.Contains("not one of 4", Assert.Throws<ArgumentException>(() => code.Decode(ReadOnly(data), [0, 4], Writable(data))).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => code.Decode(ReadOnly([new byte[8]]), [0], Writable(data)));
    }

    [Fact]
    public void Empty_blocks_code_to_empty_shares()
    {
        var code = new ReedSolomon(3, 5);
        byte[][] parity = [[], []];
        code.Encode(ReadOnly([[], [], []]), Writable(parity));
        byte[][] data = [[], [], []];
        code.Decode(ReadOnly([[], [], []]), [4, 0, 3], Writable(data));
        Assert.All(data, d => Assert.Empty(d));
    }

    // The reference: the definition, one byte at a time.
    private static byte[][] Scalar(ReedSolomon code, byte[][] data)
    {
        int length = data[0].Length;
        byte[][] parity = new byte[code.ParityShares][];
        for (int p = 0; p < parity.Length; p++)
        {
            parity[p] = new byte[length];
            ReadOnlySpan<byte> row = code.Coefficients(code.DataShares + p);
            for (int i = 0; i < length; i++)
            {
                byte sum = 0;
                for (int j = 0; j < code.DataShares; j++)
                {
                    sum ^= GaloisField.Multiply(row[j], data[j][i]);
                }

                parity[p][i] = sum;
            }
        }

        return parity;
    }

    private static byte[][] Blocks(Random random, int count, int length)
    {
        byte[][] blocks = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            blocks[i] = new byte[length];
            random.NextBytes(blocks[i]);
        }

        return blocks;
    }

    private static ReadOnlyMemory<byte>[] ReadOnly(byte[][] blocks) => [.. blocks.Select(b => (ReadOnlyMemory<byte>)b)];

    private static Memory<byte>[] Writable(byte[][] blocks) => [.. blocks.Select(b => (Memory<byte>)b)];
}
