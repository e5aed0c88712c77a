using BenchmarkDotNet.Attributes;
using PeerNet.Creation;
using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Benchmarks;

/// <summary>
/// The hashing pipeline's per-piece step: <see cref="PieceVerifier.Verify"/> of one 1 MiB piece held in memory,
/// as a download verifies each piece it assembles — SHA-1 of the piece (v1), SHA-256 of its 64 blocks and the
/// merkle climb to the piece layer (v2), or both (hybrid). MB/s = 1.048576 / mean in ms.
/// </summary>
[MemoryDiagnoser]
public class PieceVerifierBenchmarks
{
    private const int PieceLength = 1024 * 1024;
    private const int PieceCount = 4;

    private byte[] _piece = [];
    private PieceVerifier _verifier = null!;

    [Params(TorrentVersion.V1, TorrentVersion.V2, TorrentVersion.Hybrid)]
    public TorrentVersion Version { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string folder = Directory.CreateTempSubdirectory("peernet-bench-verify-").FullName;
        try
        {
            string path = Path.Combine(folder, "data.bin");
            byte[] data = new byte[PieceCount * PieceLength];
            new Random(11).NextBytes(data);
            File.WriteAllBytes(path, data);
            byte[] torrent = TorrentCreator.CreateAsync(new TorrentCreationOptions { SourcePath = path, PieceLength = PieceLength, Version = Version })
                .GetAwaiter().GetResult();
            _verifier = new PieceVerifier(new PieceMap(TorrentMetainfo.Parse(torrent)));
            _piece = data[PieceLength..(2 * PieceLength)];
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Verifies piece 1, a good piece: true when it passes.</summary>
    [Benchmark]
    public bool VerifyPiece() => _verifier.Verify(1, _piece).Verdict == PieceVerdict.Good;
}
