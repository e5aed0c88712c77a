using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace PeerNet.Erasure;

/// <summary>Which instructions multiply regions: the widest the CPU has, unless a test asks for another.</summary>
internal enum GaloisKernel
{
    /// <summary>The widest the CPU supports.</summary>
    Best,

    /// <summary>Byte by byte through the product table.</summary>
    Scalar,

    /// <summary>16 bytes at a time: SSSE3 <c>pshufb</c> or NEON <c>tbl</c>.</summary>
    Vector128,

    /// <summary>32 bytes at a time: AVX2 <c>vpshufb</c>.</summary>
    Vector256,
}

/// <summary>
/// Multiplies a matrix of GF(2^8) coefficients by regions of bytes: <c>output[r] = Σ_j coefficient[r, j] · input[j]</c>,
/// the work of Reed-Solomon encoding and decoding. The vector kernels use split-nibble tables, as ISA-L and
/// klauspost/reedsolomon do: c·x = c·(x &amp; 0x0F) ⊕ c·(x &amp; 0xF0), each half a 16-entry table lookup done for 16 or 32
/// bytes at once by a byte shuffle. Each input vector is loaded and split once for up to four output rows, whose sums
/// stay in registers until stored.
/// </summary>
internal static class GaloisKernels
{
    /// <summary>Bytes of nibble tables per coefficient: the low and the high table, each broadcast to 32 bytes.</summary>
    public const int TableBytes = 64;

    /// <summary>Whether <see cref="GaloisKernel.Vector256"/> can run here.</summary>
    public static bool Vector256Supported => Avx2.IsSupported;

    /// <summary>Whether <see cref="GaloisKernel.Vector128"/> can run here.</summary>
    public static bool Vector128Supported => Ssse3.IsSupported || AdvSimd.Arm64.IsSupported;

    /// <summary>The nibble tables of each coefficient, <see cref="TableBytes"/> apiece, in the coefficients' order.</summary>
    public static byte[] BuildTables(ReadOnlySpan<byte> coefficients)
    {
        byte[] tables = new byte[coefficients.Length * TableBytes];
        for (int i = 0; i < coefficients.Length; i++)
        {
            ReadOnlySpan<byte> products = GaloisField.ProductsOf(coefficients[i]);
            Span<byte> table = tables.AsSpan(i * TableBytes, TableBytes);
            for (int x = 0; x < 16; x++)
            {
                table[x] = table[x + 16] = products[x];
                table[x + 32] = table[x + 48] = products[x << 4];
            }
        }

        return tables;
    }

    /// <summary>
    /// <c>outputs[r] = Σ_j coefficients[r * inputs.Length + j] · inputs[j]</c> over the first <paramref name="length"/>
    /// bytes of each; <paramref name="tables"/> is <see cref="BuildTables"/> of the same coefficients.
    /// </summary>
    public static void Multiply(
        ReadOnlySpan<byte> coefficients,
        byte[] tables,
        ReadOnlySpan<ReadOnlyMemory<byte>> inputs,
        ReadOnlySpan<Memory<byte>> outputs,
        int length,
        GaloisKernel kernel = GaloisKernel.Best)
    {
        int k = inputs.Length;
        int rows = outputs.Length;
        if (coefficients.Length != k * rows || tables.Length != coefficients.Length * TableBytes)
        {
            throw new ArgumentException("The coefficients do not match the inputs and outputs.", nameof(coefficients));
        }

        if (kernel == GaloisKernel.Best)
        {
            kernel = Vector256Supported ? GaloisKernel.Vector256 : Vector128Supported ? GaloisKernel.Vector128 : GaloisKernel.Scalar;
        }

        if (length == 0 || rows == 0)
        {
            return;
        }

        // Pinned, every region keeps its address, so each is reached as a byte offset from the first input: one base
        // reference and k + rows offsets instead of k + rows spans in the inner loop (no unsafe code in this assembly).
        MemoryHandle[] pins = ArrayPool<MemoryHandle>.Shared.Rent(k + rows);
        Span<nint> offsets = k + rows <= 512 ? stackalloc nint[k + rows] : new nint[k + rows];
        try
        {
            ref byte origin = ref MemoryMarshal.GetReference(inputs[0].Span);
            for (int i = 0; i < k + rows; i++)
            {
                Memory<byte> region = i < k ? MemoryMarshal.AsMemory(inputs[i]) : outputs[i - k];
                pins[i] = region.Pin();
                offsets[i] = Unsafe.ByteOffset(ref origin, ref MemoryMarshal.GetReference(region.Span));
            }

            int vectorBytes = kernel switch
            {
                GaloisKernel.Vector256 => length & ~31,
                GaloisKernel.Vector128 => length & ~15,
                _ => 0,
            };
            ReadOnlySpan<nint> inputOffsets = offsets[..k];
            for (int r = 0; r < rows; r += 4)
            {
                int group = Math.Min(4, rows - r);
                ReadOnlySpan<nint> outputOffsets = offsets.Slice(k + r, group);
                ref byte groupTables = ref tables[r * k * TableBytes];
                if (vectorBytes > 0)
                {
                    if (kernel == GaloisKernel.Vector256)
                    {
                        switch (group)
                        {
                            case 4: Rows256<Four>(ref origin, inputOffsets, outputOffsets, ref groupTables, vectorBytes); break;
                            case 3: Rows256<Three>(ref origin, inputOffsets, outputOffsets, ref groupTables, vectorBytes); break;
                            case 2: Rows256<Two>(ref origin, inputOffsets, outputOffsets, ref groupTables, vectorBytes); break;
                            default: Rows256<One>(ref origin, inputOffsets, outputOffsets, ref groupTables, vectorBytes); break;
                        }
                    }
                    else
                    {
                        switch (group)
                        {
                            case 4: Rows128<Four>(ref origin, inputOffsets, outputOffsets, ref groupTables, vectorBytes); break;
                            case 3: Rows128<Three>(ref origin, inputOffsets, outputOffsets, ref groupTables, vectorBytes); break;
                            case 2: Rows128<Two>(ref origin, inputOffsets, outputOffsets, ref groupTables, vectorBytes); break;
                            default: Rows128<One>(ref origin, inputOffsets, outputOffsets, ref groupTables, vectorBytes); break;
                        }
                    }
                }

                if (vectorBytes < length)
                {
                    RowsScalar(ref origin, inputOffsets, outputOffsets, coefficients.Slice(r * k, group * k), vectorBytes, length);
                }
            }
        }
        finally
        {
            for (int i = 0; i < k + rows; i++)
            {
                pins[i].Dispose();
            }

            ArrayPool<MemoryHandle>.Shared.Return(pins, clearArray: true);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // one call runs a long loop: tier 0 would run most of it
    private static void RowsScalar(ref byte origin, ReadOnlySpan<nint> inputs, ReadOnlySpan<nint> outputs, ReadOnlySpan<byte> coefficients, int from, int to)
    {
        int k = inputs.Length;
        for (int r = 0; r < outputs.Length; r++)
        {
            ref byte output = ref Unsafe.AddByteOffset(ref origin, outputs[r]);
            for (int i = from; i < to; i++)
            {
                Unsafe.Add(ref output, i) = 0;
            }

            for (int j = 0; j < k; j++)
            {
                ReadOnlySpan<byte> products = GaloisField.ProductsOf(coefficients[(r * k) + j]);
                ref byte input = ref Unsafe.AddByteOffset(ref origin, inputs[j]);
                for (int i = from; i < to; i++)
                {
                    Unsafe.Add(ref output, i) ^= products[Unsafe.Add(ref input, i)];
                }
            }
        }
    }

    // The row count of a group as a type, so the JIT compiles one loop per count with the unused sums gone.
    private interface IRows
    {
        static abstract int Count { get; }
    }

    private readonly struct One : IRows
    {
        public static int Count => 1;
    }

    private readonly struct Two : IRows
    {
        public static int Count => 2;
    }

    private readonly struct Three : IRows
    {
        public static int Count => 3;
    }

    private readonly struct Four : IRows
    {
        public static int Count => 4;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // one call runs a long loop: tier 0 would run most of it
    private static void Rows256<TRows>(ref byte origin, ReadOnlySpan<nint> inputs, ReadOnlySpan<nint> outputs, ref byte tables, int length)
        where TRows : struct, IRows
    {
        int k = inputs.Length;
        nint rowStride = k * TableBytes;
        Vector256<byte> mask = Vector256.Create((byte)0x0F);
        for (nint at = 0; at < length; at += 32)
        {
            Vector256<byte> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
            ref byte table = ref tables;
            for (int j = 0; j < k; j++, table = ref Unsafe.Add(ref table, TableBytes))
            {
                Vector256<byte> x = Vector256.LoadUnsafe(ref Unsafe.AddByteOffset(ref origin, inputs[j] + at));
                Vector256<byte> low = x & mask;
                Vector256<byte> high = Vector256.ShiftRightLogical(x.AsUInt16(), 4).AsByte() & mask;
                sum0 ^= Avx2.Shuffle(Vector256.LoadUnsafe(ref table), low) ^ Avx2.Shuffle(Vector256.LoadUnsafe(ref table, 32), high);
                if (TRows.Count > 1)
                {
                    ref byte t1 = ref Unsafe.Add(ref table, rowStride);
                    sum1 ^= Avx2.Shuffle(Vector256.LoadUnsafe(ref t1), low) ^ Avx2.Shuffle(Vector256.LoadUnsafe(ref t1, 32), high);
                }

                if (TRows.Count > 2)
                {
                    ref byte t2 = ref Unsafe.Add(ref table, 2 * rowStride);
                    sum2 ^= Avx2.Shuffle(Vector256.LoadUnsafe(ref t2), low) ^ Avx2.Shuffle(Vector256.LoadUnsafe(ref t2, 32), high);
                }

                if (TRows.Count > 3)
                {
                    ref byte t3 = ref Unsafe.Add(ref table, 3 * rowStride);
                    sum3 ^= Avx2.Shuffle(Vector256.LoadUnsafe(ref t3), low) ^ Avx2.Shuffle(Vector256.LoadUnsafe(ref t3, 32), high);
                }
            }

            sum0.StoreUnsafe(ref Unsafe.AddByteOffset(ref origin, outputs[0] + at));
            if (TRows.Count > 1)
            {
                sum1.StoreUnsafe(ref Unsafe.AddByteOffset(ref origin, outputs[1] + at));
            }

            if (TRows.Count > 2)
            {
                sum2.StoreUnsafe(ref Unsafe.AddByteOffset(ref origin, outputs[2] + at));
            }

            if (TRows.Count > 3)
            {
                sum3.StoreUnsafe(ref Unsafe.AddByteOffset(ref origin, outputs[3] + at));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // one call runs a long loop: tier 0 would run most of it
    private static void Rows128<TRows>(ref byte origin, ReadOnlySpan<nint> inputs, ReadOnlySpan<nint> outputs, ref byte tables, int length)
        where TRows : struct, IRows
    {
        int k = inputs.Length;
        nint rowStride = k * TableBytes;
        Vector128<byte> mask = Vector128.Create((byte)0x0F);
        for (nint at = 0; at < length; at += 16)
        {
            Vector128<byte> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
            ref byte table = ref tables;
            for (int j = 0; j < k; j++, table = ref Unsafe.Add(ref table, TableBytes))
            {
                Vector128<byte> x = Vector128.LoadUnsafe(ref Unsafe.AddByteOffset(ref origin, inputs[j] + at));
                Vector128<byte> low = x & mask;
                Vector128<byte> high = Vector128.ShiftRightLogical(x.AsUInt16(), 4).AsByte() & mask;
                sum0 ^= Lookup(Vector128.LoadUnsafe(ref table), low) ^ Lookup(Vector128.LoadUnsafe(ref table, 32), high);
                if (TRows.Count > 1)
                {
                    ref byte t1 = ref Unsafe.Add(ref table, rowStride);
                    sum1 ^= Lookup(Vector128.LoadUnsafe(ref t1), low) ^ Lookup(Vector128.LoadUnsafe(ref t1, 32), high);
                }

                if (TRows.Count > 2)
                {
                    ref byte t2 = ref Unsafe.Add(ref table, 2 * rowStride);
                    sum2 ^= Lookup(Vector128.LoadUnsafe(ref t2), low) ^ Lookup(Vector128.LoadUnsafe(ref t2, 32), high);
                }

                if (TRows.Count > 3)
                {
                    ref byte t3 = ref Unsafe.Add(ref table, 3 * rowStride);
                    sum3 ^= Lookup(Vector128.LoadUnsafe(ref t3), low) ^ Lookup(Vector128.LoadUnsafe(ref t3, 32), high);
                }
            }

            sum0.StoreUnsafe(ref Unsafe.AddByteOffset(ref origin, outputs[0] + at));
            if (TRows.Count > 1)
            {
                sum1.StoreUnsafe(ref Unsafe.AddByteOffset(ref origin, outputs[1] + at));
            }

            if (TRows.Count > 2)
            {
                sum2.StoreUnsafe(ref Unsafe.AddByteOffset(ref origin, outputs[2] + at));
            }

            if (TRows.Count > 3)
            {
                sum3.StoreUnsafe(ref Unsafe.AddByteOffset(ref origin, outputs[3] + at));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Lookup(Vector128<byte> table, Vector128<byte> indices) =>
        Ssse3.IsSupported ? Ssse3.Shuffle(table, indices) : AdvSimd.Arm64.VectorTableLookup(table, indices);
}
