using BenchmarkDotNet.Running;

namespace PeerNet.Benchmarks;

public static class Program
{
    public static void Main(string[] args)
    {
        // bench/bdecode.sh hands the same sample torrent to libtorrent's bdecode, so both parse identical bytes.
        if (args is ["--write-sample", string path])
        {
            File.WriteAllBytes(path, SampleTorrents.MultiFile());
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
