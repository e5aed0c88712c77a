using System.Buffers;
using BenchmarkDotNet.Attributes;
using PeerNet.Bencode;

namespace PeerNet.Benchmarks;

/// <summary>Decoding and encoding a typical multi-file .torrent (<see cref="SampleTorrents.MultiFile"/>).</summary>
[MemoryDiagnoser]
public class BencodeBenchmarks
{
    private byte[] _torrent = [];
    private SampleTorrent _model = null!;
    private ArrayBufferWriter<byte> _output = null!;

    [GlobalSetup]
    public void Setup()
    {
        _torrent = SampleTorrents.MultiFile();
        _model = SampleTorrents.MultiFileModel;
        _output = new ArrayBufferWriter<byte>(_torrent.Length);

        // Guard against benchmarking a broken input or a walk that misses something.
        long expected = _model.Files.Length + _model.Pieces.Length + _model.Files.Sum(static f => f.Length)
            + _model.Files.Sum(static f => f.Path.Sum(static p => (long)System.Text.Encoding.UTF8.GetByteCount(p)));
        if (_model.Files.Length != 30 || _model.Pieces.Length != 1_500 * 20 || ParseAndWalkFiles() != expected)
        {
            throw new InvalidOperationException("The sample torrent does not have the expected shape.");
        }
    }

    /// <summary>Tokenizes the whole document (every limit checked, duplicate keys refused).</summary>
    [Benchmark(Baseline = true)]
    public int Parse()
    {
        using BencodeDocument document = BencodeDocument.Parse(_torrent);
        return document.TokenCount;
    }

    /// <summary>Parses, then reads what a metainfo reader needs: every file's length and path, the pieces.</summary>
    [Benchmark]
    public long ParseAndWalkFiles()
    {
        using BencodeDocument document = BencodeDocument.Parse(_torrent);
        BencodeNode info = document.Root["info"u8];
        long files = 0;
        long total = 0;
        long pathBytes = 0;
        foreach (BencodeNode file in info["files"u8].Items)
        {
            if (file["length"u8].TryGetInt64(out long length))
            {
                total += length;
            }

            foreach (BencodeNode part in file["path"u8].Items)
            {
                pathBytes += part.StringSpan.Length;
            }

            files++;
        }

        return files + info["pieces"u8].StringSpan.Length + total + pathBytes;
    }

    /// <summary>Encodes the same torrent from its in-memory description.</summary>
    [Benchmark]
    public int Encode()
    {
        _output.ResetWrittenCount();
        _model.Write(new BencodeWriter(_output));
        return _output.WrittenCount;
    }
}
