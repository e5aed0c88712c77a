using System.Diagnostics;
using PeerNet.Erasure;

namespace PeerNet.Benchmarks;

/// <summary>
/// Reed-Solomon throughput timed exactly as bench/native/isal_ec.c times ISA-L and bench/scripts/zfec_bench.py times
/// zfec (bench/erasure.sh runs all three): K data blocks making a SEGMENT-byte segment, the N-K parity blocks coded;
/// then the data rebuilt from shares that lose the first min(N-K, K) data blocks (the inverse computed each time);
/// best of ROUNDS passes of about 0.2 s; data bytes per second on one core.
/// </summary>
internal static class ErasureThroughput
{
    public static void Run(int k, int n, int segment, int rounds)
    {
        var code = new ReedSolomon(k, n);
        int length = (segment + k - 1) / k;
        var random = new Random(1);
        byte[][] blocks = [.. Enumerable.Range(0, n).Select(_ => new byte[length])];
        foreach (byte[] block in blocks.Take(k))
        {
            random.NextBytes(block);
        }

        ReadOnlyMemory<byte>[] data = [.. blocks.Take(k).Select(b => (ReadOnlyMemory<byte>)b)];
        Memory<byte>[] parity = [.. blocks.Skip(k).Select(b => (Memory<byte>)b)];
        double encode = Best(rounds, () => code.Encode(data, parity), (long)length * k);

        int lost = Math.Min(n - k, k);
        int[] held = [.. Enumerable.Range(lost, k - lost), .. Enumerable.Range(k, lost)];
        ReadOnlyMemory<byte>[] shares = [.. held.Select(h => (ReadOnlyMemory<byte>)blocks[h])];
        byte[][] rebuilt = [.. Enumerable.Range(0, k).Select(_ => new byte[length])];
        Memory<byte>[] outputs = [.. rebuilt.Select(b => (Memory<byte>)b)];
        double decode = lost == 0 ? 0 : Best(rounds, () => code.Decode(shares, held, outputs), (long)length * k);
        for (int d = 0; d < k; d++)
        {
            if (!rebuilt[d].AsSpan().SequenceEqual(blocks[d]))
            {
                throw new InvalidOperationException($"block {d} was not rebuilt");
            }
        }

        Console.WriteLine($$"""{"k": {{k}}, "n": {{n}}, "encode": {{encode:F0}}, "decode": {{decode:F0}}}""");
    }

    private static double Best(int rounds, Action work, long bytes)
    {
        double best = 0;
        for (int r = 0; r < rounds; r++)
        {
            int passes = 0;
            long start = Stopwatch.GetTimestamp();
            TimeSpan elapsed;
            do
            {
                work();
                passes++;
            }
            while ((elapsed = Stopwatch.GetElapsedTime(start)) < TimeSpan.FromSeconds(0.2));
            best = Math.Max(best, passes * bytes / elapsed.TotalSeconds);
        }

        return best;
    }
}
