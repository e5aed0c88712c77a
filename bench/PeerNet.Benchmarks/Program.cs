using System.Globalization;
using BenchmarkDotNet.Running;

namespace PeerNet.Benchmarks;

public static class Program
{
    public static int Main(string[] args)
    {
        // bench/datagram.sh: one-way latency, jitter and loss of a datagram channel at a voice call's rate.
        if (args is [string mode, ..] && mode.StartsWith("--datagram-", StringComparison.Ordinal))
        {
            return DatagramLatency.RunAsync(args).GetAwaiter().GetResult();
        }

        // bench/libp2p.sh: PeerNet's side of the comparison with js-libp2p (Libp2pBench), not a BenchmarkDotNet run.
        if (args is ["libp2p", .. string[] rest])
        {
            return Libp2pBench.RunAsync(rest).GetAwaiter().GetResult();
        }

        // bench/bdecode.sh hands the same sample torrent to libtorrent's bdecode, so both parse identical bytes.
        if (args is ["--write-sample", string path])
        {
            File.WriteAllBytes(path, SampleTorrents.MultiFile());
            return 0;
        }

        // bench/erasure.sh times PeerNet's Reed-Solomon coder beside ISA-L and zfec, each the same way.
        if (args is ["--erasure", string k, string n, string segment, string rounds])
        {
            ErasureThroughput.Run(int.Parse(k, CultureInfo.InvariantCulture), int.Parse(n, CultureInfo.InvariantCulture), int.Parse(segment, CultureInfo.InvariantCulture), int.Parse(rounds, CultureInfo.InvariantCulture));
            return 0;
        }

        // bench/grid.sh: store put's and get's computation on one thread, no network (GridThroughput).
        if (args is ["--grid", string file, string gridK, string gridN])
        {
            GridThroughput.Run(file, int.Parse(gridK, CultureInfo.InvariantCulture), int.Parse(gridN, CultureInfo.InvariantCulture));
            return 0;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
