using BenchmarkDotNet.Attributes;
using PeerNet.Metainfo;

namespace PeerNet.Benchmarks;

/// <summary>
/// The whole torrent load: bencode, validation, path sanitizing, file objects, and the SHA-1 info-hash over
/// the ~32 KB info dictionary (which alone costs ~15 µs at SHA-NI speed; libtorrent's published 887 ns
/// is for its bdecode step only, compared in <see cref="BencodeBenchmarks"/>).
/// </summary>
[MemoryDiagnoser]
public class MetainfoBenchmarks
{
    private byte[] _torrent = [];

    [GlobalSetup]
    public void Setup()
    {
        _torrent = SampleTorrents.MultiFile();
        if (TorrentMetainfo.Parse(_torrent).Files.Count != 30)
        {
            throw new InvalidOperationException("The sample torrent does not parse to 30 files.");
        }
    }

    /// <summary><see cref="TorrentMetainfo.Parse"/> on the sample torrent.</summary>
    [Benchmark]
    public int ParseTorrent() => TorrentMetainfo.Parse(_torrent).PieceCount;
}
