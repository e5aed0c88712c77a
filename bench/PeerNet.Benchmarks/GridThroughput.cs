using System.Diagnostics;
using System.Security.Cryptography;
using PeerNet.Grid;

namespace PeerNet.Benchmarks;

/// <summary>
/// bench/grid.sh's single-node figure: what <c>store put</c> and <c>store get</c> compute, on one thread, with no
/// network and no provider. Encode = read FILE a segment at a time, ChaCha20-Poly1305, Reed-Solomon k→n, SHA-256 leaf
/// of every block, then the Merkle trees and headers (<see cref="GridEncoder"/>, as <c>GridStorage.PutAsync</c> runs
/// it). Decode = for every segment check k blocks against their Merkle proofs, Reed-Solomon decode, decrypt, and the
/// ciphertext hash (<see cref="GridDecoder"/>, as <c>GetAsync</c> runs it), from the k <em>last</em> shares (all parity
/// for 3-of-10: the costliest rebuild; a get that reads data shares only skips the matrix work). Plaintext bytes per
/// second of wall time, and per second of the process's CPU time (the figure that holds on a busy machine: the work is
/// one thread, so the CPU time is that thread's, plus the GC's and the JIT's); the decode's blocks are held in memory from the encode pass (k/k of the file), so no disk in the decode.
/// </summary>
internal static class GridThroughput
{
    public static void Run(string path, int k, int n)
    {
        const int segmentSize = 1024 * 1024;
        long size = new FileInfo(path).Length;
        byte[] key = RandomNumberGenerator.GetBytes(32);
        var encoder = new GridEncoder(key, k, n, segmentSize, size);
        int[] kept = [.. Enumerable.Range(n - k, k)];
        var held = new byte[encoder.SegmentCount][][];
        byte[] segment = new byte[segmentSize];

        long start = Stopwatch.GetTimestamp();
        TimeSpan cpu = Environment.CpuUsage.TotalTime;
        using (FileStream file = File.OpenRead(path))
        {
            for (int s = 0; s < encoder.SegmentCount; s++)
            {
                int length = encoder.PlainLength(s);
                file.ReadExactly(segment.AsSpan(0, length));
                byte[][] blocks = encoder.EncodeSegment(segment.AsSpan(0, length));
                held[s] = [.. kept.Select(i => blocks[i])];
            }
        }

        (GridExtensionBlock extension, GridShareHeader[] headers, byte[][] hashes) = encoder.Finish();
        double encode = size / Stopwatch.GetElapsedTime(start).TotalSeconds;
        double encodeCpu = size / (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;

        GridCapability capability = GridCapability.ForRead(key, extension.Hash(), k, n, size);
        GridMerkle[] trees = [.. kept.Select(i => new GridMerkle(hashes[i], encoder.SegmentCount))];
        start = Stopwatch.GetTimestamp();
        cpu = Environment.CpuUsage.TotalTime;
        var decoder = new GridDecoder(capability);
        foreach (int i in kept)
        {
            if (!decoder.CheckHeader(headers[i], out string? error))
            {
                throw new InvalidOperationException(error);
            }
        }

        long plain = 0;
        for (int s = 0; s < encoder.SegmentCount; s++)
        {
            for (int j = 0; j < k; j++)
            {
                if (!GridDecoder.CheckBlock(headers[kept[j]], s, held[s][j], trees[j].Proof(s)))
                {
                    throw new InvalidOperationException($"block {s} of share {kept[j]} does not check");
                }
            }

            plain += decoder.DecodeSegment(s, held[s], kept).Length;
        }

        double decode = size / Stopwatch.GetElapsedTime(start).TotalSeconds;
        double decodeCpu = size / (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
        if (plain != size)
        {
            throw new InvalidOperationException($"decoded {plain} bytes of {size}");
        }

        Console.WriteLine($$"""{"k": {{k}}, "n": {{n}}, "bytes": {{size}}, "encode": {{encode:F0}}, "decode": {{decode:F0}}, "encode_cpu": {{encodeCpu:F0}}, "decode_cpu": {{decodeCpu:F0}}}""");
    }
}
