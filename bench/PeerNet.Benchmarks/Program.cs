using System.Globalization;
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

        // bench/erasure.sh times PeerNet's Reed-Solomon coder beside ISA-L and zfec, each the same way.
        if (args is ["--erasure", string k, string n, string segment, string rounds])
        {
            ErasureThroughput.Run(int.Parse(k, CultureInfo.InvariantCulture), int.Parse(n, CultureInfo.InvariantCulture), int.Parse(segment, CultureInfo.InvariantCulture), int.Parse(rounds, CultureInfo.InvariantCulture));
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
