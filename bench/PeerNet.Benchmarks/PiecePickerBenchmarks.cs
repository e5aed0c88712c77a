using BenchmarkDotNet.Attributes;
using PeerNet.PeerWire;
using PeerNet.Swarm;

namespace PeerNet.Benchmarks;

/// <summary>
/// The piece picker in a 10,000-piece torrent (256 KiB pieces, 16 blocks each) with 50 peers: 49 with random
/// bitfields of 5–95 % and one seed. The pick benchmarks ask for a 16-block request queue and then cancel it, so
/// every call starts from the same state and exercises the rarest-first search (no partial piece to continue).
/// </summary>
[MemoryDiagnoser]
public class PiecePickerBenchmarks
{
    private const int Pieces = 10_000;
    private const int PieceLength = 256 * 1024;
    private const int Peers = 50;
    private const int Seed = Peers - 1;
    private const int Sparse = Peers;

    private readonly BlockRequest[] _buffer = new BlockRequest[16];
    private Bitfield[] _bitfields = [];
    private PiecePicker _picker = null!;
    private int _half;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(20_240_601);
        _bitfields = new Bitfield[Peers];
        for (int peer = 0; peer < Peers; peer++)
        {
            double density = peer == Seed ? 1 : 0.05 + (0.9 * peer / (Peers - 2));
            var bits = new Bitfield(Pieces);
            for (int i = 0; i < Pieces; i++)
            {
                if (random.NextDouble() < density)
                {
                    bits.Set(i);
                }
            }

            _bitfields[peer] = bits;
        }

        _picker = NewSwarm();
        var sparse = new Bitfield(Pieces);
        for (int i = 0; i < Pieces; i += 97)
        {
            sparse.Set(i);
        }

        _picker.AddPeer(Sparse, sparse);
        _half = Enumerable.Range(0, Seed).MinBy(p => Math.Abs(_bitfields[p].SetCount - (Pieces / 2)));

        // Warm the pool of partial pieces and check the pick fills the queue.
        if (PickHalfPeer() != 16 || PickSeed() != 16 || PickSparsePeer() != 16 || FullDownload() != Pieces * 16)
        {
            throw new InvalidOperationException("The picker did not pick what the benchmark expects.");
        }
    }

    /// <summary>A peer with about half the pieces: pick 16 blocks, then cancel them.</summary>
    [Benchmark(Baseline = true)]
    public int PickHalfPeer() => PickAndCancel(_half);

    /// <summary>A have-all peer: the globally rarest piece.</summary>
    [Benchmark]
    public int PickSeed() => PickAndCancel(Seed);

    /// <summary>A peer with 1 % of the pieces: the bucket walk runs out of budget and walks the peer's bits.</summary>
    [Benchmark]
    public int PickSparsePeer() => PickAndCancel(Sparse);

    /// <summary>
    /// A whole download of 160,000 blocks: every peer in turn picks 16 blocks, which arrive at once; complete pieces
    /// pass their hash check. Includes building the picker and registering the 50 bitfields.
    /// </summary>
    [Benchmark]
    public int FullDownload()
    {
        PiecePicker picker = NewSwarm();
        Span<BlockRequest> buffer = _buffer;
        int received = 0;
        while (picker.Remaining > 0)
        {
            for (int peer = 0; peer < Peers; peer++)
            {
                int n = picker.PickBlocks(peer, buffer.Length, buffer);
                for (int i = 0; i < n; i++)
                {
                    BlockRequest r = buffer[i];
                    BlockReceipt receipt = picker.OnBlockReceived(peer, r.PieceIndex, r.Begin);
                    if (receipt.Status == BlockStatus.Accepted)
                    {
                        received++;
                    }

                    if (receipt.PieceComplete)
                    {
                        picker.OnHashPassed(r.PieceIndex);
                    }
                }
            }
        }

        return received;
    }

    private PiecePicker NewSwarm()
    {
        var picker = new PiecePicker((long)Pieces * PieceLength, PieceLength, new Random(1));
        for (int peer = 0; peer < Peers; peer++)
        {
            picker.AddPeer(peer, _bitfields[peer]);
        }

        return picker;
    }

    private int PickAndCancel(int peer)
    {
        int n = _picker.PickBlocks(peer, _buffer.Length, _buffer);
        for (int i = 0; i < n; i++)
        {
            _picker.OnRequestCancelled(peer, _buffer[i].PieceIndex, _buffer[i].Begin);
        }

        return n;
    }
}
