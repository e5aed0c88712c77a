namespace PeerNet.Erasure;

/// <summary>
/// Arithmetic in GF(2^8) over x^8 + x^4 + x^3 + x^2 + 1 (0x11D), the field zfec, ISA-L and most Reed-Solomon coders
/// use, so shares coded here are byte-identical to theirs. Addition is XOR; multiplication goes through log/exp
/// tables (and a full 64 KiB product table for the scalar paths).
/// </summary>
internal static class GaloisField
{
    /// <summary>The field's reduction polynomial with its x^8 bit.</summary>
    public const int Polynomial = 0x11D;

    // Exp is doubled so Exp[Log[a] + Log[b]] needs no modulo.
    private static readonly byte[] Exp = new byte[2 * 255];
    private static readonly byte[] Log = new byte[256];

    /// <summary>Every product: <c>Products[a * 256 + b] = a·b</c>.</summary>
    private static readonly byte[] Products = new byte[256 * 256];

    static GaloisField()
    {
        int x = 1;
        for (int i = 0; i < 255; i++)
        {
            Exp[i] = (byte)x;
            Exp[i + 255] = (byte)x;
            Log[x] = (byte)i;
            x <<= 1;
            if ((x & 0x100) != 0)
            {
                x ^= Polynomial;
            }
        }

        for (int a = 1; a < 256; a++)
        {
            for (int b = 1; b < 256; b++)
            {
                Products[(a << 8) | b] = Exp[Log[a] + Log[b]];
            }
        }
    }

    /// <summary>a·b in the field.</summary>
    public static byte Multiply(byte a, byte b) => Products[(a << 8) | b];

    /// <summary>The 256 products of <paramref name="a"/> with every byte (a row of the product table).</summary>
    public static ReadOnlySpan<byte> ProductsOf(byte a) => Products.AsSpan(a << 8, 256);

    /// <summary>α^e for the generator α = 2 (e taken modulo 255).</summary>
    public static byte Power(int e) => Exp[e % 255];

    /// <summary>The multiplicative inverse of a non-zero <paramref name="a"/>.</summary>
    public static byte Inverse(byte a)
    {
        if (a == 0)
        {
            throw new DivideByZeroException("0 has no inverse in GF(2^8).");
        }

        return Exp[255 - Log[a]];
    }

    /// <summary>
    /// Inverts the <paramref name="n"/>×<paramref name="n"/> row-major <paramref name="matrix"/> in place (Gauss-Jordan).
    /// Throws <see cref="ArgumentException"/> when it is singular.
    /// </summary>
    public static void Invert(Span<byte> matrix, int n)
    {
        if (matrix.Length != n * n)
        {
            throw new ArgumentException($"A {n}×{n} matrix has {n * n} entries, not {matrix.Length}.", nameof(matrix));
        }

        byte[] work = new byte[n * 2 * n];
        for (int r = 0; r < n; r++)
        {
            matrix.Slice(r * n, n).CopyTo(work.AsSpan(r * 2 * n));
            work[(r * 2 * n) + n + r] = 1;
        }

        int width = 2 * n;
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            while (pivot < n && work[(pivot * width) + c] == 0)
            {
                pivot++;
            }

            if (pivot == n)
            {
                throw new ArgumentException("The matrix is singular.", nameof(matrix));
            }

            Span<byte> row = work.AsSpan(c * width, width);
            if (pivot != c)
            {
                Span<byte> other = work.AsSpan(pivot * width, width);
                for (int i = 0; i < width; i++)
                {
                    (row[i], other[i]) = (other[i], row[i]);
                }
            }

            ReadOnlySpan<byte> scale = ProductsOf(Inverse(row[c]));
            for (int i = 0; i < width; i++)
            {
                row[i] = scale[row[i]];
            }

            for (int r = 0; r < n; r++)
            {
                byte factor = work[(r * width) + c];
                if (r == c || factor == 0)
                {
                    continue;
                }

                Span<byte> target = work.AsSpan(r * width, width);
                ReadOnlySpan<byte> times = ProductsOf(factor);
                for (int i = 0; i < width; i++)
                {
                    target[i] ^= times[row[i]];
                }
            }
        }

        for (int r = 0; r < n; r++)
        {
            work.AsSpan((r * width) + n, n).CopyTo(matrix.Slice(r * n, n));
        }
    }
}
