using BenchmarkDotNet.Running;

namespace PeerNet.Benchmarks;

public static class Program
{
    public static int Main(string[] args)
    {
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

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
